#include "common/destination_guard.hpp"

#include <gtest/gtest.h>

namespace {

using namespace schakel::net;

ip_address ip(const char* text) {
  auto a = parse_ip(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(ip_address{});
}

/** An address and the class it must be refused as. */
struct expectation {
  const char* address;
  refusal why;
};

refusal verdict(const char* text, std::uint16_t port = 443, const destination_policy& policy = {}) {
  return check_destination(ip(text), port, policy);
}

TEST(destination_guard, refuses_every_dangerous_ipv4_range) {
  const expectation cases[] = {
      {"127.0.0.1", refusal::loopback},
      {"127.255.255.254", refusal::loopback},
      {"169.254.169.254", refusal::metadata},
      {"169.254.0.1", refusal::link_local},
      {"169.254.255.255", refusal::link_local},
      {"10.0.0.1", refusal::private_network},
      {"10.255.255.255", refusal::private_network},
      {"172.16.0.1", refusal::private_network},
      {"172.31.255.255", refusal::private_network},
      {"192.168.1.1", refusal::private_network},
      {"100.64.0.1", refusal::shared_address},
      {"100.127.255.255", refusal::shared_address},
      {"0.0.0.0", refusal::unspecified},
      {"0.1.2.3", refusal::unspecified},
      {"224.0.0.1", refusal::multicast},
      {"239.255.255.250", refusal::multicast},
      {"255.255.255.255", refusal::broadcast},
      {"240.0.0.1", refusal::reserved},
      {"192.0.2.10", refusal::reserved},
      {"198.51.100.1", refusal::reserved},
      {"203.0.113.5", refusal::reserved},
      {"198.18.0.1", refusal::reserved},
      {"192.0.0.8", refusal::reserved},
  };
  for (const auto& c : cases) EXPECT_EQ(verdict(c.address), c.why) << c.address;
}

TEST(destination_guard, allows_public_addresses_next_to_the_ranges) {
  for (const char* a : {"8.8.8.8", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1", "169.253.1.1",
                        "11.0.0.1", "192.167.1.1", "223.255.255.255", "2a00:1450:4001:80b::200e", "2606:4700::1111",
                        "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"})
    EXPECT_EQ(verdict(a), refusal::none) << a;
}

TEST(destination_guard, refuses_every_dangerous_ipv6_range) {
  const expectation cases[] = {
      {"::1", refusal::loopback},
      {"::", refusal::unspecified},
      {"fe80::1", refusal::link_local},
      {"febf:ffff::1", refusal::link_local},
      {"fc00::1", refusal::private_network},
      {"fd12:3456:789a::1", refusal::private_network},
      {"fec0::1", refusal::private_network},
      {"ff02::1", refusal::multicast},
      {"2001:db8::1", refusal::reserved},
      {"2001:0:4136:e378::1", refusal::reserved},  // Teredo
      {"100::1", refusal::reserved},
      {"64:ff9b:1::a00:1", refusal::private_network},
  };
  for (const auto& c : cases) EXPECT_EQ(verdict(c.address), c.why) << c.address;
}

TEST(destination_guard, judges_ipv6_forms_by_the_ipv4_address_they_carry) {
  const expectation cases[] = {
      {"::ffff:10.0.0.1", refusal::private_network},       // IPv4-mapped
      {"::ffff:127.0.0.1", refusal::loopback},             // IPv4-mapped
      {"::ffff:169.254.169.254", refusal::metadata},       // IPv4-mapped
      {"::ffff:a9fe:a9fe", refusal::metadata},             // the same, written in hex
      {"::127.0.0.1", refusal::loopback},                  // IPv4-compatible
      {"::10.1.2.3", refusal::private_network},            // IPv4-compatible
      {"::ffff:0:192.168.0.1", refusal::private_network},  // SIIT
      {"64:ff9b::10.0.0.1", refusal::private_network},     // NAT64
      {"64:ff9b::a9fe:a9fe", refusal::metadata},           // NAT64
      {"64:ff9b::7f00:1", refusal::loopback},              // NAT64
      {"2002:7f00:1::1", refusal::loopback},               // 6to4
      {"2002:a00:1::", refusal::private_network},          // 6to4
      {"::ffff:0.0.0.0", refusal::unspecified},
  };
  for (const auto& c : cases) EXPECT_EQ(verdict(c.address), c.why) << c.address;
}

TEST(destination_guard, an_allowlisted_cidr_lifts_the_refusal_for_the_addresses_it_contains) {
  destination_policy policy;
  policy.allow.push_back(*parse_cidr("127.0.0.1/32"));
  policy.allow.push_back(*parse_cidr("10.20.0.0/16"));
  EXPECT_EQ(verdict("127.0.0.1", 9000, policy), refusal::none);
  EXPECT_EQ(verdict("::ffff:127.0.0.1", 9000, policy), refusal::none);
  EXPECT_EQ(verdict("127.0.0.2", 9000, policy), refusal::loopback);
  EXPECT_EQ(verdict("::1", 9000, policy), refusal::loopback);
  EXPECT_EQ(verdict("10.20.255.1", 443, policy), refusal::none);
  EXPECT_EQ(verdict("64:ff9b::a14:1", 443, policy), refusal::none);
  EXPECT_EQ(verdict("10.21.0.1", 443, policy), refusal::private_network);
  EXPECT_EQ(verdict("169.254.169.254", 443, policy), refusal::metadata);

  destination_policy v6;
  v6.allow.push_back(*parse_cidr("fd00:1::/32"));
  EXPECT_EQ(verdict("fd00:1::5", 443, v6), refusal::none);
  EXPECT_EQ(verdict("fd00:2::5", 443, v6), refusal::private_network);
}

TEST(destination_guard, refuses_the_hubs_own_listener_even_when_allowlisted) {
  destination_policy policy;
  policy.allow.push_back(*parse_cidr("127.0.0.0/8"));
  policy.allow.push_back(*parse_cidr("0.0.0.0/0"));
  policy.own_listeners.push_back({ip("127.0.0.1"), 8443});
  EXPECT_EQ(verdict("127.0.0.1", 8443, policy), refusal::own_listener);
  EXPECT_EQ(verdict("::ffff:127.0.0.1", 8443, policy), refusal::own_listener);
  EXPECT_EQ(verdict("0.0.0.0", 8443, policy), refusal::own_listener);
  // Another port on the same address, or another loopback address the listener did not bind: allowed.
  EXPECT_EQ(verdict("127.0.0.1", 8444, policy), refusal::none);
  EXPECT_EQ(verdict("127.0.0.2", 8443, policy), refusal::none);
}

TEST(destination_guard, a_wildcard_listener_covers_every_local_address_at_its_port) {
  destination_policy policy;
  policy.allow.push_back(*parse_cidr("0.0.0.0/0"));
  policy.allow.push_back(*parse_cidr("::/0"));
  policy.own_listeners.push_back({ip("0.0.0.0"), 8443});
  policy.local_addresses = {ip("192.168.7.20"), ip("2a00:1::20")};
  EXPECT_EQ(verdict("192.168.7.20", 8443, policy), refusal::own_listener);
  EXPECT_EQ(verdict("2a00:1::20", 8443, policy), refusal::own_listener);
  EXPECT_EQ(verdict("127.0.0.9", 8443, policy), refusal::own_listener);
  EXPECT_EQ(verdict("::1", 8443, policy), refusal::own_listener);
  EXPECT_EQ(verdict("192.168.7.21", 8443, policy), refusal::none);
  EXPECT_EQ(verdict("192.168.7.20", 8444, policy), refusal::none);
  // A public address that is this host's own is refused at the listener's port without any allowlist.
  destination_policy bare;
  bare.own_listeners.push_back({ip("::"), 443});
  bare.local_addresses = {ip("2a00:1::20")};
  EXPECT_EQ(verdict("2a00:1::20", 443, bare), refusal::own_listener);
  EXPECT_EQ(verdict("2a00:1::21", 443, bare), refusal::none);
}

TEST(destination_guard, parses_cidrs_strictly) {
  std::string err;
  auto c = parse_cidr("10.0.0.0/8", &err);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->prefix, 8u);
  EXPECT_TRUE(contains(*c, ip("10.200.0.1")));
  EXPECT_FALSE(contains(*c, ip("11.0.0.1")));
  EXPECT_FALSE(contains(*c, ip("::ffff:10.0.0.1")));  // families are not mixed; the check maps them
  c = parse_cidr("127.0.0.1");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->prefix, 32u);
  c = parse_cidr("fe80::/10");
  ASSERT_TRUE(c);
  EXPECT_TRUE(contains(*c, ip("febf::1")));
  EXPECT_FALSE(contains(*c, ip("fec0::1")));
  ASSERT_TRUE(parse_cidr("0.0.0.0/0"));
  ASSERT_TRUE(parse_cidr("::/0"));

