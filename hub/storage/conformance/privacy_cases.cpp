// The privacy gate's storage: delivery units name their members, refused members are dropped for good,
// consents are recorded in order, and retention purges what is old and finished, never what waits.
#include <future>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/signal.hpp"
#include "storage/conformance/fixture.hpp"

namespace schakel::storage::conformance {
namespace {

constexpr std::int64_t day_ms = 86'400'000;

TEST_P(store_privacy, single_and_batch_units_carry_their_members_in_body_order) {
  auto s = open();
  ASSERT_FALSE(append(*s, {typed_sig("S1", "t.a"), typed_sig("S2", "t.b"), typed_sig("S3", "t.c")},
                      {gated_item("one", "S1", "t.a", "p1", "health"), gated_item("bat", "S2", "t.b", "p2"),
                       gated_item("bat", "S3", "t.c", "")}));
  const auto now = schakel::now_ms();
  auto [u, d0] = next(*s, "one", 0, now);
  ASSERT_TRUE(u);
  ASSERT_EQ(u->members.size(), 1u);
  EXPECT_EQ(u->members[0].seq, u->unit_id);
  EXPECT_EQ(u->members[0].signal_id, "S1");
  EXPECT_EQ(u->members[0].signal_type, "t.a");
  EXPECT_EQ(u->members[0].subject_ref, "p1");
  EXPECT_EQ(u->members[0].data_category, "health");

  const batching b{.enabled = true, .max_events = 2, .linger_ms = 60000};
  auto [bu, d1] = next(*s, "bat", 0, now, b);
  ASSERT_TRUE(bu);
  ASSERT_EQ(bu->members.size(), 2u);
  EXPECT_EQ(bu->event_count, bu->members.size());
  EXPECT_EQ(bu->members[0].signal_id, "S2");
  EXPECT_EQ(bu->members[1].signal_id, "S3");
  EXPECT_EQ(bu->members[1].subject_ref, "");
  EXPECT_NE(bu->members[0].seq, bu->members[1].seq);

  // The retry of a formed batch names the same members.
  ASSERT_FALSE(call([&](done_fn d) { s->reschedule(bu->unit_id, now, "http 503", std::move(d)); }));
  auto [again, d2] = next(*s, "bat", 0, now, b);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->members.size(), 2u);
  EXPECT_EQ(again->members[0].seq, bu->members[0].seq);
  EXPECT_EQ(again->members[1].signal_type, "t.c");
}

TEST_P(store_privacy, dropping_a_single_event_removes_it_for_good) {
  auto s = open();
  ASSERT_FALSE(append_one(*s, "D1", {"a"}));
  ASSERT_FALSE(append_one(*s, "D2", {"a"}));
  const auto now = schakel::now_ms();
  auto [u, d0] = next(*s, "a", 0, now);
  ASSERT_TRUE(u);
  EXPECT_EQ(call([&](done_fn d) { s->drop_members(u->unit_id, {u->unit_id + 1000}, "x", {}, std::move(d)); }),
            storage_errc::invalid_argument)
      << "a row that is not the unit";
  ASSERT_FALSE(call([&](done_fn d) {
    s->drop_members(u->unit_id, {u->members.at(0).seq}, "consent withdrawn", {entry("delivery.dropped", "D1")},
                    std::move(d));
  }));
  EXPECT_EQ(s->outbox_depth("a"), 1);
  EXPECT_TRUE(s->list_dead_letters("a").empty()) << "a drop is not a dead letter";
  EXPECT_EQ(records(*s).size(), 1u);
  EXPECT_EQ(deliver(*s, u->unit_id), storage_errc::not_found);

  auto [next_u, d1] = next(*s, "a", 0, now);
  ASSERT_TRUE(next_u) << "the lane is free again";
  EXPECT_EQ(next_u->members.at(0).signal_id, "D2");
  s->close();
  auto r = open();
  EXPECT_EQ(r->outbox_depth("a"), 1) << "dropped rows are not counted after a reopen either";
  auto [after, d2] = next(*r, "a", 0, now);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->members.at(0).signal_id, "D2");
}

