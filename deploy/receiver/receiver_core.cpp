#include "receiver_core.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "delivery/standard_webhooks.hpp"
#include "http/server.hpp"

namespace schakel::receiver {

namespace asio = boost::asio;

namespace {

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

// Loads the pair once here only to name the bad option; the server loads them again for real.
void check_tls_files(const std::string& cert, const std::string& key) {
  asio::ssl::context probe(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  probe.use_certificate_chain_file(cert, ec);
  if (ec) throw std::runtime_error("--tls-cert: " + cert + ": " + ec.message());
  probe.use_private_key_file(key, asio::ssl::context::pem, ec);
  if (ec) throw std::runtime_error("--tls-key: " + key + ": " + ec.message());
}

}  // namespace

status_script::status_script(const options& o)
    : fail_first_(o.fail_first), sequence_(o.status_sequence), fail_rate_(o.fail_rate), rng_(o.fail_seed) {}

unsigned status_script::next() {
  const std::uint64_t n = ++count_;
  if (n <= fail_first_) return 500;
  const std::uint64_t idx = n - fail_first_ - 1;
  if (idx < sequence_.size()) return sequence_[idx];
  if (fail_rate_ > 0 && std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < fail_rate_) return 500;
  return 200;
}

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

namespace {

/**
 * What the handler needs. Kept apart from the server so the handler (owned by the server's shared
 * state, which its coroutines keep alive) can hold it without a reference cycle.
 */
struct endpoint_state {
  endpoint_state(asio::any_io_executor e, options o, delivery::signing_key k)
      : ex(std::move(e)), opts(std::move(o)), key(std::move(k)), script(opts) {}

  const asio::any_io_executor ex;
  const options opts;
  const delivery::signing_key key;
  std::ofstream out;  // written before start, then only under mutex
  std::ofstream raw;  // likewise

  // The server runs each connection on its own strand, so everything mutable sits under one mutex.
  mutable std::mutex mutex;
  status_script script;
  std::function<void()> max_events_cb;
  bool max_events_fired = false;
  std::vector<received_request> log;
  std::vector<std::string> accepted_ids;
  std::set<std::string> seen;

  unsigned scripted_status() {
    std::lock_guard lock(mutex);
    return script.next();
  }

