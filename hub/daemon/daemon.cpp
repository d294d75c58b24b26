#include "daemon/daemon.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"
#include "common/signal.hpp"
#include "delivery/delivery_service.hpp"
#include "http/server.hpp"
#include "metrics/metrics.hpp"
#include "pipeline/ingest_pipeline.hpp"
#include "plugin_host/plugin_host.hpp"
#include "routing/router.hpp"
#include "schema/signal_validator.hpp"
#include "storage/store.hpp"

namespace schakel::daemon {
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

/**
 * Awaits a store completion (which runs on the store thread) back on the caller's executor.
 * The initiation is a named object capturing by reference: g++ 12 destroys temporaries inside a
 * co_await expression twice, and a by-value executor copy there freed the connection's strand.
 */
asio::awaitable<std::error_code> await_append(storage::store& store, std::vector<storage::signal_row> rows,
                                              std::vector<storage::outbox_item> items) {
  const auto ex = co_await asio::this_coro::executor;
  auto initiation = [&store, &rows, &items, &ex](auto handler) {
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    auto target = asio::get_associated_executor(*shared, ex);
    store.append(std::move(rows), std::move(items), [shared, target](std::error_code ec) {
      asio::post(target, [shared, ec]() mutable { (*shared)(ec); });
    });
  };
  auto ec = co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::error_code)>(initiation,
                                                                                                asio::use_awaitable);
  co_return ec;
}

/** Compares digests, so the time taken tells nothing about the token, not even its length. */
bool token_equals(std::string_view given, std::string_view expected) {
  unsigned char a[SHA256_DIGEST_LENGTH];
  unsigned char b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0 && !expected.empty();
}

std::string bearer(const http::request& req) {
  const auto& h = req.header("authorization");
  if (h.size() > 7 && (h.compare(0, 7, "Bearer ") == 0 || h.compare(0, 7, "bearer ") == 0)) return h.substr(7);
  return {};
}

nlohmann::json rejections_json(const std::vector<plugin_host::rejection>& rejected) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rejected) {
    nlohmann::json j = {{"index", r.index}, {"reason", r.reason}};
    if (!r.field.empty()) j["field"] = r.field;
    out.push_back(std::move(j));
  }
  return out;
}

