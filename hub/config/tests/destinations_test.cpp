// Webhook destinations check-config refuses: the cloud metadata address, private networks, loopback
// and the hub's own admin API, each unless allowlisted per subscription (the hub itself never).
#include "config/config.hpp"
#include "config/tests/error_of.hpp"

#include <string>

#include <gtest/gtest.h>

namespace schakel::config {
namespace {

const std::string token = "tok_0123456789abcdef0123456789abcdef";
const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string config_yaml(const std::string& url, const std::string& allow = "",
                        const std::string& listen = "{ address: 127.0.0.1, port: 8443 }") {
  return "listen: " + listen +
         "\ndata_dir: /d\nconnectors:\n  - { name: quickstart, plugin: generic-json, token: " + token +
         " }\nsubscriptions:\n  - name: jgz\n    partner: P\n    fields: [id]\n"
         "    privacy: { identity: identified, purpose: test, legal_basis: public_task, health_ground: health_care }\n"
         "    delivery:\n      webhook: { url: \"" +
         url + "\", secret: \"" + secret + "\"" + (allow.empty() ? "" : ", allow_destinations: " + allow) + " }\n";
}

using testing::error_of;

const std::string at = "test.yaml: subscriptions[0].delivery.webhook.url: ";

TEST(webhook_destinations, refuses_the_metadata_address_a_private_network_and_the_hubs_own_api) {
  EXPECT_EQ(error_of(config_yaml("https://169.254.169.254/")),
            at + "subscription \"jgz\" delivers to 169.254.169.254, the cloud metadata address (metadata); refused "
                 "unless delivery.webhook.allow_destinations lists a block that contains it");
  EXPECT_EQ(error_of(config_yaml("https://10.0.0.1/")),
            at + "subscription \"jgz\" delivers to 10.0.0.1, a private-network address (private_network); refused "
                 "unless delivery.webhook.allow_destinations lists a block that contains it");
  // The hub's own admin API: refused even with loopback allowlisted.
  EXPECT_EQ(error_of(config_yaml("https://127.0.0.1:8443/v1/subscriptions", "[127.0.0.0/8]")),
            at + "subscription \"jgz\" delivers to 127.0.0.1, the hub's own listen address and port; the hub never "
                 "delivers to itself, whatever is allowlisted");
  EXPECT_NE(error_of(config_yaml("http://127.0.0.1:8443/", "[0.0.0.0/0]")).find("the hub's own listen address"),
            std::string::npos);
}

TEST(webhook_destinations, judges_every_literal_form) {
  for (const char* url : {"https://[::1]/", "https://[fe80::1]/", "https://[::ffff:10.0.0.1]/",
                          "https://[64:ff9b::a9fe:a9fe]/", "https://100.64.0.1/", "https://0.0.0.0/",
                          "https://[fd00::1]:8443/", "https://192.168.1.10/hook", "http://127.0.0.1:9000/"}) {
    EXPECT_NE(error_of(config_yaml(url)).find("refused unless"), std::string::npos) << url;
  }
}

TEST(webhook_destinations, an_allowlisted_block_admits_the_addresses_it_contains) {
  EXPECT_NO_THROW(load_config_text(config_yaml("http://127.0.0.1:9000/hook", "[127.0.0.1/32]"), "t.yaml"));
  EXPECT_NO_THROW(load_config_text(config_yaml("https://10.20.3.4/hook", "[\"10.20.0.0/16\"]"), "t.yaml"));
  EXPECT_NO_THROW(load_config_text(config_yaml("https://[fd00:1::5]/", "[\"fd00:1::/32\"]"), "t.yaml"));
  // Another port on the hub's own address is not the hub.
  EXPECT_NO_THROW(load_config_text(config_yaml("http://127.0.0.1:8444/", "[127.0.0.1/32]"), "t.yaml"));
  EXPECT_NE(error_of(config_yaml("https://10.21.0.1/", "[\"10.20.0.0/16\"]")).find("private-network"),
            std::string::npos);
  const auto c = load_config_text(config_yaml("https://10.20.3.4/", "[10.20.0.0/16, \"::1\"]"), "t.yaml");
  ASSERT_EQ(c.subscriptions.at(0).delivery.allow_destinations.size(), 2u);
  EXPECT_EQ(c.subscriptions[0].delivery.allow_destinations[1].prefix, 128u);
}

TEST(webhook_destinations, a_wildcard_listener_is_the_hub_on_every_local_address) {
  EXPECT_NE(error_of(config_yaml("http://127.0.0.1:8443/", "[127.0.0.0/8]",
                                 "{ address: 0.0.0.0, port: 8443, tls: "
                                 "{ cert_file: /nonexistent, key_file: "
                                 "/nonexistent } }"))
                .find("the hub's own listen address"),
            std::string::npos);
}

TEST(webhook_destinations, parses_allowlist_entries_strictly) {
  EXPECT_EQ(error_of(config_yaml("https://partner.example/", "[127.0.0.1/32, 10.0.0.1/8]")),
            "test.yaml: subscriptions[0].delivery.webhook.allow_destinations[1]: \"10.0.0.1/8\" has bits set after "
            "the prefix length (write the network address, e.g. 10.0.0.0/8)");
  EXPECT_EQ(error_of(config_yaml("https://partner.example/", "[localhost]")),
            "test.yaml: subscriptions[0].delivery.webhook.allow_destinations[0]: \"localhost\" is not an IPv4 or IPv6 "
            "address, optionally followed by /prefix-length");
  EXPECT_EQ(error_of(config_yaml("https://partner.example/", "[\"10.0.0.0/33\"]")),
            "test.yaml: subscriptions[0].delivery.webhook.allow_destinations[0]: \"10.0.0.0/33\" has a prefix length "
            "above 32");
}

TEST(webhook_destinations, check_config_resolves_names_and_warns_when_it_cannot) {
  auto cfg = load_config_text(config_yaml("http://localhost:9000/hook"), "t.yaml");
  auto report = check_destination_names(cfg);
  ASSERT_FALSE(report.errors.empty());
  EXPECT_EQ(
      report.errors[0].rfind("subscriptions[0].delivery.webhook.url: subscription \"jgz\" delivers to localhost (", 0),
      0u)
      << report.errors[0];
  EXPECT_NE(report.errors[0].find("a loopback address"), std::string::npos) << report.errors[0];
  EXPECT_TRUE(report.warnings.empty());

  cfg = load_config_text(config_yaml("http://localhost:9000/hook", "[127.0.0.1/32, \"::1/128\"]"), "t.yaml");
  report = check_destination_names(cfg);
  EXPECT_TRUE(report.errors.empty()) << report.errors[0];

  // The hub's own port through a name: refused whatever is allowlisted.
  cfg = load_config_text(config_yaml("http://localhost:8443/hook", "[127.0.0.1/32, \"::1/128\"]"), "t.yaml");
  report = check_destination_names(cfg);
  ASSERT_FALSE(report.errors.empty());
  EXPECT_NE(report.errors[0].find("the hub's own listen address"), std::string::npos) << report.errors[0];

  cfg = load_config_text(config_yaml("https://no-such-partner.invalid/hook"), "t.yaml");
  report = check_destination_names(cfg);
  EXPECT_TRUE(report.errors.empty());
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_NE(report.warnings[0].find("no-such-partner.invalid does not resolve here"), std::string::npos)
      << report.warnings[0];
}

/** A config whose subscription is fine and whose audit.witness is `witness` (flow YAML). */
std::string with_witness(const std::string& witness) {
  return config_yaml("https://partner.example/") + "audit:\n  witness: " + witness + "\n";
}

TEST(audit_witness, takes_the_same_webhook_settings_as_a_subscription) {
  const auto c = load_config_text(with_witness("{ url: \"http://127.0.0.1:9100/checkpoints\", secret: \"" + secret +
                                               "\", allow_destinations: [127.0.0.1/32] }"),
                                  "t.yaml");
  ASSERT_TRUE(c.audit.witness.has_value());
  EXPECT_EQ(c.audit.witness->url, "http://127.0.0.1:9100/checkpoints");
  EXPECT_EQ(c.audit.witness->secret, secret);
  ASSERT_EQ(c.audit.witness->allow_destinations.size(), 1u);
  EXPECT_FALSE(load_config_text(config_yaml("https://partner.example/"), "t.yaml").audit.witness.has_value());
}

TEST(audit_witness, is_held_to_the_destination_guard_and_names_its_own_setting) {
  EXPECT_EQ(error_of(with_witness("{ url: \"http://127.0.0.1:9100/\", secret: \"" + secret + "\" }")),
            "test.yaml: audit.witness.url: the audit witness delivers to 127.0.0.1, a loopback address (loopback); "
            "refused unless audit.witness.allow_destinations lists a block that contains it");
  EXPECT_NE(error_of(with_witness("{ url: \"https://127.0.0.1:8443/\", secret: \"" + secret +
                                  "\", allow_destinations: [127.0.0.0/8] }"))
                .find("the hub never delivers to itself"),
            std::string::npos);
  EXPECT_EQ(error_of(with_witness("{ url: \"http://witness.example/\", secret: \"" + secret + "\" }")),
            "test.yaml: audit.witness.url: plain http is allowed only to a loopback host; use https");
  EXPECT_EQ(error_of(with_witness("{ url: \"https://witness.example/\", secret: short }")),
            "test.yaml: audit.witness.secret: must be at least 24 bytes, or \"whsec_\" followed by the base64 of at "
            "least 24 bytes");

  auto cfg =
      load_config_text(with_witness("{ url: \"http://localhost:9100/\", secret: \"" + secret + "\" }"), "t.yaml");
  const auto report = check_destination_names(cfg);
  ASSERT_FALSE(report.errors.empty());
  EXPECT_EQ(report.errors.back().rfind("audit.witness.url: the audit witness delivers to localhost (", 0), 0u)
      << report.errors.back();
}

}  // namespace
}  // namespace schakel::config
