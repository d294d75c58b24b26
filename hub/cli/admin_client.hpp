#pragma once
/** A small synchronous HTTP(S) client the CLI uses to talk to a running daemon's admin API. */
#include <string>

namespace schakel::cli {

struct admin_target {
  std::string host;
  std::string port;
  bool tls = false;
  std::string ca_file;  ///< verifies the daemon's certificate; empty = system CAs
  std::string token;    ///< admin bearer token, may be empty on loopback
};

struct admin_reply {
  unsigned status = 0;
  std::string body;
};

/** Throws std::runtime_error with the address and the transport error. */
admin_reply admin_request(const admin_target& target, const std::string& method, const std::string& path,
                          const std::string& body = {});

}  // namespace schakel::cli
