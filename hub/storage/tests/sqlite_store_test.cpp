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
#include "storage/tests/store_fixture.hpp"

namespace schakel::storage {
namespace {

using namespace std::chrono_literals;
using test_support::next_result;
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

TEST_F(sqlite_store_test, append_then_get) {
  auto s = open();
  ASSERT_FALSE(append(*s, {sig("S1"), sig("S2")}, {item("a", "S1"), item("a", "S2")}));
  EXPECT_EQ(s->get_signal("S1"), std::optional<std::string>(R"({"id":"S1"})"));
  EXPECT_EQ(s->get_signal("S2"), std::optional<std::string>(R"({"id":"S2"})"));
  EXPECT_EQ(s->get_signal("nope"), std::nullopt);
  EXPECT_EQ(s->signal_count(), 2);
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
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  try {
    open();
    ADD_FAILURE() << "a newer schema must be refused";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), storage_errc::schema_too_new);
    EXPECT_NE(std::string(e.what()).find(path_), std::string::npos);
  }
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

TEST_F(sqlite_store_test, lane_is_fifo_with_one_unit_in_flight) {
  auto s = open();
  for (const char* id : {"L1", "L2", "L3"}) ASSERT_FALSE(append_one(*s, id, {"a"}, 0));
  ASSERT_FALSE(append_one(*s, "M1", {"a"}, 1));
  const auto now = schakel::now_ms();

  auto [u1, due1] = next(*s, "a", 0, now);
  ASSERT_TRUE(u1);
  EXPECT_EQ(u1->body, R"({"ce":"L1"})");
  EXPECT_EQ(u1->content_type, "application/cloudevents+json");
  EXPECT_EQ(u1->event_count, 1u);
  EXPECT_EQ(u1->attempts, 0u);
  EXPECT_EQ(u1->webhook_id.rfind("msg_L1_", 0), 0u);
  EXPECT_EQ(u1->webhook_id.size(), std::string("msg_L1_").size() + 8);

  auto [none, due] = next(*s, "a", 0, now);
  EXPECT_FALSE(none) << "a second unit of a lane while one is in flight";
  EXPECT_EQ(due, 0);

  auto [m1, mdue] = next(*s, "a", 1, now);
  ASSERT_TRUE(m1) << "another lane is independent";
  EXPECT_EQ(m1->body, R"({"ce":"M1"})");

  ASSERT_FALSE(call([&](done_fn d) { s->mark_delivered(u1->unit_id, {}, std::move(d)); }));
  auto [u2, due2] = next(*s, "a", 0, now);
  ASSERT_TRUE(u2);
  EXPECT_EQ(u2->body, R"({"ce":"L2"})");
  ASSERT_FALSE(call([&](done_fn d) { s->mark_delivered(u2->unit_id, {}, std::move(d)); }));
  auto [u3, due3] = next(*s, "a", 0, now);
  ASSERT_TRUE(u3);
  EXPECT_EQ(u3->body, R"({"ce":"L3"})");
  ASSERT_FALSE(call([&](done_fn d) { s->mark_delivered(u3->unit_id, {}, std::move(d)); }));
  auto [empty, edue] = next(*s, "a", 0, now);
  EXPECT_FALSE(empty);
  EXPECT_EQ(edue, 0);
  EXPECT_EQ(call([&](done_fn d) { s->mark_delivered(u3->unit_id, {}, std::move(d)); }), storage_errc::not_found);
}

TEST_F(sqlite_store_test, webhook_ids_differ_per_subscription_and_are_stable) {
  auto s = open();
  ASSERT_FALSE(append_one(*s, "W1", {"a", "b"}));
  const auto now = schakel::now_ms();
  auto [a, da] = next(*s, "a", 0, now);
  auto [b, db] = next(*s, "b", 0, now);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->webhook_id, b->webhook_id);
  ASSERT_FALSE(call([&](done_fn d) { s->reschedule(a->unit_id, now, "http 503", std::move(d)); }));
  auto [again, dagain] = next(*s, "a", 0, now);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->webhook_id, a->webhook_id);
}

