#include "receiver_core.hpp"

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include "delivery/standard_webhooks.hpp"

namespace schakel::receiver {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr auto io_timeout = std::chrono::seconds(30);

std::string header(const http::request<http::string_body>& req, std::string_view name) {
  auto it = req.find(name);
  return it == req.end() ? std::string() : std::string(it->value());
}

std::string scalar_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// One short line per event for the demo: type, id and a few content fields (no subject data).
std::string human_line(const nlohmann::json& ev, bool duplicate) {
  std::string line = duplicate ? "dup  " : "recv ";
  line += ev.value("type", std::string("?"));
  line += " id=" + ev.value("id", std::string("?"));
  const auto data = ev.find("data");
  if (data != ev.end() && data->is_object()) {
    const nlohmann::json* fields = &*data;
    if (auto c = data->find("content"); c != data->end() && c->is_object()) fields = &*c;
    int shown = 0;
    for (const char* key : {"domain", "indicator", "value", "unit", "severity"}) {
      if (auto it = fields->find(key); it != fields->end() && it->is_primitive()) {
        line += std::string(" ") + key + "=" + scalar_text(*it);
        ++shown;
      }
    }
    for (auto it = fields->begin(); shown == 0 && it != fields->end(); ++it) {
      if (it.value().is_primitive()) line += " " + it.key() + "=" + scalar_text(it.value());
    }
  }
  return line;
}

}  // namespace

bool split_listen(const std::string& text, std::string& host, std::uint16_t& port) {
  std::string p;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
    host = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    host = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc{} || ptr != p.data() + p.size() || value > 65535 || host.empty()) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

struct receiver::impl : std::enable_shared_from_this<receiver::impl> {
  impl(asio::any_io_executor e, options o, delivery::signing_key k)
      : ex(std::move(e)), opts(std::move(o)), key(std::move(k)), acceptor(ex) {}

  asio::any_io_executor ex;
  options opts;
  delivery::signing_key key;
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor;
  bool stopping = false;  // executor-only
  std::uint64_t next_session = 0;
  std::map<std::uint64_t, std::function<void()>> closers;  // executor-only
  std::uint64_t verified_count = 0;                          // executor-only
  std::function<void()> max_events_cb;                       // executor-only
  bool max_events_fired = false;
  std::ofstream out;

  mutable std::mutex mutex;
  std::vector<received_request> log;            // guarded
  std::vector<std::string> accepted_ids;        // guarded
  std::set<std::string> seen;                   // guarded

  unsigned scripted_status() {
    const std::uint64_t n = ++verified_count;
    if (n <= opts.fail_first) return 500;
    const std::uint64_t idx = n - opts.fail_first - 1;
    return idx < opts.status_sequence.size() ? opts.status_sequence[idx] : 200;
  }

  asio::awaitable<http::response<http::string_body>> handle(http::request<http::string_body> req) {
    received_request rec;
    rec.webhook_id = header(req, "webhook-id");
    rec.timestamp = header(req, "webhook-timestamp");
    rec.signature = header(req, "webhook-signature");
    rec.content_type = header(req, "content-type");
    rec.user_agent = header(req, "user-agent");
    rec.body = req.body();

    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::server, "schakel-receiver");
    res.keep_alive(req.keep_alive());
    auto finish = [&](unsigned status, std::string text) {
      res.result(status);
      res.set(http::field::content_type, "text/plain");
      res.body() = std::move(text);
      res.prepare_payload();
      rec.status = status;
      std::lock_guard lock(mutex);
      log.push_back(std::move(rec));
    };

    if (req.method() != http::verb::post) {
      finish(405, "POST only\n");
      co_return res;
    }
    const std::int64_t now_s =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const auto vr = delivery::verify(key, rec.webhook_id, rec.timestamp, rec.body, rec.signature, now_s, opts.tolerance);
    if (vr != delivery::verify_result::ok) {
      if (!opts.quiet) std::cout << "reject webhook-id=" << rec.webhook_id << ": " << delivery::to_string(vr) << std::endl;
      finish(401, std::string(delivery::to_string(vr)) + "\n");
      co_return res;
    }
    rec.verified = true;

    nlohmann::json doc = nlohmann::json::parse(rec.body, nullptr, false);
    const bool batch = rec.content_type.find("cloudevents-batch") != std::string::npos;
    if (doc.is_discarded() || (batch && !doc.is_array()) || (!batch && !doc.is_object())) {
      finish(400, "body is not a CloudEvent (or batch) in JSON\n");
      co_return res;
    }
    const unsigned status = scripted_status();
    if (opts.delay.count() > 0) {
      asio::steady_timer timer(ex, opts.delay);
      co_await timer.async_wait(use_nothrow);
    }
    if (status < 200 || status >= 300) {
      if (!opts.retry_after.empty()) res.set(http::field::retry_after, opts.retry_after);
      if (!opts.quiet) std::cout << "answer " << status << " webhook-id=" << rec.webhook_id << std::endl;
      finish(status, "scripted failure\n");
      co_return res;
    }

