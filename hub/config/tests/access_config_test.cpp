// The `access` section: role tokens kept as digests, their expiry, host names and trusted proxies,
// each refused with the path of what is wrong and never with a token.
#include "common/encoding.hpp"

#include <chrono>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config/tests/error_of.hpp"

namespace schakel::config {
namespace {

const std::string ops_token = "ops-token-0123456789abcdefghijklmnop";
const std::string ops_token_2 = "ops-token-2-0123456789abcdefghijklmno";

using testing::error_of;

std::string hex_sha256(const std::string& s) {
  return encoding::sha256_hex(s);
}

TEST(access_config, tokens_are_kept_as_digests_with_their_roles_and_expiry) {
  const auto cfg = load_config_text(
      "data_dir: /d\n"
      "access:\n"
      "  public_hosts: [Hub.School.Example, \"hub.school.example:8443\"]\n"
      "  trusted_proxies: [10.0.0.5/32, \"fd00::/8\", 10.1.2.3]\n"
      "  metrics_open: true\n"
      "  tokens:\n"
      "    - name: ops-anna\n"
      "      roles: [operator, privacy_officer]\n"
      "      token: " +
          ops_token +
          "\n"
          "      expires: 2027-06-30T00:00:00Z\n"
          "    - name: ops-bert\n"
          "      roles: [operator]\n"
          "      sha256: " +
          hex_sha256(ops_token_2) + "\n",
      "test.yaml");
  ASSERT_EQ(cfg.access.tokens.size(), 2u);
  const auto& anna = cfg.access.tokens[0];
  EXPECT_EQ(anna.name, "ops-anna");
  EXPECT_EQ(anna.roles, (std::vector<std::string>{"operator", "privacy_officer"}));
  ASSERT_EQ(anna.sha256.size(), 32u);
  EXPECT_EQ(anna.sha256.find(ops_token), std::string::npos);
  ASSERT_TRUE(anna.expires.has_value());
  EXPECT_EQ(*anna.expires, std::chrono::sys_days{std::chrono::year{2027} / 6 / 30});
  // The digest given as hex and the digest of the token given as text are the same bytes.
  const auto other = load_config_text(
      "data_dir: /d\naccess: {tokens: [{name: x, roles: [operator], token: " + ops_token_2 + "}]}\n", "t.yaml");
  EXPECT_EQ(cfg.access.tokens[1].sha256, other.access.tokens[0].sha256);
  EXPECT_EQ(cfg.access.public_hosts, (std::vector<std::string>{"hub.school.example", "hub.school.example:8443"}));
  EXPECT_EQ(cfg.access.trusted_proxies.size(), 3u);
  EXPECT_TRUE(cfg.access.metrics_open);
}

TEST(access_config, each_mistake_is_named_by_its_path_and_no_token_is_printed) {
  const std::string short_token = ops_token.substr(0, 20);
  const std::string e = error_of(
      "data_dir: /d\n"
      "connectors:\n"
      "  - { name: a, plugin: generic-json, token: " +
      ops_token_2 +
      " }\n"
      "access:\n"
      "  trusted_proxies: [10.0.0.0/33, not-an-address]\n"
      "  public_hosts: [\"https://hub.example/\"]\n"
      "  tokens:\n"
      "    - { name: a, roles: [operator], token: " +
      short_token +
      " }\n"
      "    - { name: a, roles: [linker], token: " +
      ops_token + ", sha256: " + hex_sha256(ops_token) +
      " }\n"
      "    - { name: c, roles: [linker], sha256: abc }\n"
      "    - { name: d, roles: [trends], token: " +
      ops_token +
      ", expires: next-week }\n"
      "    - { name: e, roles: [trends], token: " +
      ops_token +
      " }\n"
      "    - { name: f, roles: [metrics], token: " +
      ops_token_2 + " }\n");
  EXPECT_NE(e.find("test.yaml: access.trusted_proxies[0]: must be an IP address or network in CIDR notation"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("test.yaml: access.trusted_proxies[1]: must be"), std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml: access.public_hosts[0]: a host name or host:port"), std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml: access.tokens[0].token: must be at least 24 characters"), std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml: access.tokens[1].name: duplicate token name \"a\""), std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml: access.tokens[1]: give exactly one of token"), std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml: access.tokens[2].sha256: must be the SHA-256 of the token as 64 hex digits"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("test.yaml: access.tokens[3].expires: must be a UTC time"), std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml: access.tokens[4]: the same token as access.tokens[3]"), std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml: access.tokens[5]: the same token as connectors[0].token"), std::string::npos) << e;
  for (const auto& secret : {ops_token, ops_token_2, short_token}) EXPECT_EQ(e.find(secret), std::string::npos) << e;
}

TEST(access_config, an_unknown_role_is_refused_by_the_schema_at_its_path) {
  const std::string e =
      error_of("data_dir: /d\naccess: {tokens: [{name: x, roles: [operator, admin], token: " + ops_token + "}]}\n");
  EXPECT_NE(e.find("test.yaml: access.tokens[0].roles[1]"), std::string::npos) << e;
}

TEST(access_config, expired_and_soon_expiring_tokens_are_warned_about) {
  const auto cfg = load_config_text(
      "data_dir: /d\n"
      "access:\n"
      "  tokens:\n"
      "    - { name: old, roles: [operator], token: " +
          ops_token +
          ", expires: 2026-01-01 }\n"
          "    - { name: soon, roles: [operator], token: " +
          ops_token_2 +
          ", expires: \"2026-06-10T12:00:00Z\" }\n"
          "    - { name: later, roles: [operator], token: x" +
          ops_token + ", expires: 2027-01-01 }\n",
      "test.yaml");
  const auto now = std::chrono::sys_days{std::chrono::year{2026} / 6 / 1};
  const auto w = access_warnings(cfg, now);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NE(w[0].find("access.tokens[0] (old) has expired"), std::string::npos) << w[0];
  EXPECT_NE(w[1].find("access.tokens[1] (soon) expires within 14 days"), std::string::npos) << w[1];
}

}  // namespace
}  // namespace schakel::config
