#include "privacy/key_fingerprint.hpp"

#include <map>
#include <stdexcept>

#include <gtest/gtest.h>

#include "common/encoding.hpp"

namespace schakel::privacy {
namespace {

const std::string key_a(32, 'a');
const std::string key_b(32, 'b');

/** A database's state, as a map; counts writes so a refusal can be shown to write nothing. */
struct map_book {
  std::map<std::string, std::string> state;
  int writes = 0;
  fingerprint_book book() {
    return {[this](const std::string& name) -> std::optional<std::string> {
              const auto it = state.find(name);
              if (it == state.end()) return std::nullopt;
              return it->second;
            },
            [this](const std::string& name, const std::string& fingerprint) {
              ++writes;
              state[name] = fingerprint;
            }};
  }
};

TEST(key_fingerprint, same_key_same_fingerprint_other_key_other_fingerprint) {
  EXPECT_EQ(key_fingerprint("hub", key_a), key_fingerprint("hub", std::string(32, 'a')));
  EXPECT_NE(key_fingerprint("hub", key_a), key_fingerprint("hub", key_b));
  // One key in two roles: the fingerprints differ too, so the hub key cannot pass for the audit key.
  EXPECT_NE(key_fingerprint("hub", key_a), key_fingerprint("audit", key_a));
  EXPECT_EQ(key_fingerprint("hub", key_a).size(), 32u);
}

TEST(key_fingerprint, holds_nothing_of_the_key) {
  const std::string key = "0123456789abcdef0123456789abcdefXYZ";
  const auto fp = key_fingerprint("hub", key);
  EXPECT_EQ(fp.find(key), std::string::npos);
  EXPECT_EQ(fp.find(encoding::hex_encode(key)), std::string::npos);
  EXPECT_EQ(fp.find(encoding::base64_encode(key)), std::string::npos);
  // Not an unkeyed digest of the key either: anyone could compute that from a guess and compare.
  EXPECT_NE(fp, encoding::sha256_hex(key).substr(0, fp.size()));
  for (std::size_t i = 0; i + 8 <= key.size(); ++i) EXPECT_EQ(fp.find(key.substr(i, 8)), std::string::npos);
}

TEST(key_fingerprint, first_start_records_later_starts_compare) {
  map_book db;
  const std::vector<held_key> keys{{"hub", "/k/hub.key", key_a}, {"audit", "/k/audit.key", key_b}};
  EXPECT_EQ(check_key_fingerprints(db.book(), keys), (std::vector<std::string>{"hub", "audit"}));
  EXPECT_EQ(db.state.at("hub"), key_fingerprint("hub", key_a));
  EXPECT_EQ(db.state.at("audit"), key_fingerprint("audit", key_b));
  EXPECT_TRUE(check_key_fingerprints(db.book(), keys).empty());
  EXPECT_EQ(db.writes, 2);
}

TEST(key_fingerprint, another_key_is_refused_naming_file_and_fix_and_writes_nothing) {
  map_book db;
  check_key_fingerprints(db.book(), {{"hub", "/k/hub.key", key_a}});
  const int writes = db.writes;
  // The audit key has no fingerprint yet, but the hub key differs: nothing may be recorded.
  try {
    check_key_fingerprints(db.book(), {{"hub", "/other/hub.key", key_b}, {"audit", "/other/audit.key", key_a}});
    FAIL() << "a different hub key was accepted";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("/other/hub.key"), std::string::npos) << what;
    EXPECT_NE(what.find("this database was made with"), std::string::npos) << what;
    EXPECT_NE(what.find("copy hub.key"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_EQ(what.find(key_b), std::string::npos);
  }
  EXPECT_EQ(db.writes, writes);
  EXPECT_EQ(db.state.count("audit"), 0u);
  EXPECT_EQ(db.state.at("hub"), key_fingerprint("hub", key_a));
}

TEST(key_fingerprint, a_database_without_fingerprints_gets_them_at_its_next_start) {
  map_book db;
  db.state["hub"] = key_fingerprint("hub", key_a);  // recorded by an earlier start; audit not yet
  EXPECT_EQ(check_key_fingerprints(db.book(), {{"hub", "h", key_a}, {"audit", "a", key_b}}),
            std::vector<std::string>{"audit"});
  EXPECT_EQ(db.state.at("audit"), key_fingerprint("audit", key_b));
}

TEST(key_fingerprint, a_record_that_does_not_stick_is_refused) {
  map_book db;
  auto book = db.book();
  book.record = [](const std::string&, const std::string&) {};  // state_put failed and only logged it
  EXPECT_THROW(check_key_fingerprints(book, {{"hub", "h", key_a}}), std::runtime_error);
}

}  // namespace
}  // namespace schakel::privacy
