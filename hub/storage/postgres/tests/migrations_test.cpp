#include "storage/postgres/migrations.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <latch>
#include <mutex>
#include <regex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/store.hpp"
#include "support/pg_test_database.hpp"

namespace schakel::storage::postgres {
namespace {

using test::pg_test_database;

std::int64_t count(connection& c, const std::string& sql) {
  pg_rows rows;
  const auto e = c.exec("count", sql, {}, &rows);
  EXPECT_FALSE(e) << e.message;
  return rows.int64(0, 0).value_or(-1);
}

/** Advisory locks held in this test's database (other tests share the cluster, not the database). */
std::int64_t advisory_locks(connection& c) {
  return count(c,
               "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
               "WHERE l.locktype = 'advisory' AND d.datname = current_database()");
}

TEST(pg_migrations, a_fresh_database_gets_every_table_and_one_version_row_per_migration) {
  pg_test_database db;
  auto c = db.connect();
  EXPECT_EQ(schema_version(c, db.name()), 0) << "no schakel_schema table yet reads as version 0";
  const auto report = migrate(c, db.name());
  EXPECT_EQ(report.from, 0);
  EXPECT_EQ(report.to, known_schema_version());
  EXPECT_GE(known_schema_version(), 1);
  EXPECT_EQ(schema_version(c, db.name()), known_schema_version());
  EXPECT_EQ(count(c, "SELECT count(*) FROM schakel_schema"), known_schema_version());
  for (const char* table :
       {"signals", "outbox", "disabled_subscriptions", "subscription_outcomes", "state", "audit_log", "audit_anchor",
        "consents", "student_links", "parked_signals", "purged_records", "hub_meta"}) {
    pg_rows rows;
    ASSERT_FALSE(c.exec("table", "SELECT to_regclass($1) IS NOT NULL", {table}, &rows));
    EXPECT_EQ(rows.text(0, 0), "t") << table;
  }
  EXPECT_EQ(count(c, "SELECT count(*) FROM audit_anchor WHERE next_seq = 1 AND keyed_from = 0"), 1)
      << "the audit chain's genesis anchor is there, as in the SQLite engine";
  // The record id a deletion by id looks up is derived by the database from the stored document.
  ASSERT_FALSE(c.exec("insert", "INSERT INTO signals (id, type, instance, stored_ms, json) VALUES ($1, $2, $3, $4, $5)",
                      {"01J0000000000000000000000A", "t", "i", 1, R"({"source":{"record_id":"r-7"}})"}));
  EXPECT_EQ(count(c, "SELECT count(*) FROM signals WHERE instance = 'i' AND record_id = 'r-7'"), 1);
}

TEST(pg_migrations, migrating_twice_changes_nothing_the_second_time) {
  pg_test_database db;
  auto c = db.connect();
  (void)migrate(c, db.name());
  ASSERT_FALSE(c.exec("meta", "INSERT INTO hub_meta (key, value, updated_ms) VALUES ('k', 'v', 1)"));
  const auto second = migrate(c, db.name());
  EXPECT_EQ(second.from, known_schema_version());
  EXPECT_EQ(second.to, known_schema_version());
  EXPECT_EQ(count(c, "SELECT count(*) FROM schakel_schema"), known_schema_version()) << "no version row twice";
  EXPECT_EQ(count(c, "SELECT count(*) FROM hub_meta"), 1) << "data survives a second run";
}

TEST(pg_migrations, concurrent_migrators_end_at_the_same_version_and_each_migration_runs_once) {
  pg_test_database db;
  constexpr int migrators = 4;
  std::vector<connection> connections;
  for (int i = 0; i < migrators; ++i) connections.push_back(db.connect());
  std::latch start(migrators);
  std::mutex mutex;
  std::vector<migration_report> reports;
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  for (int i = 0; i < migrators; ++i)
    threads.emplace_back([&, i] {
      start.arrive_and_wait();  // all at once, as nodes started by the same deploy
      try {
        const auto r = migrate(connections[static_cast<std::size_t>(i)], db.name());
        std::lock_guard lock(mutex);
        reports.push_back(r);
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex);
        errors.push_back(e.what());
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(reports.size(), static_cast<std::size_t>(migrators));
  int applied = 0;
  for (const auto& r : reports) {
    EXPECT_EQ(r.to, known_schema_version());
    if (r.from == 0) ++applied;
  }
  EXPECT_EQ(applied, 1) << "one node applies the migrations; the others find them done";
  auto c = db.connect();
  EXPECT_EQ(count(c, "SELECT count(*) FROM schakel_schema"), known_schema_version());
  EXPECT_EQ(count(c, "SELECT count(*) FROM audit_anchor"), 1);
  EXPECT_EQ(advisory_locks(c), 0) << "the lock was released";
}

TEST(pg_migrations, a_migrator_waits_a_bounded_time_for_another_ones_lock) {
  pg_test_database db;
  auto holder = db.connect();
  // Another node in the middle of its migrations: it holds the same session lock.
  ASSERT_FALSE(holder.exec("hold", "SELECT pg_advisory_lock(x'7363686b6c'::bigint)"));
  auto c = db.connect();
  const auto start = std::chrono::steady_clock::now();
  try {
    (void)migrate(c, db.name(), std::chrono::milliseconds(300));
    FAIL() << "migrate ran while another migrator held the lock";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), pg_errc::lock_timeout) << e.what();
    EXPECT_NE(std::string(e.what()).find("waiting for the migration lock"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(schema_version(c, db.name()), 0) << "nothing was applied without the lock";
  pg_rows timeout;
  ASSERT_FALSE(c.exec("lock_timeout", "SHOW lock_timeout", {}, &timeout));
  EXPECT_EQ(timeout.text(0, 0), "0") << "the session's lock_timeout is restored after the failure";
  ASSERT_FALSE(holder.exec("release", "SELECT pg_advisory_unlock(x'7363686b6c'::bigint)"));
  EXPECT_EQ(migrate(c, db.name()).to, known_schema_version()) << "the same connection migrates once the lock is free";
}

TEST(pg_migrations, a_database_newer_than_this_build_is_refused_before_anything_is_written) {
  pg_test_database db;
  auto c = db.connect();
  (void)migrate(c, db.name());
  const int newer = known_schema_version() + 1;
  ASSERT_FALSE(
      c.exec("newer", "INSERT INTO schakel_schema (version, description) VALUES ($1, 'from the future')", {newer}));
  try {
    (void)migrate(c, db.name());
    FAIL() << "a newer schema was accepted";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), storage_errc::schema_too_new);
    // Word for word what the SQLite engine says of a newer file, the error category's text appended.
    EXPECT_EQ(std::string(e.what()), "storage: opening " + db.name() + ": schema version " + std::to_string(newer) +
                                         " but this build knows " + std::to_string(known_schema_version()) +
                                         ": the database was written by a newer version of Schakel");
  }
  EXPECT_EQ(count(c, "SELECT max(version) FROM schakel_schema"), newer);
  EXPECT_EQ(advisory_locks(c), 0) << "the lock is released on the refusal too";
}

TEST(pg_migrations, a_failing_migration_leaves_the_version_before_it) {
  pg_test_database db;
  auto c = db.connect();
  // A table in the way of the first migration: its CREATE TABLE fails, and nothing of it stays.
  ASSERT_FALSE(c.exec("in the way", "CREATE TABLE hub_meta (x integer)"));
  try {
    (void)migrate(c, db.name());
    FAIL() << "the migration should have failed";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), pg_errc::query_failed);
    EXPECT_NE(std::string(e.what()).find("migration to schema 1, statement"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("SQLSTATE 42P07"), std::string::npos) << e.what();
  }
  EXPECT_EQ(schema_version(c, db.name()), 0);
  pg_rows rows;
  ASSERT_FALSE(c.exec("signals", "SELECT to_regclass('signals') IS NULL", {}, &rows));
  EXPECT_EQ(rows.text(0, 0), "t") << "the failed migration's earlier statements were rolled back";
}

TEST(pg_migrations, docs_storage_md_names_the_schema_version_this_build_writes) {
  std::ifstream in(std::filesystem::path(SCHAKEL_SOURCE_DIR) / "docs/storage.md");
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::smatch m;
  ASSERT_TRUE(std::regex_search(page, m, std::regex(R"(### The PostgreSQL schema \(version (\d+)\))")))
      << "docs/storage.md";
  EXPECT_EQ(std::stoi(m[1]), known_schema_version()) << "docs/storage.md: the PostgreSQL schema heading";
}

}  // namespace
}  // namespace schakel::storage::postgres
