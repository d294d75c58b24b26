#include "delivery/delivery_service.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <random>
#include <stdexcept>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"
#include "common/signal.hpp"
#include "delivery/https_client.hpp"
#include "delivery/standard_webhooks.hpp"
#include "delivery/witness.hpp"

namespace schakel::delivery {

namespace asio = boost::asio;
using strand_type = asio::strand<asio::any_io_executor>;

namespace {

constexpr const char* gone_reason = "HTTP 410 Gone";

// notify() is the fast path; this poll only catches units put back without one (e.g. a dead
// letter replayed by an operator, or a reschedule that the store moved earlier).
constexpr std::int64_t max_idle_wait_ms = 5000;
// When the store reports a unit already due but hands none out, avoid spinning on it.
constexpr std::int64_t min_wait_ms = 5;
// A failed outcome write (disk full, I/O error) is retried after this, doubling up to the cap: soon
// after the disk has room again, without hammering a store that is still failing.
constexpr std::int64_t outcome_retry_first_ms = 100;
constexpr std::int64_t outcome_retry_max_ms = 2000;

/** not_found: the unit is gone already, nothing is left to record; closed: the store shut down. */
bool worth_retrying(std::error_code ec) {
  return ec && ec != storage::storage_errc::not_found && ec != storage::storage_errc::closed;
}

/**
 * The store's record of what happened to a handed-out unit. The store keeps the unit in flight, and
 * its lane closed, until one such write commits; so a write that failed must be written again.
 */
struct outcome_write {
  const char* op = "";                          // for the log: mark_delivered, reschedule, ...
  nlohmann::json where;                         // subscription, lane, webhook_id, ...: never content
  std::function<void(storage::done_fn)> write;  // may run more than once; copies what it hands the store
};

}  // namespace

struct lane_state {
  lane_state(std::uint32_t i, strand_type s) : index(i), strand(s), timer(s), rng(std::random_device{}()) {}
  std::uint32_t index;
  strand_type strand;
  asio::steady_timer timer;
  bool wake_pending = false;  // strand-only
  // A coroutine runs this lane. Taken with exchange by whoever starts one, so that enabling a
  // subscription while its lanes are still winding down from a 410 never starts a lane twice.
  std::atomic<bool> active{false};
  std::unique_ptr<https_client> client;
  std::mt19937_64 rng;  // strand-only; jitter needs no cryptographic quality
  // An outcome the store has not recorded (strand-only): the lane writes it again before it asks for
  // another unit, since until then the store hands out nothing on this lane.
  std::optional<outcome_write> unrecorded;
  std::int64_t outcome_retry_ms = 0;  // strand-only; the wait before the next try of `unrecorded`
};

struct sub_state {
  sub_state(config::subscription c, signing_key k) : cfg(std::move(c)), key(std::move(k)) {}
  config::subscription cfg;
  signing_key key;
  storage::batching batch;
  std::vector<std::unique_ptr<lane_state>> lanes;
  std::atomic<bool> disabled{false};
  metrics::counter* ok = nullptr;
  metrics::counter* failed = nullptr;
  metrics::counter* retried = nullptr;
  metrics::counter* dead_lettered = nullptr;
  metrics::counter* dropped = nullptr;
  metrics::counter* attempts = nullptr;
  metrics::counter* refused_destination = nullptr;
  metrics::histogram* attempt_latency = nullptr;
  metrics::histogram* end_to_end = nullptr;

  /**
   * Retries are routine (a partner restarting), so each attempt is logged at debug; an operator still
   * hears of a partner that keeps failing through one warn per subscription per interval, with the
   * count since the last one. Lanes of one subscription run on different strands, hence the mutex.
   */
  struct retry_summary {
    std::mutex mutex;
    std::int64_t last_warn_ms = 0;  // 0: none yet, so the first retry of a failing spell warns at once
    std::uint64_t since_last_warn = 0;
  } retries;
};

/**
 * The hub's own listeners, known only once the server has bound its port; shared by every lane's
 * destination check (which runs on the lanes' strands), hence the mutex.
 */
struct own_listeners {
  std::mutex mutex;
  std::vector<net::listen_endpoint> listeners;
  std::vector<net::ip_address> local_addresses;
};

/** At most one delivery.retry_summary warning per subscription in this interval. */
constexpr std::int64_t retry_summary_interval_ms = 60'000;

struct delivery_service::impl : std::enable_shared_from_this<delivery_service::impl> {
  impl(asio::any_io_executor e, storage::outbox& s, const privacy::gate& g, metrics::registry& m)
      : ex(std::move(e)), store(s), gate(g), metrics(m) {}

