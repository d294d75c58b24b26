// Delivery as the hub relies on it: FIFO per (subscription, lane) with one unit in flight, lanes
// independent, at least once with stable webhook ids (also across a restart), batches formed once,
// dead letters and replay, depth counters, disabled subscriptions keeping their units.
#include <string>
#include <vector>

#include "common/encoding.hpp"
#include "common/signal.hpp"
#include "storage/conformance/fixture.hpp"

namespace schakel::storage::conformance {
namespace {

TEST_P(store_delivery, lane_is_fifo_with_one_unit_in_flight) {
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
  EXPECT_EQ(u1->subscription, "a");
  EXPECT_EQ(u1->lane, 0u);
  EXPECT_EQ(u1->webhook_id.rfind("msg_L1_", 0), 0u) << u1->webhook_id;

  auto [none, due] = next(*s, "a", 0, now);
  EXPECT_FALSE(none) << "a second unit of a lane while one is in flight";
  EXPECT_EQ(due, 0);

  auto [m1, mdue] = next(*s, "a", 1, now);
  ASSERT_TRUE(m1) << "another lane is independent";
  EXPECT_EQ(m1->body, R"({"ce":"M1"})");
  EXPECT_EQ(m1->lane, 1u);

  ASSERT_FALSE(deliver(*s, u1->unit_id));
  auto [u2, due2] = next(*s, "a", 0, now);
  ASSERT_TRUE(u2);
  EXPECT_EQ(u2->body, R"({"ce":"L2"})");
  ASSERT_FALSE(deliver(*s, u2->unit_id));
  auto [u3, due3] = next(*s, "a", 0, now);
  ASSERT_TRUE(u3);
  EXPECT_EQ(u3->body, R"({"ce":"L3"})");
  ASSERT_FALSE(deliver(*s, u3->unit_id));
  auto [empty, edue] = next(*s, "a", 0, now);
  EXPECT_FALSE(empty);
  EXPECT_EQ(edue, 0);
  EXPECT_EQ(deliver(*s, u3->unit_id), storage_errc::not_found);
}

TEST_P(store_delivery, webhook_ids_differ_per_subscription_and_are_stable) {
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

TEST_P(store_delivery, a_webhook_id_chosen_for_the_item_names_it_and_its_batch) {
  auto s = open();
  auto first = item("a", "C1");
  first.webhook_id = "msg_partnersownid1";
  auto second = item("a", "C2");
  second.webhook_id = "msg_partnersownid2";
  ASSERT_FALSE(append(*s, {sig("C1"), sig("C2")}, {first, second}));
  const auto now = schakel::now_ms();
  auto [single, d0] = next(*s, "a", 0, now);
  ASSERT_TRUE(single);
  EXPECT_EQ(single->webhook_id, "msg_partnersownid1");
  ASSERT_FALSE(call([&](done_fn d) { s->reschedule(single->unit_id, now, "http 503", std::move(d)); }));
  auto [again, d1] = next(*s, "a", 0, now);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->webhook_id, "msg_partnersownid1") << "a retry keeps it";
  ASSERT_FALSE(deliver(*s, again->unit_id));

  // A batch carries no id of the hub's and no time: it is named after its members' ids.
  auto third = item("a", "C3");
  third.webhook_id = "msg_partnersownid3";
  ASSERT_FALSE(append(*s, {sig("C3")}, {third}));
  const batching b{.enabled = true, .max_events = 2, .linger_ms = 60000};
  auto [batch, d2] = next(*s, "a", 0, now, b);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->event_count, 2u);
  EXPECT_EQ(batch->webhook_id, "msg_b" + encoding::sha256_hex("msg_partnersownid2\nmsg_partnersownid3").substr(0, 32));
  ASSERT_FALSE(call([&](done_fn d) { s->reschedule(batch->unit_id, now, "http 503", std::move(d)); }));
  auto [retry, d3] = next(*s, "a", 0, now, b);
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->webhook_id, batch->webhook_id);
}

