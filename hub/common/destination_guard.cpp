#include "common/destination_guard.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace schakel::net {

namespace {

ip_address v4_of(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  ip_address out;
  out.v4 = true;
  out.bytes[0] = a;
  out.bytes[1] = b;
  out.bytes[2] = c;
  out.bytes[3] = d;
  return out;
}

ip_address from_in6(const in6_addr& a) {
  ip_address out;
  std::memcpy(out.bytes.data(), a.s6_addr, 16);
  return out;
}

ip_address from_in4(const in_addr& a) {
  ip_address out;
  out.v4 = true;
  std::memcpy(out.bytes.data(), &a.s_addr, 4);  // network order: bytes[0] is the first octet
  return out;
}

/** A block given as literal text; only for the fixed tables below, which are known to parse. */
cidr block(std::string_view text) {
  return *parse_cidr(text);
}

struct classified_block {
  cidr range;
  refusal why;
};

const std::vector<classified_block>& v4_table() {
  // Most specific first: the metadata address sits inside link-local.
  static const std::vector<classified_block> table = {
      {block("169.254.169.254/32"), refusal::metadata},  {block("255.255.255.255/32"), refusal::broadcast},
      {block("0.0.0.0/8"), refusal::unspecified},        {block("10.0.0.0/8"), refusal::private_network},
      {block("100.64.0.0/10"), refusal::shared_address}, {block("127.0.0.0/8"), refusal::loopback},
      {block("169.254.0.0/16"), refusal::link_local},    {block("172.16.0.0/12"), refusal::private_network},
      {block("192.0.0.0/24"), refusal::reserved},        {block("192.0.2.0/24"), refusal::reserved},
      {block("192.88.99.0/24"), refusal::reserved},      {block("192.168.0.0/16"), refusal::private_network},
      {block("198.18.0.0/15"), refusal::reserved},       {block("198.51.100.0/24"), refusal::reserved},
      {block("203.0.113.0/24"), refusal::reserved},      {block("224.0.0.0/4"), refusal::multicast},
      {block("240.0.0.0/4"), refusal::reserved},
  };
  return table;
}

const std::vector<classified_block>& v6_table() {
  static const std::vector<classified_block> table = {
      {block("::/128"), refusal::unspecified},
      {block("::1/128"), refusal::loopback},
      {block("64:ff9b:1::/48"), refusal::private_network},
      {block("100::/64"), refusal::reserved},
      {block("2001:10::/28"), refusal::reserved},
      {block("2001:20::/28"), refusal::reserved},
      {block("2001::/32"), refusal::reserved},
      {block("2001:db8::/32"), refusal::reserved},
      {block("fc00::/7"), refusal::private_network},
      {block("fe80::/10"), refusal::link_local},
      {block("fec0::/10"), refusal::private_network},
      {block("ff00::/8"), refusal::multicast},
  };
  return table;
}

refusal lookup(const std::vector<classified_block>& table, const ip_address& a) {
  for (const auto& entry : table)
    if (contains(entry.range, a)) return entry.why;
  return refusal::none;
}

bool is_unspecified(const ip_address& a) {
  const std::size_t n = a.v4 ? 4 : 16;
  return std::all_of(a.bytes.begin(), a.bytes.begin() + static_cast<std::ptrdiff_t>(n),
                     [](std::uint8_t b) { return b == 0; });
}

bool is_loopback(const ip_address& a) {
  return classify(a) == refusal::loopback;
}

/** The address as the kernel connects to it: an IPv4-mapped IPv6 address is its IPv4 address. */
ip_address as_connected(const ip_address& a) {
  if (a.v4) return a;
  static const cidr mapped = block("::ffff:0:0/96");
  if (contains(mapped, a)) return v4_of(a.bytes[12], a.bytes[13], a.bytes[14], a.bytes[15]);
  return a;
}

bool is_local(const ip_address& a, const destination_policy& policy) {
  if (is_unspecified(a) || is_loopback(a)) return true;
  return std::find(policy.local_addresses.begin(), policy.local_addresses.end(), a) != policy.local_addresses.end();
}

bool own_listener(const ip_address& dest, std::uint16_t port, const destination_policy& policy) {
  const ip_address d = as_connected(dest);
  for (const auto& l : policy.own_listeners) {
    if (l.port != port || port == 0) continue;
    // Connecting to 0.0.0.0 or :: reaches this host, whichever address the listener bound.
    if (is_unspecified(d)) return true;
    if (is_unspecified(l.address)) {
      if (is_local(d, policy)) return true;
    } else if (as_connected(l.address) == d) {
      return true;
    }
  }
  return false;
}

bool allowed_by(const destination_policy& policy, const ip_address& a) {
  const auto carried = embedded_v4(a);
  return std::any_of(policy.allow.begin(), policy.allow.end(),
                     [&](const cidr& c) { return contains(c, a) || (carried && contains(c, *carried)); });
}

}  // namespace

std::optional<ip_address> parse_ip(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) return from_in4(v4);
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) return from_in6(v6);
  return std::nullopt;
}

std::string to_string(const ip_address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.v4 ? AF_INET : AF_INET6, a.bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<ip_address> embedded_v4(const ip_address& a) {
  if (a.v4) return std::nullopt;
  const auto& b = a.bytes;
  const auto last4 = [&] { return v4_of(b[12], b[13], b[14], b[15]); };
  static const cidr mapped = block("::ffff:0:0/96");
  static const cidr siit = block("::ffff:0:0:0/96");
  static const cidr nat64 = block("64:ff9b::/96");
  static const cidr compatible = block("::/96");
  static const cidr six_to_four = block("2002::/16");
  if (contains(mapped, a) || contains(siit, a) || contains(nat64, a)) return last4();
  // ::a.b.c.d, except :: and ::1 which are IPv6's own unspecified and loopback addresses.
  if (contains(compatible, a) && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1)) return last4();
  if (contains(six_to_four, a)) return v4_of(b[2], b[3], b[4], b[5]);
  return std::nullopt;
}

