// find_records' tombstones in the SQLite file (the lookup itself is in the conformance suite).
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "common/signal.hpp"
#include "storage/store.hpp"
#include "storage/tests/store_fixture.hpp"

namespace schakel::storage {
namespace {

using test_support::sqlite_store_test;

constexpr std::int64_t day_ms = 86'400'000;

TEST_F(sqlite_store_test, a_tombstone_keeps_a_hash_never_the_record_id) {
  {
    auto s = open();
    const signal_row row{"A1", "nl.schakel.attendance.absence.recorded", "school",
                         R"({"id":"A1","source":{"instance":"school","record_id":"h:0123456789abcdef"}})"};
    ASSERT_FALSE(append(*s, {row}, {}));
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