TEST_P(store_delivery, reschedule_waits_until_due_and_counts_attempts) {
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

TEST_P(store_delivery, reopen_keeps_everything_and_repends_units_in_flight) {
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

// At least once, and no more than the partner accepted: a delivered unit is gone for good.
TEST_P(store_delivery, delivered_units_are_not_handed_out_again_after_a_restart) {
  std::string second_webhook;
  {
    auto s = open();
    for (const char* id : {"G1", "G2"}) ASSERT_FALSE(append_one(*s, id, {"a"}));
    const auto now = schakel::now_ms();
    auto [u, d0] = next(*s, "a", 0, now);
    ASSERT_TRUE(u);
    ASSERT_FALSE(deliver(*s, u->unit_id));
    auto [v, d1] = next(*s, "a", 0, now);
    ASSERT_TRUE(v);
    second_webhook = v->webhook_id;
    ASSERT_FALSE(call([&](done_fn d) { s->reschedule(v->unit_id, now, "timeout", std::move(d)); }));
  }
  auto s = open();
  EXPECT_EQ(s->outbox_depth("a"), 1);
  const auto now = schakel::now_ms();
  auto [u, d0] = next(*s, "a", 0, now);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->body, R"({"ce":"G2"})") << "G1 was delivered before the restart";
  EXPECT_EQ(u->webhook_id, second_webhook);
  EXPECT_EQ(u->attempts, 1u);
  ASSERT_FALSE(deliver(*s, u->unit_id));
  expect_drained(*s, "a", now);
}

TEST_P(store_delivery, batch_forms_by_size_and_retries_identically) {
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

  ASSERT_FALSE(deliver(*s, u->unit_id));
  EXPECT_EQ(s->outbox_depth("a"), 3);
  auto [second, d2] = next(*s, "a", 0, now + 10, b);
  ASSERT_TRUE(second) << "B4..B6 fill a batch of 3";
  EXPECT_EQ(second->body, R"([{"ce":"B4"},{"ce":"B5"},{"ce":"B6"}])");
  EXPECT_NE(second->webhook_id, u->webhook_id);
}

TEST_P(store_delivery, batch_forms_by_linger) {
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

TEST_P(store_delivery, dead_letter_and_replay) {
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
  ASSERT_FALSE(deliver(*s, u2->unit_id));
  ASSERT_FALSE(append_one(*s, "D4", {"a"}));
  auto [again, d4] = next(*s, "a", 0, now);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->unit_id, u1->unit_id);
  EXPECT_EQ(again->webhook_id, u1->webhook_id);
  EXPECT_EQ(again->body, u1->body);
  EXPECT_EQ(again->attempts, 0u);
  EXPECT_EQ(deliver(*s, u3->unit_id), storage_errc::not_found) << "a dead letter is not deliverable until replayed";
  ASSERT_FALSE(deliver(*s, again->unit_id));
  auto [after, d5] = next(*s, "a", 0, now);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, R"({"ce":"D4"})") << "the lane goes on in order after the replayed unit";
}

// A dead batch is replayed as it was formed: the partner gets the same bytes under the same webhook id.
TEST_P(store_delivery, a_dead_batch_replays_whole_with_its_members) {
  auto s = open();
  for (const char* id : {"B1", "B2", "B3"}) ASSERT_FALSE(append_one(*s, id, {"a"}));
  const batching b{.enabled = true, .max_events = 2, .linger_ms = 0};
  const auto now = schakel::now_ms();
  auto [u, d0] = next(*s, "a", 0, now, b);
  ASSERT_TRUE(u);
  ASSERT_EQ(u->event_count, 2u);
  ASSERT_FALSE(call([&](done_fn d) { s->move_to_dead_letters(u->unit_id, "http 422", {}, std::move(d)); }));
  EXPECT_EQ(s->outbox_depth("a"), 1);
  const auto dead = s->list_dead_letters("a");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].event_count, 2u);
  EXPECT_EQ(dead[0].webhook_id, u->webhook_id);

  EXPECT_EQ(s->replay_dead_letter(u->unit_id), std::optional<std::string>("a"));
  EXPECT_EQ(s->outbox_depth("a"), 3) << "a batch of 2 counts 2";
  s->close();
  auto r = open();
  auto [again, d1] = next(*r, "a", 0, now, b);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->unit_id, u->unit_id);
  EXPECT_EQ(again->webhook_id, u->webhook_id);
  EXPECT_EQ(again->body, u->body);
  EXPECT_EQ(again->content_type, "application/cloudevents-batch+json");
  ASSERT_EQ(again->members.size(), 2u);
  EXPECT_EQ(again->members[0].seq, u->members[0].seq);
  EXPECT_EQ(again->members[1].signal_id, "B2");
  ASSERT_FALSE(deliver(*r, again->unit_id));
  EXPECT_EQ(r->outbox_depth("a"), 1);
  auto [rest, d2] = next(*r, "a", 0, now);
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->body, R"({"ce":"B3"})");
}

TEST_P(store_delivery, depth_counters_follow_every_transition) {
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
  ASSERT_FALSE(deliver(*s, batch->unit_id));
  EXPECT_EQ(s->outbox_depth("a"), 1);
  EXPECT_EQ(s->outbox_depth_total(), 2);

  s->close();
  auto reopened = open();
  EXPECT_EQ(reopened->outbox_depth("a"), 1) << "initialised from the stored outbox";
  EXPECT_EQ(reopened->outbox_depth("b"), 1);
  EXPECT_EQ(reopened->outbox_depth_total(), 2);
}

