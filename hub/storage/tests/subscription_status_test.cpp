// A subscription a partner disabled with 410 Gone: what the operator sees of it, and that enabling
// it hands out what queued meanwhile, in order.
#include "storage/store.hpp"

#include <gtest/gtest.h>

#include "common/signal.hpp"
#include "storage/tests/store_fixture.hpp"

namespace schakel::storage {
namespace {

using test_support::sqlite_store_test;

audit::entry enabled_record() {
  audit::entry e;
  e.time_ms = schakel::now_ms();
  e.action = "subscription.enabled";
  e.outcome = "success";
  e.actor = "admin";
  e.actor_role = "admin";
  e.object_type = "subscription";
  e.object_id = "gone";
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

TEST_F(sqlite_store_test, disabled_subscription_keeps_since_reason_and_outcomes_across_restarts) {
  auto s = open();
  const auto before = schakel::now_ms();
  ASSERT_FALSE(append_one(*s, "X1", {"gone"}));
  ASSERT_FALSE(append_one(*s, "X2", {"gone"}));
  // The first delivery succeeds, the second is refused with 410: the outcomes are recorded.
  auto [first, d0] = next(*s, "gone", 0, schakel::now_ms());
  ASSERT_TRUE(first);
  ASSERT_FALSE(call([&](done_fn d) { s->mark_delivered(first->unit_id, {}, std::move(d)); }));
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
  ASSERT_FALSE(call([&](done_fn d) { r->mark_delivered(u2->unit_id, {}, std::move(d)); }));
  auto [u3, e3] = next(*r, "gone", 0, schakel::now_ms());
  ASSERT_TRUE(u3);
  EXPECT_EQ(u3->body, R"({"ce":"X3"})");
}

TEST_F(sqlite_store_test, status_of_an_unknown_or_idle_subscription_is_empty) {
  auto s = open();
  const auto st = s->read_subscription_status("nobody");
  EXPECT_FALSE(st.disabled);
  EXPECT_EQ(st.depth, 0);
  EXPECT_EQ(st.oldest_pending_ms, 0);
  EXPECT_EQ(st.last_success_ms, 0);
  EXPECT_EQ(st.last_error, "");
}

TEST_F(sqlite_store_test, a_dead_letter_is_the_last_error) {
  auto s = open();
  ASSERT_FALSE(append_one(*s, "X1", {"a"}));
  auto [u, d] = next(*s, "a", 0, schakel::now_ms());
  ASSERT_TRUE(u);
  ASSERT_FALSE(call(
      [&](done_fn done) { s->move_to_dead_letters(u->unit_id, "HTTP 500 after 3 attempts", {}, std::move(done)); }));
  EXPECT_EQ(s->read_subscription_status("a").last_error, "HTTP 500 after 3 attempts");
}

}  // namespace
}  // namespace schakel::storage