TEST_P(store_privacy, dropping_batch_members_releases_the_rest_in_their_order) {
  auto s = open();
  for (const char* id : {"B1", "B2", "B3", "B4"}) ASSERT_FALSE(append_one(*s, id, {"a"}));
  const batching b{.enabled = true, .max_events = 3, .linger_ms = 0};
  const auto now = schakel::now_ms();
  auto [u, d0] = next(*s, "a", 0, now, b);
  ASSERT_TRUE(u);
  ASSERT_EQ(u->members.size(), 3u);
  EXPECT_EQ(u->body, R"([{"ce":"B1"},{"ce":"B2"},{"ce":"B3"}])");

  ASSERT_FALSE(call([&](done_fn d) {
    s->drop_members(u->unit_id, {u->members[1].seq}, "objection", {entry("delivery.dropped", "B2")}, std::move(d));
  }));
  EXPECT_EQ(s->outbox_depth("a"), 3);
  EXPECT_EQ(deliver(*s, u->unit_id), storage_errc::not_found) << "the batch is dissolved";

  auto [fresh, d1] = next(*s, "a", 0, now, b);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->body, R"([{"ce":"B1"},{"ce":"B3"},{"ce":"B4"}])") << "B1 and B3 keep their place, B4 joins";
  EXPECT_NE(fresh->webhook_id, u->webhook_id);
  ASSERT_EQ(fresh->members.size(), 3u);
  EXPECT_EQ(fresh->members[0].seq, u->members[0].seq);
  EXPECT_EQ(fresh->members[1].seq, u->members[2].seq);

  // Without batching the released rows go out one by one, byte for byte as appended.
  ASSERT_FALSE(call([&](done_fn d) {
    s->drop_members(fresh->unit_id, {fresh->members[1].seq, fresh->members[2].seq}, "withdrawn", {}, std::move(d));
  }));
  auto [single, d2] = next(*s, "a", 0, now);
  ASSERT_TRUE(single);
  EXPECT_EQ(single->body, R"({"ce":"B1"})");
  EXPECT_EQ(single->content_type, "application/cloudevents+json");
  ASSERT_FALSE(deliver(*s, single->unit_id));
  expect_drained(*s, "a", now);
}

TEST_P(store_privacy, dropping_every_member_of_a_batch_ends_it) {
  auto s = open();
  for (const char* id : {"E1", "E2"}) ASSERT_FALSE(append_one(*s, id, {"a"}));
  const auto now = schakel::now_ms();
  auto [u, d0] = next(*s, "a", 0, now, {.enabled = true, .max_events = 2, .linger_ms = 0});
  ASSERT_TRUE(u);
  EXPECT_EQ(call([&](done_fn d) { s->drop_members(u->unit_id, {}, "x", {}, std::move(d)); }),
            storage_errc::invalid_argument);
  ASSERT_FALSE(call([&](done_fn d) {
    s->drop_members(u->unit_id, {u->members[0].seq, u->members[1].seq}, "withdrawn", {}, std::move(d));
  }));
  expect_drained(*s, "a", now, {.enabled = true, .max_events = 2, .linger_ms = 0});
}

TEST_P(store_privacy, consents_are_recorded_in_order_with_their_audit_record) {
  auto s = open();
  auto record = [&](consent_row row, std::vector<audit::entry> es) {
    std::promise<std::pair<std::error_code, std::int64_t>> p;
    auto f = p.get_future();
    s->append_consent(std::move(row), std::move(es), [&p](std::error_code ec, std::int64_t id) {
      p.set_value({ec, id});
    });
    return wait_for(f, std::pair<std::error_code, std::int64_t>{std::make_error_code(std::errc::timed_out), 0});
  };
  audit::entry e = entry("consent.recorded");
  e.object_type = "consent";
  const auto [ec1, id1] = record({0, "pseudo-1", 1000, R"({"kind":"consent"})"}, {e});
  ASSERT_FALSE(ec1);
  const auto [ec2, id2] = record({0, "pseudo-2", 0, R"({"kind":"objection"})"}, {});
  ASSERT_FALSE(ec2);
  EXPECT_GT(id2, id1);
  const auto [ec3, id3] = record({0, "", 1, "{}"}, {e});
  EXPECT_EQ(ec3, storage_errc::invalid_argument);
  EXPECT_EQ(id3, 0);
  const auto [ec4, id4] = record({0, "pseudo-1", 2000, R"({"kind":"withdrawal"})"}, {});
  ASSERT_FALSE(ec4);
  EXPECT_GT(id4, id2);

  const auto rs = records(*s);
  ASSERT_EQ(rs.size(), 1u) << "the failed consent left no audit record";
  EXPECT_EQ(audit::from_json(nlohmann::json::parse(rs[0].text))->object_id, std::to_string(id1));
  s->close();
  auto r = open();
  const auto all = r->load_consents();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, id1);
  EXPECT_EQ(all[0].subject_ref, "pseudo-1");
  EXPECT_EQ(all[0].recorded_ms, 1000);
  EXPECT_EQ(all[1].json, R"({"kind":"objection"})");
  EXPECT_GT(all[1].recorded_ms, 0) << "an unset time is the recording time";
  EXPECT_EQ(all[2].id, id4) << "recording order: a withdrawal after its consent";
  EXPECT_EQ(all[2].json, R"({"kind":"withdrawal"})");
}