TEST_P(store_delivery, disabled_subscription_persists_and_holds_its_units) {
  auto s = open();
  ASSERT_FALSE(append_one(*s, "X1", {"gone"}));
  ASSERT_FALSE(call([&](done_fn d) { s->set_subscription_disabled("gone", true, std::move(d)); }));
  EXPECT_TRUE(s->subscription_disabled("gone"));
  EXPECT_FALSE(s->subscription_disabled("other"));
  auto [none, due] = next(*s, "gone", 0, schakel::now_ms());
  EXPECT_FALSE(none);
  EXPECT_EQ(due, 0) << "nothing is due while disabled";
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

audit::entry enabled_record() {
  auto e = calls::entry("subscription.enabled", "gone", schakel::now_ms());
  e.actor = e.actor_role = "admin";
  e.object_type = "subscription";
  return e;
}

std::size_t audit_count(store& s, const std::string& action) {
  std::size_t n = 0;
  s.read_audit(INT64_MIN, INT64_MAX, [&](const audit::record& r) {
    if (r.text.find("\"" + action + "\"") != std::string::npos) ++n;
    return true;
  });
  return n;
}

TEST_P(store_delivery, disabled_subscription_keeps_since_reason_and_outcomes_across_restarts) {
  auto s = open();
  const auto before = schakel::now_ms();
  ASSERT_FALSE(append_one(*s, "X1", {"gone"}));
  ASSERT_FALSE(append_one(*s, "X2", {"gone"}));
  // The first delivery succeeds, the second is refused with 410: the outcomes are recorded.
  auto [first, d0] = next(*s, "gone", 0, schakel::now_ms());
  ASSERT_TRUE(first);
  ASSERT_FALSE(deliver(*s, first->unit_id));
  auto [second, d1] = next(*s, "gone", 0, schakel::now_ms());
  ASSERT_TRUE(second);
  ASSERT_FALSE(call([&](done_fn d) { s->change_subscription("gone", true, "HTTP 410 Gone", {}, std::move(d)); }));
  ASSERT_FALSE(call([&](done_fn d) { s->reschedule(second->unit_id, schakel::now_ms(), "HTTP 410", std::move(d)); }));
  ASSERT_FALSE(append_one(*s, "X3", {"gone"}));

  auto st = s->read_subscription_status("gone");
  EXPECT_TRUE(st.disabled);
  EXPECT_GE(st.disabled_since_ms, before);
  EXPECT_EQ(st.disabled_reason, "HTTP 410 Gone");
  EXPECT_EQ(st.depth, 2);
  EXPECT_GE(st.oldest_pending_ms, before);
  EXPECT_GE(st.last_success_ms, before);
  EXPECT_GE(st.last_error_ms, st.last_success_ms);
  EXPECT_EQ(st.last_error, "HTTP 410");
  s->close();

  auto r = open();
  const auto again = r->read_subscription_status("gone");
  EXPECT_TRUE(again.disabled);
  EXPECT_EQ(again.disabled_since_ms, st.disabled_since_ms);
  EXPECT_EQ(again.disabled_reason, "HTTP 410 Gone");
  EXPECT_EQ(again.last_success_ms, st.last_success_ms);
  EXPECT_EQ(again.last_error, "HTTP 410");
  EXPECT_EQ(again.oldest_pending_ms, st.oldest_pending_ms);
  EXPECT_FALSE(next(*r, "gone", 0, schakel::now_ms()).first) << "nothing is handed out while disabled";

  // Enabling is recorded with its audit record, and the queue resumes in order.
  ASSERT_FALSE(call([&](done_fn d) { r->change_subscription("gone", false, {}, {enabled_record()}, std::move(d)); }));
  EXPECT_FALSE(r->subscription_disabled("gone"));
  EXPECT_EQ(audit_count(*r, "subscription.enabled"), 1u);
  const auto enabled = r->read_subscription_status("gone");
  EXPECT_FALSE(enabled.disabled);
  EXPECT_EQ(enabled.disabled_since_ms, 0);
  EXPECT_EQ(enabled.disabled_reason, "");
  auto [u2, e2] = next(*r, "gone", 0, schakel::now_ms());
  ASSERT_TRUE(u2);
  EXPECT_EQ(u2->body, R"({"ce":"X2"})");
  ASSERT_FALSE(deliver(*r, u2->unit_id));
  auto [u3, e3] = next(*r, "gone", 0, schakel::now_ms());
  ASSERT_TRUE(u3);
  EXPECT_EQ(u3->body, R"({"ce":"X3"})");
}

TEST_P(store_delivery, status_of_an_unknown_or_idle_subscription_is_empty) {
  auto s = open();
  const auto st = s->read_subscription_status("nobody");
  EXPECT_FALSE(st.disabled);
  EXPECT_EQ(st.depth, 0);
  EXPECT_EQ(st.oldest_pending_ms, 0);
  EXPECT_EQ(st.last_success_ms, 0);
  EXPECT_EQ(st.last_error, "");
}

TEST_P(store_delivery, a_dead_letter_is_the_last_error) {
  auto s = open();
  ASSERT_FALSE(append_one(*s, "X1", {"a"}));
  auto [u, d] = next(*s, "a", 0, schakel::now_ms());
  ASSERT_TRUE(u);
  ASSERT_FALSE(call(
      [&](done_fn done) { s->move_to_dead_letters(u->unit_id, "HTTP 500 after 3 attempts", {}, std::move(done)); }));
  EXPECT_EQ(s->read_subscription_status("a").last_error, "HTTP 500 after 3 attempts");
}

}  // namespace
}  // namespace schakel::storage::conformance
