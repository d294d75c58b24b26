// The signal log and plugin state: appends are all-or-nothing, what a processor wrote it reads back at
// once, the log keeps commit order across a restart, and a closed store refuses work with `closed`.
#include <atomic>
#include <future>
#include <string>
#include <vector>

#include "common/signal.hpp"
#include "storage/conformance/fixture.hpp"

namespace schakel::storage::conformance {
namespace {

TEST_P(store_log, append_then_get) {
  auto s = open();
  ASSERT_FALSE(append(*s, {sig("S1"), sig("S2")}, {item("a", "S1"), item("a", "S2")}));
  EXPECT_EQ(s->get_signal("S1"), std::optional<std::string>(R"({"id":"S1"})"));
  EXPECT_EQ(s->get_signal("S2"), std::optional<std::string>(R"({"id":"S2"})"));
  EXPECT_EQ(s->get_signal("nope"), std::nullopt);
  EXPECT_EQ(s->signal_count(), 2);
}

// A source's batch, a processor's derived signals with its state and position: one duplicate id
// (already stored, or twice in the batch) and nothing of the job may be stored.
TEST_P(store_log, a_failing_append_stores_none_of_its_signals_items_or_state) {
  auto s = open();
  ASSERT_FALSE(append(*s, {sig("S1")}, {item("a", "S1")}));
  EXPECT_EQ(call([&](done_fn d) {
              s->append_with_state({sig("S2"), sig("S1")}, {item("a", "S2"), item("b", "S2")},
                                   {{"rules", "k", "v", false}, {"pos", "rules", "7", false}}, std::move(d));
            }),
            storage_errc::duplicate);
  EXPECT_EQ(
      call([&](done_fn d) {
        s->append_with_state({sig("S3"), sig("S3")}, {item("a", "S3")}, {{"rules", "k", "w", false}}, std::move(d));
      }),
      storage_errc::duplicate)
      << "a duplicate inside the batch";
  EXPECT_FALSE(s->get_signal("S2"));
  EXPECT_FALSE(s->get_signal("S3"));
  EXPECT_EQ(s->signal_count(), 1);
  EXPECT_EQ(s->read_signals_after(0, 10).size(), 1u);
  EXPECT_EQ(s->outbox_depth("a"), 1);
  EXPECT_EQ(s->outbox_depth("b"), 0);
  EXPECT_EQ(s->outbox_depth_total(), 1);
  EXPECT_EQ(s->state_get("rules", "k"), std::nullopt);
  EXPECT_EQ(s->state_get("pos", "rules"), std::nullopt);
  // A required field left empty fails the job the same way.
  EXPECT_EQ(call([&](done_fn d) {
              s->append_with_state({sig("S4")}, {}, {{"", "k", "v", false}}, std::move(d));
            }),
            storage_errc::invalid_argument);
  EXPECT_EQ(append(*s, {sig("")}, {}), storage_errc::invalid_argument);
  EXPECT_FALSE(s->get_signal("S4"));
  s->close();
  auto r = open();
  EXPECT_EQ(r->signal_count(), 1) << "nothing of the failed jobs after a restart either";
  EXPECT_EQ(r->outbox_depth_total(), 1);
}

TEST_P(store_log, append_with_state_commits_signals_outbox_and_state_together) {
  auto s = open();
  ASSERT_FALSE(call([&](auto done) {
    s->append_with_state({sig("S1")}, {item("a", "S1")}, {{"rules", "k", "v1", false}, {"pos", "rules", "7", false}},
                         done);
  }));
  // Read-your-writes: a processor's next batch starts from what the completion acknowledged.
  EXPECT_EQ(s->state_get("rules", "k"), "v1");
  EXPECT_EQ(s->state_get("pos", "rules"), "7");
  ASSERT_EQ(s->read_signals_after(0, 10).size(), 1u);
  EXPECT_EQ(s->read_signals_after(0, 10)[0].id, "S1");
  EXPECT_EQ(s->outbox_depth("a"), 1);
  // An erase and a write in one job.
  ASSERT_FALSE(call([&](auto done) {
    s->append_with_state({}, {}, {{"rules", "k", "", true}, {"rules", "j", "x", false}}, done);
  }));
  EXPECT_EQ(s->state_get("rules", "k"), std::nullopt);
  EXPECT_EQ(s->state_get("rules", "j"), "x");
  std::error_code error;
  EXPECT_EQ(s->state_get_checked("rules", "j", error), "x");
  EXPECT_FALSE(error);
  EXPECT_EQ(s->state_get_checked("rules", "k", error), std::nullopt);
  EXPECT_FALSE(error) << "absent is not a failed read";
}

TEST_P(store_log, state_get_put) {
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
  s->close();
  auto r = open();
  EXPECT_EQ(r->state_get("p1", "k"), std::optional<std::string>("two"));
  EXPECT_EQ(r->state_get("p1", "bin"), std::optional<std::string>(binary));
}

TEST_P(store_log, read_signals_after_follows_the_log_in_commit_order_across_reopen) {
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
  EXPECT_EQ(all[2].instance, "test");
  EXPECT_EQ(all[2].json, R"({"id":"C"})");
  auto tail = s->read_signals_after(all[0].seq, 1);
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0].id, "A");
  EXPECT_TRUE(s->read_signals_after(all[2].seq, 10).empty());
  ASSERT_FALSE(append(*s, {sig("D")}, {}));
  const auto after = s->read_signals_after(all[2].seq, 10);
  ASSERT_EQ(after.size(), 1u) << "a position never moves back after a restart";
  EXPECT_EQ(after[0].id, "D");
}

