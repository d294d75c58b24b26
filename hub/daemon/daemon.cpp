#include "daemon/daemon.hpp"

#ifdef __GLIBC__
#include <malloc.h>
#include <sys/resource.h>
#endif
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "audit/checkpoint.hpp"
#include "calendar/calendar.hpp"
#include "common/log.hpp"
#include "common/private_path.hpp"
#include "common/signal.hpp"
#include "config/allowlists.hpp"
#include "daemon/access.hpp"
#include "daemon/completion.hpp"
#include "daemon/consent_api.hpp"
#include "daemon/dead_letters_api.hpp"
#include "daemon/link_api.hpp"
#include "daemon/referral_api.hpp"
#include "daemon/responses.hpp"
#include "daemon/subscriptions_api.hpp"
#include "daemon/trends_api.hpp"
#include "delivery/delivery_service.hpp"
#include "delivery/witness.hpp"
#include "http/server.hpp"
#include "ingress/drop_folder.hpp"
#include "metrics/metrics.hpp"
#include "pipeline/ingest_pipeline.hpp"
#include "plugin_host/plugin_host.hpp"
#include "privacy/audit_key.hpp"
#include "privacy/bsn.hpp"
#include "privacy/consent.hpp"
#include "privacy/gate.hpp"
#include "privacy/key_fingerprint.hpp"
#include "privacy/key_provider.hpp"
#include "privacy/keys.hpp"
#include "processing/processor_runner.hpp"
#include "schema/signal_validator.hpp"
#include "storage/store.hpp"
#include "trend_release/release.hpp"

namespace schakel::daemon {
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

/** Appends a batch (with the processor state and parked reports it carries) and awaits its commit. */
asio::awaitable<std::error_code> await_append(storage::signal_log& store, std::vector<storage::signal_row> rows,
                                              std::vector<storage::outbox_item> items,
                                              std::vector<storage::state_write> state = {},
                                              std::vector<storage::parked_signal> parked = {}) {
  return await_completion<std::error_code>([&store, rows = std::move(rows), items = std::move(items),
                                            state = std::move(state),
                                            parked = std::move(parked)](auto complete) mutable {
    if (!parked.empty()) {
      store.append_with_parked(std::move(rows), std::move(items), std::move(state), std::move(parked),
                               std::move(complete));
    } else if (state.empty()) {
      store.append(std::move(rows), std::move(items), std::move(complete));
    } else {
      store.append_with_state(std::move(rows), std::move(items), std::move(state), std::move(complete));
    }
  });
}

using record_lookup = std::pair<std::error_code, pipeline::stored_records>;

/**
 * The stored records that deletions by record id delete (pipeline::deletions_by_id gives `ids`),
 * looked up on the store's thread, also among a drop file's staged parts when `staged_unit` names
 * them; `complete` gets them by record id, or the store's error.
 */
template <class Complete>
void find_deleted_records(storage::signal_log& store, const std::string& instance, std::vector<std::string> ids,
                          std::string staged_unit, Complete complete) {
  auto asked = std::make_shared<std::vector<std::string>>(ids);
  store.find_records(
      instance, std::move(ids), std::move(staged_unit),
      [asked, complete = std::move(complete)](std::error_code ec, std::vector<storage::stored_record> found) mutable {
        record_lookup out{ec, {}};
        for (std::size_t i = 0; !ec && i < asked->size() && i < found.size(); ++i)
          out.second.emplace((*asked)[i], std::move(found[i]));
        complete(std::move(out));
      });
}

/**
 * The `accepted` list of an ingest answer. A parked report (docs/linking.md) is stored but waits for
 * its link: marked so, since the source may forget it all the same. Outside the coroutine: g++ 12
 * mishandles braced initialisers in coroutine bodies.
 */
nlohmann::json accepted_json(const std::vector<pipeline::accepted_signal>& accepted) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : accepted) {
    nlohmann::json one = {{"index", a.index}, {"id", a.id}};
    if (a.parked) one["parked"] = true;
    out.push_back(std::move(one));
  }
  return out;
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

// What a recorded referral carries (check-config holds field lists against it).
constexpr std::array<const char*, 4> referral_content{"domain", "indicator", "severity", "evidence"};
constexpr std::array<const char*, 4> referral_evidence{"alert", "alert_type", "parents_informed_on", "informed_by"};

/** What the hub itself emits under `config`: referrals always, trend cells when trends are configured. */
std::vector<config::producer> hub_producers(const config::hub_config& config) {
  sdk::emitted_signals referrals;
  auto& shape = referrals[referral_type];
  shape.content.insert(referral_content.begin(), referral_content.end());
  shape.evidence.insert(referral_evidence.begin(), referral_evidence.end());
  std::vector<config::producer> out{{"the hub's referrals", core_alerts_instance, std::move(referrals)}};
  if (config.trends)
    out.push_back({"the hub's trend release", trends::release_instance, trends::release_emits(*config.trends)});
  return out;
}
/** State namespaces of the core's own marks. */
constexpr const char* drop_namespace_prefix = "schakel.drop:";

struct instance_slot {
  config::connector_instance config;
  std::unique_ptr<plugin_host::connector> connector;
  std::string load_error;  ///< set when the plugin could not be loaded: ingest answers 503
  metrics::counter* received = nullptr;
  metrics::counter* rejected = nullptr;
  metrics::counter* accepted = nullptr;
  metrics::histogram* latency = nullptr;
  std::unique_ptr<ingress::drop_folder> drop;
  /// Epoch seconds of the last drop file whose signals were committed; 0 = none since start.
  std::atomic<double> last_drop_success{0};
};

/** Signals mapped, validated and staged per part of a drop file: bounds what a large file holds in memory. */
constexpr std::size_t drop_part_signals = 2000;
/**
 * Signals a processor takes per batch. A processor holds the state of every student a batch touches
 * until the batch is flushed: with batches of 10,000, a 16 MiB export (a large school's year) took
 * the daemon to 84 MiB over idle while the rules read it, with 2,000 to 31 MiB
 * (docs/performance.md). Flushing five times as often costs little: a student rarely recurs within
 * a few thousand signals.
 */
constexpr std::size_t processor_batch_signals = 2000;
/**
 * After a drop file of at least trim_from_bytes, freed memory is trimmed every step, for at least the
 * window and until every processor has caught up.
 */
constexpr std::size_t trim_from_bytes = 1u << 20;
constexpr std::chrono::seconds memory_trim_step{5};
constexpr std::chrono::seconds memory_trim_window{15};
/** A long file logs drop.progress at least this often. */
constexpr std::chrono::milliseconds drop_progress_interval{5000};

/** Waits for a store completion on the calling (drop-folder) thread. */
template <class Start>
std::error_code store_wait(Start start) {
  std::promise<std::error_code> done;
  auto result = done.get_future();
  start([&done](std::error_code ec) { done.set_value(ec); });
  return result.get();
}