TEST_F(sqlite_store_test, reschedule_waits_until_due_and_counts_attempts) {
  auto s = open();
  ASSERT_FALSE(append_one(*s, "R1", {"a"}));
  const auto now = schakel::now_ms();
  auto [u, d0] = next(*s, "a", 0, now);
  ASSERT_TRUE(u);
  ASSERT_FALSE(call([&](done_fn d) { s->reschedule(u->unit_id, now + 5000, "http 503", std::move(d)); }));
  auto [early, due] = next(*s, "a", 0, now + 4999);
  EXPECT_FALSE(early);
  EXPECT_EQ(due, now + 5000);
  auto [retry, d1] = next(*s, "a", 0, now + 5000);
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->unit_id, u->unit_id);
  EXPECT_EQ(retry->body, u->body);
  EXPECT_EQ(retry->attempts, 1u);
  EXPECT_EQ(call([&](done_fn d) { s->reschedule(424242, now, "x", std::move(d)); }), storage_errc::not_found);
}

TEST_F(sqlite_store_test, batch_forms_by_size_and_retries_identically) {
  auto s = open();
  for (const char* id : {"B1", "B2", "B3", "B4", "B5"}) ASSERT_FALSE(append_one(*s, id, {"a"}));
  const batching b{.enabled = true, .max_events = 3, .linger_ms = 60000};
  const auto now = schakel::now_ms();

  auto [u, d0] = next(*s, "a", 0, now, b);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->body, R"([{"ce":"B1"},{"ce":"B2"},{"ce":"B3"}])");
  EXPECT_EQ(u->content_type, "application/cloudevents-batch+json");
  EXPECT_EQ(u->event_count, 3u);
  // Named after its members, not after the time it was formed.
  EXPECT_EQ(u->webhook_id.rfind("msg_b", 0), 0u) << u->webhook_id;
  EXPECT_EQ(u->webhook_id.size(), 5u + 32u);
  EXPECT_EQ(s->outbox_depth("a"), 5);

  ASSERT_FALSE(call([&](done_fn d) { s->reschedule(u->unit_id, now + 10, "timeout", std::move(d)); }));
  // More items arrive meanwhile: the retry must not absorb them.
  ASSERT_FALSE(append_one(*s, "B6", {"a"}));
  auto [retry, d1] = next(*s, "a", 0, now + 10, b);
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->unit_id, u->unit_id);
  EXPECT_EQ(retry->webhook_id, u->webhook_id);
  EXPECT_EQ(retry->body, u->body);
  EXPECT_EQ(retry->attempts, 1u);

  ASSERT_FALSE(call([&](done_fn d) { s->mark_delivered(u->unit_id, {}, std::move(d)); }));
  EXPECT_EQ(s->outbox_depth("a"), 3);
  auto [second, d2] = next(*s, "a", 0, now + 10, b);
  ASSERT_TRUE(second) << "B4..B6 fill a batch of 3";
  EXPECT_EQ(second->body, R"([{"ce":"B4"},{"ce":"B5"},{"ce":"B6"}])");
  EXPECT_NE(second->webhook_id, u->webhook_id);
}

TEST_F(sqlite_store_test, batch_forms_by_linger) {
  auto s = open();
  const auto before = schakel::now_ms();
  ASSERT_FALSE(append_one(*s, "T1", {"a"}));
  ASSERT_FALSE(append_one(*s, "T2", {"a"}));
  const auto after = schakel::now_ms();
  const batching b{.enabled = true, .max_events = 10, .linger_ms = 60000};

  auto [early, due] = next(*s, "a", 0, after, b);
  EXPECT_FALSE(early);
  EXPECT_GE(due, before + 60000);
  EXPECT_LE(due, after + 60000);

  auto [u, d1] = next(*s, "a", 0, due, b);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->body, R"([{"ce":"T1"},{"ce":"T2"}])");
  EXPECT_EQ(u->event_count, 2u);
  EXPECT_GE(u->created_ms, before);
  EXPECT_LE(u->created_ms, after);
}

