#pragma once
/**
 * Webhook delivery: drains each subscription's outbox lanes and POSTs the stored units as signed
 * CloudEvents (Standard Webhooks headers), with retries, dead letters and 410-disables.
 *
 * Per (subscription, lane) one coroutine asks the store for the head unit, sends it, and records the
 * outcome before asking again, so events of one lane arrive in order and at most one is in flight.
 *
 * Outcomes of one attempt:
 * - 2xx: `mark_delivered`.
 * - 410 Gone: the subscription is disabled in the store (with the reason and an audit record, logged
 *   once as `subscription.disabled`) and all its lanes stop; the unit is released (rescheduled) and
 *   stays pending, and what is routed to the subscription meanwhile is queued too. It stays disabled
 *   across restarts until an operator enables it (`enable`), and then the partner receives everything
 *   it missed, in order.
 * - other status or a transport error: dead letter when this was attempt `max_attempts` or the unit
 *   is older than `max_age`, otherwise `reschedule` after a backoff.
 *
 * Recording an outcome: the store keeps a unit in flight, and hands out nothing more on its lane,
 * until its outcome is written. A write that fails (disk full, I/O error) is logged once as
 * `delivery.outcome_write_failed` and written again after 100 ms, doubling up to 2 s, until it
 * commits (`delivery.outcome_recorded`); the partner is not sent the event again for it.
 *
 * Backoff: full jitter, uniform in [0, min(max_backoff, initial_backoff * 2^(attempt-1))]. A
 * `Retry-After` from the partner raises the delay to at least that value, but never above
 * `max_backoff`: a partner cannot park our queue longer than we configured, and max_age stays the
 * bound on how long an event can wait.
 *
 * Metrics (label `subscription`):
 * - `schakel_deliveries_total{outcome}` counts events (not units): `ok` delivered, `retried` failed
 *   and rescheduled, `dead_lettered` failed for good, `failed` refused by a 410 (left pending),
 *   `dropped` refused by the privacy gate at delivery time (consent withdrawn, objection).
 *
 * Privacy: before each attempt every event of the unit is checked again at the gate (consent and
 * objections on the day of delivery); refused events are dropped and audited in one transaction,
 * the rest form a new unit. Delivered and dead-lettered events are audited with their outcome.
 * - `schakel_subscription_disabled` is 1 while the subscription is disabled, else 0.
 * - `schakel_delivery_refused_destination_total` counts attempts the destination guard stopped: the
 *   partner's host resolved only to addresses the subscription may not reach (private, loopback,
 *   link-local, the hub's own listener, ...; docs/configuration.md). Nothing is sent; the attempt
 *   fails like a transport error (logged once per attempt as `delivery.destination_refused`),
 *   so it is retried with backoff, since DNS may be corrected, and dead-lettered after max_attempts
 *   or max_age like any other failure.
 * - `schakel_delivery_attempts_total`, `schakel_delivery_latency_seconds` (one attempt),
 *   `schakel_end_to_end_latency_seconds` (enqueue to successful delivery).
 *
 * Logs name the subscription, webhook id, status and attempt number; never body content.
 *
 * Threading: construct and call from any thread; lanes run on strands of `ex`; store completions
 * are re-posted onto those strands.
 */
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "config/config.hpp"
#include "delivery/https_client.hpp"
#include "metrics/metrics.hpp"
#include "privacy/gate.hpp"
#include "storage/outbox.hpp"

namespace schakel::delivery {

class delivery_service {
 public:
  /**
   * Parses every subscription's secret and URL once. Throws std::invalid_argument naming the
   * subscription and the problem when one is unusable (configuration validation should have caught
   * it earlier; this is start-up, not the data path).
   */
  delivery_service(boost::asio::any_io_executor ex, storage::outbox& store, const privacy::gate& gate,
                   std::vector<config::subscription> subs, metrics::registry& metrics);
  ~delivery_service();
  delivery_service(const delivery_service&) = delete;
  delivery_service& operator=(const delivery_service&) = delete;

  /**
   * The sockets the hub listens on (bound ports, not 0): no subscription delivers to them, whatever
   * it allowlists. Any thread; later connection attempts use the new list.
   */
  void set_own_listeners(std::vector<net::listen_endpoint> listeners);

  /**
   * The destination check of a webhook with allowlist `allow`, kept current with the listeners set
   * above: for another sender (the audit witness) that must obey the same rules as the lanes.
   */
  destination_check destination_check_for(std::vector<net::cidr> allow) const;

  /** Starts one coroutine per (subscription, lane); subscriptions disabled in the store are skipped. */
  void start();

  enum class enable_outcome {
    enabling,      ///< the change is being stored; `done` runs once it is durable and lanes resumed
    unknown,       ///< no subscription of that name; `done` is not called
    not_disabled,  ///< it is not disabled; `done` is not called
  };
  /**
   * Enables a disabled subscription: stores the change with `audit` in one transaction, then resumes
   * its lanes and logs `subscription.enabled`. `done` runs on the store's thread. Any thread.
   */
  enable_outcome enable(const std::string& subscription, std::vector<audit::entry> audit, storage::done_fn done);

  /** New items were appended for `subscription`: wake its idle lanes. Unknown names are ignored. */
  void notify(const std::string& subscription);

  /**
   * Stops taking units; attempts in flight finish (bounded by the request timeout) and record their
   * outcome in the store, then `on_stopped` runs once (on the service's executor). An outcome the
   * store keeps refusing is not waited for: its unit is pending again at the next start and is
   * delivered again under the same webhook-id. The service must outlive that callback.
   */
  void stop(std::function<void()> on_stopped);

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace schakel::delivery