/**
 * Test-only hooks read from the environment once at start (never set in production): how often a
 * drop file logs its progress, and a kill -9 of the daemon itself after N staged parts, so a test can
 * crash it mid-file deterministically.
 */
struct drop_test_hooks {
  std::chrono::milliseconds progress_interval = drop_progress_interval;
  std::size_t kill_after_parts = 0;  ///< 0: never

  static drop_test_hooks from_environment() {
    drop_test_hooks h;
    if (const char* v = std::getenv("SCHAKEL_TEST_DROP_PROGRESS_MS"))
      h.progress_interval = std::chrono::milliseconds(std::strtoll(v, nullptr, 10));
    if (const char* v = std::getenv("SCHAKEL_TEST_DROP_KILL_AFTER_PARTS"))
      h.kill_after_parts = static_cast<std::size_t>(std::strtoull(v, nullptr, 10));
    return h;
  }
};

class hub {
 public:
  hub(const config::hub_config& cfg, asio::io_context& ioc) : cfg_(cfg), ioc_(ioc) {}
  ~hub() { stop_purge(); }
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;

  /**
   * The hub key, from keys_dir unless privacy.hub_key_file names it. Earlier versions kept it in the
   * data directory; it is moved, never made anew, or every hash, link and pseudonym made so far
   * would stop matching.
   */
  std::string open_hub_key() {
    auto files = std::make_unique<privacy::file_key_provider>(cfg_.keys_dir);
    const fs::path hub_key_file = files->file_of("hub");
    keys_ = std::move(files);
    hub_key_file_ = cfg_.privacy.hub_key_file.empty() ? hub_key_file.string() : cfg_.privacy.hub_key_file;
    if (!cfg_.privacy.hub_key_file.empty()) {
      const auto inside =
          fs::weakly_canonical(cfg_.privacy.hub_key_file).lexically_relative(fs::weakly_canonical(cfg_.data_dir));
      if (!inside.empty() && *inside.begin() != "..")
        log::warn("keys.inside_data_dir",
                  {{"key", "hub"},
                   {"file", cfg_.privacy.hub_key_file},
                   {"fix", "move it to " + hub_key_file.string() + " and drop privacy.hub_key_file"}});
      return privacy::load_key_file(cfg_.privacy.hub_key_file);
    }
    const fs::path old = fs::path(cfg_.data_dir) / "hub.key";
    if (const auto method = privacy::move_key_file(old, hub_key_file))
      log::info("keys.moved",
                {{"key", "hub"}, {"from", old.string()}, {"to", hub_key_file.string()}, {"method", *method}});
    return keys_->key("hub");
  }

  void open() {
    // Minors' health data: the folder and every database file are the hub user's alone. An open one
    // is refused rather than fixed, so the operator learns that it has been open until now.
    create_private_directory(cfg_.data_dir);
    const fs::path db = fs::path(cfg_.data_dir) / "schakel.db";
    const std::array<fs::path, 3> database_files{db, fs::path(db.string() + "-wal"), fs::path(db.string() + "-shm")};
    for (const auto& f : database_files) require_private(f);
    calendars_ = std::make_shared<const calendar::calendar_registry>(
        calendar::registry_from_config(cfg_.schools, cfg_.config_dir));
    // Every key comes from keys_dir through the key provider, out of the database administrator's
    // reach: the hub key first (it may have to be moved there), then the audit chain's key.
    const std::string hub_key = open_hub_key();
    const std::string audit_key = keys_->key("audit");
    store_ = storage::open_sqlite_store({.path = db.string(), .audit_key = audit_key});
    for (const auto& f : database_files) require_private(f);  // what SQLite created just now
    // Before anything is written with them (a checkpoint, a signal): a node holding other keys than
    // the ones the database was made with would break the audit chain and every hash it makes.
    const auto recorded = privacy::check_key_fingerprints(
        privacy::fingerprint_book_of(*store_),
        {{"hub", hub_key_file_, hub_key}, {"audit", privacy::audit_files_of(cfg_).chain_key.string(), audit_key}});
    for (const auto& name : recorded) log::info("keys.fingerprint_recorded", {{"key", name}});
    open_checkpoints();
    gate_ = std::make_unique<privacy::gate>(cfg_, hub_key, consents_, &metrics_);
    // JGZ reports linked by BSN (docs/linking.md): the links recorded so far.
    for (auto& l : store_->load_links()) links_.put(l.link_hash, {l.brin, l.vestiging, l.student_key});
    pipeline_ = std::make_unique<pipeline::ingest_pipeline>(validator_, *gate_, &links_);
    consent_api_ = std::make_unique<consent_api>(*store_, *store_, *gate_, consents_, [this] {
      for (const auto& s : cfg_.subscriptions) delivery_->notify(s.name);
    });
    consent_api_->load(*store_);
    link_api_ = std::make_unique<link_api>(*store_, *gate_, *pipeline_, links_,
                                           [this](const std::vector<std::string>& subscriptions) {
                                             for (const auto& s : subscriptions) delivery_->notify(s);
                                             wake_processors();
                                           });
    unpark_linked();
    register_metrics();
    const fs::path plugin_dir = cfg_.plugin_dir.empty() ? plugin_host::default_plugin_dir() : fs::path(cfg_.plugin_dir);
    const plugin_host::host_services services{store_.get(), school_day_lookup(calendars_)};
    for (const auto& c : cfg_.connectors) {
      auto slot = std::make_unique<instance_slot>();
      slot->config = c;
      plugin_host::load_error err;
      slot->connector = plugin_host::load_connector(plugin_dir, {c.name, c.plugin, c.settings.dump()}, services, err);
      if (!slot->connector) {
        // plugin_host has logged plugin.load_failed with the file and the reason.
        slot->load_error = err.file + ": " + err.reason;
      }
      // Not "instance": Prometheus sets that label on every scraped series itself.
      const metrics::labels l{{"connector", c.name}};
      slot->received = &metrics_.get_counter("schakel_records_received_total", "Source records received", l);
      slot->rejected = &metrics_.get_counter("schakel_records_rejected_total", "Source records rejected", l);
      slot->accepted = &metrics_.get_counter("schakel_signals_stored_total", "Signals stored in the log", l);
      slot->latency =
          &metrics_.get_histogram("schakel_ingest_latency_seconds", "Ingest request to durable acknowledgement", l);
      instances_.emplace(c.name, std::move(slot));
    }
    delivery_ = std::make_unique<delivery::delivery_service>(ioc_.get_executor(), *store_, *gate_, cfg_.subscriptions,
                                                             metrics_);
    subscriptions_api_ = std::make_unique<subscriptions_api>(cfg_.subscriptions, *store_, *delivery_);
    dead_letters_api_ =
        std::make_unique<dead_letters_api>(*store_, *store_, [this](const std::string& s) { delivery_->notify(s); });
    referral_api_ = std::make_unique<referral_api>(*store_, *store_, *pipeline_,
                                                   [this](const std::vector<std::string>& subscriptions) {
                                                     for (const auto& s : subscriptions) delivery_->notify(s);
                                                     wake_processors();
                                                   });
    open_witness();
    open_processors(plugin_dir, services);
    if (cfg_.trends) {
      trends_ = std::make_unique<trends::releaser>(
          *cfg_.trends, *store_, *pipeline_,
          [this](const std::string& brin, const std::string& key) { return gate_->subject_ref(brin, key); },
          [this](const std::vector<std::string>& subscriptions) {
            for (const auto& s : subscriptions) delivery_->notify(s);
          },
          &metrics_);
    }
    trends_api_ = std::make_unique<trends_api>(*store_, trends_.get());
    open_drop_folders();
    server_ = std::make_unique<http::server>(
        ioc_.get_executor(), cfg_.listen, cfg_.limits, [this](http::request& req) { return handle(req); },
        [this](const http::request& req) { return authorize(req); }, cfg_.access.trusted_proxies);
  }

