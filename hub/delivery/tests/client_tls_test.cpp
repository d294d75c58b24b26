// The hub's client certificate towards a partner that requires mutual TLS: presented when
// configured, a handshake failure without it, and a key that is not the certificate's refused when
// the client is made rather than at the first delivery.
#include "delivery/client_tls.hpp"

#include <gtest/gtest.h>

#include "delivery/https_client.hpp"
#include "io_thread.hpp"
#include "loopback_options.hpp"
#include "receiver_core.hpp"
#include "signed_event.hpp"
#include "support/temp_dir.hpp"
#include "support/test_tls.hpp"

namespace schakel::delivery {
namespace {

namespace asio = boost::asio;
using testing::event;
using testing::io_thread;
using testing::secret;
using testing::signed_headers;

class client_tls : public ::testing::Test {
 protected:
  client_tls() {
    receiver::options o;
    o.secret = std::string(secret);
    o.tls_cert = partner_.server_cert.string();
    o.tls_key = partner_.server_key.string();
    o.client_ca = trusted_.ca_cert().string();
    o.quiet = true;
    rx_ = std::make_unique<receiver::receiver>(io_.executor(), o);
    rx_->start();
  }
  ~client_tls() override {
    rx_->stop();
    io_.stop();
  }

  http_result post(const client_options& o) {
    std::string err;
    auto client =
        https_client::create(io_.executor(), "https://localhost:" + std::to_string(rx_->port()) + "/hook", o, &err);
    EXPECT_NE(client, nullptr) << err;
    if (!client) return {};
    const auto headers = signed_headers("msg_1", event);
    return io_.run([&]() -> asio::awaitable<http_result> {
      co_return co_await client->post(headers, event, "application/cloudevents+json");
    }());
  }

  schakel::test::temp_dir dir_;
  schakel::test::tls_files partner_ = schakel::test::make_test_tls(dir_.path(), "partner");
  schakel::test::test_ca trusted_{dir_.path(), "hub-identity"};
  schakel::test::client_files hub_ = trusted_.issue_client("hub", "schakel-hub");
  io_thread io_;
  std::unique_ptr<receiver::receiver> rx_;
};

TEST_F(client_tls, presents_the_configured_certificate_to_a_partner_that_requires_one) {
  client_options o = testing::loopback_options();
  o.ca_file = partner_.ca_cert.string();
  o.client_certificate_file = hub_.cert.string();
  o.client_key_file = hub_.key.string();
  const auto r = post(o);
  EXPECT_TRUE(r.transport_ok()) << r.error;
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(rx_->requests().size(), 1u);
}

TEST_F(client_tls, without_a_certificate_the_partner_refuses_the_handshake_and_receives_nothing) {
  client_options o = testing::loopback_options();
  o.ca_file = partner_.ca_cert.string();
  const auto r = post(o);
  EXPECT_FALSE(r.transport_ok());
  EXPECT_EQ(r.status, 0u);
  EXPECT_TRUE(rx_->requests().empty());
}

TEST_F(client_tls, a_key_that_is_not_the_certificates_is_refused_when_the_client_is_made) {
  const auto other = trusted_.issue_client("other", "other");
  std::string err;
  EXPECT_EQ(make_client_tls_context({partner_.ca_cert.string(), hub_.cert.string(), other.key.string()}, &err),
            nullptr);
  EXPECT_EQ(err.rfind("tls.client_key_file: cannot load " + other.key.string() + ": ", 0), 0u) << err;
  EXPECT_NE(err.find("mismatch"), std::string::npos) << err;
  EXPECT_NE(make_client_tls_context({partner_.ca_cert.string(), hub_.cert.string(), hub_.key.string()}, &err), nullptr);
}

}  // namespace
}  // namespace schakel::delivery
