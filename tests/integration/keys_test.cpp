// Keys apart from data, with the real daemon: the hub key lives in keys_dir, outside the data
// directory; a key an earlier version kept in <data_dir>/hub.key is moved there, never made anew, so
// the subject references (and with them links, consents and pseudonyms) made before the upgrade stay
// the same; two different keys, or a keys_dir inside the data, stop `serve` with the reason.
#include <sqlite3.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <set>

#include <gtest/gtest.h>

#include "hub_fixture.hpp"

namespace schakel::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using json = nlohmann::json;

unsigned mode_of(const fs::path& p) {
  struct ::stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/** What an earlier hub wrote at its first start: 32 random bytes as hex, 0600. */
const std::string old_key_text = "9f1c0e6b2a7d4c3e8b5a6f0d1e2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c\n";

void write_key(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
}

/** Every subject reference in the outbox (undelivered: nothing listens at the webhook). */
std::multiset<std::string> subject_refs(const fs::path& db) {
  std::multiset<std::string> out;
  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(handle, "SELECT subject_ref FROM outbox", -1, &st, nullptr) == SQLITE_OK) {
      while (sqlite3_step(st) == SQLITE_ROW) out.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
      sqlite3_finalize(st);
    }
  }
  sqlite3_close(handle);
  return out;
}

/** One absence of student S-100000 at school 12AB, as record `id`. */
std::string absence_of_the_same_student(const std::string& id) {
  return json::array(
             {{{"id", id}, {"leerling", "S-100000"}, {"brin", "12AB"}, {"klas", "2B"}, {"uren", 2}, {"ernst", "laag"}}})
      .dump();
}

struct keys_test : ::testing::Test {
  fs::path data_dir() const { return dir.path() / "data"; }
  fs::path keys_dir() const { return dir.path() / "keys"; }

  /** The fixture's config; nothing listens at the webhook, and retries wait, so the outbox keeps its rows. */
  json config() const {
    hub_options o;
    o.webhook_url = "http://127.0.0.1:9/webhook";
    o.initial_backoff = "1h";
    o.max_backoff = "1h";
    auto cfg = hub_config(data_dir(), o);
    cfg["keys_dir"] = keys_dir().string();
    return cfg;
  }

  /** Runs `serve` expecting a refusal: its exit code and its log. */
  std::pair<int, std::string> refused(const json& cfg) {
    fs::create_directories(data_dir());
    fs::permissions(data_dir(), fs::perms::owner_all);
    std::ofstream(dir.path() / "refused.json") << cfg.dump(2);
    auto p = child_process::spawn({SCHAKEL_BIN, "serve", "--config", (dir.path() / "refused.json").string()}, {},
                                  dir.path() / "refused.log");
    const auto code = p.wait_for_exit(20s);
    EXPECT_TRUE(code.has_value()) << "serve kept running";
    return {code.value_or(0), bytes_of(dir.path() / "refused.log")};
  }

  temp_dir dir{"schakel-it-keys"};
};

