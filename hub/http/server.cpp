#include "http/server.hpp"

#include <array>
#include <atomic>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/log.hpp"
#include "http/forwarded.hpp"

namespace schakel::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds write_timeout{30};
constexpr std::chrono::seconds handshake_timeout{10};
/** What a refused request's unread body may still cost before the connection is closed. */
constexpr std::size_t linger_bytes = 64 * 1024;
constexpr std::chrono::milliseconds linger_time{500};
/**
 * Connections above limits.max_connections that only /healthz, /readyz and /metrics may use: a
 * crowd of idle clients must not hide the hub's health from its monitoring.
 */
constexpr std::size_t health_reserve = 8;
/** Out of descriptors, the accept loop waits from the first to the last of these, doubling. */
constexpr std::chrono::milliseconds accept_backoff_first{10};
constexpr std::chrono::milliseconds accept_backoff_max{1000};

bool health_path(const std::string& path) {
  return path == "/healthz" || path == "/readyz" || path == "/metrics";
}

const std::string empty_header;

/** The verified client certificate of a finished handshake; nullopt when none was presented. */
std::optional<peer_certificate> verified_peer(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  peer_certificate out;
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    // RFC 2253 as configured, but UTF-8 left as it is (a school's name is not hex-escaped).
    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    if (n > 0) out.subject.assign(data, static_cast<std::size_t>(n));
    BIO_free(bio);
  }
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_DNS && name->type != GEN_URI) continue;
    const ASN1_IA5STRING* text = name->type == GEN_DNS ? name->d.dNSName : name->d.uniformResourceIdentifier;
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                      static_cast<std::size_t>(ASN1_STRING_length(text)));
    if (name->type == GEN_DNS) {
      for (auto& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.san_dns.push_back(std::move(value));
    } else {
      out.san_uri.push_back(std::move(value));
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

/** Adds every revocation list in a PEM file to the store and turns the check on (leaf certificates). */
void load_crl_file(SSL_CTX* ctx, const std::string& file) {
  BIO* bio = BIO_new_file(file.c_str(), "r");
  if (bio == nullptr) throw std::runtime_error("listen.tls.crl_file: cannot read " + file);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int count = 0;
  while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr)) {
    X509_STORE_add_crl(store, crl);
    X509_CRL_free(crl);
    ++count;
  }
  BIO_free(bio);
  ERR_clear_error();
  if (count == 0) throw std::runtime_error("listen.tls.crl_file: " + file + " holds no PEM revocation list");
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
}

std::string_view reason_title(unsigned status) {
  switch (status) {
    case 400:
      return "Bad request";
    case 408:
      return "Request timeout";
    case 413:
      return "Content too large";
    case 431:
      return "Request header fields too large";
    case 503:
      return "Service unavailable";
    default:
      return "Error";
  }
}

}  // namespace

const std::string& request::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return empty_header;
}

response problem(unsigned status, std::string_view type_suffix, std::string_view title, std::string_view detail,
                 const std::string& instance, nlohmann::json extra) {
  nlohmann::json body = {{"type", "urn:schakel:problem:" + std::string(type_suffix)},
                         {"title", std::string(title)},
                         {"status", status},
                         {"detail", std::string(detail)},
                         {"instance", instance}};
  if (extra.is_object())
    for (auto it = extra.begin(); it != extra.end(); ++it) body[it.key()] = it.value();
  response r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  auto addr = asio::ip::make_address(h, ec);
  return !ec && addr.is_loopback();
}

/** Per-connection state touched only on the connection's strand. */
struct connection {
  asio::any_io_executor strand;
  tcp::socket* socket = nullptr;
  bool busy = false;
};

struct server::impl : std::enable_shared_from_this<impl> {
  asio::any_io_executor executor;
  config::listener listen;
  config::limit_settings limits;
  handler handle;
  precheck check;
  network_list trusted_proxies;
  std::optional<asio::ssl::context> tls;
  tcp::acceptor acceptor;
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> in_flight{0};
  std::atomic<bool> stopping{false};
  std::mutex registry_mutex;
  std::list<std::shared_ptr<connection>> registry;
  std::map<asio::ip::address, std::size_t> per_address;  ///< open connections by client address (registry_mutex)