std::optional<cidr> parse_cidr(std::string_view text, std::string* error) {
  auto fail = [&](const char* why) {
    if (error != nullptr) *error = why;
    return std::optional<cidr>{};
  };
  const auto slash = text.find('/');
  const auto addr = parse_ip(text.substr(0, slash));
  if (!addr) return fail("is not an IPv4 or IPv6 address, optionally followed by /prefix-length");
  cidr out;
  out.base = *addr;
  const unsigned max = addr->v4 ? 32 : 128;
  out.prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        (digits.size() > 1 && digits[0] == '0'))
      return fail("has a prefix length that is not a plain decimal number");
    unsigned n = 0;
    for (char c : digits) n = n * 10 + static_cast<unsigned>(c - '0');
    if (n > max) return fail(addr->v4 ? "has a prefix length above 32" : "has a prefix length above 128");
    out.prefix = n;
  }
  for (unsigned bit = out.prefix; bit < max; ++bit) {
    if (out.base.bytes[bit / 8] & (0x80u >> (bit % 8)))
      return fail("has bits set after the prefix length (write the network address, e.g. 10.0.0.0/8)");
  }
  return out;
}

bool contains(const cidr& block, const ip_address& a) {
  if (block.base.v4 != a.v4) return false;
  const unsigned full = block.prefix / 8;
  if (!std::equal(a.bytes.begin(), a.bytes.begin() + full, block.base.bytes.begin())) return false;
  const unsigned rest = block.prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFFu << (8 - rest));
  return (a.bytes[full] & mask) == (block.base.bytes[full] & mask);
}

std::string_view describe(refusal r) {
  switch (r) {
    case refusal::none:
      return "an allowed address";
    case refusal::unspecified:
      return "an unspecified (this-host) address";
    case refusal::loopback:
      return "a loopback address";
    case refusal::link_local:
      return "a link-local address";
    case refusal::metadata:
      return "the cloud metadata address";
    case refusal::private_network:
      return "a private-network address";
    case refusal::shared_address:
      return "a carrier-grade NAT (shared) address";
    case refusal::multicast:
      return "a multicast address";
    case refusal::broadcast:
      return "the broadcast address";
    case refusal::reserved:
      return "a reserved address";
    case refusal::own_listener:
      return "the hub's own listen address and port";
  }
  return "an unknown address class";
}

std::string_view name(refusal r) {
  switch (r) {
    case refusal::none:
      return "none";
    case refusal::unspecified:
      return "unspecified";
    case refusal::loopback:
      return "loopback";
    case refusal::link_local:
      return "link_local";
    case refusal::metadata:
      return "metadata";
    case refusal::private_network:
      return "private_network";
    case refusal::shared_address:
      return "shared_address";
    case refusal::multicast:
      return "multicast";
    case refusal::broadcast:
      return "broadcast";
    case refusal::reserved:
      return "reserved";
    case refusal::own_listener:
      return "own_listener";
  }
  return "unknown";
}

refusal classify(const ip_address& a) {
  if (a.v4) return lookup(v4_table(), a);
  if (const auto carried = embedded_v4(a)) return lookup(v4_table(), *carried);
  return lookup(v6_table(), a);
}

refusal check_destination(const ip_address& a, std::uint16_t port, const destination_policy& policy) {
  if (own_listener(a, port, policy)) return refusal::own_listener;
  const refusal r = classify(a);
  if (r == refusal::none || allowed_by(policy, a)) return refusal::none;
  return r;
}

std::vector<ip_address> resolve_host(const std::string& host, std::string* error) {
  std::vector<ip_address> out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0) {
    if (error != nullptr) *error = gai_strerror(rc);
    return out;
  }
  for (const addrinfo* p = list; p != nullptr; p = p->ai_next) {
    ip_address a;
    if (p->ai_family == AF_INET) {
      a = from_in4(reinterpret_cast<const sockaddr_in*>(p->ai_addr)->sin_addr);
    } else if (p->ai_family == AF_INET6) {
      a = from_in6(reinterpret_cast<const sockaddr_in6*>(p->ai_addr)->sin6_addr);
    } else {
      continue;
    }
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  ::freeaddrinfo(list);
  if (out.empty() && error != nullptr) *error = "no IPv4 or IPv6 address";
  return out;
}

std::vector<ip_address> local_interface_addresses() {
  std::vector<ip_address> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (const ifaddrs* p = list; p != nullptr; p = p->ifa_next) {
    if (p->ifa_addr == nullptr) continue;
    if (p->ifa_addr->sa_family == AF_INET) {
      out.push_back(from_in4(reinterpret_cast<const sockaddr_in*>(p->ifa_addr)->sin_addr));
    } else if (p->ifa_addr->sa_family == AF_INET6) {
      out.push_back(from_in6(reinterpret_cast<const sockaddr_in6*>(p->ifa_addr)->sin6_addr));
    }
  }
  ::freeifaddrs(list);
  return out;
}

std::vector<ip_address> local_addresses_for(const std::vector<listen_endpoint>& listeners) {
  const bool wildcard = std::any_of(listeners.begin(), listeners.end(),
                                    [](const listen_endpoint& l) { return is_unspecified(l.address); });
  return wildcard ? local_interface_addresses() : std::vector<ip_address>{};
}

}  // namespace schakel::net
