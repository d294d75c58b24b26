#pragma once
/** A synchronous HTTP(S) client and a raw-socket helper for driving the real daemon in tests. */
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace schakel::test {

struct http_reply {
  unsigned status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
  std::string header(const std::string& name) const;
};

struct http_call {
  http_call() = default;
  http_call(std::string m, std::string t, std::string b = {}, std::vector<std::pair<std::string, std::string>> h = {})
      : method(std::move(m)), target(std::move(t)), body(std::move(b)), headers(std::move(h)) {}
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/** One request on a fresh connection; https when `ca_file` is set (verified against it). */
http_reply send(std::uint16_t port, const http_call& call, const std::filesystem::path& ca_file = {});

/**
 * One request over TLS on a fresh connection, the server verified against `ca_file`, presenting the
 * client certificate `cert` (with `key`) when it is set. Throws boost::system::system_error when the
 * server refuses the handshake (with TLS 1.3 that shows on the first read).
 */
http_reply send_with_certificate(std::uint16_t port, const http_call& call, const std::filesystem::path& ca_file,
                                 const std::filesystem::path& cert, const std::filesystem::path& key);

/** Several requests on one keep-alive connection (plain HTTP). */
std::vector<http_reply> send_keep_alive(std::uint16_t port, const std::vector<http_call>& calls);

/** Writes raw bytes, then reads until the server closes or `timeout_ms`; returns what came back. */
std::string raw_exchange(std::uint16_t port, const std::string& bytes, int timeout_ms,
                         bool keep_writing_slowly = false);

}  // namespace schakel::test