  void start() {
    // The configured port now (so the first attempts already know it), the bound one once listening.
    delivery_->set_own_listeners(config::listen_endpoints(cfg_.listen));
    delivery_->start();
    for (auto& r : runners_) r->start();
    if (trends_) trends_->start();
    for (auto& [name, slot] : instances_)
      if (slot->drop) slot->drop->start();
    server_->start();
    purge_thread_ = std::thread([this] { purge_loop(); });
    const auto port = server_->port();
    {
      auto bound = cfg_.listen;
      bound.port = port;
      delivery_->set_own_listeners(config::listen_endpoints(bound));
    }
    access_.set_port(port);
    std::ofstream(fs::path(cfg_.data_dir) / "port") << port << "\n";
    log::info(
        "hub.listening",
        {{"node", cfg_.node}, {"address", cfg_.listen.address}, {"port", port}, {"tls", cfg_.listen.tls.has_value()}});
  }

  /** Graceful drain; `done` runs once everything is closed. */
  asio::awaitable<void> drain() {
    draining_ = true;
    log::info("hub.draining", {{"requests_in_flight", server_->requests_in_flight()}});
    server_->stop();
    const auto drained = [this] { return server_->requests_in_flight() == 0; };
    co_await poll_until(drained, std::chrono::steady_clock::now() + std::chrono::seconds(30));
    // Drop folders and processors finish the unit in hand (each commits or leaves it for the next
    // start); they block only on the store, never on this executor.
    for (auto& [name, slot] : instances_)
      if (slot->drop) slot->drop->stop();
    for (auto& r : runners_) r->stop();
    if (trends_) trends_->stop();
    auto stopped = std::make_shared<std::atomic<bool>>(false);
    delivery_->stop([stopped] { *stopped = true; });
    const auto delivery_stopped = [&stopped] { return stopped->load(); };
    co_await poll_until(delivery_stopped, std::chrono::steady_clock::time_point::max());
    stop_purge();
    write_checkpoint();  // everything that appends has stopped: this one covers the final head
    if (witness_) {
      // The final head goes to the witness too, unless it is failing or does not answer soon: a
      // witness that is away gets it from the checkpoint file at the next start.
      const auto witnessed = [this] { return witness_->caught_up() || witness_->failing(); };
      co_await poll_until(witnessed, std::chrono::steady_clock::now() + std::chrono::seconds(5));
      witness_->stop();
    }
    store_->close();
    log::info("hub.stopped");
  }

