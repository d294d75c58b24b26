#include "storage/store.hpp"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "common/signal.hpp"
#include "storage/sqlite_db.hpp"
#include "storage/tests/store_fixture.hpp"

namespace schakel::storage {
namespace {

using namespace std::chrono_literals;
using test_support::sqlite_store_test;
using test_support::timeout;

TEST(storage_errc, every_value_has_its_own_message) {
  std::set<std::string> seen;
  for (int v = static_cast<int>(storage_errc::closed); v <= static_cast<int>(storage_errc::internal); ++v) {
    const std::error_code ec = static_cast<storage_errc>(v);
    EXPECT_STREQ(ec.category().name(), "schakel.storage");
    EXPECT_EQ(ec.message().find("unknown"), std::string::npos) << v;
    EXPECT_TRUE(seen.insert(ec.message()).second) << "duplicate message for " << v;
  }
  EXPECT_EQ(std::error_code(storage_errc::closed), storage_errc::closed);
}

TEST_F(sqlite_store_test, opens_in_wal_mode_with_versioned_schema) {
  open()->close();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  auto pragma = [db](const char* sql) {
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
  };
  EXPECT_EQ(pragma("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(pragma("PRAGMA user_version"), "7");
  sqlite3_close(db);
}

// Processors keep their position as a number: schema 2 made the implicit rowid an explicit seq, and
// the migration must keep the old rowids, gaps and all, not renumber them.
TEST_F(sqlite_store_test, migrating_from_schema_1_keeps_the_old_rowids_as_log_positions) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, detail::migration_sql(0), nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "INSERT INTO signals (rowid, id, type, instance, stored_ms, json) VALUES"
                         " (5, 'Z', 't.a.b', 'i', 1, '{}'), (9, 'Y', 't.a.b', 'i', 2, '{}');"
                         "PRAGMA user_version = 1;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = open();
  const auto all = s->read_signals_after(0, 10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "Z");
  EXPECT_EQ(all[0].seq, 5);
  EXPECT_EQ(all[1].id, "Y");
  EXPECT_EQ(all[1].seq, 9);
}

// A completion blocks the store thread; everything queued meanwhile must then share one commit.
TEST_F(sqlite_store_test, concurrent_appends_share_one_commit) {
  auto s = open();
  std::promise<void> gate;
  auto gate_f = gate.get_future().share();
  std::promise<std::error_code> first;
  auto first_f = first.get_future();
  s->append({sig("G0")}, {}, [&](std::error_code ec) {
    first.set_value(ec);
    gate_f.wait_for(timeout);
  });
  ASSERT_FALSE(wait(first_f));
  const auto before = s->stats();

  constexpr int threads = 64;
  std::atomic<int> ok{0}, done{0};
  std::promise<void> all_done;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const auto id = "G" + std::to_string(t + 1);
      s->append({sig(id)}, {item("a", id, static_cast<std::uint32_t>(t % 4))}, [&](std::error_code ec) {
        if (!ec) ++ok;
        if (++done == threads) all_done.set_value();
      });
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(s->stats().queued_jobs, static_cast<std::uint64_t>(threads));
  gate.set_value();
  ASSERT_EQ(all_done.get_future().wait_for(timeout), std::future_status::ready);

  const auto after = s->stats();
  EXPECT_EQ(ok.load(), threads);
  EXPECT_EQ(after.commits - before.commits, 1u) << "64 queued appends must share one transaction";
  EXPECT_GE(after.largest_group, static_cast<std::uint64_t>(threads));
  EXPECT_EQ(s->signal_count(), threads + 1);
  EXPECT_EQ(s->outbox_depth("a"), threads);
}

// Sources waiting for their acknowledgement (closed loop), as the daemon's connections do.
TEST_F(sqlite_store_test, closed_loop_appenders_commit_far_less_often_than_they_append) {
  auto s = open();
  constexpr int threads = 64, per_thread = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const auto id = "C" + std::to_string(t) + "-" + std::to_string(i);
        if (append(*s, {sig(id)}, {item("a", id)})) ++failures;
      }
    });
  }
  for (auto& th : pool) th.join();
  const auto st = s->stats();
  RecordProperty("commits", static_cast<int>(st.commits));
  RecordProperty("largest_group", static_cast<int>(st.largest_group));
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(s->signal_count(), threads * per_thread);
  EXPECT_LT(st.commits, static_cast<std::uint64_t>(threads * per_thread / 2));
  EXPECT_GT(st.largest_group, 1u);
}

