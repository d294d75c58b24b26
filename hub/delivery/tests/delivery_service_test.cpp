#include "delivery/delivery_service.hpp"

#include <future>
#include <map>
#include <sstream>

#include <boost/asio/ip/tcp.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "delivery/standard_webhooks.hpp"
#include "delivery_fixture.hpp"

namespace schakel::delivery {
namespace {

using schakel::test::wait_until;
using testing::delivery_service_test;
using testing::event_json;
using testing::fake_store;
using testing::io_thread;
using testing::secret;
using testing::wait_limit;

TEST_F(delivery_service_test, delivers_signed_events_and_counts_them) {
  start_receiver();
  for (int i = 0; i < 3; ++i) store_.enqueue("jgz", 0, event_json("ev-" + std::to_string(i)));
  start_service({subscription()});
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.delivered().size() == 3; }, wait_limit));

  const auto reqs = rx_->requests();
  const auto units = store_.formed();
  ASSERT_EQ(reqs.size(), 3u);
  ASSERT_EQ(units.size(), 3u);
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_TRUE(reqs[i].verified);
    EXPECT_EQ(reqs[i].status, 200u);
    EXPECT_EQ(reqs[i].webhook_id, units[i].webhook_id);
    EXPECT_EQ(reqs[i].body, units[i].body);
    EXPECT_EQ(reqs[i].content_type, "application/cloudevents+json");
    EXPECT_EQ(reqs[i].user_agent, "schakel/0.1");
  }
  EXPECT_EQ(deliveries("ok"), 3u);
  EXPECT_EQ(counter("schakel_delivery_attempts_total", {{"subscription", "jgz"}}), 3u);
  const auto rendered = metrics_.render();
  EXPECT_NE(rendered.find("schakel_end_to_end_latency_seconds"), std::string::npos);
  EXPECT_NE(rendered.find("schakel_delivery_latency_seconds"), std::string::npos);
}

TEST_F(delivery_service_test, notify_wakes_an_idle_lane) {
  start_receiver();
  start_service({subscription()});
  // Once the lane has found nothing it idles until notify (the poll fallback is 5 s), so delivery
  // well under that proves notify woke it.
  ASSERT_TRUE(wait_until([&] { return store_.next_unit_calls() >= 1; }, wait_limit));
  store_.enqueue("jgz", 0, event_json("late"));
  const auto t0 = std::chrono::steady_clock::now();
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.delivered().size() == 1; }, wait_limit));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

TEST_F(delivery_service_test, retry_keeps_webhook_id_and_body) {
  receiver::options o;
  o.fail_first = 1;
  start_receiver(o);
  store_.enqueue("jgz", 0, event_json("ev-retry"));
  start_service({subscription()});
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.delivered().size() == 1; }, wait_limit));

  const auto reqs = rx_->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].status, 500u);
  EXPECT_EQ(reqs[1].status, 200u);
  EXPECT_EQ(reqs[0].webhook_id, reqs[1].webhook_id);
  EXPECT_EQ(reqs[0].body, reqs[1].body);
  EXPECT_TRUE(reqs[0].verified);
  EXPECT_TRUE(reqs[1].verified);
  const auto res = store_.reschedules();
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].error, "HTTP 500");
  EXPECT_LE(res[0].next_attempt_ms - res[0].called_at_ms, 20);  // within max_backoff
  EXPECT_EQ(deliveries("retried"), 1u);
  EXPECT_EQ(deliveries("ok"), 1u);
}

TEST_F(delivery_service_test, honours_retry_after_up_to_max_backoff) {
  receiver::options o;
  o.status_sequence = {503, 503};
  o.retry_after = "2";
  start_receiver(o);
  store_.enqueue("jgz", 0, event_json("ev-ra"));
  auto sub = subscription();
  sub.delivery.max_backoff = std::chrono::seconds(60);
  start_service({sub});
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.reschedules().size() == 1; }, wait_limit));
  const auto first = store_.reschedules()[0];
  // initial_backoff is 5 ms; Retry-After raises the delay to 2 s.
  EXPECT_GE(first.next_attempt_ms - first.called_at_ms, 1900);
  EXPECT_LE(first.next_attempt_ms - first.called_at_ms, 2100);
  EXPECT_EQ(rx_->requests().size(), 1u);
  EXPECT_EQ(first.error, "HTTP 503");
}

