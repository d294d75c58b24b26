// The outbound guard at connect time: the delivery client checks every address it resolved and
// connects only to one that passed, so loopback, private and the hub's own listener stay out of
// reach unless a subscription allowlists them (the listener never).
#include <boost/asio/ip/tcp.hpp>

#include <gtest/gtest.h>

#include "common/destination_guard.hpp"
#include "common/signal.hpp"
#include "delivery/https_client.hpp"
#include "delivery_fixture.hpp"
#include "loopback_options.hpp"

namespace schakel::delivery {
namespace {

namespace asio = boost::asio;
using testing::delivery_service_test;
using testing::event_json;
using testing::wait_limit;
using testing::wait_until;

class outbound_guard_test : public delivery_service_test {
 protected:
  http_result post_to(const std::string& url, client_options o) {
    std::string err;
    auto client = https_client::create(io_.executor(), url, std::move(o), &err);
    EXPECT_NE(client, nullptr) << err;
    if (!client) return {};
    return io_.run([&]() -> asio::awaitable<http_result> {
      co_return co_await client->post({}, "SECRET-BODY", "application/json");
    }());
  }
  std::string receiver_url(const std::string& host = "127.0.0.1") {
    return "http://" + host + ":" + std::to_string(rx_->port()) + "/hooks";
  }
  client_options allowing(const char* block, std::vector<net::listen_endpoint> own = {}) {
    client_options o;
    o.destination = [block, own](const net::ip_address& a, std::uint16_t port) {
      net::destination_policy p;
      p.allow = {*net::parse_cidr(block)};
      p.own_listeners = own;
      return net::check_destination(a, port, p);
    };
    return o;
  }
};

TEST_F(outbound_guard_test, a_client_refuses_loopback_without_an_allowlist_and_sends_nothing) {
  start_receiver();
  const auto r = post_to(receiver_url(), {});
  EXPECT_EQ(r.status, 0u);
  EXPECT_EQ(r.refused, net::refusal::loopback);
  EXPECT_EQ(r.error.rfind("destination: 127.0.0.1 resolves to a loopback address", 0), 0u) << r.error;
  EXPECT_EQ(r.error.find("SECRET-BODY"), std::string::npos);
  EXPECT_TRUE(rx_->requests().empty());
}

TEST_F(outbound_guard_test, a_name_that_resolves_to_loopback_is_refused_at_connect_time) {
  start_receiver();
  const auto r = post_to(receiver_url("localhost"), {});
  EXPECT_EQ(r.refused, net::refusal::loopback);
  EXPECT_NE(r.error.find("destination: localhost resolves to a loopback address"), std::string::npos) << r.error;
  EXPECT_TRUE(rx_->requests().empty());
}

TEST_F(outbound_guard_test, a_client_connects_only_to_the_allowlisted_address_of_a_name) {
  start_receiver();
  // localhost may resolve to ::1 as well; only 127.0.0.1 is allowlisted, and the receiver is there.
  const auto r = post_to(receiver_url("localhost"), allowing("127.0.0.1/32"));
  EXPECT_TRUE(r.transport_ok()) << r.error;
  EXPECT_EQ(r.refused, net::refusal::none);
  EXPECT_EQ(rx_->requests().size(), 1u);
}

TEST_F(outbound_guard_test, the_hubs_own_listener_is_refused_even_when_allowlisted) {
  start_receiver();
  const auto self = *net::parse_ip("127.0.0.1");
  const auto r = post_to(receiver_url(), allowing("127.0.0.0/8", {{self, rx_->port()}}));
  EXPECT_EQ(r.refused, net::refusal::own_listener);
  EXPECT_NE(r.error.find("the hub's own listen address and port (127.0.0.1); the hub never delivers to itself"),
            std::string::npos)
      << r.error;
  EXPECT_TRUE(rx_->requests().empty());
}

TEST_F(outbound_guard_test, the_service_counts_refused_attempts_and_retries_them_without_sending) {
  start_receiver();
  auto sub = subscription();
  sub.delivery.allow_destinations.clear();
  sub.delivery.max_attempts = 2;
  store_.enqueue("jgz", 0, event_json("ev-refused"));
  start_service({sub});
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return deliveries("dead_lettered") == 1; }, wait_limit));
  EXPECT_EQ(counter("schakel_delivery_refused_destination_total", {{"subscription", "jgz"}}), 2u);
  EXPECT_EQ(deliveries("retried"), 1u);
  EXPECT_EQ(deliveries("ok"), 0u);
  EXPECT_TRUE(rx_->requests().empty());
  const auto dead = store_.list_dead_letters("jgz");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0].reason.find("destination: 127.0.0.1 resolves to a loopback address"), std::string::npos)
      << dead[0].reason;
}

TEST_F(outbound_guard_test, the_service_refuses_the_hubs_own_listener_set_after_start) {
  start_receiver();
  auto sub = subscription();
  sub.delivery.allow_destinations = {*net::parse_cidr("127.0.0.0/8")};
  sub.delivery.max_attempts = 1;
  store_.enqueue("jgz", 0, event_json("ev-self"));
  const auto& gate = gate_for({sub});
  svc_ = std::make_unique<delivery_service>(io_.executor(), store_, gate, std::vector<config::subscription>{sub},
                                            metrics_);
  // As the daemon does once its server is bound: here the "hub" is the receiver's socket.
  svc_->set_own_listeners({{*net::parse_ip("127.0.0.1"), rx_->port()}});
  svc_->start();
  svc_->notify("jgz");
  ASSERT_TRUE(wait_until([&] { return deliveries("dead_lettered") == 1; }, wait_limit));
  EXPECT_EQ(counter("schakel_delivery_refused_destination_total", {{"subscription", "jgz"}}), 1u);
  EXPECT_TRUE(rx_->requests().empty());
}

}  // namespace
}  // namespace schakel::delivery