TEST_P(store_privacy, purge_removes_old_signals_per_type_but_never_waiting_ones) {
  auto s = open();
  ASSERT_FALSE(append(*s,
                      {typed_sig("A-done", "nl.a.x"), typed_sig("A-wait", "nl.a.y"), typed_sig("A-dead", "nl.a.z"),
                       typed_sig("A-drop", "nl.a.z"), typed_sig("K", "nl.keep.me"), typed_sig("D", "nl.other")},
                      {gated_item("s", "A-done", "nl.a.x", "p"), gated_item("s2", "A-wait", "nl.a.y", "p"),
                       gated_item("s3", "A-dead", "nl.a.z", "p"), gated_item("s4", "A-drop", "nl.a.z", "p")}));
  const auto now = schakel::now_ms();
  auto finish = [&](const std::string& sub, auto&& outcome) {
    auto [u, d] = next(*s, sub, 0, now);
    ASSERT_TRUE(u);
    ASSERT_FALSE(call([&](done_fn done) { outcome(*u, std::move(done)); }));
  };
  finish("s", [&](const delivery_unit& u, done_fn d) { s->mark_delivered(u.unit_id, {}, std::move(d)); });
  finish("s3",
         [&](const delivery_unit& u, done_fn d) { s->move_to_dead_letters(u.unit_id, "http 400", {}, std::move(d)); });
  finish("s4",
         [&](const delivery_unit& u, done_fn d) { s->drop_members(u.unit_id, {u.unit_id}, "w", {}, std::move(d)); });
  ASSERT_EQ(s->list_dead_letters("s3").size(), 1u);

  retention_plan plan;
  // First match wins: nl.keep.me before nl.*, nl.a.* before nl.*.
  plan.rules = {{"nl.keep.me", 0}, {"nl.a.*", 1}, {"nl.*", 30}};
  plan.default_days = 30;

  // Not old enough for anything yet.
  EXPECT_EQ(s->purge(plan, now + day_ms / 2).signals, 0);
  EXPECT_EQ(s->signal_count(), 6);

  auto r = s->purge(plan, now + 2 * day_ms);
  EXPECT_EQ(r.signals, 3) << "A-done, A-dead and A-drop; A-wait still waits for s2";
  EXPECT_FALSE(s->get_signal("A-done"));
  EXPECT_FALSE(s->get_signal("A-dead"));
  EXPECT_FALSE(s->get_signal("A-drop"));
  EXPECT_TRUE(s->get_signal("A-wait"));
  EXPECT_TRUE(s->get_signal("K"));
  EXPECT_TRUE(s->get_signal("D"));
  EXPECT_TRUE(s->list_dead_letters("s3").empty()) << "the dead letter went with its signal";
  EXPECT_EQ(s->signal_count(), 3);
  EXPECT_EQ(s->outbox_depth("s2"), 1);
  auto [w, dw] = next(*s, "s2", 0, now);
  ASSERT_TRUE(w) << "the waiting event is still deliverable";
  EXPECT_EQ(w->members.at(0).signal_id, "A-wait");
  ASSERT_FALSE(deliver(*s, w->unit_id));

  // keep_from_seq: processors not past a signal yet keep it whatever its age.
  plan.keep_from_seq = s->read_signals_after(0, 100).at(0).seq;  // A-wait is the oldest left
  EXPECT_EQ(s->purge(plan, now + 60 * day_ms).signals, 0);
  plan.keep_from_seq = INT64_MAX;
  r = s->purge(plan, now + 60 * day_ms);
  EXPECT_EQ(r.signals, 2) << "A-wait and D; K is kept forever (0 days)";
  EXPECT_TRUE(s->get_signal("K"));
  EXPECT_EQ(s->signal_count(), 1);
  s->close();
  EXPECT_EQ(open()->signal_count(), 1);
}