 private:
  /**
   * Yields to the executor every 5 ms until `done()` holds or `deadline` has passed: shutdown waits
   * this way on parts whose progress other threads report through flags and counters. `done` is the
   * caller's named object, so it lives in the caller's frame while this one suspends.
   */
  template <class Done>
  asio::awaitable<void> poll_until(const Done& done, std::chrono::steady_clock::time_point deadline) {
    asio::steady_timer t(ioc_);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      t.expires_after(std::chrono::milliseconds(5));
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  static plugin_host::school_day_fn school_day_lookup(std::shared_ptr<const calendar::calendar_registry> calendars) {
    return [calendars](std::string_view brin, std::string_view vestiging,
                       std::int32_t day) -> std::optional<std::uint32_t> {
      const auto* c = calendars->find(brin, vestiging);
      if (c == nullptr) return std::nullopt;
      switch (c->kind(std::chrono::sys_days{std::chrono::days{day}})) {
        case calendar::day_kind::school_day:
          return 0u;
        case calendar::day_kind::weekend:
          return 1u;
        case calendar::day_kind::holiday:
          return 2u;
        case calendar::day_kind::study_day:
          return 3u;
      }
      return std::nullopt;
    };
  }

  void open_processors(const fs::path& plugin_dir, const plugin_host::host_services& services) {
    for (const auto& p : cfg_.processors) {
      plugin_host::load_error err;
      auto processor = plugin_host::load_processor(plugin_dir, {p.name, p.plugin, p.settings.dump()}, services, err);
      if (!processor) {
        // plugin_host has logged plugin.load_failed with the file and the reason.
        processors_not_loaded_.push_back(p.name);
        continue;
      }
      std::set<std::string> skip;
      if (!p.inputs.empty())
        for (const auto& c : cfg_.connectors)
          if (std::find(p.inputs.begin(), p.inputs.end(), c.name) == p.inputs.end()) skip.insert(c.name);
      runners_.push_back(std::make_unique<processing::processor_runner>(
          std::move(processor), std::move(skip), *store_, *pipeline_,
          [this](const std::vector<std::string>& subscriptions) {
            for (const auto& s : subscriptions) delivery_->notify(s);
            wake_processors();  // a derived signal may feed another processor
          },
          &metrics_, processing::runner_options{.batch_max_signals = processor_batch_signals}));
    }
  }

  /**
   * At start-up: parked reports whose link exists already move into the log (a crash between
   * recording a link and moving its reports, or a report parked while its link was being recorded).
   */
  void unpark_linked() {
    pipeline::batch b;
    std::vector<std::string> ids;
    for (const auto& p : store_->list_parked()) {
      const auto student = links_.find(p.link_hash);
      if (!student) continue;
      std::string error;
      if (pipeline_->unpark(p, *student, now_ms(), b, error)) {
        ids.push_back(p.id);
      } else {
        log::error("link.unpark_refused", {{"signal_id", p.id}, {"reason", error}});
      }
    }
    if (ids.empty()) return;
    std::promise<std::error_code> done;
    auto stored = done.get_future();
    const auto n = ids.size();
    store_->unpark(std::move(ids), std::move(b.rows), std::move(b.items),
                   [&done](std::error_code ec) { done.set_value(ec); });
    if (const auto ec = stored.get()) {
      log::error("link.unpark_failed", {{"error", ec.message()}});
      return;
    }
    log::info("link.unparked_at_start", {{"signals", n}});
  }

  void wake_processors() {
    for (auto& r : runners_) r->wake();
  }

  void open_drop_folders() {
    for (auto& [name, slot_ptr] : instances_) {
      auto* slot = slot_ptr.get();
      if (!slot->config.drop_folder || !slot->connector) continue;
      const auto& d = *slot->config.drop_folder;
      ingress::drop_folder_settings settings;
      settings.dir = d.path;
      settings.poll_interval = d.poll_interval;
      settings.settle = d.settle;
      settings.max_file_bytes = d.max_file_bytes;
      settings.retention = std::chrono::hours(24 * d.retention_days);
      settings.redact = [](std::string text) { return privacy::mask_bsns(std::move(text)); };
      const std::string ns = drop_namespace_prefix + name;
      const metrics::labels l{{"connector", name}};
      const auto files = [&](const char* outcome) {
        return &metrics_.get_counter("schakel_drop_files_total", "Drop-folder files by how they left the folder",
                                     {{"connector", name}, {"outcome", outcome}});
      };
      const auto rows = [&](const char* outcome) {
        return &metrics_.get_counter("schakel_drop_rows_total", "Drop-folder records stored or refused",
                                     {{"connector", name}, {"outcome", outcome}});
      };
      settings.on_finished = [ingested = files("ingested"), quarantined = files("quarantined"),
                              duplicate = files("duplicate"), accepted = rows("accepted"),
                              refused = rows("quarantined")](const ingress::file_outcome& o) {
        using kind = ingress::file_outcome::kind;
        (o.what == kind::ingested ? ingested : o.what == kind::quarantined ? quarantined : duplicate)->add();
        accepted->add(o.rows_accepted);
        refused->add(o.rows_rejected);
      };
      metrics_.add_gauge("schakel_drop_last_success_timestamp_seconds",
                         "When a drop-folder file's signals were last committed (Unix time; 0: none since start)", l,
                         [slot] { return slot->last_drop_success.load(); });
      slot->drop = std::make_unique<ingress::drop_folder>(
          name, settings,
          [this, slot](const std::string&, std::string body, const std::string& content_type,
                       const std::string& digest) { return ingest_file(*slot, std::move(body), content_type, digest); },
          [this, ns](const std::string& digest) { return store_->state_get(ns, digest).has_value(); });
    }
  }

  enum class admission { open, draining, overloaded };

  /** Whether new records may come in, for HTTP and drop folders alike; counts each refusal for overload. */
  admission admit() {
    if (draining_) return admission::draining;
    if (store_->outbox_depth_total() >= cfg_.limits.max_outbox_depth) {
      // Back-pressure: refuse new work rather than grow without bound while partners are slow.
      overload_->add();
      return admission::overloaded;
    }
    return admission::open;
  }

  /**
   * One dropped file as one unit. The connector's signals are mapped, validated and staged in parts
   * of drop_part_signals (invisible to processors and delivery), then published with the file's
   * digest mark in one transaction: readers see all of the file or none of it, and a file given up
   * or cut short by a crash leaves nothing behind but the file itself, which is read again. Blocking.
   */
  ingress::file_result ingest_file(instance_slot& slot, std::string body, const std::string& content_type,
                                   const std::string& digest) {
    using outcome = ingress::file_result::outcome;
    ingress::file_result out;
    if (const auto a = admit(); a != admission::open) {
      out.result = outcome::retry_later;
      out.error = a == admission::draining ? "the hub is shutting down" : "deliveries are behind (outbox full)";
      return out;
    }
    const auto started = std::chrono::steady_clock::now();
    const std::int64_t received = now_ms();
    const std::string& name = slot.config.name;
    const std::size_t file_bytes = body.size();
    // Two instances may be given the same file at once; each stages its own signals.
    const std::string stage_key = name + ":" + digest;
    const auto discard = [&] {
      return store_wait([&](auto done) { store_->discard_staged(stage_key, std::move(done)); });
    };
    // A part left by an earlier attempt at this file (in this process) must not be published twice.
    if (const auto ec = discard()) {
      out.result = outcome::retry_later;
      out.error = "the staging area could not be cleared";
      return out;
    }

    std::size_t staged = 0, parts = 0;
    std::int64_t last_record = 0;
    std::error_code stage_error;
    std::set<std::string> touched;
    std::vector<plugin_host::rejection> validation_rejections;
    auto last_progress = started;
    const auto progress = [&](const char* phase, std::size_t rows) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_progress < drop_hooks_.progress_interval) return;
      last_progress = now;
      log::info("drop.progress", {{"connector", name},
                                  {"sha256", digest},
                                  {"phase", phase},
                                  {"rows", rows},
                                  {"record", last_record},
                                  {"bytes", file_bytes},
                                  {"seconds", std::chrono::duration<double>(now - started).count()}});
    };
    const plugin_host::signal_part_fn stage = [&](plugin_host::ingest_result& part) {
      if (!part.signal_record_index.empty()) last_record = part.signal_record_index.back();
      // Deletions that name only a record id are completed from the stored record: one stored before
      // this file, or one staged by an earlier part of it (the same file may add a record and delete it).
      record_lookup deleted;
      if (auto ids = pipeline::ingest_pipeline::deletions_by_id(part); !ids.empty()) {
        std::promise<record_lookup> looked_up;
        auto lookup = looked_up.get_future();
        find_deleted_records(*store_, name, std::move(ids), stage_key,
                             [&looked_up](record_lookup found) { looked_up.set_value(std::move(found)); });
        deleted = lookup.get();
        if (deleted.first) {
          log::error("drop.lookup_failed",
                     {{"connector", name}, {"sha256", digest}, {"error", deleted.first.message()}});
          stage_error = deleted.first;
          return false;
        }
      }
      auto batch = pipeline_->process(part, name, slot.config.plugin, received, deleted.second);
      out.accepted += batch.accepted.size();
      for (auto& r : batch.rejected) validation_rejections.push_back(std::move(r));
      touched.insert(batch.touched_subscriptions.begin(), batch.touched_subscriptions.end());
      if (!batch.rows.empty() || !batch.parked.empty()) {
        stage_error = store_wait([&](auto done) {
          store_->stage_part(stage_key, std::move(batch.rows), std::move(batch.items), std::move(batch.parked),
                             std::move(done));
        });
        if (stage_error) return false;
      }
      staged += batch.accepted.size();
      ++parts;
      if (drop_hooks_.kill_after_parts != 0 && parts >= drop_hooks_.kill_after_parts) ::raise(SIGKILL);
      progress("staging", staged);
      return true;
    };
    auto result = slot.connector->ingest_in_parts(body, content_type, drop_part_signals, stage);
    // The bytes are not needed for the publish, which overlaps the processors' reading of the file.
    std::string().swap(body);
    if (!result.parsed) {
      (void)discard();
      slot.rejected->add();
      out = {};
      out.result = outcome::unparseable;
      out.error = result.parse_error;
      return out;
    }
    if (stage_error) {
      (void)discard();
      log::error("drop.store_failed", {{"connector", name}, {"sha256", digest}, {"error", stage_error.message()}});
      out = {};
      out.result = outcome::retry_later;
      out.error = "the signals could not be stored";
      return out;
    }
    // The same order as one whole batch: the connector's refusals, then the pipeline's.
    out.rejected = std::move(result.rejections);
    for (auto& r : validation_rejections) out.rejected.push_back(std::move(r));
    slot.received->add(out.accepted + out.rejected.size());
    slot.rejected->add(out.rejected.size());
    if (out.accepted == 0) return out;  // nothing to store; the drop folder reports the rejections

