#pragma once
/**
 * Which address a request comes from. Behind a reverse proxy every connection comes from the proxy,
 * which names the client in Forwarded (RFC 7239) or X-Forwarded-For; anyone can write those headers,
 * so they are believed only from a configured trusted proxy, hop by hop from the nearest.
 */
#include <array>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "common/destination_guard.hpp"

namespace schakel::http {

struct request;

/** Networks in CIDR notation (or bare addresses), e.g. 10.0.0.5/32 or fd00::/8, parsed by net::parse_cidr. */
class network_list {
 public:
  network_list() = default;
  /** Throws std::invalid_argument naming the entry that is not an address or network. */
  explicit network_list(const std::vector<std::string>& cidrs);
  bool contains(const boost::asio::ip::address& a) const;
  bool empty() const { return nets_.empty(); }

 private:
  std::vector<net::cidr> nets_;
};

/**
 * The client's address: `peer`, or, while the hop so far is a trusted proxy, the next address to its
 * left in Forwarded (preferred) or X-Forwarded-For. An unreadable entry ends the walk there.
 */
boost::asio::ip::address believed_client(const boost::asio::ip::address& peer, const request& req,
                                         const network_list& trusted_proxies);

}  // namespace schakel::http