  asio::awaitable<http::response> handle(http::request& req) {
    received_request rec;
    rec.webhook_id = req.header("webhook-id");
    rec.timestamp = req.header("webhook-timestamp");
    rec.signature = req.header("webhook-signature");
    rec.content_type = req.header("content-type");
    rec.user_agent = req.header("user-agent");
    rec.headers = req.headers;
    rec.body = req.body;

    http::response res;
    res.content_type = "text/plain";
    res.headers.emplace_back("Server", "schakel-receiver");
    auto finish = [&](unsigned status, std::string text) {
      res.status = status;
      res.body = std::move(text);
      rec.status = status;
      std::lock_guard lock(mutex);
      if (raw.is_open()) {
        const nlohmann::json line{{"method", req.method},
                                  {"target", req.target},
                                  {"headers", rec.headers},
                                  {"body", rec.body},
                                  {"status", status}};
        // Bodies are the hub's JSON, but a test may send anything: never throw on bad UTF-8.
        raw << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        raw.flush();
      }
      if (opts.keep_requests) log.push_back(std::move(rec));
    };

    if (req.method != "POST") {
      finish(405, "POST only\n");
      co_return res;
    }
    const std::int64_t now_s =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const auto vr =
        delivery::verify(key, rec.webhook_id, rec.timestamp, rec.body, rec.signature, now_s, opts.tolerance);
    if (vr != delivery::verify_result::ok) {
      if (!opts.quiet)
        std::cout << "reject webhook-id=" << rec.webhook_id << ": " << delivery::to_string(vr) << std::endl;
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
      // A timer, not a sleep: other connections keep being served meanwhile.
      asio::steady_timer timer(co_await asio::this_coro::executor, opts.delay);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (status < 200 || status >= 300) {
      if (!opts.retry_after.empty()) res.headers.emplace_back("Retry-After", opts.retry_after);
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
      std::lock_guard lock(mutex);
      const bool duplicate = !seen.insert(id).second;
      if (opts.keep_requests) accepted_ids.push_back(id);
      reached = opts.max_events > 0 && seen.size() >= opts.max_events;
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
    finish(status, opts.ok_body_bytes > 0 ? std::string(opts.ok_body_bytes, 'k') : std::string("ok\n"));
    std::function<void()> cb;
    {
      std::lock_guard lock(mutex);
      if (reached && !max_events_fired) {
        max_events_fired = true;
        cb = max_events_cb;
      }
    }
    if (cb) asio::post(ex, std::move(cb));
    co_return res;
  }
};

}  // namespace

struct receiver::impl {
  std::shared_ptr<endpoint_state> state;
  std::unique_ptr<http::server> server;
};

receiver::receiver(asio::any_io_executor ex, options opts) {
  delivery::secret_error serr{};
  auto key = delivery::signing_key::parse(opts.secret, &serr);
  if (!key) throw std::runtime_error("--secret: " + std::string(delivery::to_string(serr)));
  config::listener listen;
  if (!split_listen(opts.listen, listen.address, listen.port)) throw std::runtime_error("--listen: expected host:port");
  boost::system::error_code ec;
  asio::ip::make_address(listen.address == "localhost" ? std::string("127.0.0.1") : listen.address, ec);
  if (ec) throw std::runtime_error("--listen: not an IP address: " + listen.address);
  if (!opts.tls_cert.empty() || !opts.tls_key.empty()) {
    if (opts.tls_cert.empty() || opts.tls_key.empty()) throw std::runtime_error("--tls-cert and --tls-key go together");
    check_tls_files(opts.tls_cert, opts.tls_key);
    config::tls_settings tls;
    tls.cert_file = opts.tls_cert;
    tls.key_file = opts.tls_key;
    if (!opts.client_ca.empty()) {
      tls.client_ca_file = opts.client_ca;
      tls.client_certificates = config::client_certificate_mode::required;
    }
    listen.tls = std::move(tls);
  } else if (!opts.client_ca.empty()) {
    throw std::runtime_error("--client-ca needs --tls-cert and --tls-key: client certificates are a TLS matter");
  }
  config::limit_settings limits;
  limits.max_body_bytes = opts.max_body_bytes;
  // Generous: the hub keeps connections alive between batches and a slow test machine may stall.
  limits.read_timeout = std::chrono::seconds(60);
  limits.max_connections = 1024;

  auto state = std::make_shared<endpoint_state>(ex, std::move(opts), std::move(*key));
  if (!state->opts.out_file.empty()) {
    state->out.open(state->opts.out_file, std::ios::app);
    if (!state->out) throw std::runtime_error("--out: cannot open " + state->opts.out_file);
  }
  if (!state->opts.raw_out_file.empty()) {
    state->raw.open(state->opts.raw_out_file, std::ios::app);
    if (!state->raw) throw std::runtime_error("--raw-out: cannot open " + state->opts.raw_out_file);
  }
  auto server = std::make_unique<http::server>(
      std::move(ex), std::move(listen), limits,
      [state](http::request& req) -> asio::awaitable<http::response> { return state->handle(req); });
  try {
    server->start();  // binds now, so a bad --listen fails here and port() is known before start()
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("--listen: ") + e.what());
  }
  impl_ = std::make_shared<impl>(impl{std::move(state), std::move(server)});
}

receiver::~receiver() = default;

std::uint16_t receiver::port() const {
  return impl_->server->port();
}

void receiver::start() {
  const auto& port_file = impl_->state->opts.port_file;
  if (!port_file.empty()) {
    // Written whole then renamed, so a reader never sees a partial number.
    const std::string tmp = port_file + ".tmp";
    {
      std::ofstream f(tmp, std::ios::trunc);
      f << port() << '\n';
    }
    std::filesystem::rename(tmp, port_file);
  }
}

void receiver::stop() {
  impl_->server->stop();
}

void receiver::on_max_events(std::function<void()> cb) {
  std::lock_guard lock(impl_->state->mutex);
  impl_->state->max_events_cb = std::move(cb);
}

std::vector<received_request> receiver::requests() const {
  std::lock_guard lock(impl_->state->mutex);
  return impl_->state->log;
}

std::vector<std::string> receiver::accepted_event_ids() const {
  std::lock_guard lock(impl_->state->mutex);
  return impl_->state->accepted_ids;
}

std::size_t receiver::distinct_events() const {
  std::lock_guard lock(impl_->state->mutex);
  return impl_->state->seen.size();
}

}  // namespace schakel::receiver
