#pragma once
// The delivery service against the in-memory store and an in-process receiver: the fixture shared by
// the delivery test files.
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "delivery/delivery_service.hpp"
#include "fake_store.hpp"
#include "io_thread.hpp"
#include "receiver_core.hpp"
#include "support/temp_dir.hpp"

namespace schakel::delivery::testing {

using schakel::test::wait_until;

inline constexpr std::string_view secret = "whsec_c2NoYWtlbC10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGVm";
inline constexpr auto wait_limit = std::chrono::seconds(15);

inline std::string event_json(const std::string& id, int lane = 0, int seq = 0) {
  return nlohmann::json{{"specversion", "1.0"},
                        {"id", id},
                        {"type", "nl.schakel.attendance.absence.recorded"},
                        {"source", "/schakel/test"},
                        {"data", {{"lane", lane}, {"seq", seq}}}}
      .dump();
}

class delivery_service_test : public ::testing::Test {
 protected:
  void start_receiver(receiver::options o = {}) {
    o.listen = "127.0.0.1:0";
    o.secret = std::string(secret);
    o.quiet = true;
    rx_ = std::make_unique<receiver::receiver>(io_.executor(), o);
    rx_->start();
  }

  config::subscription subscription(const std::string& name = "jgz") {
    config::subscription s;
    s.name = name;
    s.partner = "ggd-test";
    s.delivery.url = "http://127.0.0.1:" + std::to_string(rx_->port()) + "/hooks/schakel";
    s.delivery.secret = std::string(secret);
    s.delivery.allow_destinations = {*net::parse_cidr("127.0.0.1/32")};  // the receiver runs on this host
    s.delivery.lanes = 1;
    s.delivery.initial_backoff = std::chrono::milliseconds(5);
    s.delivery.max_backoff = std::chrono::milliseconds(20);
    s.delivery.request_timeout = std::chrono::milliseconds(3000);
    s.privacy.identity = "identified";
    s.privacy.purpose = "delivery test";
    s.privacy.legal_basis = "public_task";
    return s;
  }

  const privacy::gate& gate_for(const std::vector<config::subscription>& subs) {
    config::hub_config cfg;
    cfg.subscriptions = subs;
    gate_ = std::make_unique<privacy::gate>(cfg, std::string(32, 'k'), consents_);
    return *gate_;
  }

  void start_service(std::vector<config::subscription> subs) {
    const auto& gate = gate_for(subs);
    svc_ = std::make_unique<delivery_service>(io_.executor(), store_, gate, std::move(subs), metrics_);
    svc_->start();
  }

  void stop_service() {
    if (!svc_ || stopped_) return;
    std::promise<void> done;
    svc_->stop([&] { done.set_value(); });
    ASSERT_EQ(done.get_future().wait_for(wait_limit), std::future_status::ready);
    stopped_ = true;
  }

  std::uint64_t counter(const std::string& name, const metrics::labels& l) {
    return metrics_.get_counter(name, "", l).value();
  }
  std::uint64_t deliveries(const std::string& outcome, const std::string& sub = "jgz") {
    return counter("schakel_deliveries_total", {{"subscription", sub}, {"outcome", outcome}});
  }

  ~delivery_service_test() override {
    stop_service();
    if (rx_) rx_->stop();
    // The store's thread may still be finishing a job that posts to a lane's strand: join it while
    // the io_context lives (members die in reverse order, and io_ would go first).
    store_.close();
    io_.stop();
  }

  fake_store store_;
  privacy::consent_registry consents_;
  std::unique_ptr<privacy::gate> gate_;
  metrics::registry metrics_;
  io_thread io_;
  std::unique_ptr<receiver::receiver> rx_;
  std::unique_ptr<delivery_service> svc_;
  bool stopped_ = false;
};

}  // namespace schakel::delivery::testing