  impl(asio::any_io_executor ex, config::listener l, config::limit_settings lim, handler h, precheck c,
       const std::vector<std::string>& proxies)
      : executor(ex),
        listen(std::move(l)),
        limits(lim),
        handle(std::move(h)),
        check(std::move(c)),
        trusted_proxies(proxies),
        acceptor(ex) {}

  /**
   * A connection's place in the per-address count: taken for the peer at accept, or, for a connection
   * from a trusted proxy (which carries many clients), for the client it names in its first request.
   */
  struct address_claim {
    impl* owner;
    std::optional<asio::ip::address> address;
    /** Counts the connection against `a`; returns how many connections `a` now has. */
    std::size_t take(const asio::ip::address& a) {
      std::lock_guard lock(owner->registry_mutex);
      address = a;
      return ++owner->per_address[a];
    }
    ~address_claim() {
      if (!address) return;
      std::lock_guard lock(owner->registry_mutex);
      auto it = owner->per_address.find(*address);
      if (it != owner->per_address.end() && --it->second == 0) owner->per_address.erase(it);
    }
  };

  void setup_tls() {
    if (!listen.tls) return;
    tls.emplace(asio::ssl::context::tls_server);
    tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                     asio::ssl::context::single_dh_use);
    tls->use_certificate_chain_file(listen.tls->cert_file);
    tls->use_private_key_file(listen.tls->key_file, asio::ssl::context::pem);
    const auto mode = listen.tls->client_certificates;
    if (mode == config::client_certificate_mode::off || listen.tls->client_ca_file.empty()) return;
    tls->load_verify_file(listen.tls->client_ca_file);
    // Tells clients which CA to pick a certificate for.
    SSL_CTX_set_client_CA_list(tls->native_handle(), SSL_load_client_CA_file(listen.tls->client_ca_file.c_str()));
    // Session resumption with client certificates needs a context id, or OpenSSL refuses resumed sessions.
    static constexpr unsigned char session_context[] = "schakel";
    SSL_CTX_set_session_id_context(tls->native_handle(), session_context, sizeof session_context - 1);
    if (!listen.tls->crl_file.empty()) load_crl_file(tls->native_handle(), listen.tls->crl_file);
    tls->set_verify_mode(mode == config::client_certificate_mode::required
                             ? asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert
                             : asio::ssl::verify_peer);
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    asio::steady_timer pause(executor);
    std::chrono::milliseconds backoff{0};
    std::chrono::steady_clock::time_point last_paused_log{};
    for (;;) {
      auto strand = asio::make_strand(executor);
      auto [ec, socket] = co_await acceptor.async_accept(strand, nothrow);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        if (ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system) {
          // The pending connection stays queued, so accepting again at once fails again at once: wait
          // for descriptors to come back, longer each time, and say so once per pause.
          backoff = backoff.count() == 0 ? accept_backoff_first : std::min(backoff * 2, accept_backoff_max);
          const auto now = std::chrono::steady_clock::now();
          if (now - last_paused_log >= accept_backoff_max) {
            last_paused_log = now;
            log::warn("http.accept_paused", {{"error", ec.message()}, {"pause_ms", backoff.count()}});
          }
          pause.expires_after(backoff);
          co_await pause.async_wait(nothrow);
          continue;
        }
        log::warn("http.accept_failed", {{"error", ec.message()}});
        continue;
      }
      backoff = std::chrono::milliseconds{0};
      asio::co_spawn(strand, run_connection(std::move(socket)), [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log::error("http.connection_failed", {{"error", ex.what()}});
        }
      });
    }
  }

  asio::awaitable<void> run_connection(tcp::socket socket) {
    auto self = shared_from_this();
    boost::system::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    socket.set_option(tcp::no_delay(true), ec);

    const std::size_t open = ++connections;
    struct release {
      impl* owner;
      ~release() { --owner->connections; }
    } release_guard{this};

    auto conn = std::make_shared<connection>();
    conn->strand = socket.get_executor();
    {
      std::lock_guard lock(registry_mutex);
      registry.push_back(conn);
    }
    struct unregister {
      impl* owner;
      std::shared_ptr<connection> c;
      ~unregister() {
        std::lock_guard lock(owner->registry_mutex);
        owner->registry.remove(c);
      }
    } unregister_guard{this, conn};
    std::optional<asio::ip::address> peer;
    if (!ec) peer = remote.address();
    address_claim claim{this, std::nullopt};
    std::size_t from_address = 0;
    if (peer && !trusted_proxies.contains(*peer)) from_address = claim.take(*peer);

    // Above the cap, a few connections are kept for health checks; serve() refuses anything else on them.
    const bool health_only = open > limits.max_connections;
    if (open > limits.max_connections + health_reserve || from_address > limits.max_connections_per_address) {
      // Over the cap: answer 503 without reading the request, so clients back off instead of hanging.
      if (!tls) {
        static const std::string body =
            R"({"type":"urn:schakel:problem:overloaded","title":"Too many connections","status":503})";
        static const std::string busy =
            "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
            "Content-Type: application/problem+json\r\nConnection: close\r\n"
            "Content-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
        co_await asio::async_write(socket, asio::buffer(busy), nothrow);
      }
      socket.close(ec);
      co_return;
    }

    if (tls) {
      beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
      conn->socket = &beast::get_lowest_layer(stream).socket();
      beast::get_lowest_layer(stream).expires_after(handshake_timeout);
      auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, nothrow);
      if (hec) {
        log::debug("http.tls_handshake_failed", {{"error", hec.message()}});
        co_return;
      }
      co_await serve(stream, *conn, peer, claim, health_only, verified_peer(stream.native_handle()));
      conn->socket = nullptr;
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
      co_await stream.async_shutdown(nothrow);
    } else {
      beast::tcp_stream stream(std::move(socket));
      conn->socket = &stream.socket();
      co_await serve(stream, *conn, peer, claim, health_only);
      conn->socket = nullptr;
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  request header_of(const bhttp::request<bhttp::string_body>& msg, const std::optional<asio::ip::address>& peer,
                    const std::optional<peer_certificate>& certificate) const {
    request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    if (peer) req.client = believed_client(*peer, req, trusted_proxies).to_string();
    req.peer = certificate;
    return req;
  }

  template <class Stream>
  asio::awaitable<bool> write_response(Stream& stream, unsigned version, bool keep_alive, response&& r) {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
    res.set(bhttp::field::server, "schakel");
    res.set(bhttp::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(keep_alive);
    res.body() = std::move(r.body);
    res.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(write_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream, res, nothrow);
    beast::get_lowest_layer(stream).expires_never();
    co_return !ec;
  }

  /**
   * Closing a socket with unread bytes in it resets the connection, and a client that is still
   * sending the body of a refused request may then lose the answer before reading it. So a little of
   * what it sends is taken in and dropped first: at most linger_bytes, for at most linger_time.
   */
  template <class Stream>
  asio::awaitable<void> linger(Stream& stream) {
    beast::get_lowest_layer(stream).expires_after(linger_time);
    std::array<char, 8192> scratch{};
    for (std::size_t taken = 0; taken < linger_bytes;) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), nothrow);
      if (ec) break;
      taken += n;
    }
    beast::get_lowest_layer(stream).expires_never();
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream& stream, connection& conn, const std::optional<asio::ip::address>& peer,
                              address_claim& claim, bool health_only,
                              std::optional<peer_certificate> certificate = std::nullopt) {
    beast::flat_buffer buffer;
    asio::steady_timer read_deadline(conn.strand);
    for (;;) {
      if (stopping) co_return;
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(limits.max_body_bytes);
      parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));

      // Our own deadline instead of tcp_stream's: on expiry the read is cancelled but the socket stays
      // open, so a client that stalls mid-request still gets its 408.
      bool timed_out = false;
      read_deadline.expires_after(limits.read_timeout);
      read_deadline.async_wait([&](boost::system::error_code tec) {
        if (tec) return;
        timed_out = true;
        boost::system::error_code ignored;
        beast::get_lowest_layer(stream).socket().cancel(ignored);
      });
      // The header first: whether the request may go on is decided before any of its body is read.
      auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, nothrow);
      request req;
      std::optional<response> refusal;
      if (!ec) {
        req = header_of(parser.get(), peer, certificate);
        // Through a trusted proxy the limit applies to the client it names, from its first request on.
        std::size_t from_client = 0;
        if (peer && !claim.address) {
          boost::system::error_code bad;
          from_client = claim.take(asio::ip::make_address(req.client, bad));
        }
        if (from_client > limits.max_connections_per_address) {
          refusal =
              problem(503, "overloaded", "Too many connections", "this client has too many connections open", req.path);
          refusal->headers.emplace_back("Retry-After", "1");
        } else if (health_only && !health_path(req.path)) {
          refusal = problem(503, "overloaded", "Too many connections",
                            "every connection is in use; only health checks are answered now", req.path);
          refusal->headers.emplace_back("Retry-After", "1");
        } else if (check) {
          refusal = check(req);
        }
        if (!refusal && !parser.is_done())
          std::tie(ec, n) = co_await bhttp::async_read(stream, buffer, parser, nothrow);
      }
      read_deadline.cancel();

      if (ec) {
        unsigned status = 0;
        if (ec == bhttp::error::body_limit)
          status = 413;
        else if (ec == bhttp::error::header_limit)
          status = 431;
        else if (timed_out)
          status = parser.got_some() ? 408 : 0;
        else if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
                 ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
          status = 400;
        if (status != 0) {
          std::string detail = status == 413 ? "the body exceeds " + std::to_string(limits.max_body_bytes) + " bytes"
                               : status == 431
                                   ? "the header exceeds " + std::to_string(limits.max_header_bytes) + " bytes"
                               : status == 408 ? "the request was not received in time"
                                               : "malformed HTTP request: " + ec.message();
          co_await write_response(
              stream, 11, false,
              problem(status, status == 400 ? "bad-request" : "limit-exceeded", reason_title(status), detail, ""));
        }
        co_return;
      }

      auto& msg = parser.get();
      const unsigned version = msg.version();
      if (refusal) {
        // The unread body stays in the socket, so the connection cannot carry another request.
        if (co_await write_response(stream, version, false, std::move(*refusal))) co_await linger(stream);
        co_return;
      }
      req.body = std::move(msg.body());
      const bool keep_alive = msg.keep_alive() && !health_only;

      conn.busy = true;
      ++in_flight;
      response res;
      try {
        res = co_await handle(req);
      } catch (const std::exception& e) {
        log::error("http.handler_failed", {{"path", req.path}, {"error", e.what()}});
        res = problem(500, "internal", "Internal error", "the request could not be handled", req.path);
      }
      --in_flight;
      conn.busy = false;
      const bool again = keep_alive && !stopping;
      if (!co_await write_response(stream, version, again, std::move(res))) co_return;
      if (!again) co_return;
    }
  }
};