  asio::any_io_executor ex;
  storage::outbox& store;
  const privacy::gate& gate;
  metrics::registry& metrics;
  std::vector<std::unique_ptr<sub_state>> subs;
  std::shared_ptr<own_listeners> own = std::make_shared<own_listeners>();
  std::atomic<bool> stopping{false};
  std::atomic<int> running{0};
  std::mutex mutex;
  std::function<void()> on_stopped;  // guarded by mutex
  bool stopped_fired = false;        // guarded by mutex
  bool started = false;              // guarded by mutex

  /**
   * Runs a store operation whose completion arrives on the store thread, and resumes the awaiting
   * coroutine on the lane's strand. The posted handler tracks work so the io_context stays alive
   * while the store is busy.
   */
  template <typename... Args, typename Start>
  auto on_store(lane_state& lane, Start start) {
    return asio::async_initiate<decltype(asio::use_awaitable), void(Args...)>(
        [&lane, start = std::move(start)](auto handler) mutable {
          using handler_type = decltype(handler);
          auto shared = std::make_shared<handler_type>(std::move(handler));
          auto work = asio::prefer(lane.strand, asio::execution::outstanding_work.tracked);
          start([shared, work](Args... args) mutable {
            asio::post(work, [shared, ... a = std::move(args)]() mutable { std::move (*shared)(std::move(a)...); });
          });
        },
        asio::use_awaitable);
  }

  /**
   * A store operation taking a done_fn, as an awaitable error_code. Deliberately not a coroutine
   * and taking `op` (a lambda of references) by value: g++ 12 destroys non-trivial temporaries
   * inside a co_await expression twice (e.g. a lambda converted to std::function), so callers pass
   * only trivially destructible lambdas here.
   */
  template <typename Op>
  auto store_done(lane_state& lane, Op op) {
    return on_store<std::error_code>(lane, [op](auto complete) { op(storage::done_fn(std::move(complete))); });
  }

  std::int64_t backoff_ms(const sub_state& s, lane_state& lane, std::uint32_t attempt,
                          const std::optional<std::chrono::seconds>& retry_after) {
    const auto& d = s.cfg.delivery;
    const std::int64_t cap = std::max<std::int64_t>(d.max_backoff.count(), 1);
    std::int64_t base = std::max<std::int64_t>(d.initial_backoff.count(), 1);
    for (std::uint32_t i = 1; i < attempt && base < cap; ++i) base *= 2;
    base = std::min(base, cap);
    std::int64_t delay = std::uniform_int_distribution<std::int64_t>(0, base)(lane.rng);
    if (retry_after) delay = std::max<std::int64_t>(delay, std::chrono::milliseconds(*retry_after).count());
    return std::min(delay, cap);
  }

  void wake_lanes(sub_state& s) {
    for (auto& lane : s.lanes) {
      lane_state* l = lane.get();
      asio::post(l->strand, [l] {
        l->wake_pending = true;
        l->timer.cancel();
      });
    }
  }

  void fire_stopped() {
    std::function<void()> cb;
    {
      std::lock_guard lock(mutex);
      if (stopped_fired || !stopping.load()) return;
      stopped_fired = true;
      cb = std::move(on_stopped);
    }
    if (cb) asio::post(ex, std::move(cb));
  }

  void lane_finished() {
    if (running.fetch_sub(1) == 1 && stopping.load()) fire_stopped();
  }

