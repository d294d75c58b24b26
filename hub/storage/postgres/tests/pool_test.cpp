#include "storage/postgres/pool.hpp"

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/pg_test_database.hpp"

namespace schakel::storage::postgres {
namespace {

using namespace std::chrono_literals;
using test::pg_test_database;

int backend_of(connection& c) {
  pg_rows rows;
  EXPECT_FALSE(c.exec("backend", "SELECT pg_backend_pid()", {}, &rows));
  return static_cast<int>(rows.int64(0, 0).value_or(0));
}

/** One connection and a wait of `wait` for it. */
connection_settings one_connection(const pg_test_database& db, std::chrono::milliseconds wait) {
  auto settings = db.settings();
  settings.pool_size = 1;
  settings.acquire_timeout = wait;
  return settings;
}

TEST(pg_pool, opens_connections_when_needed_and_reuses_them) {
  pg_test_database db;
  pool p(db.settings());
  EXPECT_EQ(p.size(), 0u) << "nothing is opened before it is needed";
  int first = 0;
  {
    pool::lease l;
    ASSERT_FALSE(p.acquire(l));
    first = backend_of(*l);
    EXPECT_EQ(p.leased(), 1u);
  }
  EXPECT_EQ(p.leased(), 0u);
  pool::lease again;
  ASSERT_FALSE(p.acquire(again));
  EXPECT_EQ(backend_of(*again), first) << "an idle healthy connection is handed out again";
  EXPECT_EQ(p.size(), 1u);
}

TEST(pg_pool, never_opens_more_than_pool_size_and_serves_parallel_callers) {
  pg_test_database db;
  auto settings = db.settings();
  settings.pool_size = 3;
  settings.acquire_timeout = 20s;
  pool p(settings);
  std::atomic<int> failures{0};
  std::atomic<int> most_leased{0};
  std::mutex pids_mutex;
  std::set<int> pids;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        pool::lease l;
        if (p.acquire(l)) {
          ++failures;
          continue;
        }
        const int now = static_cast<int>(p.leased());
        int seen = most_leased.load();
        while (now > seen && !most_leased.compare_exchange_weak(seen, now)) {
        }
        pg_rows rows;
        if (l->exec("sleep", "SELECT pg_backend_pid() FROM pg_sleep(0.002)", {}, &rows)) ++failures;
        std::lock_guard lock(pids_mutex);
        pids.insert(static_cast<int>(rows.int64(0, 0).value_or(0)));
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_LE(most_leased, 3);
  EXPECT_LE(pids.size(), 3u) << "only pool_size server connections were ever used";
  EXPECT_GE(pids.size(), 2u) << "callers were served in parallel";
}

TEST(pg_pool, waits_a_bounded_time_when_every_connection_is_taken) {
  pg_test_database db;
  pool p(one_connection(db, 300ms));
  pool::lease held;
  ASSERT_FALSE(p.acquire(held));
  const auto start = std::chrono::steady_clock::now();
  pool::lease second;
  const auto e = p.acquire(second);
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(e);
  EXPECT_EQ(e.code, pg_errc::pool_timeout);
  EXPECT_FALSE(second);
  EXPECT_GE(waited, 290ms);
  EXPECT_LT(waited, 5s);

  held = pool::lease();
  pool::lease third;
  EXPECT_FALSE(p.acquire(third)) << "the connection given back is free again";
}

TEST(pg_pool, a_waiter_gets_the_connection_another_caller_gives_back) {
  pg_test_database db;
  pool p(one_connection(db, 10s));
  pool::lease held;
  ASSERT_FALSE(p.acquire(held));
  std::atomic<bool> released{false};
  std::thread giver([&] {
    std::this_thread::sleep_for(100ms);
    released = true;
    held = pool::lease();
  });
  pool::lease mine;
  const auto e = p.acquire(mine);
  giver.join();
  ASSERT_FALSE(e) << e.message;
  EXPECT_TRUE(released) << "acquire returned before the only connection was given back";
}

TEST(pg_pool, a_broken_connection_fails_its_statement_then_is_reopened) {
  pg_test_database db;
  pool p(one_connection(db, 2s));
  int victim = 0;
  {
    pool::lease l;
    ASSERT_FALSE(p.acquire(l));
    victim = backend_of(*l);
  }
  // The server side of the pooled connection goes away (a restart, a failover, an operator).
  auto admin = db.connect();
  pg_rows killed;
  ASSERT_FALSE(admin.exec("terminate", "SELECT pg_terminate_backend($1)", {victim}, &killed));
  ASSERT_EQ(killed.text(0, 0), "t");
  {
    pool::lease l;
    ASSERT_FALSE(p.acquire(l));
    // The pool cannot know yet: the statement fails, and says the connection is what broke.
    const auto e = l->exec("after the kill", "SELECT 1");
    ASSERT_TRUE(e);
    EXPECT_EQ(e.code, pg_errc::connection_lost) << e.message;
    EXPECT_FALSE(l->healthy());
  }
  pool::lease l;
  ASSERT_FALSE(p.acquire(l)) << "the next caller gets a reopened connection";
  const int fresh = backend_of(*l);
  EXPECT_NE(fresh, 0);
  EXPECT_NE(fresh, victim);
}

TEST(pg_pool, a_server_that_cannot_be_reached_fails_acquire_and_frees_the_slot) {
  connection_settings settings;
  settings.url = "postgresql://schakel@/postgres?host=/nonexistent-socket-dir";
  settings.pool_size = 1;
  settings.acquire_timeout = 200ms;
  pool p(settings);
  pool::lease l;
  const auto first = p.acquire(l);
  ASSERT_TRUE(first);
  EXPECT_EQ(first.code, pg_errc::connect_failed);
  EXPECT_EQ(p.leased(), 0u);
  const auto second = p.acquire(l);
  EXPECT_EQ(second.code, pg_errc::connect_failed) << "the slot is free again, not leaked: " << second.message;
}

}  // namespace
}  // namespace schakel::storage::postgres