TEST_F(delivery_service_test, caps_retry_after_at_max_backoff) {
  receiver::options o;
  o.status_sequence = {429};
  o.retry_after = "3600";
  start_receiver(o);
  store_.enqueue("jgz", 0, event_json("ev-cap"));
  start_service({subscription()});  // max_backoff 20 ms
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.delivered().size() == 1; }, wait_limit));
  const auto res = store_.reschedules();
  ASSERT_EQ(res.size(), 1u);
  EXPECT_LE(res[0].next_attempt_ms - res[0].called_at_ms, 20);
}

TEST_F(delivery_service_test, gone_disables_the_subscription_and_stops_its_lanes) {
  receiver::options o;
  o.status_sequence = {410};
  start_receiver(o);
  store_.enqueue("jgz", 0, event_json("ev-gone-1"));
  store_.enqueue("jgz", 0, event_json("ev-gone-2"));
  start_service({subscription()});
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.subscription_disabled("jgz"); }, wait_limit));
  stop_service();
  EXPECT_EQ(rx_->requests().size(), 1u);
  EXPECT_TRUE(store_.delivered().empty());
  EXPECT_EQ(store_.outbox_depth("jgz"), 2);  // nothing lost: both stay pending
  EXPECT_EQ(deliveries("failed"), 1u);
  EXPECT_TRUE(store_.list_dead_letters("jgz").empty());
}

TEST_F(delivery_service_test, dead_letters_after_max_attempts) {
  receiver::options o;
  o.status_sequence = {500, 500, 500};
  start_receiver(o);
  store_.enqueue("jgz", 0, event_json("ev-dead"));
  store_.enqueue("jgz", 0, event_json("ev-after"));
  auto sub = subscription();
  sub.delivery.max_attempts = 3;
  start_service({sub});
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.delivered().size() == 1; }, wait_limit));
  const auto dead = store_.list_dead_letters("jgz");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].reason, "HTTP 500 after 3 attempts");
  EXPECT_EQ(dead[0].attempts, 3u);
  const auto reqs = rx_->requests();
  ASSERT_EQ(reqs.size(), 4u);  // three for the dead one, then the next event at once
  EXPECT_EQ(reqs[0].webhook_id, reqs[2].webhook_id);
  EXPECT_NE(reqs[2].webhook_id, reqs[3].webhook_id);
  EXPECT_EQ(deliveries("dead_lettered"), 1u);
  EXPECT_EQ(deliveries("retried"), 2u);
}

// A partner that keeps failing made one info line per attempt. Each attempt is now at debug, and
// the operator gets one warn summary per subscription per interval, with the count.
TEST_F(delivery_service_test, retries_log_at_debug_with_one_warn_summary_per_subscription) {
  receiver::options o;
  o.status_sequence = {503, 503, 503, 503, 503};
  start_receiver(o);
  store_.enqueue("jgz", 0, event_json("ev-flaky"));
  auto sub = subscription();
  sub.delivery.max_attempts = 10;
  log::set_level(log::level::info);
  ::testing::internal::CaptureStderr();
  start_service({sub});
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.delivered().size() == 1; }, wait_limit));
  stop_service();
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(deliveries("retried"), 5u);
  std::istringstream lines(out);
  std::string line;
  int retry_lines = 0, summaries = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line.front() != '{') continue;
    const auto j = nlohmann::json::parse(line);
    if (j["event"] == "delivery.retry") ++retry_lines;
    if (j["event"] == "delivery.retry_summary") {
      ++summaries;
      EXPECT_EQ(j["level"], "warn");
      EXPECT_EQ(j["subscription"], "jgz");
      EXPECT_EQ(j["retries"], 1);  // the first retry of the spell; the other four fall in its minute
      EXPECT_EQ(j["last_status"], 503);
    }
  }
  EXPECT_EQ(retry_lines, 0) << out;  // debug, below the configured info
  EXPECT_EQ(summaries, 1) << out;
}

TEST_F(delivery_service_test, dead_letters_old_units_and_transport_errors_name_the_cause) {
  start_receiver();
  auto sub = subscription();
  // Point at a port where nothing listens.
  boost::asio::ip::tcp::acceptor probe(io_.context(), {boost::asio::ip::make_address("127.0.0.1"), 0});
  sub.delivery.url = "http://127.0.0.1:" + std::to_string(probe.local_endpoint().port()) + "/";
  probe.close();
  sub.delivery.max_age = std::chrono::seconds(60);
  store_.enqueue("jgz", 0, event_json("ev-old"), now_ms() - 61'000);
  start_service({sub});
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.list_dead_letters("jgz").size() == 1; }, wait_limit));
  const auto reason = store_.list_dead_letters("jgz")[0].reason;
  EXPECT_EQ(reason.rfind("connect: ", 0), 0u) << reason;
  EXPECT_NE(reason.find("after 1 attempt"), std::string::npos) << reason;
  EXPECT_NE(reason.find("max age"), std::string::npos) << reason;
}