  asio::awaitable<void> deliver(sub_state& s, lane_state& lane, const storage::delivery_unit& unit) {
    const auto& d = s.cfg.delivery;
    const std::uint32_t attempt = unit.attempts + 1;
    // webhook-timestamp is the time of this attempt, so a retry after hours is still within the
    // partner's replay tolerance; the id and body stay those stored with the unit.
    const std::int64_t ts = now_ms() / 1000;
    std::vector<std::pair<std::string, std::string>> headers{
        {"webhook-id", unit.webhook_id},
        {"webhook-timestamp", std::to_string(ts)},
        {"webhook-signature", sign(s.key, unit.webhook_id, ts, unit.body)},
    };
    const auto started_at = std::chrono::steady_clock::now();
    http_result r = co_await lane.client->post(std::move(headers), unit.body, unit.content_type);
    s.attempts->add();
    if (r.refused != net::refusal::none) {
      s.refused_destination->add();
      // The reason names the host and the refused address class, never content.
      log::warn("delivery.destination_refused", {{"subscription", s.cfg.name},
                                                 {"lane", lane.index},
                                                 {"attempt", attempt},
                                                 {"refusal", net::name(r.refused)},
                                                 {"reason", r.error}});
    }
    s.attempt_latency->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at).count());
    const std::int64_t now = now_ms();
    const nlohmann::json where{{"subscription", s.cfg.name}, {"lane", lane.index}, {"webhook_id", unit.webhook_id},
                               {"attempt", attempt},         {"status", r.status}, {"events", unit.event_count}};

    if (r.transport_ok() && r.status >= 200 && r.status < 300) {
      // Metrics first: they describe what the partner answered, and are then visible to anyone who
      // observes the store's record of it.
      s.ok->add(unit.event_count);
      s.end_to_end->observe(static_cast<double>(std::max<std::int64_t>(now - unit.created_ms, 0)) / 1000.0);
      // Not awaited: the store runs jobs in queue order and releases the lane inside the job, so the
      // lane's next next_unit (queued after this) already sees the unit gone and both share one
      // commit. A crash before that commit redelivers the unit under the same webhook-id. A failed
      // write comes back to the lane, which writes it again before anything else.
      outcome_write w{"mark_delivered", where,
                      [this, id = unit.unit_id,
                       audit = audit_all(s, unit, "delivery.delivered", "success", "HTTP " + std::to_string(r.status))](
                          storage::done_fn done) { store.mark_delivered(id, audit, std::move(done)); }};
      auto write = w.write;
      write([self = shared_from_this(), &lane, w = std::move(w)](std::error_code ec) mutable {
        if (!worth_retrying(ec)) return;
        // The lane learns of it on its strand; its next_unit (already queued) gets nothing meanwhile.
        asio::post(lane.strand, [self, &lane, w = std::move(w), ec]() mutable {
          self->outcome_failed(lane, std::move(w), ec);
          lane.wake_pending = true;
          lane.timer.cancel();
        });
      });
      log::debug("delivery.ok", where);
      co_return;
    }

    if (r.transport_ok() && r.status == 410) {
      s.failed->add(unit.event_count);
      if (!s.disabled.exchange(true)) {
        log::warn("subscription.disabled", where);
        auto audit = disabled_audit(s);
        const auto ec = co_await store_done(lane, [&](storage::done_fn done) {
          store.change_subscription(s.cfg.name, true, gone_reason, std::move(audit), std::move(done));
        });
        if (ec) {
          auto f = where;
          f["error"] = ec.message();
          log::error("subscription.disable_failed", f);
        }
        wake_lanes(s);
      }
      // Release the unit so it stays pending (not in flight) for when the subscription is re-enabled.
      lane.unrecorded =
          outcome_write{"reschedule", where, [this, id = unit.unit_id, now](storage::done_fn done) {
                          store.reschedule(id, now, "HTTP 410 Gone: subscription disabled", std::move(done));
                        }};
      co_await record_outcome(lane);
      co_return;
    }