TEST_F(sqlite_store_test, dead_letter_and_replay) {
  auto s = open();
  ASSERT_FALSE(append_one(*s, "D1", {"a"}));
  ASSERT_FALSE(append_one(*s, "D2", {"a"}));
  ASSERT_FALSE(append_one(*s, "D3", {"b"}));
  const auto now = schakel::now_ms();

  auto [u1, d1] = next(*s, "a", 0, now);
  ASSERT_TRUE(u1);
  ASSERT_FALSE(call([&](done_fn d) { s->move_to_dead_letters(u1->unit_id, "http 400", {}, std::move(d)); }));
  EXPECT_EQ(s->outbox_depth("a"), 1);

  auto [u2, d2] = next(*s, "a", 0, now);
  ASSERT_TRUE(u2) << "the lane moves on past a dead letter";
  EXPECT_EQ(u2->body, R"({"ce":"D2"})");

  auto [u3, d3] = next(*s, "b", 0, now);
  ASSERT_TRUE(u3);
  ASSERT_FALSE(call([&](done_fn d) { s->move_to_dead_letters(u3->unit_id, "http 410", {}, std::move(d)); }));

  auto all = s->list_dead_letters("");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].unit_id, u3->unit_id) << "newest first";
  EXPECT_EQ(all[1].unit_id, u1->unit_id);
  EXPECT_EQ(all[1].reason, "http 400");
  EXPECT_EQ(all[1].attempts, 1u) << "the attempt in flight counts";
  EXPECT_EQ(all[1].webhook_id, u1->webhook_id);
  EXPECT_EQ(all[1].subscription, "a");
  EXPECT_GE(all[1].dead_at_ms, now);
  ASSERT_EQ(s->list_dead_letters("a").size(), 1u);

  // Replayed while D2 is in flight: it goes to the head and comes next.
  EXPECT_EQ(s->replay_dead_letter(u1->unit_id), std::optional<std::string>("a"));
  EXPECT_FALSE(s->replay_dead_letter(u1->unit_id).has_value()) << "no longer a dead letter";
  EXPECT_FALSE(s->replay_dead_letter(987654).has_value());
  EXPECT_EQ(s->outbox_depth("a"), 2);
  EXPECT_EQ(s->list_dead_letters("a").size(), 0u);
  ASSERT_FALSE(call([&](done_fn d) { s->mark_delivered(u2->unit_id, {}, std::move(d)); }));
  ASSERT_FALSE(append_one(*s, "D4", {"a"}));
  auto [again, d4] = next(*s, "a", 0, now);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->unit_id, u1->unit_id);
  EXPECT_EQ(again->webhook_id, u1->webhook_id);
  EXPECT_EQ(again->body, u1->body);
  EXPECT_EQ(again->attempts, 0u);
  EXPECT_EQ(call([&](done_fn d) { s->mark_delivered(u3->unit_id, {}, std::move(d)); }), storage_errc::not_found)
      << "a dead letter is not deliverable until replayed";
}