// A formed batch still waits for its members' signals, in flight or not; a dead batch's members go
// with their signals.
TEST_P(store_privacy, purge_keeps_what_a_live_batch_waits_for_and_takes_a_dead_batch_along) {
  auto s = open();
  for (const char* id : {"L1", "L2"}) ASSERT_FALSE(append_one(*s, id, {"live"}));
  for (const char* id : {"X1", "X2"}) ASSERT_FALSE(append_one(*s, id, {"dead"}));
  const batching b{.enabled = true, .max_events = 2, .linger_ms = 0};
  const auto now = schakel::now_ms();
  auto [live, d0] = next(*s, "live", 0, now, b);
  ASSERT_TRUE(live);
  ASSERT_FALSE(call([&](done_fn d) { s->reschedule(live->unit_id, now + 1000, "http 503", std::move(d)); }));
  auto [dead, d1] = next(*s, "dead", 0, now, b);
  ASSERT_TRUE(dead);
  ASSERT_FALSE(call([&](done_fn d) { s->move_to_dead_letters(dead->unit_id, "http 400", {}, std::move(d)); }));

  retention_plan plan;
  plan.default_days = 1;
  EXPECT_EQ(s->purge(plan, now + 2 * day_ms).signals, 2) << "X1 and X2";
  EXPECT_TRUE(s->get_signal("L1"));
  EXPECT_TRUE(s->get_signal("L2"));
  EXPECT_FALSE(s->get_signal("X1"));
  EXPECT_TRUE(s->list_dead_letters("dead").empty()) << "the dead batch went with its members' signals";
  EXPECT_EQ(s->outbox_depth("live"), 2);
  auto [retry, d2] = next(*s, "live", 0, now + 1000, b);
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->body, live->body) << "the batch is intact";
  ASSERT_FALSE(deliver(*s, retry->unit_id));
  EXPECT_EQ(s->purge(plan, now + 2 * day_ms).signals, 2) << "delivered: now they go";
  EXPECT_EQ(s->signal_count(), 0);
}

// ---- the audit trail ----

TEST_P(store_audit, outcomes_append_their_audit_records_in_the_same_job) {
  auto s = open();
  ASSERT_FALSE(append_one(*s, "A1", {"a"}));
  ASSERT_FALSE(append_one(*s, "A2", {"a"}));
  const auto now = schakel::now_ms();
  auto [u1, d1] = next(*s, "a", 0, now);
  ASSERT_TRUE(u1);
  ASSERT_FALSE(call([&](done_fn d) {
    s->mark_delivered(u1->unit_id, {entry("delivery.delivered", "A1"), entry("delivery.delivered", "A1b")},
                      std::move(d));
  }));
  auto [u2, d2] = next(*s, "a", 0, now);
  ASSERT_TRUE(u2);
  ASSERT_FALSE(call([&](done_fn d) {
    s->move_to_dead_letters(u2->unit_id, "http 400", {entry("delivery.dead_lettered", "A2")}, std::move(d));
  }));
  // An outcome that fails writes no audit record.
  EXPECT_EQ(call([&](done_fn d) { s->mark_delivered(999999, {entry("delivery.delivered", "X")}, std::move(d)); }),
            storage_errc::not_found);

  const auto rs = records(*s);
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[0].seq, 1);
  EXPECT_EQ(rs[0].prev_hash, audit::genesis_hash());
  EXPECT_EQ(rs[1].prev_hash, rs[0].hash);
  EXPECT_EQ(rs[2].seq, 3);
  const auto e = audit::from_json(nlohmann::json::parse(rs[2].text));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->action, "delivery.dead_lettered");
  EXPECT_EQ(e->object_id, "A2");
  EXPECT_EQ(rs[2].time_ms, e->time_ms);
  EXPECT_TRUE(verify(*s).ok) << verify(*s).reason;

  // Time window: from <= time < to.
  std::size_t n = 0;
  s->read_audit(rs[0].time_ms, rs[0].time_ms + 1, [&](const audit::record&) { return ++n, true; });
  EXPECT_EQ(n, 3u);
  n = 0;
  EXPECT_FALSE(s->read_audit(INT64_MIN, INT64_MAX, [&](const audit::record&) { return ++n, false; }));
  EXPECT_EQ(n, 1u);
  n = 0;
  s->read_audit(INT64_MIN, rs[0].time_ms, [&](const audit::record&) { return ++n, true; });
  EXPECT_EQ(n, 0u);
}

