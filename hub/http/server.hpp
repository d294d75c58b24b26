#pragma once
/**
 * The hub's HTTP/1.1 server (Boost.Beast, C++20 coroutines): keep-alive, TLS 1.2+ when configured,
 * and the limits that keep one client from hurting the others (body 413, header 431, read timeout
 * 408, connection cap 503). Beast stays inside server.cpp; handlers see only these plain types.
 */
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"

namespace schakel::http {

/**
 * The client certificate a TLS handshake verified against the listener's client CA (and its
 * revocation list): what the daemon maps to a connector instance.
 */
struct peer_certificate {
  std::string subject;               ///< RFC 2253, most specific first, e.g. "CN=somtoday-export,O=School"
  std::vector<std::string> san_dns;  ///< subjectAltName DNS names, lower case
  std::vector<std::string> san_uri;  ///< subjectAltName URIs, as written
};

struct request {
  std::string method;  ///< upper case, e.g. POST
  std::string target;  ///< path plus query, as sent
  std::string path;    ///< target without the query
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
  std::string body;
  /// The client's address: the TCP peer, or the one a trusted proxy names (http/forwarded.hpp). It
  /// grants nothing; it is for the per-address connection limit and the logs.
  std::string client;
  std::optional<peer_certificate> peer;  ///< set only when the handshake verified a client certificate

  /** First header of that (lower-case) name, or empty. */
  const std::string& header(const std::string& name) const;
};

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/** RFC 9457 problem details (application/problem+json); `extra` members are merged in. */
response problem(unsigned status, std::string_view type_suffix, std::string_view title, std::string_view detail,
                 const std::string& instance, nlohmann::json extra = nlohmann::json::object());

using handler = std::function<boost::asio::awaitable<response>(request&)>;

/**
 * Decides from the method, target and headers alone (the body is still unread, `body` is empty)
 * whether a request may go on: a refusal is sent at once and the connection closed without reading
 * the body, so a client without a valid token cannot make the hub buffer megabytes.
 */
using precheck = std::function<std::optional<response>(const request&)>;

class server {
 public:
  /** `trusted_proxies`: networks whose Forwarded / X-Forwarded-For is believed (already validated). */
  server(boost::asio::any_io_executor executor, config::listener listen, config::limit_settings limits, handler h,
         precheck check = {}, std::vector<std::string> trusted_proxies = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /** Binds and starts accepting; throws std::runtime_error naming the address on failure. */
  void start();
  /** The bound port (useful with port 0). */
  std::uint16_t port() const;
  /** Stops accepting and closes idle connections; requests in progress finish and get their answer. */
  void stop();
  /** Connections still open. */
  std::size_t open_connections() const;
  /** Requests being handled right now (a drain waits for 0). */
  std::size_t requests_in_flight() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

/** True for 127.0.0.0/8, ::1 and "localhost". */
bool is_loopback_host(const std::string& host);

}  // namespace schakel::http