    std::string reason = r.transport_ok() ? "HTTP " + std::to_string(r.status) : r.error;
    const bool too_old = now - unit.created_ms >= std::chrono::milliseconds(d.max_age).count();
    if (attempt >= d.max_attempts || too_old) {
      std::string final_reason =
          reason + " after " + std::to_string(attempt) + (attempt == 1 ? " attempt" : " attempts");
      if (too_old && attempt < d.max_attempts) final_reason += " (max age exceeded)";
      auto f = where;
      f["reason"] = final_reason;
      log::warn("delivery.dead_lettered", f);
      s.dead_lettered->add(unit.event_count);
      auto audit = audit_all(s, unit, "delivery.dead_lettered", "failure", final_reason);
      lane.unrecorded =
          outcome_write{"move_to_dead_letters", where,
                        [this, id = unit.unit_id, reason = std::move(final_reason), audit = std::move(audit)](
                            storage::done_fn done) { store.move_to_dead_letters(id, reason, audit, std::move(done)); }};
      co_await record_outcome(lane);
      co_return;
    }

    const std::int64_t delay = backoff_ms(s, lane, attempt, r.retry_after);
    auto f = where;
    f["reason"] = reason;
    f["retry_in_ms"] = delay;
    log::debug("delivery.retry", f);
    summarise_retry(s, f, now);
    s.retried->add(unit.event_count);
    lane.unrecorded =
        outcome_write{"reschedule", where, [this, id = unit.unit_id, at = now + delay, reason](storage::done_fn done) {
                        store.reschedule(id, at, reason, std::move(done));
                      }};
    co_await record_outcome(lane);
  }

  /** Writes `lane.unrecorded` once; on failure keeps it (the lane tries again after a backoff). */
  asio::awaitable<void> record_outcome(lane_state& lane) {
    const auto& write = lane.unrecorded->write;
    const auto ec = co_await store_done(lane, [&write](storage::done_fn done) { write(std::move(done)); });
    if (worth_retrying(ec)) {
      outcome_write w = std::move(*lane.unrecorded);
      lane.unrecorded.reset();
      outcome_failed(lane, std::move(w), ec);
      co_return;
    }
    if (lane.outcome_retry_ms > 0) {
      auto f = lane.unrecorded->where;
      f["op"] = lane.unrecorded->op;
      log::info("delivery.outcome_recorded", f);
    }
    lane.unrecorded.reset();
    lane.outcome_retry_ms = 0;
  }

  /** Keeps a failed outcome write for the lane to retry; logs the first failure of a spell. Strand-only. */
  void outcome_failed(lane_state& lane, outcome_write w, std::error_code ec) {
    if (lane.outcome_retry_ms == 0) {
      auto f = w.where;
      f["op"] = w.op;
      f["error"] = ec.message();
      log::error("delivery.outcome_write_failed", f);
      lane.outcome_retry_ms = outcome_retry_first_ms;
    } else {
      lane.outcome_retry_ms = std::min(lane.outcome_retry_ms * 2, outcome_retry_max_ms);
    }
    lane.unrecorded = std::move(w);
  }

  static void summarise_retry(sub_state& s, const nlohmann::json& attempt, std::int64_t now) {
    std::uint64_t count = 0;
    {
      std::lock_guard lock(s.retries.mutex);
      ++s.retries.since_last_warn;
      if (s.retries.last_warn_ms != 0 && now - s.retries.last_warn_ms < retry_summary_interval_ms) return;
      count = std::exchange(s.retries.since_last_warn, 0);
      s.retries.last_warn_ms = now;
    }
    log::warn("delivery.retry_summary", {{"subscription", s.cfg.name},
                                         {"retries", count},
                                         {"interval_s", retry_summary_interval_ms / 1000},
                                         {"last_reason", attempt.value("reason", "")},
                                         {"last_status", attempt.value("status", 0)}});
  }

  /** The hub itself stopped delivering to a partner: on the record like an operator's enable. */
  static std::vector<audit::entry> disabled_audit(const sub_state& s) {
    audit::entry e;
    e.time_ms = now_ms();
    e.action = "subscription.disabled";
    e.outcome = "success";
    e.actor = "schakel";
    e.actor_role = "system";
    e.purpose = "delivery operations";
    e.object_type = "subscription";
    e.object_id = s.cfg.name;
    e.access_point = s.cfg.name;
    e.detail = gone_reason;
    return {std::move(e)};
  }

  /**
   * Runs a coroutine on each lane of `s` that has none. A lane still winding down keeps its
   * coroutine: a wake-up lets it see the new state, and if it exits anyway its completion restarts it.
   */
  void resume_lanes(sub_state& s) {
    for (auto& lane : s.lanes) {
      if (!lane->active.exchange(true)) {
        start_lane(s, *lane);
      } else {
        lane_state* l = lane.get();
        asio::post(l->strand, [l] {
          l->wake_pending = true;
          l->timer.cancel();
        });
      }
    }
  }

  /** One audit record per event of the unit (NEN 7513: every disclosure, per subject). */
  std::vector<audit::entry> audit_all(const sub_state& s, const storage::delivery_unit& unit, const char* action,
                                      const char* outcome, const std::string& detail) const {
    std::vector<audit::entry> out;
    const std::int64_t now = now_ms();
    out.reserve(unit.members.size());
    for (const auto& m : unit.members) out.push_back(gate.delivery_audit(s.cfg.name, m, action, outcome, detail, now));
    return out;
  }

  /** Consent and objections as they stand today; the refused members and their audit records. */
  struct refusals {
    std::vector<std::int64_t> seqs;
    std::vector<audit::entry> audit;
    std::string reason;
  };
  refusals check_members(const sub_state& s, const storage::delivery_unit& unit) const {
    refusals out;
    const std::int64_t now = now_ms();
    for (const auto& m : unit.members) {
      const auto verdict = gate.check_delivery(s.cfg.name, m, now);
      if (verdict.allowed) continue;
      out.seqs.push_back(m.seq);
      out.audit.push_back(gate.delivery_audit(s.cfg.name, m, "delivery.dropped", "denied", verdict.reason, now));
      if (out.reason.empty()) out.reason = verdict.reason;
    }
    return out;
  }

  /** Drops what the gate now refuses; true when something was dropped (the unit is then gone). */
  asio::awaitable<bool> drop_refused(sub_state& s, lane_state& lane, const storage::delivery_unit& unit) {
    refusals r = check_members(s, unit);
    if (r.seqs.empty()) co_return false;
    const std::size_t count = r.seqs.size();
    s.dropped->add(count);
    log::info("delivery.dropped", log_fields(s.cfg.name, unit.webhook_id, count, r.reason));
    auto where = log_fields(s.cfg.name, unit.webhook_id, count, r.reason);
    where["lane"] = lane.index;
    lane.unrecorded = outcome_write{
        "drop_members", std::move(where),
        [this, id = unit.unit_id, seqs = std::move(r.seqs), reason = std::move(r.reason), audit = std::move(r.audit)](
            storage::done_fn done) { store.drop_members(id, seqs, reason, audit, std::move(done)); }};
    co_await record_outcome(lane);
    co_return true;
  }

  static nlohmann::json log_fields(const std::string& sub, const std::string& webhook_id, std::size_t count,
                                   const std::string& reason) {
    return nlohmann::json{{"subscription", sub}, {"webhook_id", webhook_id}, {"events", count}, {"reason", reason}};
  }

  asio::awaitable<void> run_lane(sub_state& s, lane_state& lane) {
    while (!stopping.load() && !s.disabled.load()) {
      if (lane.unrecorded) {
        // Wake-ups (new events) do not cut the wait short: only the store's recovery helps here.
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(lane.outcome_retry_ms);
        while (!stopping.load() && std::chrono::steady_clock::now() < until) {
          lane.timer.expires_at(until);
          co_await lane.timer.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        // Stopping leaves the unit pending in the store: the next start delivers it again (same webhook-id).
        if (stopping.load()) break;
        co_await record_outcome(lane);
        continue;
      }
      lane.wake_pending = false;
      auto [unit, next_due] = co_await on_store<std::optional<storage::delivery_unit>, std::int64_t>(
          lane,
          [&](auto complete) { store.next_unit(s.cfg.name, lane.index, now_ms(), s.batch, std::move(complete)); });
      if (unit) {
        // The store now counts this unit as in flight: finish it even when stopping, so its outcome is
        // recorded rather than left to the next start.
        const storage::delivery_unit current = std::move(*unit);
        // Consent is checked when the event leaves, not when it was queued: a withdrawal also stops
        // what is already waiting. Dropped members are gone; the rest come back as a new unit.
        if (co_await drop_refused(s, lane, current)) continue;
        co_await deliver(s, lane, current);
        continue;
      }
      if (stopping.load() || s.disabled.load()) break;
      if (lane.wake_pending) continue;
      std::int64_t wait = max_idle_wait_ms;
      if (next_due > 0) wait = std::clamp<std::int64_t>(next_due - now_ms(), min_wait_ms, max_idle_wait_ms);
      lane.timer.expires_after(std::chrono::milliseconds(wait));
      co_await lane.timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  void start_lane(sub_state& s, lane_state& lane) {
    running.fetch_add(1);
    asio::co_spawn(
        lane.strand, [self = shared_from_this(), &s, &lane]() { return self->run_lane(s, lane); },
        [self = shared_from_this(), &s, &lane, name = s.cfg.name, index = lane.index](std::exception_ptr e) {
          if (e) {
            try {
              std::rethrow_exception(e);
            } catch (const std::exception& ex) {
              log::error("delivery.lane_crashed", {{"subscription", name}, {"lane", index}, {"error", ex.what()}});
            } catch (...) {
              log::error("delivery.lane_crashed", {{"subscription", name}, {"lane", index}});
            }
          }
          lane.active = false;
          // Enabled again while this lane was winding down: it carries on instead of staying parked.
          // Not after a crash, which would only repeat itself.
          if (!e && !self->stopping.load() && !s.disabled.load() && !lane.active.exchange(true))
            self->start_lane(s, lane);
          self->lane_finished();
        });
  }
};

delivery_service::delivery_service(asio::any_io_executor ex, storage::outbox& store, const privacy::gate& gate,
                                   std::vector<config::subscription> subs, metrics::registry& metrics)
    : impl_(std::make_shared<impl>(std::move(ex), store, gate, metrics)) {
  for (auto& cfg : subs) {
    secret_error serr{};
    auto key = signing_key::parse(cfg.delivery.secret, &serr);
    if (!key) {
      throw std::invalid_argument("subscription " + cfg.name + ": delivery.secret: " + std::string(to_string(serr)));
    }
    auto s = std::make_unique<sub_state>(std::move(cfg), std::move(*key));
    const auto& d = s->cfg.delivery;
    s->batch.enabled = d.batched;
    s->batch.max_events = d.batch_max_events;
    s->batch.linger_ms = d.batch_linger.count();

    const client_options copts = client_options_of(d, destination_check_for(d.allow_destinations));
    const std::uint32_t lanes = std::max<std::uint32_t>(d.lanes, 1);
    for (std::uint32_t i = 0; i < lanes; ++i) {
      auto lane = std::make_unique<lane_state>(i, asio::make_strand(impl_->ex));
      std::string err;
      lane->client = https_client::create(lane->strand, d.url, copts, &err);
      if (!lane->client) throw std::invalid_argument("subscription " + s->cfg.name + ": delivery." + err);
      s->lanes.push_back(std::move(lane));
    }

    const metrics::labels sub_label{{"subscription", s->cfg.name}};
    auto outcome = [&](const char* o) {
      return &metrics.get_counter("schakel_deliveries_total", "Events handled by webhook delivery, by outcome",
                                  {{"subscription", s->cfg.name}, {"outcome", o}});
    };
    s->ok = outcome("ok");
    s->failed = outcome("failed");
    s->retried = outcome("retried");
    s->dead_lettered = outcome("dead_lettered");
    s->dropped = outcome("dropped");
    s->attempts = &metrics.get_counter("schakel_delivery_attempts_total", "Webhook delivery attempts", sub_label);
    s->refused_destination = &metrics.get_counter(
        "schakel_delivery_refused_destination_total",
        "Delivery attempts not made because the partner's host resolved only to refused addresses", sub_label);
    s->attempt_latency = &metrics.get_histogram("schakel_delivery_latency_seconds",
                                                "Duration of one webhook delivery attempt", sub_label);
    s->end_to_end = &metrics.get_histogram("schakel_end_to_end_latency_seconds",
                                           "Time from enqueue to successful delivery", sub_label);
    s->disabled = store.subscription_disabled(s->cfg.name);
    const sub_state* gauge_of = s.get();
    metrics.add_gauge("schakel_subscription_disabled",
                      "1 while delivery to the subscription is disabled (its partner answered 410 Gone)", sub_label,
                      [gauge_of] { return gauge_of->disabled.load() ? 1.0 : 0.0; });
    impl_->subs.push_back(std::move(s));
  }
}

delivery_service::~delivery_service() {
  // Lanes hold the impl alive; make sure they wind down even if stop() was never called.
  if (!impl_->stopping.exchange(true)) {
    for (auto& s : impl_->subs) impl_->wake_lanes(*s);
  }
}

destination_check delivery_service::destination_check_for(std::vector<net::cidr> allow) const {
  return [own = impl_->own, allow = std::move(allow)](const net::ip_address& a, std::uint16_t port) {
    net::destination_policy policy;
    policy.allow = allow;
    {
      std::lock_guard lock(own->mutex);
      policy.own_listeners = own->listeners;
      policy.local_addresses = own->local_addresses;
    }
    return net::check_destination(a, port, policy);
  };
}

void delivery_service::set_own_listeners(std::vector<net::listen_endpoint> listeners) {
  // Read once: a wildcard listener answers on every interface address this host has now.
  auto local = net::local_addresses_for(listeners);
  std::lock_guard lock(impl_->own->mutex);
  impl_->own->listeners = std::move(listeners);
  impl_->own->local_addresses = std::move(local);
}

void delivery_service::start() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->started || impl_->stopping.load()) return;
    impl_->started = true;
  }
  for (auto& s : impl_->subs) {
    if (s->disabled.load()) {
      log::warn("subscription.disabled_at_start", {{"subscription", s->cfg.name}});
      continue;
    }
    impl_->resume_lanes(*s);
  }
}

