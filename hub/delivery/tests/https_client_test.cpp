#include "delivery/https_client.hpp"

#include <fstream>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/signal.hpp"
#include "delivery/standard_webhooks.hpp"
#include "io_thread.hpp"
#include "loopback_options.hpp"
#include "receiver_core.hpp"
#include "signed_event.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_tls.hpp"

namespace schakel::delivery {
namespace {

namespace asio = boost::asio;
using testing::event;
using testing::io_thread;
using testing::secret;
using testing::signed_headers;
using testing::loopback_options;

TEST(https_client_url, parses_urls) {
  auto u = parse_url("https://Partner.example:8443/hooks/jgz?x=1#frag");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "partner.example");
  EXPECT_EQ(u->port, "8443");
  EXPECT_EQ(u->target, "/hooks/jgz?x=1");
  u = parse_url("http://[::1]:9000");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "9000");
  EXPECT_EQ(u->target, "/");
  u = parse_url("https://example.org");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, "443");
  std::string err;
  EXPECT_FALSE(parse_url("ftp://example.org/", &err));
  EXPECT_NE(err.find("scheme"), std::string::npos);
  EXPECT_FALSE(parse_url("https://example.org:99999/", &err));
  EXPECT_FALSE(parse_url("https://user:pw@example.org/", &err));
  EXPECT_FALSE(parse_url("https:///path", &err));
}

TEST(https_client_url, recognises_loopback_hosts) {
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.8.9.10"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
  EXPECT_FALSE(is_loopback_host("localhost.example.org"));
}

TEST(https_client_url, parses_retry_after) {
  EXPECT_EQ(parse_retry_after("120", 0), std::chrono::seconds(120));
  EXPECT_EQ(parse_retry_after(" 0 ", 0), std::chrono::seconds(0));
  // 1994-11-06T08:49:37Z = 784111777
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777000 - 30000), std::chrono::seconds(30));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777000 + 5000), std::chrono::seconds(0));
  EXPECT_FALSE(parse_retry_after("soon", 0));
  EXPECT_FALSE(parse_retry_after("12s", 0));
  EXPECT_FALSE(parse_retry_after("", 0));
}

TEST(https_client, refuses_plain_http_to_other_hosts) {
  io_thread io;
  std::string err;
  EXPECT_EQ(https_client::create(io.executor(), "http://partner.example/hook", {}, &err), nullptr);
  EXPECT_NE(err.find("loopback"), std::string::npos);
  EXPECT_EQ(https_client::create(io.executor(), "http://10.1.2.3/hook", {}, &err), nullptr);
  EXPECT_NE(https_client::create(io.executor(), "http://127.0.0.1:1/hook", {}, &err), nullptr);
  client_options bad_ca;
  bad_ca.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(https_client::create(io.executor(), "https://localhost/", bad_ca, &err), nullptr);
  EXPECT_NE(err.find("ca_file"), std::string::npos);
}

class https_client_tls : public ::testing::Test {
 protected:
  void start_receiver(const schakel::test::tls_files& files, const std::string& listen = "127.0.0.1:0",
                      std::chrono::milliseconds delay = {}) {
    receiver::options o;
    o.listen = listen;
    o.secret = std::string(secret);
    o.tls_cert = files.server_cert.string();
    o.tls_key = files.server_key.string();
    o.quiet = true;
    o.delay = delay;
    rx_ = std::make_unique<receiver::receiver>(io_.executor(), o);
    rx_->start();
  }
  http_result post(https_client& c, const std::string& id) {
    return io_.run([&]() -> asio::awaitable<http_result> {
      co_return co_await c.post(signed_headers(id, event), event, "application/cloudevents+json");
    }());
  }
  ~https_client_tls() override {
    if (rx_) rx_->stop();
    io_.stop();
  }

  schakel::test::temp_dir dir_;
  schakel::test::tls_files good_ = schakel::test::make_test_tls(dir_.path(), "good");
  io_thread io_;
  std::unique_ptr<receiver::receiver> rx_;
};

TEST_F(https_client_tls, delivers_over_verified_tls_and_reuses_the_connection) {
  start_receiver(good_);
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    client_options o = loopback_options();
    o.ca_file = good_.ca_cert.string();
    std::string err;
    auto client =
        https_client::create(io_.executor(), "https://" + host + ":" + std::to_string(rx_->port()) + "/hook", o, &err);
    ASSERT_NE(client, nullptr) << err;
    const auto first = post(*client, "msg_a_" + host);
    EXPECT_TRUE(first.transport_ok()) << first.error;
    EXPECT_EQ(first.status, 200u);
    EXPECT_FALSE(first.reused_connection);
    const auto second = post(*client, "msg_b_" + host);
    EXPECT_EQ(second.status, 200u) << second.error;
    EXPECT_TRUE(second.reused_connection);
  }
  const auto reqs = rx_->requests();
  ASSERT_EQ(reqs.size(), 4u);
  for (const auto& r : reqs) {
    EXPECT_TRUE(r.verified);
    EXPECT_EQ(r.user_agent, "schakel/0.1");
    EXPECT_EQ(r.content_type, "application/cloudevents+json");
    EXPECT_EQ(r.body, event);
  }
}

