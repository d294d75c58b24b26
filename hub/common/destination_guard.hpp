#pragma once
/**
 * Which network addresses the hub may send to (webhook deliveries, witness webhooks, any outbound
 * HTTP). A hub sits inside a school's or a municipality's network: a partner URL must not become a
 * way to reach the cloud metadata service, the hub's own admin API or an internal host that trusts
 * its neighbours. One rule, used by check-config (literal addresses and resolved names) and by the
 * delivery client at connect time (on the address it actually connects to).
 *
 * Refused unless a subscription allowlists a CIDR that contains the address:
 * - IPv4: 0.0.0.0/8, 10/8, 100.64/10 (carrier-grade NAT), 127/8, 169.254/16 (incl. the metadata
 *   address 169.254.169.254), 172.16/12, 192.0.0/24, 192.0.2/24, 192.88.99/24, 192.168/16,
 *   198.18/15, 198.51.100/24, 203.0.113/24, 224/4 (multicast), 240/4 and 255.255.255.255.
 * - IPv6: ::, ::1, 100::/64, 2001::/32 (Teredo), 2001:10::/28, 2001:20::/28, 2001:db8::/32,
 *   64:ff9b:1::/48, fc00::/7, fe80::/10, fec0::/10, ff00::/8.
 * - IPv6 forms that carry an IPv4 address are judged by that address: IPv4-mapped ::ffff:a.b.c.d,
 *   IPv4-compatible ::a.b.c.d, SIIT ::ffff:0:a.b.c.d, NAT64 64:ff9b::/96 and 6to4 2002::/16.
 *
 * Refused always, even when allowlisted: the hub's own listen address and port (a listener on
 * 0.0.0.0 or :: covers every local address at its port). Delivering to itself is never legitimate,
 * and an allowlist entry meant for a local receiver must not open the admin API.
 *
 * Everything here is pure (no sockets) except resolve_host() and local_interface_addresses().
 */
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace schakel::net {

/** An IPv4 or IPv6 address. IPv4 is kept as such (not mapped), so prefixes count from its own bit 0. */
struct ip_address {
  bool v4 = false;
  std::array<std::uint8_t, 16> bytes{};  ///< IPv4 in the first 4 bytes, the rest zero

  friend bool operator==(const ip_address&, const ip_address&) = default;
};

/** Parses a literal IPv4 or IPv6 address (no brackets, no zone, no port); nullopt on anything else. */
std::optional<ip_address> parse_ip(std::string_view text);

/** The canonical text (inet_ntop). */
std::string to_string(const ip_address& a);

/** The IPv4 address an IPv6 one carries (mapped, compatible, SIIT, NAT64, 6to4); nullopt if none. */
std::optional<ip_address> embedded_v4(const ip_address& a);

/** An address block. */
struct cidr {
  ip_address base;  ///< host bits zero
  unsigned prefix = 0;
};

/**
 * Parses "a.b.c.d/n" or "x:y::z/n" strictly: a literal address, a prefix length within the family
 * (0..32 or 0..128, decimal without leading zeros or sign) and no host bits set (so "10.0.0.1/8"
 * is refused rather than silently widened). A bare address means a single host (/32 or /128).
 * nullopt with `error` set (a reason, no position) on anything else.
 */
std::optional<cidr> parse_cidr(std::string_view text, std::string* error = nullptr);

/** Whether `block` contains `a` (same family only). */
bool contains(const cidr& block, const ip_address& a);

/** Why an address may not be a destination. */
enum class refusal {
  none,             ///< allowed
  unspecified,      ///< 0.0.0.0/8, ::
  loopback,         ///< 127/8, ::1
  link_local,       ///< 169.254/16, fe80::/10
  metadata,         ///< 169.254.169.254, the cloud instance metadata service
  private_network,  ///< 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10, 64:ff9b:1::/48
  shared_address,   ///< 100.64/10, carrier-grade NAT
  multicast,        ///< 224/4, ff00::/8
  broadcast,        ///< 255.255.255.255
  reserved,         ///< documentation, benchmarking, protocol and future-use blocks, Teredo, ORCHID
  own_listener,     ///< the hub's own listen address and port
};

/** A short phrase for logs and errors, e.g. "a link-local address". */
std::string_view describe(refusal r);

/** Snake_case name for metrics and structured logs, e.g. "link_local". */
std::string_view name(refusal r);

/** The class of `a` by address alone (no allowlist, no listeners); none for public unicast. */
refusal classify(const ip_address& a);

/** A socket the hub listens on. An unspecified address (0.0.0.0, ::) means every local address. */
struct listen_endpoint {
  ip_address address;
  std::uint16_t port = 0;
};

/** What a destination is checked against. */
struct destination_policy {
  std::vector<cidr> allow;                     ///< the subscription's allow_destinations
  std::vector<listen_endpoint> own_listeners;  ///< the hub's bound sockets
  std::vector<ip_address> local_addresses;     ///< this host's interface addresses (for wildcard listeners)
};

/**
 * The verdict on connecting to `a`:`port`. own_listener first (never allowlistable), then the class
 * of the address (or of the IPv4 address it carries), which an allow entry containing the address
 * or its carried IPv4 address lifts.
 */
refusal check_destination(const ip_address& a, std::uint16_t port, const destination_policy& policy);

/**
 * Resolves a host name (or literal) with getaddrinfo, blocking: for check-config only, never on a
 * network thread. Empty with `error` set when resolution fails.
 */
std::vector<ip_address> resolve_host(const std::string& host, std::string* error);

/** This host's interface addresses (getifaddrs), loopback included; empty if they cannot be read. */
std::vector<ip_address> local_interface_addresses();

/**
 * What destination_policy::local_addresses needs for `listeners`: this host's interface addresses
 * when one of them binds 0.0.0.0 or :: (it answers on all of them), else nothing.
 */
std::vector<ip_address> local_addresses_for(const std::vector<listen_endpoint>& listeners);

}  // namespace schakel::net
