#include "delivery/https_client.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/ip_address_asio.hpp"
#include "common/signal.hpp"
#include "delivery/client_tls.hpp"

namespace schakel::delivery {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  return out;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::string phase_error(std::string_view phase, const boost::system::error_code& ec) {
  std::string out(phase);
  out += ": ";
  out += ec.message();
  return out;
}

}  // namespace

std::optional<url_parts> parse_url(std::string_view url, std::string* error) {
  auto fail = [&](const char* why) {
    if (error != nullptr) *error = why;
    return std::optional<url_parts>{};
  };
  url_parts out;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return fail("url: missing scheme");
  const std::string scheme = lower(url.substr(0, scheme_end));
  if (scheme == "https") {
    out.tls = true;
    out.port = "443";
  } else if (scheme == "http") {
    out.port = "80";
  } else {
    return fail("url: scheme must be http or https");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  const auto path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  if (path_start != std::string_view::npos) {
    std::string_view target = rest.substr(path_start);
    if (const auto hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
    out.target = target.empty() || target[0] != '/' ? "/" + std::string(target) : std::string(target);
  }
  if (authority.find('@') != std::string_view::npos) return fail("url: credentials in the URL are not supported");
  if (authority.empty()) return fail("url: missing host");
  std::string_view port;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail("url: unterminated IPv6 literal");
    out.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("url: junk after IPv6 literal");
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return fail("url: missing host");
  if (!port.empty()) {
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || ptr != port.data() + port.size() || value == 0 || value > 65535) {
      return fail("url: invalid port");
    }
    out.port = std::to_string(value);
  }
  return out;
}

bool is_loopback_host(std::string_view host) {
  if (lower(host) == "localhost") return true;
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(std::string(host), ec);
  return !ec && addr.is_loopback();
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, std::int64_t now_ms) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9') {
    std::int64_t s = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), s);
    if (ptr != value.data() + value.size()) return std::nullopt;
    // All digits but too many for the integer: a very long wait, not a malformed header.
    if (ec == std::errc::result_out_of_range) return max_retry_after;
    if (ec != std::errc{}) return std::nullopt;
    return std::min(std::chrono::seconds(s), max_retry_after);
  }
  // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (the form RFC 9110 requires senders to use).
  std::tm tm{};
  const std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const std::int64_t at_s = timegm(&tm);
  const std::int64_t delta = at_s - now_ms / 1000;
  return std::min(std::chrono::seconds(delta > 0 ? delta : 0), max_retry_after);
}

struct https_client::impl {
  asio::any_io_executor ex;
  url_parts url;
  client_options opts;
  std::string host_header;
  std::shared_ptr<ssl::context> tls_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  net::refusal refused = net::refusal::none;  ///< of the last connect

  bool connected() const { return plain.has_value() || secure.has_value(); }

  void close() {
    boost::system::error_code ignored;
    if (plain) plain->socket().close(ignored);
    if (secure) beast::get_lowest_layer(*secure).socket().close(ignored);
    plain.reset();
    secure.reset();
    buffer.clear();
  }

