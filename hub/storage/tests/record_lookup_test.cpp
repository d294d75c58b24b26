// find_records: the stored record behind a deletion that names only its source record id.
#include <future>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "common/signal.hpp"
#include "storage/store.hpp"
#include "storage/tests/store_fixture.hpp"

namespace schakel::storage {
namespace {

using test_support::timeout;
using state = stored_record::state;

constexpr std::int64_t day_ms = 86'400'000;

class record_lookup_test : public test_support::sqlite_store_test {
 protected:
  static signal_row record(const std::string& id, const std::string& instance, const std::string& record_id,
                           const std::string& student) {
    const std::string json = R"({"id":")" + id + R"(","source":{"instance":")" + instance + R"(","record_id":")" +
                             record_id + R"("},"subject":{"student_key":")" + student + R"("}})";
    return {id, "nl.schakel.attendance.absence.recorded", instance, json};
  }

  static std::vector<stored_record> find(store& s, const std::string& instance, std::vector<std::string> ids,
                                         std::error_code* error = nullptr) {
    std::promise<std::pair<std::error_code, std::vector<stored_record>>> p;
    auto f = p.get_future();
    s.find_records(instance, std::move(ids), {}, [&p](std::error_code ec, std::vector<stored_record> found) {
      p.set_value({ec, std::move(found)});
    });
    EXPECT_EQ(f.wait_for(timeout), std::future_status::ready);
    auto [ec, found] = f.get();
    if (error != nullptr) *error = ec;
    EXPECT_FALSE(ec) << ec.message();
    return found;
  }
};

TEST_F(record_lookup_test, finds_the_latest_version_of_a_record_of_that_instance_only) {
  auto s = open();
  ASSERT_FALSE(append(*s,
                      {record("A1", "school", "R-1", "S-old"), record("B1", "other", "R-1", "S-other"),
                       record("A2", "school", "R-1", "S-new"), record("A3", "school", "R-2", "S-2")},
                      {}));
  const auto found = find(*s, "school", {"R-1", "R-2", "R-9"});
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].what, state::found);
  EXPECT_NE(found[0].json.find("\"A2\""), std::string::npos) << "the correction, not the first version";
  EXPECT_EQ(found[1].what, state::found);
  EXPECT_NE(found[1].json.find("S-2"), std::string::npos);
  EXPECT_EQ(found[2].what, state::unknown);
  EXPECT_TRUE(found[2].json.empty());
  EXPECT_EQ(find(*s, "nobody", {"R-1"})[0].what, state::unknown) << "another instance's ids are not ours";
}

TEST_F(record_lookup_test, a_record_retention_purged_reads_as_purged_not_as_unknown) {
  auto s = open();
  ASSERT_FALSE(append(*s, {record("A1", "school", "R-1", "S-1"), record("A2", "school", "R-2", "S-2")}, {}));
  retention_plan plan;
  plan.default_days = 1;
  const auto now = schakel::now_ms();
  ASSERT_EQ(s->purge(plan, now + 2 * day_ms).signals, 2);
  const auto found = find(*s, "school", {"R-1", "R-3"});
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].what, state::purged);
  EXPECT_TRUE(found[0].json.empty());
  EXPECT_EQ(found[1].what, state::unknown);
  EXPECT_EQ(find(*s, "other", {"R-1"})[0].what, state::unknown) << "tombstones are per instance";
}

TEST_F(record_lookup_test, a_tombstone_keeps_a_hash_never_the_record_id) {
  {
    auto s = open();
    ASSERT_FALSE(append(*s, {record("A1", "school", "h:0123456789abcdef", "S-1")}, {}));
    retention_plan plan;
    plan.default_days = 1;
    ASSERT_EQ(s->purge(plan, schakel::now_ms() + 2 * day_ms).signals, 1);
    s->close();
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT instance, record_hash FROM purged_records", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "school");
  const std::string hash = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_EQ(hash.find("0123456789abcdef"), std::string::npos);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

}  // namespace
}  // namespace schakel::storage