TEST_P(store_log, close_drains_the_queue_and_later_calls_fail_with_closed) {
  auto s = open();
  constexpr int n = 200;
  std::atomic<int> ok{0};
  for (int i = 0; i < n; ++i) {
    // Built in two steps: g++ 12 at -O3 warns falsely (-Wrestrict) on "Q" + std::to_string(i).
    std::string id = "Q";
    id += std::to_string(i);
    s->append({sig(id)}, {item("a", id)}, [&](std::error_code ec) {
      if (!ec) ++ok;
    });
  }
  s->close();
  EXPECT_EQ(ok.load(), n) << "every queued job completed before close returned";

  EXPECT_EQ(append(*s, {sig("late")}, {}), storage_errc::closed);
  EXPECT_EQ(call([&](done_fn d) {
              s->append_with_state({sig("late2")}, {}, {{"p", "k", "v", false}}, std::move(d));
            }),
            storage_errc::closed);
  EXPECT_EQ(deliver(*s, 1), storage_errc::closed);
  EXPECT_EQ(call([&](done_fn d) { s->reschedule(1, 0, "x", std::move(d)); }), storage_errc::closed);
  EXPECT_EQ(call([&](done_fn d) { s->move_to_dead_letters(1, "x", {}, std::move(d)); }), storage_errc::closed);
  EXPECT_EQ(append_audit(*s, {entry("admin.read")}), storage_errc::closed);
  EXPECT_EQ(call([&](done_fn d) { s->set_subscription_disabled("a", true, std::move(d)); }), storage_errc::closed);
  std::promise<std::error_code> consent;
  auto consent_f = consent.get_future();
  s->append_consent({0, "pseudo-1", 1, "{}"}, {},
                    [&consent](std::error_code ec, std::int64_t) { consent.set_value(ec); });
  EXPECT_EQ(wait(consent_f), storage_errc::closed);
  const auto [unit, due] = next(*s, "a", 0, schakel::now_ms());
  EXPECT_FALSE(unit);
  EXPECT_EQ(due, 0) << "a closed store offers no next time";
  EXPECT_FALSE(s->replay_dead_letter(1).has_value());
  EXPECT_FALSE(s->get_signal("Q1"));
  // A processor must tell "could not read" from "no state", or it would start a student afresh.
  std::error_code read_error;
  EXPECT_EQ(s->state_get_checked("p", "k", read_error), std::nullopt);
  EXPECT_TRUE(read_error) << "a read from a closed store is a failed read";
  EXPECT_FALSE(s->read_audit_head()) << "no head is vouched for by a closed store";
  s->close();  // idempotent

  auto r = open();
  EXPECT_EQ(r->signal_count(), n);
  EXPECT_EQ(r->outbox_depth("a"), n);
  EXPECT_FALSE(r->get_signal("late"));
}

// Delivery and processors call the blocking methods from inside a completion, on the store's thread.
TEST_P(store_log, blocking_calls_from_a_completion_do_not_deadlock) {
  auto s = open();
  ASSERT_FALSE(append_one(*s, "N1", {"a"}));
  auto [u, d] = next(*s, "a", 0, schakel::now_ms());
  ASSERT_TRUE(u);
  std::promise<bool> replayed;
  s->move_to_dead_letters(u->unit_id, "http 400", {}, [&](std::error_code ec) {
    s->state_put("ns", "k", "v");
    replayed.set_value(!ec && s->replay_dead_letter(u->unit_id).has_value() && s->state_get("ns", "k") == "v");
  });
  auto f = replayed.get_future();
  EXPECT_TRUE(wait_for(f, false));
  EXPECT_EQ(s->state_get("ns", "k"), std::optional<std::string>("v"));
}

}  // namespace
}  // namespace schakel::storage::conformance
