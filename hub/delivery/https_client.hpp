#pragma once
/**
 * A small HTTP/1.1 client for webhook delivery: one connection per client object, reused across
 * requests (keep-alive), C++20 coroutines on the caller's executor.
 *
 * - `https://`: TLS >= 1.2, peer verification against the system CAs plus an optional CA file,
 *   hostname (or IP) verification, SNI; a client certificate when configured (mutual TLS).
 * - `http://`: only to loopback (localhost, 127.0.0.0/8, ::1); other hosts are refused at creation.
 * - The host is resolved once per connection; every address is checked with the destination guard
 *   (common/destination_guard.hpp) and the socket connects only to an address that passed, so a
 *   name cannot pass the check with one address and then be connected to another (DNS rebinding).
 *   SNI, certificate verification and the Host header keep using the name.
 * - One deadline bounds each whole request (resolve, connect, handshake, write, read).
 * - The status decides the outcome. Response bodies are read and discarded up to a limit so the
 *   connection can be reused; a larger one (announced or not) is not read further and the
 *   connection is closed instead.
 *
 * A client object is not thread-safe: use it from one strand, one request at a time.
 */
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/destination_guard.hpp"

namespace schakel::delivery {

/** A parsed target URL. */
struct url_parts {
  bool tls = false;
  std::string host;          ///< without IPv6 brackets
  std::string port;          ///< numeric, defaulted from the scheme
  std::string target = "/";  ///< path and query
};

/** Parses http(s)://host[:port][/path][?query]; nullopt with `error` set on anything else. */
std::optional<url_parts> parse_url(std::string_view url, std::string* error = nullptr);

/** True for "localhost", 127.0.0.0/8 and ::1 (literal forms). */
bool is_loopback_host(std::string_view host);

/**
 * The longest Retry-After taken from a partner. Delivery caps every delay at max_backoff anyway; the
 * clamp keeps the value small enough that converting it to milliseconds (or adding it to a clock)
 * cannot overflow.
 */
inline constexpr std::chrono::seconds max_retry_after{std::int64_t{1} << 31};

/**
 * Parses a Retry-After value: delta-seconds, or an HTTP-date (IMF-fixdate) relative to `now_ms`.
 * Dates in the past give 0; values beyond max_retry_after (also digits past the integer range) give
 * max_retry_after. nullopt when unparseable.
 */
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, std::int64_t now_ms);

/**
 * Whether a resolved address (and the URL's port) may be connected to. Called on the client's
 * executor, once per address per connection.
 */
using destination_check = std::function<net::refusal(const net::ip_address&, std::uint16_t port)>;

struct client_options {
  std::string ca_file;                       ///< extra PEM CA bundle, trusted besides the system store
  std::string client_certificate_file;       ///< PEM chain presented when the partner asks (mutual TLS)
  std::string client_key_file;               ///< its PEM private key
  /// Empty: net::check_destination with no allowlist (every non-public address refused).
  destination_check destination;
  std::chrono::milliseconds timeout{10000};  ///< deadline for one whole request
  std::size_t max_response_body = 64 * 1024;
  std::string user_agent = "schakel/0.1";
};

struct http_result {
  unsigned status = 0;  ///< 0 when the request failed in transport
  std::optional<std::chrono::seconds> retry_after;
  /** Empty on a received response; otherwise "<phase>: <reason>" — never request or response content. */
  std::string error;
  bool reused_connection = false;
  /// Set when the host resolved only to addresses the destination guard refused (nothing was sent).
  net::refusal refused = net::refusal::none;
  bool transport_ok() const { return error.empty(); }
};

class https_client {
 public:
  /**
   * Validates the URL and the TLS settings once. Returns nullptr and sets `error` when the URL is
   * malformed, is plain http to a non-loopback host, or the CA file cannot be loaded.
   */
  static std::unique_ptr<https_client> create(boost::asio::any_io_executor ex, std::string_view url,
                                              client_options options, std::string* error);
  ~https_client();
  https_client(const https_client&) = delete;
  https_client& operator=(const https_client&) = delete;

  /**
   * POSTs `body` with the given extra headers (content-type, user-agent and host are set here unless
   * given). Never throws for network conditions; reconnects once when a kept-alive connection
   * turned out to be closed by the peer.
   */
  boost::asio::awaitable<http_result> post(std::vector<std::pair<std::string, std::string>> headers, std::string body,
                                           std::string content_type);

  /** Closes the connection (if any); later requests connect afresh. */
  void close();

  const url_parts& url() const;

 private:
  struct impl;
  explicit https_client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace schakel::delivery