  for (const char* bad :
       {"", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.1/8", "10.0.0.0/08", "10.0.0.0/+8", "10.0.0.0/8/8",
        "10.0.0/8", "localhost/32", "10.0.0.0 /8", "[::1]/128", "fe80::1%eth0/128", "10.0.0.0/-1", "1.2.3.4.5"}) {
    err.clear();
    EXPECT_FALSE(parse_cidr(bad, &err)) << bad;
    EXPECT_FALSE(err.empty()) << bad;
  }
  parse_cidr("10.0.0.1/8", &err);
  EXPECT_NE(err.find("bits set after the prefix"), std::string::npos) << err;
}

TEST(destination_guard, names_and_describes_every_refusal) {
  for (auto r :
       {refusal::unspecified, refusal::loopback, refusal::link_local, refusal::metadata, refusal::private_network,
        refusal::shared_address, refusal::multicast, refusal::broadcast, refusal::reserved, refusal::own_listener}) {
    EXPECT_NE(name(r), "unknown");
    EXPECT_NE(name(r), "none");
    EXPECT_NE(describe(r).find("address"), std::string_view::npos) << name(r);
  }
}

TEST(destination_guard, resolves_localhost_to_loopback_only) {
  std::string err;
  const auto addrs = resolve_host("localhost", &err);
  ASSERT_FALSE(addrs.empty()) << err;
  for (const auto& a : addrs) EXPECT_EQ(classify(a), refusal::loopback) << to_string(a);
  EXPECT_TRUE(resolve_host("no-such-host.invalid", &err).empty());
  EXPECT_FALSE(err.empty());
}

}  // namespace