TEST_F(sqlite_store_test, depth_counters_follow_every_transition) {
  auto s = open();
  for (const char* id : {"P1", "P2", "P3"}) ASSERT_FALSE(append_one(*s, id, {"a"}));
  ASSERT_FALSE(append_one(*s, "P4", {"a", "b"}));
  EXPECT_EQ(s->outbox_depth("a"), 4);
  EXPECT_EQ(s->outbox_depth("b"), 1);
  EXPECT_EQ(s->outbox_depth("unknown"), 0);
  EXPECT_EQ(s->outbox_depth_total(), 5);
  const auto now = schakel::now_ms();

  auto [ub, db] = next(*s, "b", 0, now);
  ASSERT_TRUE(ub);
  ASSERT_FALSE(call([&](done_fn d) { s->move_to_dead_letters(ub->unit_id, "http 410", {}, std::move(d)); }));
  EXPECT_EQ(s->outbox_depth("b"), 0);
  EXPECT_EQ(s->replay_dead_letter(ub->unit_id), std::optional<std::string>("b"));
  EXPECT_EQ(s->outbox_depth("b"), 1);

  auto [batch, d1] = next(*s, "a", 0, now, {.enabled = true, .max_events = 3, .linger_ms = 0});
  ASSERT_TRUE(batch);
  EXPECT_EQ(s->outbox_depth("a"), 4) << "forming a batch changes nothing";
  ASSERT_FALSE(call([&](done_fn d) { s->mark_delivered(batch->unit_id, {}, std::move(d)); }));
  EXPECT_EQ(s->outbox_depth("a"), 1);
  EXPECT_EQ(s->outbox_depth_total(), 2);

  s->close();
  auto reopened = open();
  EXPECT_EQ(reopened->outbox_depth("a"), 1) << "initialised from the file";
  EXPECT_EQ(reopened->outbox_depth("b"), 1);
  EXPECT_EQ(reopened->outbox_depth_total(), 2);
}

TEST_F(sqlite_store_test, disabled_subscription_persists_and_holds_its_units) {
  auto s = open();
  ASSERT_FALSE(append_one(*s, "X1", {"gone"}));
  ASSERT_FALSE(call([&](done_fn d) { s->set_subscription_disabled("gone", true, std::move(d)); }));
  EXPECT_TRUE(s->subscription_disabled("gone"));
  EXPECT_FALSE(s->subscription_disabled("other"));
  auto [none, due] = next(*s, "gone", 0, schakel::now_ms());
  EXPECT_FALSE(none);
  EXPECT_EQ(s->outbox_depth("gone"), 1) << "units stay";
  s->close();

  auto r = open();
  EXPECT_TRUE(r->subscription_disabled("gone"));
  ASSERT_FALSE(call([&](done_fn d) { r->set_subscription_disabled("gone", false, std::move(d)); }));
  EXPECT_FALSE(r->subscription_disabled("gone"));
  auto [u, d1] = next(*r, "gone", 0, schakel::now_ms());
  ASSERT_TRUE(u);
  EXPECT_EQ(u->body, R"({"ce":"X1"})");
}

TEST_F(sqlite_store_test, reopen_keeps_everything_and_repends_units_in_flight) {
  delivery_unit single, batch;
  {
    auto s = open();
    ASSERT_FALSE(append_one(*s, "K1", {"a"}));
    ASSERT_FALSE(append_one(*s, "K2", {"bat"}));
    ASSERT_FALSE(append_one(*s, "K3", {"bat"}));
    const auto now = schakel::now_ms();
    auto [u, d0] = next(*s, "a", 0, now);
    auto [b, d1] = next(*s, "bat", 0, now, {.enabled = true, .max_events = 2, .linger_ms = 60000});
    ASSERT_TRUE(u && b);
    single = *u;
    batch = *b;
    s->state_put("plugin", "cursor", "42");
    s->close();
  }
  auto s = open();
  EXPECT_EQ(s->signal_count(), 3);
  EXPECT_TRUE(s->get_signal("K2"));
  EXPECT_EQ(s->state_get("plugin", "cursor"), std::optional<std::string>("42"));
  const auto now = schakel::now_ms();
  auto [u, d0] = next(*s, "a", 0, now);
  ASSERT_TRUE(u) << "in flight at close means pending after open";
  EXPECT_EQ(u->unit_id, single.unit_id);
  EXPECT_EQ(u->webhook_id, single.webhook_id);
  // Even with batching now off, a formed batch comes back byte-identical.
  auto [b, d1] = next(*s, "bat", 0, now);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->unit_id, batch.unit_id);
  EXPECT_EQ(b->webhook_id, batch.webhook_id);
  EXPECT_EQ(b->body, batch.body);
  EXPECT_EQ(b->content_type, "application/cloudevents-batch+json");
  // Fresh ids never collide with ones handed out before the restart.
  ASSERT_FALSE(append_one(*s, "K4", {"c"}));
  auto [c, d2] = next(*s, "c", 0, now);
  ASSERT_TRUE(c);
  EXPECT_GT(c->unit_id, batch.unit_id);
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

