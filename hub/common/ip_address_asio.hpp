#pragma once
// The guard's address type from an Asio address, for code that has sockets (the guard itself has none).
#include <algorithm>

#include <boost/asio/ip/address.hpp>

#include "common/destination_guard.hpp"

namespace schakel::net {

inline ip_address from_asio(const boost::asio::ip::address& a) {
  ip_address out;
  out.v4 = a.is_v4();
  if (out.v4) {
    const auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), out.bytes.begin());
  } else {
    out.bytes = a.to_v6().to_bytes();
  }
  return out;
}

}  // namespace schakel::net