TEST_F(delivery_service_test, batched_mode_sends_one_signed_batch) {
  start_receiver();
  auto sub = subscription();
  sub.delivery.batched = true;
  sub.delivery.batch_max_events = 3;
  sub.delivery.batch_linger = std::chrono::milliseconds(10000);
  for (int i = 0; i < 3; ++i) store_.enqueue("jgz", 0, event_json("ev-b" + std::to_string(i)));
  start_service({sub});
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.delivered().size() == 1; }, wait_limit));
  const auto reqs = rx_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(reqs[0].verified);
  EXPECT_EQ(reqs[0].content_type, "application/cloudevents-batch+json");
  const auto body = nlohmann::json::parse(reqs[0].body);
  ASSERT_TRUE(body.is_array());
  EXPECT_EQ(body.size(), 3u);
  EXPECT_EQ(rx_->accepted_event_ids(), (std::vector<std::string>{"ev-b0", "ev-b1", "ev-b2"}));
  EXPECT_EQ(deliveries("ok"), 3u);  // events, not units
  EXPECT_EQ(counter("schakel_delivery_attempts_total", {{"subscription", "jgz"}}), 1u);
}

TEST_F(delivery_service_test, batched_mode_waits_for_linger_when_not_full) {
  start_receiver();
  auto sub = subscription();
  sub.delivery.batched = true;
  sub.delivery.batch_max_events = 10;
  sub.delivery.batch_linger = std::chrono::milliseconds(300);
  store_.enqueue("jgz", 0, event_json("ev-l0"));
  store_.enqueue("jgz", 0, event_json("ev-l1"));
  const auto t0 = std::chrono::steady_clock::now();
  start_service({sub});
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.delivered().size() == 1; }, wait_limit));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(250));
  EXPECT_EQ(rx_->accepted_event_ids().size(), 2u);
}

TEST_F(delivery_service_test, keeps_order_within_each_lane_despite_failures) {
  receiver::options o;
  o.status_sequence = {200, 500, 200, 503, 500};
  start_receiver(o);
  auto sub = subscription();
  sub.delivery.lanes = 3;
  constexpr int per_lane = 8;
  for (int seq = 0; seq < per_lane; ++seq) {
    for (int lane = 0; lane < 3; ++lane) {
      store_.enqueue("jgz", static_cast<std::uint32_t>(lane),
                     event_json("l" + std::to_string(lane) + "-" + std::to_string(seq), lane, seq));
    }
  }
  start_service({sub});
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.delivered().size() == 3 * per_lane; }, wait_limit));
  const auto ids = rx_->accepted_event_ids();
  ASSERT_EQ(ids.size(), 3u * per_lane);
  for (int lane = 0; lane < 3; ++lane) {
    std::vector<std::string> seen;
    for (const auto& id : ids) {
      if (id.rfind("l" + std::to_string(lane) + "-", 0) == 0) seen.push_back(id);
    }
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(per_lane));
    for (int seq = 0; seq < per_lane; ++seq)
      EXPECT_EQ(seen[seq], "l" + std::to_string(lane) + "-" + std::to_string(seq));
  }
  EXPECT_GE(store_.reschedules().size(), 3u);
}

TEST_F(delivery_service_test, stop_without_work_calls_back) {
  start_receiver();
  start_service({subscription("a"), subscription("b")});
  stop_service();
  EXPECT_TRUE(stopped_);
}

TEST_F(delivery_service_test, refuses_unusable_subscriptions_at_construction) {
  start_receiver();
  auto bad_secret = subscription();
  bad_secret.delivery.secret = "whsec_not*base64!";
  EXPECT_THROW(delivery_service(io_.executor(), store_, gate_for({bad_secret}), {bad_secret}, metrics_),
               std::invalid_argument);
  auto plain_remote = subscription();
  plain_remote.delivery.url = "http://partner.example/hook";
  try {
    delivery_service svc(io_.executor(), store_, gate_for({plain_remote}), {plain_remote}, metrics_);
    ADD_FAILURE() << "expected a refusal";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("jgz"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("loopback"), std::string::npos);
  }
}

privacy::consent_record consent_by(privacy::consenter who, privacy::consent_kind kind, std::int64_t recorded_ms) {
  privacy::consent_record r;
  r.kind = kind;
  r.given_by = who;
  r.partner = "ggd-test";
  r.given_on = "2020-01-01";
  r.birth_date = "2000-01-01";  // an adult: the student decides (AVG)
  r.recorded_ms = recorded_ms;
  return r;
}