TEST_F(sqlite_store_test, close_drains_the_queue_and_later_calls_fail) {
  auto s = open();
  constexpr int n = 200;
  std::atomic<int> ok{0};
  for (int i = 0; i < n; ++i) {
    const auto id = "Q" + std::to_string(i);
    s->append({sig(id)}, {item("a", id)}, [&](std::error_code ec) {
      if (!ec) ++ok;
    });
  }
  s->close();
  EXPECT_EQ(ok.load(), n) << "every queued job completed before close returned";

  std::error_code late;
  s->append({sig("late")}, {}, [&](std::error_code ec) { late = ec; });
  EXPECT_EQ(late, storage_errc::closed);
  bool called = false;
  s->next_unit("a", 0, schakel::now_ms(), {}, [&](std::optional<delivery_unit> u, std::int64_t) {
    called = true;
    EXPECT_FALSE(u);
  });
  EXPECT_TRUE(called);
  EXPECT_FALSE(s->replay_dead_letter(1).has_value());
  EXPECT_FALSE(s->get_signal("Q1"));
  s->close();  // idempotent

  auto r = open();
  EXPECT_EQ(r->signal_count(), n);
}

TEST_F(sqlite_store_test, blocking_calls_from_a_completion_do_not_deadlock) {
  auto s = open();
  ASSERT_FALSE(append_one(*s, "N1", {"a"}));
  auto [u, d] = next(*s, "a", 0, schakel::now_ms());
  ASSERT_TRUE(u);
  std::promise<bool> replayed;
  s->move_to_dead_letters(u->unit_id, "http 400", {}, [&](std::error_code ec) {
    s->state_put("ns", "k", "v");
    replayed.set_value(!ec && s->replay_dead_letter(u->unit_id).has_value());
  });
  auto f = replayed.get_future();
  ASSERT_EQ(f.wait_for(timeout), std::future_status::ready);
  EXPECT_TRUE(f.get());
  EXPECT_EQ(s->state_get("ns", "k"), std::optional<std::string>("v"));
}

TEST_F(sqlite_store_test, state_get_put) {
  auto s = open();
  EXPECT_EQ(s->state_get("p1", "k"), std::nullopt);
  s->state_put("p1", "k", "one");
  s->state_put("p2", "k", "other");
  EXPECT_EQ(s->state_get("p1", "k"), std::optional<std::string>("one"));
  s->state_put("p1", "k", "two");
  EXPECT_EQ(s->state_get("p1", "k"), std::optional<std::string>("two"));
  EXPECT_EQ(s->state_get("p2", "k"), std::optional<std::string>("other"));
  const std::string binary("a\0b", 3);
  s->state_put("p1", "bin", binary);
  EXPECT_EQ(s->state_get("p1", "bin"), std::optional<std::string>(binary));
}

}  // namespace
}  // namespace schakel::storage