    std::vector<nlohmann::json> events;
    if (batch) {
      for (auto& e : doc) events.push_back(std::move(e));
    } else {
      events.push_back(std::move(doc));
    }
    bool reached = false;
    for (const auto& ev : events) {
      const std::string id = ev.is_object() ? ev.value("id", std::string()) : std::string();
      bool duplicate = false;
      {
        std::lock_guard lock(mutex);
        duplicate = !seen.insert(id).second;
        accepted_ids.push_back(id);
        reached = opts.max_events > 0 && seen.size() >= opts.max_events;
      }
      if (out.is_open()) {
        nlohmann::json line{{"webhook_id", rec.webhook_id},
                            {"attempt", {{"webhook-timestamp", rec.timestamp}, {"content-type", rec.content_type}}},
                            {"duplicate", duplicate},
                            {"event", ev}};
        out << line.dump() << '\n';
        out.flush();
      }
      if (!opts.quiet) std::cout << human_line(ev, duplicate) << std::endl;
    }
    finish(status, "ok\n");
    if (reached && !max_events_fired) {
      max_events_fired = true;
      if (max_events_cb) asio::post(ex, max_events_cb);
    }
    co_return res;
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream& stream) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(opts.max_body_bytes);
      beast::get_lowest_layer(stream).expires_after(io_timeout);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_nothrow);
      if (ec) co_return;
      auto res = co_await handle(parser.release());
      const bool keep = res.keep_alive();
      beast::get_lowest_layer(stream).expires_after(io_timeout);
      auto [wec, wn] = co_await http::async_write(stream, res, use_nothrow);
      if (wec || !keep || stopping) co_return;
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    const std::uint64_t id = next_session++;
    beast::tcp_stream plain(std::move(socket));
    if (!tls) {
      closers[id] = [&plain] {
        beast::error_code ignored;
        plain.socket().close(ignored);
      };
      co_await serve(plain);
      beast::error_code ignored;
      plain.socket().shutdown(tcp::socket::shutdown_send, ignored);
    } else {
      beast::ssl_stream<beast::tcp_stream> secure(std::move(plain), *tls);
      closers[id] = [&secure] {
        beast::error_code ignored;
        beast::get_lowest_layer(secure).socket().close(ignored);
      };
      beast::get_lowest_layer(secure).expires_after(io_timeout);
      auto [hec] = co_await secure.async_handshake(ssl::stream_base::server, use_nothrow);
      if (!hec) co_await serve(secure);
    }
    closers.erase(id);
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopping) {
      auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        continue;
      }
      asio::co_spawn(ex, [self, s = std::move(socket)]() mutable { return self->session(std::move(s)); },
                     asio::detached);
    }
  }
};

receiver::receiver(asio::any_io_executor ex, options opts) {
  delivery::secret_error serr{};
  auto key = delivery::signing_key::parse(opts.secret, &serr);
  if (!key) throw std::runtime_error("--secret: " + std::string(delivery::to_string(serr)));
  std::string host;
  std::uint16_t port = 0;
  if (!split_listen(opts.listen, host, port)) throw std::runtime_error("--listen: expected host:port");
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(host == "localhost" ? std::string("127.0.0.1") : host, ec);
  if (ec) throw std::runtime_error("--listen: not an IP address: " + host);

  impl_ = std::make_shared<impl>(std::move(ex), std::move(opts), std::move(*key));
  auto& o = impl_->opts;
  if (!o.tls_cert.empty() || !o.tls_key.empty()) {
    if (o.tls_cert.empty() || o.tls_key.empty()) throw std::runtime_error("--tls-cert and --tls-key go together");
    impl_->tls.emplace(ssl::context::tls_server);
    SSL_CTX_set_min_proto_version(impl_->tls->native_handle(), TLS1_2_VERSION);
    impl_->tls->use_certificate_chain_file(o.tls_cert, ec);
    if (ec) throw std::runtime_error("--tls-cert: " + o.tls_cert + ": " + ec.message());
    impl_->tls->use_private_key_file(o.tls_key, ssl::context::pem, ec);
    if (ec) throw std::runtime_error("--tls-key: " + o.tls_key + ": " + ec.message());
  }
  if (!o.out_file.empty()) {
    impl_->out.open(o.out_file, std::ios::app);
    if (!impl_->out) throw std::runtime_error("--out: cannot open " + o.out_file);
  }
  const tcp::endpoint ep(addr, port);
  auto& acc = impl_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("--listen " + o.listen + ": " + ec.message());
}

receiver::~receiver() {
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
}

std::uint16_t receiver::port() const { return impl_->acceptor.local_endpoint().port(); }

void receiver::start() {
  if (!impl_->opts.port_file.empty()) {
    // Written whole then renamed, so a reader never sees a partial number.
    const std::string tmp = impl_->opts.port_file + ".tmp";
    {
      std::ofstream f(tmp, std::ios::trunc);
      f << port() << '\n';
    }
    std::filesystem::rename(tmp, impl_->opts.port_file);
  }
  asio::co_spawn(impl_->ex, [self = impl_]() { return self->accept_loop(); }, asio::detached);
}

void receiver::stop() {
  asio::post(impl_->ex, [self = impl_] {
    self->stopping = true;
    boost::system::error_code ignored;
    self->acceptor.close(ignored);
    auto closers = self->closers;
    for (auto& [id, close] : closers) close();
  });
}

void receiver::on_max_events(std::function<void()> cb) {
  asio::post(impl_->ex, [self = impl_, cb = std::move(cb)]() mutable { self->max_events_cb = std::move(cb); });
}

std::vector<received_request> receiver::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->log;
}

std::vector<std::string> receiver::accepted_event_ids() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->accepted_ids;
}

std::size_t receiver::distinct_events() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->seen.size();
}

}  // namespace schakel::receiver
