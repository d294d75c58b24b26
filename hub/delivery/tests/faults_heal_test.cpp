// Faults that heal: a store write that failed once, a partner that answers 200 with a large body and
// a Retry-After past the integer range must not leave delivery stuck, repeating itself or overflowing.
#include <gtest/gtest.h>

#include "common/signal.hpp"
#include "delivery/https_client.hpp"
#include "delivery/standard_webhooks.hpp"
#include "delivery_fixture.hpp"
#include "loopback_options.hpp"

namespace schakel::delivery {
namespace {

using schakel::test::wait_until;
using testing::delivery_service_test;
using testing::event_json;
using testing::wait_limit;

TEST(retry_after, a_value_past_the_integer_range_is_clamped) {
  EXPECT_EQ(parse_retry_after("99999999999999999999999", 0), max_retry_after);
  EXPECT_EQ(parse_retry_after("9223372036854775807", 0), max_retry_after);
  EXPECT_EQ(parse_retry_after(std::to_string(max_retry_after.count() + 1), 0), max_retry_after);
  EXPECT_EQ(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", 0), max_retry_after);
  // Within the range nothing changes, and digits after junk stay unparseable.
  EXPECT_EQ(parse_retry_after("120", 0), std::chrono::seconds(120));
  EXPECT_FALSE(parse_retry_after("99999999999999999999999s", 0));
  // Milliseconds of the clamp still fit the delay arithmetic.
  EXPECT_GT(std::chrono::milliseconds(max_retry_after).count(), 0);
}

TEST_F(delivery_service_test, a_huge_retry_after_waits_max_backoff_not_forever) {
  receiver::options o;
  o.fail_first = 1;
  o.retry_after = "99999999999999999999999";
  start_receiver(o);
  store_.enqueue("jgz", 0, event_json("ev-1"));
  auto sub = subscription();
  sub.delivery.max_backoff = std::chrono::seconds(10);
  start_service({sub});
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.reschedules().size() == 1; }, wait_limit));
  const auto r = store_.reschedules()[0];
  // Jitter alone stays under initial_backoff (5 ms); the partner's answer raised it to max_backoff.
  EXPECT_GT(r.next_attempt_ms - r.called_at_ms, 5000) << "the clamped Retry-After did not raise the delay";
  EXPECT_LE(r.next_attempt_ms - r.called_at_ms, 10000);
}

TEST_F(delivery_service_test, a_failed_mark_delivered_is_written_again_and_the_lane_moves_on) {
  start_receiver();
  store_.enqueue("jgz", 0, event_json("ev-1"));
  store_.enqueue("jgz", 0, event_json("ev-2"));
  // The disk is full for the first two writes of an outcome, then has room again.
  store_.fail_outcomes(2);
  start_service({subscription()});
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.delivered().size() == 2; }, wait_limit))
      << "failed outcome writes: " << store_.failed_outcomes() << ", delivered: " << store_.delivered().size();
  EXPECT_EQ(store_.failed_outcomes(), 2u);
  // The partner saw each event once: the outcome was written again, the event not sent again.
  EXPECT_EQ(rx_->requests().size(), 2u);
}

TEST_F(delivery_service_test, a_failed_reschedule_is_written_again_and_the_event_still_arrives) {
  receiver::options o;
  o.fail_first = 1;
  start_receiver(o);
  store_.enqueue("jgz", 0, event_json("ev-1"));
  store_.fail_outcomes(1);
  start_service({subscription()});
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.delivered().size() == 1; }, wait_limit));
  EXPECT_EQ(store_.failed_outcomes(), 1u);
  ASSERT_EQ(store_.reschedules().size(), 1u);
  EXPECT_EQ(rx_->requests().size(), 2u);
}

/** A partner whose 200 carries `body_bytes` bytes, one https_client request at a time. */
class large_answer_test : public delivery_service_test {
 protected:
  http_result post_once(https_client& client, const std::string& id) {
    const std::string body = event_json(id);
    const auto key = signing_key::parse(testing::secret);
    const std::int64_t ts = now_ms() / 1000;
    std::vector<std::pair<std::string, std::string>> headers{
        {"webhook-id", id}, {"webhook-timestamp", std::to_string(ts)}, {"webhook-signature", sign(*key, id, ts, body)}};
    return io_.run(client.post(std::move(headers), body, "application/cloudevents+json"));
  }
  std::unique_ptr<https_client> client() {
    std::string err;
    auto c = https_client::create(io_.executor(), "http://127.0.0.1:" + std::to_string(rx_->port()) + "/hooks",
                                  testing::loopback_options(), &err);
    EXPECT_TRUE(c) << err;
    return c;
  }
};

TEST_F(large_answer_test, a_200_with_a_body_over_the_cap_is_a_success_on_a_fresh_connection) {
  receiver::options o;
  o.ok_body_bytes = 200 * 1024;  // client_options caps response bodies at 64 KiB
  start_receiver(o);
  auto c = client();
  ASSERT_TRUE(c);
  const auto first = post_once(*c, "wh-1");
  EXPECT_TRUE(first.transport_ok()) << first.error;
  EXPECT_EQ(first.status, 200u);
  const auto second = post_once(*c, "wh-2");
  EXPECT_TRUE(second.transport_ok()) << second.error;
  EXPECT_EQ(second.status, 200u);
  // The unread body made the connection unusable: it was dropped, not reused.
  EXPECT_FALSE(second.reused_connection);
  // Each request reached the partner once.
  EXPECT_EQ(rx_->requests().size(), 2u);
}

TEST_F(large_answer_test, a_200_with_a_body_under_the_cap_is_drained_and_the_connection_reused) {
  receiver::options o;
  o.ok_body_bytes = 32 * 1024;
  start_receiver(o);
  auto c = client();
  ASSERT_TRUE(c);
  EXPECT_EQ(post_once(*c, "wh-1").status, 200u);
  const auto second = post_once(*c, "wh-2");
  EXPECT_EQ(second.status, 200u);
  EXPECT_TRUE(second.reused_connection);
}

}  // namespace
}  // namespace schakel::delivery
