#pragma once
// What the audit CLI tests do to a real database: append as the hub does, and tamper as someone
// with the sqlite3 shell would.
#include <chrono>
#include <future>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "audit/audit.hpp"
#include "storage/store.hpp"

namespace schakel::audit::db_test {

/** Appends `entries` and waits for them to be on disk; a failure fails the test. */
inline void append_and_wait(storage::store& s, std::vector<entry> entries) {
  std::promise<std::error_code> p;
  auto f = p.get_future();
  s.append_audit(std::move(entries), [&p](std::error_code ec) { p.set_value(ec); });
  ASSERT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  ASSERT_FALSE(f.get());
}

/** Runs SQL on the database file directly, around the hub. */
inline void run_sql(const std::string& path, const std::string& text) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* msg = nullptr;
  const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &msg);
  EXPECT_EQ(rc, SQLITE_OK) << (msg ? msg : "");
  sqlite3_free(msg);
  sqlite3_close(db);
}

}  // namespace schakel::audit::db_test