    std::vector<storage::state_write> mark{
        {drop_namespace_prefix + name, digest,
         nlohmann::json{{"accepted", out.accepted}, {"rejected", out.rejected.size()}, {"at", format_rfc3339(received)}}
             .dump(),
         false}};
    const auto ec = store_wait([&](auto done) {
      store_->publish_staged(
          stage_key, std::move(mark), [&progress](std::size_t moved) { progress("publishing", moved); },
          std::move(done));
    });
    if (ec) {
      (void)discard();
      log::error("drop.store_failed", {{"connector", name}, {"sha256", digest}, {"error", ec.message()}});
      out.result = outcome::retry_later;
      out.error = "the signals could not be stored";
      return out;
    }
    slot.accepted->add(out.accepted);
    slot.last_drop_success = static_cast<double>(now_ms()) / 1000.0;
    ask_for_memory_trim(file_bytes);
    for (const auto& s : touched) delivery_->notify(s);
    wake_processors();
    slot.latency->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return out;
  }

  void register_metrics() {
    for (const auto& s : cfg_.subscriptions) {
      auto* st = store_.get();
      const std::string name = s.name;
      metrics_.add_gauge("schakel_outbox_depth", "Events waiting for delivery", {{"subscription", name}},
                         [st, name] { return static_cast<double>(st->outbox_depth(name)); });
    }
    http_requests_ = &metrics_.get_counter("schakel_http_requests_total", "HTTP requests handled");
    auth_failures_ = &metrics_.get_counter("schakel_auth_failures_total",
                                           "Requests refused for a missing or wrong token (or an unknown connector)");
    overload_ = &metrics_.get_counter("schakel_ingest_overload_total", "Ingest requests refused by back-pressure");
  }

  /**
   * Who may use which route (daemon/access.hpp), decided from the method, path and headers alone: the
   * server asks this before it reads a body (and handle() asks again for the grant), so a request
   * without a valid token costs the hub no more than its header. nullopt: go on.
   */
  std::optional<http::response> authorize(const http::request& req) const {
    auto d = access_.decide(req, std::chrono::system_clock::now());
    if (auto* refused = std::get_if<refusal>(&d)) return refused_request(req, std::move(*refused));
    return std::nullopt;
  }

  /**
   * A refused authentication is counted; every refusal but an unknown route is logged — at most once a
   * second, never with the token, with the client's address — so an operator sees someone guessing
   * without the log becoming the attacker's amplifier.
   */
  http::response refused_request(const http::request& req, refusal r) const {
    if (r.authentication && auth_failures_ != nullptr) auth_failures_->add();
    if (r.reason == "route") return std::move(r.response);
    const auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
    auto last = last_auth_log_ms_.load();
    if (now - last >= 1000 && last_auth_log_ms_.compare_exchange_strong(last, now))
      log::warn("http.auth_failed",
                {{"area", r.area}, {"reason", r.reason}, {"status", r.response.status}, {"client", req.client}});
    return std::move(r.response);
  }

  asio::awaitable<http::response> handle(http::request& req) {
    http_requests_->add();
    const std::string& p = req.path;
    auto decided = access_.decide(req, std::chrono::system_clock::now());
    if (auto* refused = std::get_if<refusal>(&decided)) co_return refused_request(req, std::move(*refused));
    const grant who = std::get<grant>(std::move(decided));
    if (req.method == "GET" && p == "/healthz") co_return json_response(200, {{"status", "ok"}});
    if (req.method == "GET" && p == "/readyz") co_return readiness();
    if (req.method == "GET" && p == "/metrics") {
      http::response r;
      r.content_type = "text/plain; version=0.0.4";
      r.body = metrics_.render();
      co_return r;
    }
    if (who.role == "ingest") {
      if (req.method != "POST") co_return method_not_allowed(p, "POST");
      co_return co_await ingest(req, who.name);
    }
    // Every other body is JSON for the admin API: refused before parsing when nested too deeply.
    if (!req.body.empty())
      if (auto refused = json_body_refusal(req)) co_return std::move(*refused);
    if (dead_letters_api::owns(p)) co_return co_await dead_letters_api_->handle(req, who);
    if (p == "/v1/links" || p == "/v1/parked") {
      co_return co_await link_api_->handle(req, who);
    }
    if (trends_api::owns(p)) {
      if (who.role != "partner") co_return co_await trends_api_->handle(req, who, {});
      // A pull token reads its own subscription's releases; the trail names its partner.
      auto partner = partner_actor(who);
      co_return co_await trends_api_->handle(req, std::move(partner.first), std::move(partner.second));
    }
    if (p == "/v1/consents" || p.starts_with("/v1/consents/")) co_return co_await consent_api_->handle(req, who);
    if (subscriptions_api::owns(p)) co_return co_await subscriptions_api_->handle(req, who);
    if (p == "/v1/processors") {
      if (req.method != "GET") co_return method_not_allowed(p, "GET");
      co_return processors_status();
    }
    if (referral_api::owns(p)) co_return co_await referral_api_->handle(req);
    co_return http::problem(404, "not-found", "Not found", "no such endpoint", p);
  }

  /**
   * Retention (docs/privacy.md): at start and then hourly, on its own thread because a purge blocks on
   * the database. Signals a processor has not yet read are kept whatever their age.
   */
  /** Retention every hour; between purges, the memory a large drop file left behind is given back. */
  void purge_loop() {
    std::unique_lock lock(purge_mutex_);
    auto next_purge = std::chrono::steady_clock::now();
    const auto checkpoint_every = std::chrono::seconds(cfg_.audit.checkpoint_interval_seconds);
    auto next_checkpoint = std::chrono::steady_clock::now() + checkpoint_every;
    while (!purge_stop_) {
      if (std::chrono::steady_clock::now() >= next_purge) {
        lock.unlock();
        run_purge();
        lock.lock();
        next_purge = std::chrono::steady_clock::now() + std::chrono::hours(1);
      }
      if (std::chrono::steady_clock::now() >= next_checkpoint) {
        lock.unlock();
        write_checkpoint();
        lock.lock();
        next_checkpoint = std::chrono::steady_clock::now() + checkpoint_every;
      }
      purge_wake_.wait_until(lock, std::min(std::chrono::steady_clock::now() + memory_trim_step, next_checkpoint),
                             [this] { return purge_stop_; });
      if (purge_stop_) break;
      lock.unlock();
      trim_memory_if_due();
      lock.lock();
    }
  }

  /**
   * After a large drop file the processors and delivery read and route all of its signals, each on
   * its own thread and so in its own malloc arena, and glibc keeps what they free. Trimming every
   * few seconds until they are done gives it back to the system, so the daemon returns to its idle
   * size instead of staying at its peak until the next file; each trim costs milliseconds.
   */
  void trim_memory_if_due() {
    if (!trim_pending_.load()) return;
    // Until every processor has read the file (and once more after that): they free as they go.
    bool caught_up = true;
    for (const auto& r : runners_) caught_up = caught_up && r->status().caught_up;
    if (caught_up && std::chrono::steady_clock::now().time_since_epoch().count() >= trim_until_.load())
      trim_pending_ = false;
#ifdef __GLIBC__
    (void)::malloc_trim(0);
#endif
  }

  void ask_for_memory_trim(std::size_t file_bytes) {
    if (file_bytes < trim_from_bytes) return;
    trim_until_ = (std::chrono::steady_clock::now() + memory_trim_window).time_since_epoch().count();
    trim_pending_ = true;
  }

  void run_purge() {
    storage::retention_plan plan;
    for (const auto& [types, days] : cfg_.privacy.retention.signal_days) plan.rules.push_back({types, days});
    plan.default_days = cfg_.privacy.retention.default_signal_days;
    plan.audit_days = cfg_.privacy.retention.audit_days;
    for (const auto& r : runners_) plan.keep_from_seq = std::min(plan.keep_from_seq, r->status().position + 1);
    if (trends_) plan.keep_from_seq = std::min(plan.keep_from_seq, trends_->position() + 1);
    try {
      const auto done = store_->purge(plan, now_ms());
      if (done.signals > 0 || done.audit_records > 0)
        log::info("retention.purged", {{"signals", done.signals}, {"audit_records", done.audit_records}});
    } catch (const std::exception& e) {
      log::error("retention.purge_failed", {{"error", e.what()}});
    }
    purge_drop_folders();
  }

  /** Raw exports kept in archive/ and quarantine/ go after their retention, each removal audited. */
  void purge_drop_folders() {
    std::vector<audit::entry> audit;
    for (const auto& [name, slot] : instances_) {
      if (!slot->drop) continue;
      const auto removed = slot->drop->purge(std::chrono::system_clock::now());
      if (removed.archive == 0 && removed.quarantine == 0) continue;
      // Which connector's folders and how much; never which files (their names may name students).
      auto e = audit::by_system(now_ms(), "retention.purged",
                                "archive=" + std::to_string(removed.archive) +
                                    " quarantine=" + std::to_string(removed.quarantine) +
                                    " retention_days=" + std::to_string(slot->config.drop_folder->retention_days));
      e.object_type = "drop_files";
      e.access_point = name;
      audit.push_back(std::move(e));
    }
    if (audit.empty()) return;
    if (const auto ec = store_wait([&](auto done) { store_->append_audit(std::move(audit), std::move(done)); }))
      log::error("retention.audit_failed", {{"what", "drop_files"}, {"error", ec.message()}});
  }

  /**
   * Signed checkpoints (docs/privacy.md#a-trail-that-survives-its-administrator). A database behind the last one is
   * reported but does not stop the hub: restoring a backup after a disaster is legitimate, and `schakel audit verify`
   * keeps naming the records it lost.
   */
  /** The name checkpoints (and the witness's webhook ids) carry: the node's, unless the deprecated audit.node says
   * otherwise. */
  std::string checkpoint_node() const {
    return cfg_.audit.node.empty() ? cfg_.node : cfg_.audit.node;
  }

  void open_checkpoints() {
    const auto files = privacy::audit_files_of(cfg_);
    const std::string node = checkpoint_node();
    if (!cfg_.audit.node.empty())
      log::warn("config.audit_node_deprecated",
                {{"audit_node", node}, {"node", cfg_.node}, {"fix", "drop audit.node; set node or --node instead"}});
    checkpoints_ = std::make_unique<audit::checkpoint_writer>(
        audit::checkpoint_signer::load_or_create(files.signing_key, files.public_key), files.checkpoints, node);
    const auto head = store_->read_audit_head();
    if (const auto& last = checkpoints_->last();
        head && last && (head->seq < last->seq || (head->seq == last->seq && head->hash != last->head)))
      log::error("audit.behind_checkpoint", {{"database_seq", head->seq},
                                             {"checkpoint_seq", last->seq},
                                             {"checkpoint_file", files.checkpoints.string()}});
    write_checkpoint();
  }

  /**
   * The audit witness (audit.witness): every checkpoint also goes to a partner, through the same
   * destination guard and TLS as the subscriptions' webhooks. The last one in the file is offered at
   * once, so a witness that was away while the hub was down catches up.
   */
  void open_witness() {
    if (!cfg_.audit.witness || !checkpoints_) return;
    std::string error;
    witness_ = delivery::checkpoint_witness::create(
        ioc_.get_executor(), *cfg_.audit.witness,
        delivery_->destination_check_for(cfg_.audit.witness->allow_destinations), checkpoint_node(), metrics_, &error);
    if (!witness_) throw std::runtime_error("audit.witness." + error);
    if (const auto& last = checkpoints_->last()) witness_->offer(last->seq, audit::to_line(*last));
  }

  void write_checkpoint() {
    if (!checkpoints_ || !store_) return;
    try {
      const auto head = store_->read_audit_head();
      if (!head) return;
      if (const auto c = checkpoints_->write_if_moved(head->seq, head->hash, head->keyed_from, now_ms())) {
        // A line in the journal when the hub runs under systemd, and the witness: copies elsewhere.
        log::info("audit.checkpoint_written",
                  {{"seq", c->seq}, {"head", c->head}, {"keyed_from", c->keyed_from}, {"signature", c->signature}});
        if (witness_) witness_->offer(c->seq, audit::to_line(*c));
      }
    } catch (const std::exception& e) {
      log::error("audit.checkpoint_failed", {{"error", e.what()}});
    }
  }

  void stop_purge() {
    {
      std::lock_guard lock(purge_mutex_);
      purge_stop_ = true;
    }
    purge_wake_.notify_all();
    if (purge_thread_.joinable()) purge_thread_.join();
  }

  /**
   * A pull token's grant as the trends API audits it: the subscription's partner as the actor, and
   * the subscription. Outside the coroutine: g++ 12 miscompiles braced initialisers in coroutine frames.
   */
  std::pair<grant, std::string> partner_actor(const grant& who) const {
    for (const auto& s : cfg_.subscriptions)
      if (s.name == who.name) return {grant{"partner", s.partner}, s.name};
    return {who, who.name};
  }

  static http::response method_not_allowed(const std::string& path, const std::string& allow) {
    auto r = http::problem(405, "method-not-allowed", "Method not allowed", "use " + allow, path);
    r.headers.emplace_back("Allow", allow);
    return r;
  }

  /**
   * Ready only while every configured connector instance and processor runs: a load balancer or an
   * operator's check must not take a hub that silently ignores one of its sources for a working one.
   */
  http::response readiness() const {
    nlohmann::json not_running = nlohmann::json::array();
    const auto add = [&](const std::string& name, const char* kind, const char* reason) {
      not_running.push_back({{"name", name}, {"kind", kind}, {"reason", reason}});
    };
    for (const auto& [name, slot] : instances_) {
      if (!slot->connector) {
        add(name, "connector", "plugin not loaded");
      } else if (slot->drop && !slot->drop->dir_readable()) {
        add(name, "connector", "drop folder unreadable");
      }
    }
    for (const auto& name : processors_not_loaded_) add(name, "processor", "plugin not loaded");
    if (draining_)
      return http::problem(503, "draining", "Shutting down", "the hub is shutting down", "/readyz",
                           {{"not_running", not_running}});
    if (!not_running.empty()) {
      std::string names;
      for (const auto& n : not_running) names += (names.empty() ? "" : ", ") + n["name"].get<std::string>();
      return http::problem(503, "not-ready", "Not ready", "not running: " + names, "/readyz",
                           {{"not_running", not_running}});
    }
    return json_response(200, {{"status", "ready"}});
  }

  asio::awaitable<http::response> ingest(http::request& req, std::string instance) {
    const auto started = std::chrono::steady_clock::now();
    auto& slot = *instances_.at(instance);  // authorize() has refused unknown instances and wrong tokens
    if (!slot.connector)
      co_return http::problem(503, "instance-unavailable", "Connector instance unavailable",
                              "the plugin of this instance failed to load; see the daemon log", req.path);
    if (const auto a = admit(); a == admission::draining) {
      auto r = http::problem(503, "draining", "Shutting down", "the hub is shutting down; retry later", req.path);
      r.headers.emplace_back("Retry-After", "5");
      co_return r;
    } else if (a == admission::overloaded) {
      auto r = http::problem(503, "overloaded", "Outbox full",
                             "deliveries are behind; the hub accepts new records once the outbox drains", req.path);
      r.headers.emplace_back("Retry-After", "2");
      co_return r;
    }

    const std::int64_t received = now_ms();
    auto result = co_await on_ingest_pool([&] { return slot.connector->ingest(req.body, req.header("content-type")); });
    if (!result.parsed && result.connector_error) {
      // plugin_host has logged plugin.ingest_failed with the instance and the connector's reason.
      co_return http::problem(500, "connector-failed", "The connector failed",
                              "the connector could not process this body; see the daemon log", req.path);
    }
    if (!result.parsed) {
      slot.rejected->add();
      co_return http::problem(400, "unparseable-body", "The body could not be parsed", result.parse_error, req.path);
    }
    // A deletion by record id needs the stored record it deletes: looked up on the store's thread.
    record_lookup deleted;
    if (auto ids = pipeline::ingest_pipeline::deletions_by_id(result); !ids.empty()) {
      deleted = co_await await_completion<record_lookup>([this, &slot, &ids](auto complete) {
        find_deleted_records(*store_, slot.config.name, std::move(ids), std::string(), complete);
      });
    }
    const auto& deleted_records = deleted.second;
    if (deleted.first) {
      log::error("ingest.lookup_failed", {{"connector", slot.config.name}, {"error", deleted.first.message()}});
      auto r = http::problem(503, "store-unavailable", "Not stored",
                             "the records that deletions name could not be looked up; retry", req.path);
      r.headers.emplace_back("Retry-After", "1");
      co_return r;
    }
    auto batch = co_await on_ingest_pool(
        [&] { return pipeline_->process(result, slot.config.name, slot.config.plugin, received, deleted_records); });
    slot.received->add(batch.accepted.size() + batch.rejected.size());
    slot.rejected->add(batch.rejected.size());

    if (batch.accepted.empty()) {
      co_return http::problem(422, "no-records-accepted", "No record was accepted",
                              batch.rejected.empty() ? "the body holds no records"
                                                     : std::to_string(batch.rejected.size()) + " record(s) rejected",
                              req.path, {{"rejected", rejections_json(batch.rejected)}});
    }
    auto ec =
        co_await await_append(*store_, std::move(batch.rows), std::move(batch.items), {}, std::move(batch.parked));
    if (ec) {
      log::error("ingest.store_failed", {{"connector", slot.config.name}, {"error", ec.message()}});
      auto r =
          http::problem(503, "store-unavailable", "Not stored", "the signals could not be stored; retry", req.path);
      r.headers.emplace_back("Retry-After", "1");
      co_return r;
    }
    slot.accepted->add(batch.accepted.size());
    for (const auto& s : batch.touched_subscriptions) delivery_->notify(s);
    wake_processors();
    slot.latency->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

    nlohmann::json accepted = accepted_json(batch.accepted);
    co_return json_response(200, {{"accepted", accepted}, {"rejected", rejections_json(batch.rejected)}});
  }

  /**
   * Runs `work` on the ingest pool and resumes on the caller's strand with its result. Parsing and
   * validating a body of megabytes takes seconds of CPU; on the network threads it would hold up
   * every other connection, /healthz included, for as long.
   */
  template <class Work>
  asio::awaitable<std::invoke_result_t<Work&>> on_ingest_pool(Work work) {
    using result = std::invoke_result_t<Work&>;
    using outcome = std::pair<std::exception_ptr, std::optional<result>>;
    outcome out = co_await await_completion<outcome>([this, &work](auto complete) {
      asio::post(ingest_pool_, [&work, complete]() mutable {
        outcome o;
        try {
          o.second.emplace(work());
        } catch (...) {
          o.first = std::current_exception();
        }
        complete(std::move(o));
      });
    });
    if (out.first) std::rethrow_exception(out.first);
    co_return std::move(*out.second);
  }

  http::response processors_status() const {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : runners_) {
      const auto st = r->status();
      list.push_back({{"name", st.name},
                      {"node", cfg_.node},
                      {"position", st.position},
                      {"caught_up", st.caught_up},
                      {"processed", st.processed},
                      {"derived", st.derived},
                      {"errors", st.errors}});
    }
    for (const auto& name : processors_not_loaded_)
      list.push_back({{"name", name}, {"node", cfg_.node}, {"loaded", false}});
    // Each node runs its own processors today; the node says which one answered and ran them.
    return json_response(200, {{"node", cfg_.node}, {"processors", list}});
  }

  const config::hub_config& cfg_;
  asio::io_context& ioc_;
  access_policy access_{cfg_};
  schema::signal_validator validator_;
  privacy::consent_registry consents_;
  privacy::link_registry links_;
  std::unique_ptr<privacy::key_provider> keys_;  ///< every key the hub holds, apart from its data
  std::string hub_key_file_;                     ///< where the hub key was read, for messages
  std::unique_ptr<privacy::gate> gate_;
  std::unique_ptr<pipeline::ingest_pipeline> pipeline_;
  std::unique_ptr<consent_api> consent_api_;
  std::unique_ptr<link_api> link_api_;
  std::unique_ptr<referral_api> referral_api_;
  std::unique_ptr<dead_letters_api> dead_letters_api_;
  std::unique_ptr<trends::releaser> trends_;  // null without a trends section
  std::unique_ptr<trends_api> trends_api_;
  /// Every series carries this node's name: several nodes scrape into one Prometheus (docs/cluster.md).
  metrics::registry metrics_{metrics::labels{{"node", cfg_.node}}};
  std::unique_ptr<storage::store> store_;
  std::unique_ptr<audit::checkpoint_writer> checkpoints_;
  std::unique_ptr<delivery::checkpoint_witness> witness_;
  std::map<std::string, std::unique_ptr<instance_slot>> instances_;
  std::unique_ptr<delivery::delivery_service> delivery_;
  std::unique_ptr<subscriptions_api> subscriptions_api_;
  std::shared_ptr<const calendar::calendar_registry> calendars_;
  std::vector<std::unique_ptr<processing::processor_runner>> runners_;
  std::vector<std::string> processors_not_loaded_;
  const drop_test_hooks drop_hooks_ = drop_test_hooks::from_environment();
  std::unique_ptr<http::server> server_;
  metrics::counter* http_requests_ = nullptr;
  metrics::counter* auth_failures_ = nullptr;
  mutable std::atomic<std::int64_t> last_auth_log_ms_{-1000000};
  metrics::counter* overload_ = nullptr;
  std::atomic<bool> draining_{false};
  std::thread purge_thread_;
  std::mutex purge_mutex_;
  std::condition_variable purge_wake_;
  bool purge_stop_ = false;                                    // guarded by purge_mutex_
  std::atomic<bool> trim_pending_{false};                      // a large file was ingested: trim until its work is done
  std::atomic<std::chrono::steady_clock::rep> trim_until_{0};  // steady-clock ticks; trims run at least until then
  // Last, so it is joined before anything its work uses is destroyed.
  asio::thread_pool ingest_pool_{std::max(2u, std::thread::hardware_concurrency())};
};

}  // namespace