TEST_F(keys_test, an_old_hub_key_in_the_data_directory_is_moved_and_subject_references_stay_the_same) {
  // Before the upgrade: the key where earlier versions kept it, and a signal hashed with it.
  write_key(data_dir() / "hub.key", old_key_text);
  {
    hub_process hub(dir.path());
    auto cfg = config();
    cfg["privacy"]["hub_key_file"] = (data_dir() / "hub.key").string();  // what the old default meant
    hub.start(cfg);
    ASSERT_EQ(hub.post_records(absence_of_the_same_student("R-before")).status, 200u);
    ASSERT_EQ(hub.process().terminate(), 0);
  }
  const auto before = subject_refs(data_dir() / "schakel.db");
  ASSERT_EQ(before.size(), 1u);
  ASSERT_FALSE(before.begin()->empty());

  // The upgrade: no hub_key_file, so the default, which now lies in keys_dir.
  hub_process hub(dir.path());
  hub.start(config());
  ASSERT_EQ(hub.post_records(absence_of_the_same_student("R-after")).status, 200u);
  const std::string log = hub.log();
  ASSERT_EQ(hub.process().terminate(), 0);

  EXPECT_FALSE(fs::exists(data_dir() / "hub.key")) << "the old key is gone from the data directory";
  EXPECT_EQ(bytes_of(keys_dir() / "hub.key"), old_key_text) << "moved, not made anew";
  EXPECT_EQ(mode_of(keys_dir()), 0700u);
  EXPECT_EQ(mode_of(keys_dir() / "hub.key"), 0600u);
  const auto after = subject_refs(data_dir() / "schakel.db");
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after.count(*before.begin()), 2u) << "the same student, the same reference, before and after";

  const auto moved = log_events(log, "keys.moved");
  ASSERT_EQ(moved.size(), 1u) << log;
  EXPECT_EQ(moved[0]["from"], (data_dir() / "hub.key").string());
  EXPECT_EQ(moved[0]["to"], (keys_dir() / "hub.key").string());
  EXPECT_EQ(moved[0]["method"], "link");
  EXPECT_EQ(log.find(old_key_text.substr(0, 16)), std::string::npos) << "no key material in the log";

  // Nothing key-like stays in the data directory a backup would copy.
  for (const auto& e : fs::recursive_directory_iterator(data_dir()))
    EXPECT_NE(e.path().extension(), ".key") << e.path();
}

TEST_F(keys_test, by_default_the_keys_live_beside_the_data_directory_not_in_it) {
  hub_process hub(dir.path());
  auto cfg = config();
  cfg.erase("keys_dir");
  hub.start(cfg);
  ASSERT_EQ(hub.post_records(absence_of_the_same_student("R-1")).status, 200u);
  ASSERT_EQ(hub.process().terminate(), 0);
  const fs::path keys = dir.path() / "data-keys";
  EXPECT_EQ(mode_of(keys), 0700u);
  EXPECT_EQ(mode_of(keys / "hub.key"), 0600u);
  EXPECT_FALSE(fs::exists(data_dir() / "hub.key"));
  EXPECT_EQ(log_events(hub.log(), "keys.moved").size(), 0u) << "a new hub has nothing to move";
}

TEST_F(keys_test, two_different_hub_keys_stop_serve_and_neither_is_touched) {
  const std::string other_key = std::string(64, '7') + "\n";
  write_key(data_dir() / "hub.key", old_key_text);
  write_key(keys_dir() / "hub.key", other_key);
  fs::permissions(keys_dir(), fs::perms::owner_all);
  const auto [code, out] = refused(config());
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find((data_dir() / "hub.key").string() + ": and " + (keys_dir() / "hub.key").string() +
                     " hold different keys"),
            std::string::npos)
      << out;
  EXPECT_EQ(bytes_of(data_dir() / "hub.key"), old_key_text);
  EXPECT_EQ(bytes_of(keys_dir() / "hub.key"), other_key);
  EXPECT_FALSE(fs::exists(data_dir() / "port")) << "the hub never started";
}

TEST_F(keys_test, a_crash_between_link_and_unlink_is_finished_at_the_next_start) {
  // Both names on one file: where a kill -9 in the middle of the move leaves it.
  write_key(data_dir() / "hub.key", old_key_text);
  fs::create_directories(keys_dir());
  fs::permissions(keys_dir(), fs::perms::owner_all);
  fs::create_hard_link(data_dir() / "hub.key", keys_dir() / "hub.key");
  hub_process hub(dir.path());
  hub.start(config());
  ASSERT_EQ(hub.process().terminate(), 0);
  EXPECT_FALSE(fs::exists(data_dir() / "hub.key"));
  EXPECT_EQ(bytes_of(keys_dir() / "hub.key"), old_key_text);
  const auto moved = log_events(hub.log(), "keys.moved");
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0]["method"], "duplicate_removed");
}

TEST_F(keys_test, serve_refuses_a_keys_directory_inside_the_data_directory) {
  auto cfg = config();
  cfg["keys_dir"] = (data_dir() / "keys").string();
  const auto [code, out] = refused(cfg);
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("keys_dir: \"" + (data_dir() / "keys").string() + "\" is inside data_dir"), std::string::npos)
      << out;
  EXPECT_FALSE(fs::exists(data_dir() / "keys"));
}

}  // namespace
}  // namespace schakel::test