  asio::awaitable<std::string> connect(clock_type::time_point deadline) {
    // The resolver has no deadline of its own: a timer cancels it. Both share ownership so a late
    // timer completion never touches a destroyed resolver.
    auto resolver = std::make_shared<tcp::resolver>(ex);
    asio::steady_timer timer(ex, deadline);
    timer.async_wait([weak = std::weak_ptr<tcp::resolver>(resolver)](boost::system::error_code ec) {
      if (ec) return;
      if (auto r = weak.lock()) r->cancel();
    });
    auto [rec, results] = co_await resolver->async_resolve(url.host, url.port, use_nothrow);
    timer.cancel();
    if (rec) co_return phase_error("resolve", rec == asio::error::operation_aborted ? beast::error::timeout : rec);

    std::vector<tcp::endpoint> endpoints;
    refused = net::refusal::none;
    std::string refused_address;
    for (const auto& entry : results) {
      const auto& address = entry.endpoint().address();
      // Plain http is for loopback only; a name that resolves elsewhere must not leak events.
      if (!url.tls && !address.is_loopback()) continue;
      const net::ip_address candidate = net::from_asio(address);
      const net::refusal why = opts.destination ? opts.destination(candidate, entry.endpoint().port())
                                                : net::check_destination(candidate, entry.endpoint().port(), {});
      if (why != net::refusal::none) {
        if (refused == net::refusal::none) {
          refused = why;
          refused_address = net::to_string(candidate);
        }
        continue;
      }
      // Only checked endpoints are kept: the connect below never resolves the name again.
      endpoints.push_back(entry.endpoint());
    }
    if (endpoints.empty() && refused != net::refusal::none) {
      // An allowlist cannot lift the hub's own listener, so the reason does not point at one then.
      co_return "destination: " + url.host + " resolves to " + std::string(net::describe(refused)) + " (" +
          refused_address + ")" +
          (refused == net::refusal::own_listener ? "; the hub never delivers to itself"
                                                 : ", not in allow_destinations");
    }
    refused = net::refusal::none;
    if (endpoints.empty()) co_return std::string("resolve: no permitted address for host");

    if (!url.tls) {
      plain.emplace(ex);
      plain->expires_at(deadline);
      auto [ec, ep] = co_await plain->async_connect(endpoints, use_nothrow);
      if (ec) {
        close();
        co_return phase_error("connect", ec);
      }
      co_return std::string();
    }

    secure.emplace(ex, *tls_ctx);
    SSL* ssl_handle = secure->native_handle();
    if (is_ip_literal(url.host)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), url.host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl_handle, url.host.c_str());
      SSL_set1_host(ssl_handle, url.host.c_str());
    }
    secure->set_verify_mode(ssl::verify_peer);
    auto& lowest = beast::get_lowest_layer(*secure);
    lowest.expires_at(deadline);
    auto [ec, ep] = co_await lowest.async_connect(endpoints, use_nothrow);
    if (ec) {
      close();
      co_return phase_error("connect", ec);
    }
    lowest.expires_at(deadline);
    auto [hec] = co_await secure->async_handshake(ssl::stream_base::client, use_nothrow);
    if (hec) {
      std::string msg = phase_error("tls handshake", hec);
      const long verify = SSL_get_verify_result(ssl_handle);
      if (verify != X509_V_OK) {
        msg += " (";
        msg += X509_verify_cert_error_string(verify);
        msg += ")";
      }
      close();
      co_return msg;
    }
    co_return std::string();
  }

  struct exchange_result {
    http_result result;
    bool before_response = false;  ///< failed before any response header arrived
    bool keep_alive = false;
  };

  template <class Stream>
  asio::awaitable<exchange_result> exchange(Stream& stream, const http::request<http::string_body>& req,
                                            clock_type::time_point deadline) {
    exchange_result out;
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_at(deadline);
    auto [wec, wn] = co_await http::async_write(stream, req, use_nothrow);
    if (wec) {
      out.result.error = phase_error("write", wec);
      out.before_response = true;
      co_return out;
    }
    http::response_parser<http::string_body> parser;
    // No limit while the header is read: Beast checks a Content-Length against the limit in the
    // header already, and would turn a partner's 200 with a large body into a read error (retried,
    // delivered again, dead-lettered). The cap applies to the body below.
    parser.body_limit(boost::none);
    lowest.expires_at(deadline);
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, use_nothrow);
    if (hec) {
      out.result.error = phase_error("read", hec);
      out.before_response = true;
      co_return out;
    }
    const auto& res = parser.get();
    out.result.status = res.result_int();
    if (auto it = res.find(http::field::retry_after); it != res.end()) {
      out.result.retry_after = parse_retry_after(it->value(), now_ms());
    }
    out.keep_alive = res.keep_alive();
    if (!parser.is_done()) {
      // The status is the partner's answer; the body is read (and dropped) only to reuse the
      // connection. One announced beyond the cap is not read at all, and a body that turns out too
      // large or slow costs the connection, never the outcome.
      const auto announced = parser.content_length();
      if (announced && *announced > opts.max_response_body) {
        out.keep_alive = false;
      } else {
        parser.body_limit(opts.max_response_body);
        lowest.expires_at(deadline);
        auto [bec, bn] = co_await http::async_read(stream, buffer, parser, use_nothrow);
        if (bec) out.keep_alive = false;
      }
    }
    co_return out;
  }

  asio::awaitable<http_result> post(const http::request<http::string_body>& req) {
    const auto deadline = clock_type::now() + opts.timeout;
    for (int round = 0; round < 2; ++round) {
      const bool reused = connected();
      if (!reused) {
        std::string err = co_await connect(deadline);
        if (!err.empty()) co_return http_result{0, std::nullopt, std::move(err), false, refused};
      }
      // (if/else, not ?: — g++ 12 miscompiles co_await inside a conditional expression)
      exchange_result ex_result;
      if (secure) {
        ex_result = co_await exchange(*secure, req, deadline);
      } else {
        ex_result = co_await exchange(*plain, req, deadline);
      }
      ex_result.result.reused_connection = reused;
      if (!ex_result.result.transport_ok() || !ex_result.keep_alive) close();
      // A kept-alive connection may have been closed by the partner while idle: reconnect once.
      if (reused && ex_result.before_response && clock_type::now() < deadline) continue;
      co_return std::move(ex_result.result);
    }
    co_return http_result{0, std::nullopt, "connect: retry budget exhausted", false};
  }
};

https_client::https_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
https_client::~https_client() {
  if (impl_) impl_->close();
}

std::unique_ptr<https_client> https_client::create(asio::any_io_executor ex, std::string_view url,
                                                   client_options options, std::string* error) {
  auto parsed = parse_url(url, error);
  if (!parsed) return nullptr;
  if (!parsed->tls && !is_loopback_host(parsed->host)) {
    if (error != nullptr) *error = "url: plain http is only allowed to loopback hosts; use https";
    return nullptr;
  }
  auto p = std::make_unique<impl>();
  p->ex = std::move(ex);
  p->url = std::move(*parsed);
  p->opts = std::move(options);
  const bool default_port = p->url.port == (p->url.tls ? "443" : "80");
  p->host_header = p->url.host.find(':') != std::string::npos ? "[" + p->url.host + "]" : p->url.host;
  if (!default_port) p->host_header += ":" + p->url.port;
  if (p->url.tls) {
    p->tls_ctx =
        make_client_tls_context({p->opts.ca_file, p->opts.client_certificate_file, p->opts.client_key_file}, error);
    if (!p->tls_ctx) return nullptr;
  }
  return std::unique_ptr<https_client>(new https_client(std::move(p)));
}

asio::awaitable<http_result> https_client::post(std::vector<std::pair<std::string, std::string>> headers,
                                                std::string body, std::string content_type) {
  http::request<http::string_body> req{http::verb::post, impl_->url.target, 11};
  req.set(http::field::host, impl_->host_header);
  req.set(http::field::user_agent, impl_->opts.user_agent);
  req.set(http::field::content_type, content_type);
  for (auto& [name, value] : headers) req.set(name, value);
  req.body() = std::move(body);
  req.keep_alive(true);
  req.prepare_payload();
  co_return co_await impl_->post(req);
}

void https_client::close() {
  impl_->close();
}

const url_parts& https_client::url() const {
  return impl_->url;
}

}  // namespace schakel::delivery