namespace schakel::storage {

TEST_F(sqlite_store_test, append_with_state_commits_signals_outbox_and_state_together) {
  auto s = open();
  ASSERT_FALSE(call([&](auto done) {
    s->append_with_state({sig("S1")}, {item("a", "S1")}, {{"rules", "k", "v1", false}, {"pos", "rules", "7", false}},
                         done);
  }));
  EXPECT_EQ(s->state_get("rules", "k"), "v1");
  EXPECT_EQ(s->state_get("pos", "rules"), "7");
  EXPECT_EQ(s->outbox_depth("a"), 1);
  // An erase and a write in one job.
  ASSERT_FALSE(call([&](auto done) {
    s->append_with_state({}, {}, {{"rules", "k", "", true}, {"rules", "j", "x", false}}, done);
  }));
  EXPECT_EQ(s->state_get("rules", "k"), std::nullopt);
  EXPECT_EQ(s->state_get("rules", "j"), "x");
}

TEST_F(sqlite_store_test, a_failing_append_with_state_writes_no_state) {
  auto s = open();
  ASSERT_FALSE(append(*s, {sig("S1")}, {}));
  // A duplicate signal id fails the job: its state write must not survive either.
  EXPECT_TRUE(call([&](auto done) { s->append_with_state({sig("S1")}, {}, {{"rules", "k", "v", false}}, done); }));
  EXPECT_EQ(s->state_get("rules", "k"), std::nullopt);
  EXPECT_TRUE(call([&](auto done) { s->append_with_state({}, {}, {{"", "k", "v", false}}, done); }));
}

TEST_F(sqlite_store_test, read_signals_after_follows_the_log_in_commit_order_across_reopen) {
  {
    auto s = open();
    ASSERT_FALSE(append(*s, {sig("B"), sig("A")}, {}));
    ASSERT_FALSE(append(*s, {sig("C")}, {}));
  }
  auto s = open();
  auto all = s->read_signals_after(0, 10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, "B");
  EXPECT_EQ(all[1].id, "A");
  EXPECT_EQ(all[2].id, "C");
  EXPECT_LT(all[0].seq, all[1].seq);
  EXPECT_EQ(all[2].type, "nl.schakel.test.thing.happened");
  EXPECT_EQ(all[2].json, R"({"id":"C"})");
  auto tail = s->read_signals_after(all[0].seq, 1);
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0].id, "A");
  EXPECT_TRUE(s->read_signals_after(all[2].seq, 10).empty());
}

TEST_F(sqlite_store_test, a_version_1_database_migrates_keeping_signals_in_order) {
  // The schema as version 1 wrote it: signals without an explicit seq column.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE signals (id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, instance TEXT NOT NULL, "
                         "stored_ms INTEGER NOT NULL, json TEXT NOT NULL);"
                         "INSERT INTO signals VALUES ('Z', 't.a.b', 'i', 1, '{}'), ('Y', 't.a.b', 'i', 2, '{}');"
                         "CREATE TABLE outbox (unit_id INTEGER PRIMARY KEY AUTOINCREMENT, subscription TEXT NOT NULL,"
                         " lane INTEGER NOT NULL, seq INTEGER NOT NULL, is_batch INTEGER NOT NULL DEFAULT 0,"
                         " batch_id INTEGER, signal_id TEXT, webhook_id TEXT NOT NULL, body TEXT NOT NULL,"
                         " event_count INTEGER NOT NULL DEFAULT 1, created_ms INTEGER NOT NULL,"
                         " attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER NOT NULL DEFAULT 0,"
                         " last_error TEXT, formed INTEGER NOT NULL DEFAULT 0, dead_at_ms INTEGER, dead_reason TEXT);"
                         "CREATE TABLE disabled_subscriptions (subscription TEXT PRIMARY KEY NOT NULL,"
                         " since_ms INTEGER NOT NULL) WITHOUT ROWID;"
                         "CREATE TABLE state (ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
                         " updated_ms INTEGER NOT NULL, PRIMARY KEY (ns, key)) WITHOUT ROWID;"
                         "PRAGMA user_version = 1;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = open();
  auto all = s->read_signals_after(0, 10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "Z");
  EXPECT_EQ(all[0].seq, 1);
  EXPECT_EQ(all[1].id, "Y");
  ASSERT_FALSE(append(*s, {sig("X")}, {}));
  EXPECT_EQ(s->read_signals_after(all[1].seq, 10).at(0).id, "X");
}

}  // namespace schakel::storage