TEST_F(delivery_service_test, consent_is_checked_when_an_event_leaves_and_refused_events_are_dropped_and_audited) {
  start_receiver();
  auto sub = subscription();
  sub.privacy.legal_basis = "consent";
  consents_.add("ref-with-consent", consent_by(privacy::consenter::student, privacy::consent_kind::consent, 1));
  // Consent given, then withdrawn while the event waited in the queue.
  consents_.add("ref-withdrawn", consent_by(privacy::consenter::student, privacy::consent_kind::consent, 1));
  consents_.add("ref-withdrawn", consent_by(privacy::consenter::student, privacy::consent_kind::withdrawal, 2));
  store_.enqueue("jgz", 0, event_json("ev-ok"), 0, "ref-with-consent");
  store_.enqueue("jgz", 0, event_json("ev-withdrawn"), 0, "ref-withdrawn");
  store_.enqueue("jgz", 0, event_json("ev-never"), 0, "ref-never-asked");
  start_service({sub});
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.delivered().size() == 1 && store_.dropped().size() == 2; }, wait_limit));

  const auto reqs = rx_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_NE(reqs[0].body.find("ev-ok"), std::string::npos);
  EXPECT_EQ(deliveries("dropped"), 2u);
  const auto audit = store_.audit();
  ASSERT_EQ(audit.size(), 3u);
  std::map<std::string, audit::entry> by_subject;
  for (const auto& e : audit) by_subject[e.subject] = e;
  EXPECT_EQ(by_subject["ref-with-consent"].action, "delivery.delivered");
  EXPECT_EQ(by_subject["ref-with-consent"].outcome, "success");
  EXPECT_EQ(by_subject["ref-with-consent"].actor, "ggd-test");
  EXPECT_EQ(by_subject["ref-with-consent"].purpose, "delivery test");
  EXPECT_EQ(by_subject["ref-with-consent"].legal_basis, "consent");
  EXPECT_EQ(by_subject["ref-withdrawn"].action, "delivery.dropped");
  EXPECT_EQ(by_subject["ref-withdrawn"].outcome, "denied");
  EXPECT_NE(by_subject["ref-withdrawn"].detail.find("withdrawn"), std::string::npos)
      << by_subject["ref-withdrawn"].detail;
  EXPECT_EQ(by_subject["ref-never-asked"].action, "delivery.dropped");
}

TEST_F(delivery_service_test, a_batch_loses_only_its_refused_members) {
  start_receiver();
  auto sub = subscription();
  sub.privacy.legal_basis = "consent";
  sub.delivery.batched = true;
  sub.delivery.batch_max_events = 3;
  sub.delivery.batch_linger = std::chrono::milliseconds(1);
  consents_.add("ref-a", consent_by(privacy::consenter::student, privacy::consent_kind::consent, 1));
  store_.enqueue("jgz", 0, event_json("ev-a1"), 0, "ref-a");
  store_.enqueue("jgz", 0, event_json("ev-b"), 0, "ref-b");
  store_.enqueue("jgz", 0, event_json("ev-a2"), 0, "ref-a");
  start_service({sub});
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return store_.delivered().size() == 1; }, wait_limit));
  const auto reqs = rx_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto body = nlohmann::json::parse(reqs[0].body);
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0]["id"], "ev-a1");
  EXPECT_EQ(body[1]["id"], "ev-a2");
  EXPECT_EQ(store_.dropped().size(), 1u);
}

TEST_F(delivery_service_test, a_legal_obligation_is_not_stopped_by_an_objection_but_public_task_is) {
  start_receiver();
  auto duty = subscription("duty");
  duty.privacy.legal_basis = "legal_obligation";
  auto task = subscription("task");
  task.privacy.legal_basis = "public_task";
  consents_.add("ref-objects", consent_by(privacy::consenter::student, privacy::consent_kind::objection, 1));
  store_.enqueue("duty", 0, event_json("ev-duty"), 0, "ref-objects");
  store_.enqueue("task", 0, event_json("ev-task"), 0, "ref-objects");
  start_service({duty, task});
  svc_->notify("duty");
  svc_->notify("task");
  ASSERT_TRUE(wait_until([&] { return store_.delivered().size() == 1 && store_.dropped().size() == 1; }, wait_limit));
  const auto reqs = rx_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_NE(reqs[0].body.find("ev-duty"), std::string::npos);
}

}  // namespace
}  // namespace schakel::delivery