TEST_F(https_client_tls, refuses_a_certificate_from_an_untrusted_ca) {
  const auto other = schakel::test::make_test_tls(dir_.path(), "other");
  start_receiver(other);
  client_options o = loopback_options();
  o.ca_file = good_.ca_cert.string();  // trusts "good", server presents "other"
  auto client =
      https_client::create(io_.executor(), "https://127.0.0.1:" + std::to_string(rx_->port()) + "/", o, nullptr);
  ASSERT_NE(client, nullptr);
  const auto r = post(*client, "msg_untrusted");
  EXPECT_FALSE(r.transport_ok());
  EXPECT_EQ(r.status, 0u);
  EXPECT_NE(r.error.find("tls handshake"), std::string::npos) << r.error;
  EXPECT_TRUE(rx_->requests().empty());
}

TEST_F(https_client_tls, refuses_a_certificate_for_another_host) {
  // The certificate names 127.0.0.1, ::1 and localhost; 127.0.0.2 is loopback too but not named.
  try {
    start_receiver(good_, "127.0.0.2:0");
  } catch (const std::exception& e) {
    GTEST_SKIP() << "cannot bind 127.0.0.2: " << e.what();
  }
  client_options o = loopback_options();
  o.ca_file = good_.ca_cert.string();
  auto client =
      https_client::create(io_.executor(), "https://127.0.0.2:" + std::to_string(rx_->port()) + "/", o, nullptr);
  ASSERT_NE(client, nullptr);
  const auto r = post(*client, "msg_wrong_host");
  EXPECT_EQ(r.status, 0u);
  EXPECT_NE(r.error.find("tls handshake"), std::string::npos) << r.error;
}

TEST_F(https_client_tls, gives_up_at_the_deadline) {
  start_receiver(good_, "127.0.0.1:0", std::chrono::milliseconds(3000));
  client_options o = loopback_options();
  o.ca_file = good_.ca_cert.string();
  o.timeout = std::chrono::milliseconds(300);
  auto client =
      https_client::create(io_.executor(), "https://localhost:" + std::to_string(rx_->port()) + "/", o, nullptr);
  ASSERT_NE(client, nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = post(*client, "msg_slow");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2500));
  EXPECT_EQ(r.status, 0u);
  EXPECT_NE(r.error.find("read"), std::string::npos) << r.error;
}

TEST(https_client, reports_connection_refused_without_content) {
  io_thread io;
  // Bind then close a socket to find a port nobody listens on.
  asio::ip::tcp::acceptor probe(io.context(), {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = probe.local_endpoint().port();
  probe.close();
  auto client = https_client::create(io.executor(), "http://127.0.0.1:" + std::to_string(port) + "/",
                                     loopback_options(), nullptr);
  ASSERT_NE(client, nullptr);
  const auto r = io.run([&]() -> asio::awaitable<http_result> {
    co_return co_await client->post({}, "SECRET-BODY", "application/json");
  }());
  EXPECT_EQ(r.status, 0u);
  EXPECT_NE(r.error.find("connect"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("SECRET-BODY"), std::string::npos);
}

TEST(schakel_receiver_binary, accepts_a_signed_event_and_exits_after_max_events) {
  schakel::test::temp_dir dir;
  const auto port_file = dir / "port";
  const auto out_file = dir / "events.jsonl";
  auto child = schakel::test::child_process::spawn(
      {SCHAKEL_RECEIVER_BIN, "--listen", "127.0.0.1:0", "--port-file", port_file.string(), "--out", out_file.string(),
       "--max-events", "1", "--fail-first", "1"},
      {{"SCHAKEL_WEBHOOK_SECRET", std::string(secret)}}, dir / "receiver.log");
  const auto port = schakel::test::read_port_file(port_file);
  ASSERT_TRUE(port);
  io_thread io;
  auto client = https_client::create(io.executor(), "http://127.0.0.1:" + std::to_string(*port) + "/hook",
                                     loopback_options(), nullptr);
  ASSERT_NE(client, nullptr);
  auto send = [&](std::vector<std::pair<std::string, std::string>> headers) {
    return io.run([&]() -> asio::awaitable<http_result> {
      co_return co_await client->post(std::move(headers), event, "application/cloudevents+json");
    }());
  };
  auto tampered = signed_headers("msg_bin", event);
  tampered[0].second = "msg_other";
  EXPECT_EQ(send(tampered).status, 401u);
  EXPECT_EQ(send(signed_headers("msg_bin", event)).status, 500u);  // --fail-first 1
  EXPECT_EQ(send(signed_headers("msg_bin", event)).status, 200u);
  EXPECT_EQ(child.wait_for_exit(std::chrono::seconds(10)), 0);
  std::ifstream in(out_file);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j.at("webhook_id"), "msg_bin");
  EXPECT_EQ(j.at("event").at("id"), "ev-1");
  EXPECT_FALSE(std::getline(in, line));
}

}  // namespace
}  // namespace schakel::delivery