server::server(asio::any_io_executor executor, config::listener listen, config::limit_settings limits, handler h,
               precheck check, std::vector<std::string> trusted_proxies)
    : impl_(std::make_shared<impl>(executor, std::move(listen), limits, std::move(h), std::move(check),
                                   trusted_proxies)) {}

server::~server() {
  stop();
}

void server::start() {
  impl_->setup_tls();
  boost::system::error_code ec;
  auto address = asio::ip::make_address(impl_->listen.address == "localhost" ? "127.0.0.1" : impl_->listen.address, ec);
  if (ec) throw std::runtime_error("listen.address: not an IP address: " + impl_->listen.address);
  tcp::endpoint endpoint(address, impl_->listen.port);
  auto& acc = impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + impl_->listen.address + ":" + std::to_string(impl_->listen.port) +
                             ": " + ec.message());
  asio::co_spawn(impl_->executor, impl_->accept_loop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("http.accept_loop_failed", {{"error", ex.what()}});
    }
  });
}

std::uint16_t server::port() const {
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void server::stop() {
  if (impl_->stopping.exchange(true)) return;
  auto self = impl_;
  asio::post(impl_->acceptor.get_executor(), [self] {
    boost::system::error_code ec;
    self->acceptor.close(ec);
  });
  std::lock_guard lock(impl_->registry_mutex);
  for (auto& c : impl_->registry) {
    // Idle keep-alive connections are closed now; busy ones close after writing their answer.
    asio::post(c->strand, [c] {
      if (!c->busy && c->socket) {
        boost::system::error_code ec;
        c->socket->cancel(ec);
      }
    });
  }
}

std::size_t server::open_connections() const {
  return impl_->connections.load();
}
std::size_t server::requests_in_flight() const {
  return impl_->in_flight.load();
}

}  // namespace schakel::http
