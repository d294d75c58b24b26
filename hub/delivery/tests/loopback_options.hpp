#pragma once
/** Client options for tests whose partner runs on this host: loopback is refused unless allowlisted. */
#include "delivery/https_client.hpp"

namespace schakel::delivery::testing {

inline client_options loopback_options(client_options o = {}) {
  o.destination = [](const net::ip_address& a, std::uint16_t port) {
    net::destination_policy policy;
    policy.allow = {*net::parse_cidr("127.0.0.0/8"), *net::parse_cidr("::1/128")};
    return net::check_destination(a, port, policy);
  };
  return o;
}

}  // namespace schakel::delivery::testing
