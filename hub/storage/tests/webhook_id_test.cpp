// Webhook ids as the privacy gate chooses them, kept by the engine for retries, and batch ids
// that carry no time.
#include "storage/store.hpp"

#include <gtest/gtest.h>

#include "common/encoding.hpp"
#include "common/signal.hpp"
#include "storage/tests/store_fixture.hpp"

namespace schakel::storage {
namespace {

using test_support::sqlite_store_test;

TEST_F(sqlite_store_test, a_webhook_id_chosen_for_the_item_names_it_and_its_batch) {
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
  ASSERT_FALSE(call([&](done_fn d) { s->mark_delivered(again->unit_id, {}, std::move(d)); }));

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

}  // namespace
}  // namespace schakel::storage