TEST_P(store_audit, read_audit_selects_a_time_range_in_seq_order) {
  auto s = open();
  ASSERT_FALSE(append_audit(*s, {entry("x.a", "1", 1000), entry("x.b", "2", 3000)}));
  ASSERT_FALSE(append_audit(*s, {entry("x.c", "3", 2000), entry("x.d", "4", 4000)}));
  std::vector<std::int64_t> seqs;
  EXPECT_TRUE(s->read_audit(2000, 4000, [&](const audit::record& r) {
    seqs.push_back(r.seq);
    return true;
  }));
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{2, 3})) << "3000 and 2000, by seq; 4000 is past the end";
}

// The head a signed checkpoint vouches for is the last committed record, also after a restart.
TEST_P(store_audit, the_head_is_the_last_committed_record) {
  auto s = open();
  const auto empty = s->read_audit_head();
  ASSERT_TRUE(empty) << "an engine keeping an audit trail reports its head";
  EXPECT_EQ(empty->seq, 0);
  ASSERT_FALSE(append_audit(*s, {entry("x.a", "1"), entry("x.b", "2")}));
  // A failed job moves nothing: neither the head nor the next record's seq.
  audit::entry bad = entry("x.bad");
  bad.action.clear();
  EXPECT_EQ(append_audit(*s, {entry("x.c", "3"), bad}), storage_errc::invalid_argument);
  const auto rs = records(*s);
  ASSERT_EQ(rs.size(), 2u) << "nothing of the failed job";
  auto head = s->read_audit_head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->seq, 2);
  EXPECT_EQ(head->hash, rs[1].hash);
  s->close();
  auto r = open();
  ASSERT_FALSE(append_audit(*r, {entry("x.e", "5")}));
  head = r->read_audit_head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->seq, 3) << "no gap where the failed job was, across a restart";
  EXPECT_TRUE(verify(*r).ok) << verify(*r).reason;
}

TEST_P(store_audit, purge_of_the_audit_trail_keeps_it_verifiable) {
  auto s = open();
  // Three old records, then two recent ones.
  ASSERT_FALSE(append_audit(*s, {entry("x.old", "1", 10 * day_ms), entry("x.old", "2", 11 * day_ms)}));
  ASSERT_FALSE(append_audit(*s, {entry("x.old", "3", 12 * day_ms)}));
  ASSERT_FALSE(append_audit(*s, {entry("x.new", "4", 100 * day_ms), entry("x.new", "5", 101 * day_ms)}));
  const auto rs = records(*s);
  ASSERT_EQ(rs.size(), 5u);

  retention_plan plan;
  plan.audit_days = 50;
  const auto now = 110 * day_ms;
  const auto r = s->purge(plan, now);
  EXPECT_EQ(r.audit_records, 3);
  EXPECT_EQ(r.signals, 0);
  const auto anchor = s->read_audit_anchor();
  EXPECT_EQ(anchor.next_seq, 4);
  EXPECT_EQ(anchor.prev_hash, rs[2].hash);
  const auto left = records(*s);
  ASSERT_EQ(left.size(), 3u) << "two kept plus the purge's own record";
  EXPECT_EQ(left.front().seq, 4);
  EXPECT_NE(left.back().text.find("retention.purged"), std::string::npos);
  EXPECT_NE(left.back().text.find("audit_records=3"), std::string::npos);
  auto v = verify(*s);
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_EQ(v.records, 3);

  // Everything old: the chain continues from the head, across a reopen.
  plan.audit_days = 1;
  EXPECT_EQ(s->purge(plan, 1000 * day_ms).audit_records, 3);
  s->close();
  auto again = open();
  ASSERT_FALSE(append_audit(*again, {entry("x.after", "6", 1000 * day_ms)}));
  v = verify(*again);
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_EQ(v.records, 2);
  EXPECT_EQ(again->read_audit_anchor().next_seq, 7);

  // audit_days 0 keeps the trail.
  plan.audit_days = 0;
  EXPECT_EQ(again->purge(plan, 5000 * day_ms).audit_records, 0);
}

}  // namespace
}  // namespace schakel::storage::conformance