delivery_service::enable_outcome delivery_service::enable(const std::string& subscription,
                                                          std::vector<audit::entry> audit, storage::done_fn done) {
  sub_state* found = nullptr;
  for (auto& s : impl_->subs)
    if (s->cfg.name == subscription) found = s.get();
  if (found == nullptr) return enable_outcome::unknown;
  if (!impl_->store.subscription_disabled(subscription)) return enable_outcome::not_disabled;
  impl_->store.change_subscription(subscription, false, {}, std::move(audit),
                                   [self = impl_, found, done = std::move(done)](std::error_code ec) {
                                     if (!ec) {
                                       found->disabled = false;
                                       log::info("subscription.enabled", {{"subscription", found->cfg.name}});
                                       bool started = false;
                                       {
                                         std::lock_guard lock(self->mutex);
                                         started = self->started;
                                       }
                                       if (started && !self->stopping.load()) self->resume_lanes(*found);
                                     }
                                     done(ec);
                                   });
  return enable_outcome::enabling;
}

void delivery_service::notify(const std::string& subscription) {
  for (auto& s : impl_->subs) {
    if (s->cfg.name == subscription) impl_->wake_lanes(*s);
  }
}

void delivery_service::stop(std::function<void()> on_stopped) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->on_stopped = std::move(on_stopped);
    impl_->stopping = true;
  }
  for (auto& s : impl_->subs) impl_->wake_lanes(*s);
  if (impl_->running.load() == 0) impl_->fire_stopped();
}

}  // namespace schakel::delivery