namespace {

/**
 * Every connection, plugin and database file takes a descriptor, and the usual soft limit (1024) is
 * below the default connection cap: raised to the hard limit so the cap, not a full descriptor table,
 * is what turns clients away. SCHAKEL_TEST_NOFILE_LIMIT (tests only) lowers it instead, to run out
 * of descriptors on purpose.
 */
void raise_descriptor_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  rlim_t want = lim.rlim_max;
  if (const char* v = std::getenv("SCHAKEL_TEST_NOFILE_LIMIT"))
    want = std::min<rlim_t>(want, static_cast<rlim_t>(std::strtoull(v, nullptr, 10)));
  if (want != lim.rlim_cur) {
    rlimit next = lim;
    next.rlim_cur = want;
    if (::setrlimit(RLIMIT_NOFILE, &next) == 0)
      lim = next;
    else
      log::warn("hub.descriptor_limit_unchanged", {{"soft", lim.rlim_cur}, {"wanted", want}, {"error", errno}});
  }
  log::info("hub.descriptor_limit", {{"soft", lim.rlim_cur}, {"hard", lim.rlim_max}});
}

}  // namespace

int serve(const config::hub_config& given) {
  log::level lvl = log::level::info;
  if (log::parse_level(given.log_level, lvl)) log::set_level(lvl);
  // `schakel serve` settled the name already (with --node); a caller that did not gets the default.
  config::hub_config config = given;
  if (const auto why = config::settle_node_name(config, {}); !why.empty()) {
    log::error("hub.start_failed", {{"error", why}});
    return 1;
  }
  asio::io_context ioc;
  hub h(config, ioc);
  // Before start() writes the port file that tells a supervisor the hub is up: a SIGTERM from then
  // on must drain it, and until this set exists the signal's default action would kill it instead.
  // A signal that arrives before async_wait below is queued by the set, not lost.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  raise_descriptor_limit();
  if (!config.admin_token.empty()) log::warn("config.admin_token_deprecated", {{"how", config::admin_token_hint}});
  for (const auto& w : config::access_warnings(config, std::chrono::system_clock::now()))
    log::warn("config.token_expiry", {{"problem", w}});
  try {
    h.open();
    h.start();
  } catch (const std::exception& e) {
    log::error("hub.start_failed", {{"error", e.what()}});
    return 1;
  }
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
  std::vector<config::producer> producers = hub_producers(config);
  bool all_loaded = true;
  const fs::path plugin_dir =
      config.plugin_dir.empty() ? plugin_host::default_plugin_dir() : fs::path(config.plugin_dir);
  for (std::size_t i = 0; i < config.connectors.size(); ++i) {
    const auto& c = config.connectors[i];
    const std::string label = "connectors[" + std::to_string(i) + "] (" + c.name + ")";
    plugin_host::load_error err;
    auto conn = plugin_host::load_connector(plugin_dir, {c.name, c.plugin, c.settings.dump()}, {}, err);
    if (!conn) {
      problems.push_back(label + ": " + err.file + ": " + err.reason);
      all_loaded = false;
    } else {
      producers.push_back({label, c.name, conn->emits()});
    }
  }
  try {
    (void)calendar::registry_from_config(config.schools, config.config_dir);
  } catch (const std::exception& e) {
    problems.push_back(e.what());
  }
  for (std::size_t i = 0; i < config.subscriptions.size(); ++i) {
    const auto& s = config.subscriptions[i];
    if (s.privacy.identity != "pseudonymous") continue;
    try {
      (void)privacy::key_ring(s.privacy.pseudonym_keys);
    } catch (const std::exception& e) {
      problems.push_back("subscriptions[" + std::to_string(i) + "] (" + s.name +
                         "): privacy.pseudonym_keys: " + e.what());
    }
  }
  for (std::size_t i = 0; i < config.processors.size(); ++i) {
    const auto& p = config.processors[i];
    plugin_host::load_error err;
    auto proc = plugin_host::load_processor(plugin_dir, {p.name, p.plugin, p.settings.dump()}, {}, err);
    const std::string label = "processors[" + std::to_string(i) + "] (" + p.name + ")";
    if (!proc) {
      problems.push_back(label + ": " + err.file + ": " + err.reason);
      all_loaded = false;
    } else {
      producers.push_back({label, p.name, proc->emits()});
    }
  }
  // Only with every producer known: a missing one would make each of its fields look unemitted.
  if (all_loaded) {
    auto report = config::check_allowlists(config, producers);
    for (auto& w : report.warnings) log::warn("config.allowlist_unchecked", {{"problem", w}});
    problems.insert(problems.end(), std::make_move_iterator(report.errors.begin()),
                    std::make_move_iterator(report.errors.end()));
  }
  return problems;
}

}  // namespace schakel::daemon