// The child acknowledges appends over a pipe and is SIGKILLed right after the last completion;
// every acknowledged signal must be found, and the unit it had in flight must come back.
TEST_F(sqlite_store_test, acknowledged_signals_survive_sigkill) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    auto say = [fd = fds[1]](const std::string& line) {
      const auto text = line + "\n";
      if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) _exit(4);
    };
    try {
      auto s = open_sqlite_store({.path = path_});
      std::promise<void> ready;
      s->append({sig("IN-FLIGHT")}, {item("a", "IN-FLIGHT")}, [&](std::error_code ec) {
        if (ec) _exit(5);
        ready.set_value();
      });
      ready.get_future().wait();
      std::promise<void> taken;
      s->next_unit("a", 0, schakel::now_ms(), {}, [&](std::optional<delivery_unit> u, std::int64_t) {
        if (!u) _exit(6);
        say("unit " + u->webhook_id);
        taken.set_value();
      });
      taken.get_future().wait();
      std::atomic<int> acked{0};
      for (int i = 0; i < 400; ++i) {
        const auto id = "K" + std::to_string(i);
        s->append({sig(id)}, {item("b", id, static_cast<std::uint32_t>(i % 8))}, [&, id](std::error_code ec) {
          if (ec) _exit(7);
          say("ack " + id);
          if (++acked == 150) kill(getpid(), SIGKILL);
        });
      }
      std::this_thread::sleep_for(60s);  // never reached in practice: SIGKILL comes first
      _exit(8);
    } catch (...) {
      _exit(9);
    }
  }
  close(fds[1]);
  std::string all;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) all.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  std::vector<std::string> acked;
  std::string in_flight_webhook;
  std::size_t pos = 0;
  while (pos < all.size()) {
    const auto end = all.find('\n', pos);
    ASSERT_NE(end, std::string::npos);
    const auto line = all.substr(pos, end - pos);
    if (line.rfind("ack ", 0) == 0) acked.push_back(line.substr(4));
    if (line.rfind("unit ", 0) == 0) in_flight_webhook = line.substr(5);
    pos = end + 1;
  }
  ASSERT_GE(acked.size(), 150u);
  auto s = open();
  for (const auto& id : acked) EXPECT_TRUE(s->get_signal(id)) << id;
  EXPECT_GE(s->outbox_depth("b"), static_cast<std::int64_t>(acked.size()));
  auto [u, due] = next(*s, "a", 0, schakel::now_ms());
  ASSERT_TRUE(u) << "the unit in flight at the kill is pending again";
  EXPECT_EQ(u->webhook_id, in_flight_webhook);
}

TEST_F(sqlite_store_test, a_failing_job_fails_alone) {
  auto s = open();
  ASSERT_FALSE(append_one(*s, "DUP", {"a"}));
  // Hold the store thread in a completion so every append below lands in the same transaction.
  std::promise<void> gate;
  auto gate_f = gate.get_future().share();
  std::promise<void> held;
  s->append({}, {}, [&](std::error_code) {
    held.set_value();
    gate_f.wait_for(timeout);
  });
  held.get_future().wait();
  const auto before = s->stats();

  constexpr int n = 100;
  std::vector<std::promise<std::error_code>> results(n);
  for (int i = 0; i < n; ++i) {
    std::vector<signal_row> sigs;
    std::vector<outbox_item> items;
    if (i == 40) {
      sigs = {sig("Z40"), sig("DUP")};  // the second row violates the unique id: the whole job fails
      items = {item("a", "Z40")};
    } else if (i == 60) {
      sigs = {sig("")};
    } else {
      const auto id = "Z" + std::to_string(i);
      sigs = {sig(id)};
      items = {item("a", id)};
    }
    s->append(std::move(sigs), std::move(items), [&results, i](std::error_code ec) { results[i].set_value(ec); });
  }
  gate.set_value();
  for (int i = 0; i < n; ++i) {
    auto f = results[i].get_future();
    const auto ec = wait(f);
    if (i == 40) {
      EXPECT_EQ(ec, storage_errc::duplicate);
    } else if (i == 60) {
      EXPECT_EQ(ec, storage_errc::invalid_argument);
    } else {
      EXPECT_FALSE(ec) << i << ": " << ec.message();
    }
  }
  const auto after = s->stats();
  EXPECT_EQ(after.commits - before.commits, 1u);
  EXPECT_EQ(after.failed_jobs - before.failed_jobs, 2u);
  EXPECT_FALSE(s->get_signal("Z40")) << "a failed job leaves nothing behind";
  EXPECT_EQ(s->get_signal("DUP"), std::optional<std::string>(R"({"id":"DUP"})"));
  EXPECT_TRUE(s->get_signal("Z41"));
  EXPECT_EQ(s->signal_count(), 1 + n - 2);
  EXPECT_EQ(s->outbox_depth("a"), 1 + n - 2);
}

}  // namespace
}  // namespace schakel::storage