http::response json_response(unsigned status, const nlohmann::json& body) {
  http::response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

struct instance_slot {
  config::connector_instance config;
  std::unique_ptr<plugin_host::connector> connector;
  std::string load_error;  ///< set when the plugin could not be loaded: ingest answers 503
  metrics::counter* received = nullptr;
  metrics::counter* rejected = nullptr;
  metrics::counter* accepted = nullptr;
  metrics::histogram* latency = nullptr;
};

class hub {
 public:
  hub(const config::hub_config& cfg, asio::io_context& ioc)
      : cfg_(cfg), ioc_(ioc), router_(cfg.subscriptions), pipeline_(validator_, router_) {}

  void open() {
    fs::create_directories(cfg_.data_dir);
    store_ = storage::open_sqlite_store({(fs::path(cfg_.data_dir) / "schakel.db").string()});
    register_metrics();
    const fs::path plugin_dir = cfg_.plugin_dir.empty() ? plugin_host::default_plugin_dir() : fs::path(cfg_.plugin_dir);
    for (const auto& c : cfg_.connectors) {
      auto slot = std::make_unique<instance_slot>();
      slot->config = c;
      plugin_host::load_error err;
      plugin_host::host_services services{store_.get()};
      slot->connector = plugin_host::load_connector(plugin_dir, {c.name, c.plugin, c.settings.dump()}, services, err);
      if (!slot->connector) {
        slot->load_error = err.file + ": " + err.reason;
        log::error("plugin.load_failed", {{"instance", c.name}, {"file", err.file}, {"reason", err.reason}});
      } else {
        log::info("plugin.loaded", {{"instance", c.name}, {"plugin", c.plugin}});
      }
      const metrics::labels l{{"instance", c.name}};
      slot->received = &metrics_.get_counter("schakel_records_received_total", "Source records received", l);
      slot->rejected = &metrics_.get_counter("schakel_records_rejected_total", "Source records rejected", l);
      slot->accepted = &metrics_.get_counter("schakel_signals_stored_total", "Signals stored in the log", l);
      slot->latency =
          &metrics_.get_histogram("schakel_ingest_latency_seconds", "Ingest request to durable acknowledgement", l);
      instances_.emplace(c.name, std::move(slot));
    }
    delivery_ =
        std::make_unique<delivery::delivery_service>(ioc_.get_executor(), *store_, cfg_.subscriptions, metrics_);
    server_ = std::make_unique<http::server>(ioc_.get_executor(), cfg_.listen, cfg_.limits,
                                             [this](http::request& req) { return handle(req); });
  }

  void start() {
    delivery_->start();
    server_->start();
    const auto port = server_->port();
    std::ofstream(fs::path(cfg_.data_dir) / "port") << port << "\n";
    log::info("hub.listening",
              {{"address", cfg_.listen.address}, {"port", port}, {"tls", cfg_.listen.tls.has_value()}});
  }

  /** Graceful drain; `done` runs once everything is closed. */
  asio::awaitable<void> drain() {
    draining_ = true;
    log::info("hub.draining", {{"requests_in_flight", server_->requests_in_flight()}});
    server_->stop();
    asio::steady_timer t(ioc_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (server_->requests_in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
      t.expires_after(std::chrono::milliseconds(5));
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    auto stopped = std::make_shared<std::atomic<bool>>(false);
    delivery_->stop([stopped] { *stopped = true; });
    while (!*stopped) {
      t.expires_after(std::chrono::milliseconds(5));
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    store_->close();
    log::info("hub.stopped");
  }

 private:
  void register_metrics() {
    for (const auto& s : cfg_.subscriptions) {
      auto* st = store_.get();
      const std::string name = s.name;
      metrics_.add_gauge("schakel_outbox_depth", "Events waiting for delivery", {{"subscription", name}},
                         [st, name] { return static_cast<double>(st->outbox_depth(name)); });
    }
    http_requests_ = &metrics_.get_counter("schakel_http_requests_total", "HTTP requests handled");
    overload_ = &metrics_.get_counter("schakel_ingest_overload_total", "Ingest requests refused by back-pressure");
  }

  asio::awaitable<http::response> handle(http::request& req) {
    http_requests_->add();
    const std::string& p = req.path;
    if (req.method == "GET" && p == "/healthz") co_return json_response(200, {{"status", "ok"}});
    if (req.method == "GET" && p == "/readyz") co_return readiness();
    if (req.method == "GET" && p == "/metrics") {
      if (!req.from_loopback && !admin_ok(req))
        co_return http::problem(401, "unauthorized", "Unauthorized", "metrics need the admin token off loopback", p);
      http::response r;
      r.content_type = "text/plain; version=0.0.4";
      r.body = metrics_.render();
      co_return r;
    }
    constexpr std::string_view connectors_prefix = "/v1/connectors/";
    constexpr std::string_view records_suffix = "/records";
    if (p.starts_with(connectors_prefix) && p.ends_with(records_suffix) &&
        p.size() > connectors_prefix.size() + records_suffix.size()) {
      if (req.method != "POST") co_return method_not_allowed(p, "POST");
      co_return co_await ingest(
          req, p.substr(connectors_prefix.size(), p.size() - connectors_prefix.size() - records_suffix.size()));
    }
    if (p == "/v1/deadletters" || p.starts_with("/v1/deadletters/")) co_return dead_letters(req);
    co_return http::problem(404, "not-found", "Not found", "no such endpoint", p);
  }

  static http::response method_not_allowed(const std::string& path, const std::string& allow) {
    auto r = http::problem(405, "method-not-allowed", "Method not allowed", "use " + allow, path);
    r.headers.emplace_back("Allow", allow);
    return r;
  }

  bool admin_ok(const http::request& req) const {
    return !cfg_.admin_token.empty() && token_equals(bearer(req), cfg_.admin_token);
  }

  http::response readiness() const {
    nlohmann::json failed = nlohmann::json::array();
    for (const auto& [name, slot] : instances_)
      if (!slot->connector) failed.push_back(name);
    nlohmann::json body = {{"status", draining_ ? "draining" : "ready"}, {"instances_not_loaded", failed}};
    return json_response(draining_ ? 503 : 200, body);
  }

  asio::awaitable<http::response> ingest(http::request& req, std::string instance) {
    const auto started = std::chrono::steady_clock::now();
    auto it = instances_.find(instance);
    if (it == instances_.end())
      co_return http::problem(404, "unknown-instance", "Unknown connector instance",
                              "no connector instance of that name is configured", req.path);
    auto& slot = *it->second;
    if (!token_equals(bearer(req), slot.config.token)) {
      auto r = http::problem(401, "unauthorized", "Unauthorized", "a valid bearer token for this instance is required",
                             req.path);
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      co_return r;
    }
    if (!slot.connector)
      co_return http::problem(503, "instance-unavailable", "Connector instance unavailable",
                              "the plugin of this instance failed to load; see the daemon log", req.path);
    if (draining_) {
      auto r = http::problem(503, "draining", "Shutting down", "the hub is shutting down; retry later", req.path);
      r.headers.emplace_back("Retry-After", "5");
      co_return r;
    }
    if (store_->outbox_depth_total() >= cfg_.limits.max_outbox_depth) {
      // Back-pressure: refuse new work rather than grow without bound while partners are slow.
      overload_->add();
      auto r = http::problem(503, "overloaded", "Outbox full",
                             "deliveries are behind; the hub accepts new records once the outbox drains", req.path);
      r.headers.emplace_back("Retry-After", "2");
      co_return r;
    }

    const std::int64_t received = now_ms();
    auto result = slot.connector->ingest(req.body, req.header("content-type"));
    if (!result.parsed && result.connector_error) {
      log::error("ingest.connector_failed", {{"instance", slot.config.name}});
      co_return http::problem(500, "connector-failed", "The connector failed",
                              "the connector could not process this body; see the daemon log", req.path);
    }
    if (!result.parsed) {
      slot.rejected->add();
      co_return http::problem(400, "unparseable-body", "The body could not be parsed", result.parse_error, req.path);
    }
    auto batch = pipeline_.process(result, slot.config.name, slot.config.plugin, received);
    slot.received->add(batch.accepted.size() + batch.rejected.size());
    slot.rejected->add(batch.rejected.size());

    if (batch.accepted.empty()) {
      co_return http::problem(422, "no-records-accepted", "No record was accepted",
                              batch.rejected.empty() ? "the body holds no records"
                                                     : std::to_string(batch.rejected.size()) + " record(s) rejected",
                              req.path, {{"rejected", rejections_json(batch.rejected)}});
    }
    auto ec = co_await await_append(*store_, std::move(batch.rows), std::move(batch.items));
    if (ec) {
      log::error("ingest.store_failed", {{"instance", slot.config.name}, {"error", ec.message()}});
      auto r =
          http::problem(503, "store-unavailable", "Not stored", "the signals could not be stored; retry", req.path);
      r.headers.emplace_back("Retry-After", "1");
      co_return r;
    }
    slot.accepted->add(batch.accepted.size());
    for (const auto& s : batch.touched_subscriptions) delivery_->notify(s);
    slot.latency->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

    nlohmann::json accepted = nlohmann::json::array();
    for (const auto& a : batch.accepted) accepted.push_back({{"index", a.index}, {"id", a.id}});
    co_return json_response(200, {{"accepted", accepted}, {"rejected", rejections_json(batch.rejected)}});
  }

  http::response dead_letters(const http::request& req) {
    const std::string& p = req.path;
    if (!admin_ok(req) && !(req.from_loopback && cfg_.admin_token.empty()))
      return http::problem(401, "unauthorized", "Unauthorized", "the admin token is required", p);
    if (p == "/v1/deadletters") {
      if (req.method != "GET") return method_not_allowed(p, "GET");
      std::string subscription;
      if (req.query.starts_with("subscription=")) subscription = req.query.substr(13);
      nlohmann::json list = nlohmann::json::array();
      for (const auto& d : store_->list_dead_letters(subscription))
        list.push_back({{"id", d.unit_id},
                        {"subscription", d.subscription},
                        {"webhook_id", d.webhook_id},
                        {"events", d.event_count},
                        {"attempts", d.attempts},
                        {"created_at", format_rfc3339(d.created_ms)},
                        {"dead_at", format_rfc3339(d.dead_at_ms)},
                        {"reason", d.reason}});
      return json_response(200, {{"dead_letters", list}});
    }
    constexpr std::string_view replay_suffix = "/replay";
    if (!p.ends_with(replay_suffix)) return http::problem(404, "not-found", "Not found", "no such endpoint", p);
    if (req.method != "POST") return method_not_allowed(p, "POST");
    const std::string id_text = p.substr(16, p.size() - 16 - replay_suffix.size());
    std::int64_t id = 0;
    try {
      std::size_t used = 0;
      id = std::stoll(id_text, &used);
      if (used != id_text.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      return http::problem(400, "bad-id", "Bad dead-letter id", "the id must be an integer", p);
    }
    const auto subscription = store_->replay_dead_letter(id);
    if (!subscription)
      return http::problem(404, "unknown-dead-letter", "Unknown dead letter", "no dead letter with that id", p);
    log::info("deadletter.replayed", {{"id", id}, {"subscription", *subscription}});
    delivery_->notify(*subscription);
    return json_response(200, {{"replayed", id}, {"subscription", *subscription}});
  }

  const config::hub_config& cfg_;
  asio::io_context& ioc_;
  schema::signal_validator validator_;
  routing::router router_;
  pipeline::ingest_pipeline pipeline_;
  metrics::registry metrics_;
  std::unique_ptr<storage::store> store_;
  std::map<std::string, std::unique_ptr<instance_slot>> instances_;
  std::unique_ptr<delivery::delivery_service> delivery_;
  std::unique_ptr<http::server> server_;
  metrics::counter* http_requests_ = nullptr;
  metrics::counter* overload_ = nullptr;
  std::atomic<bool> draining_{false};
};

}  // namespace

int serve(const config::hub_config& config) {
  log::level lvl = log::level::info;
  if (log::parse_level(config.log_level, lvl)) log::set_level(lvl);
  asio::io_context ioc;
  hub h(config, ioc);
  try {
    h.open();
    h.start();
  } catch (const std::exception& e) {
    log::error("hub.start_failed", {{"error", e.what()}});
    return 1;
  }
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int signo) {
    if (ec) return;
    log::info("hub.signal", {{"signal", signo}});
    asio::co_spawn(ioc, h.drain(), [&ioc](std::exception_ptr) { ioc.stop(); });
  });
  const unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  return 0;
}

std::vector<std::string> check_plugins(const config::hub_config& config) {
  std::vector<std::string> problems;
  const fs::path plugin_dir =
      config.plugin_dir.empty() ? plugin_host::default_plugin_dir() : fs::path(config.plugin_dir);
  for (std::size_t i = 0; i < config.connectors.size(); ++i) {
    const auto& c = config.connectors[i];
    plugin_host::load_error err;
    auto conn = plugin_host::load_connector(plugin_dir, {c.name, c.plugin, c.settings.dump()}, {}, err);
    if (!conn)
      problems.push_back("connectors[" + std::to_string(i) + "] (" + c.name + "): " + err.file + ": " + err.reason);
  }
  return problems;
}

}  // namespace schakel::daemon
