#pragma once
/**
 * The outboxes: per subscription and lane, the events waiting for delivery, formed into delivery
 * units; their outcomes, the dead letters, and whether a subscription is disabled (next_unit consults
 * it on every call, so it lives with the units it holds back). The delivery service is its writer.
 * Threading: as store.hpp. Transactions per operation: docs/storage.md, "Roles".
 *
 * Two types: async_outbox is what a request handler gets (every operation completes later, or reads
 * a counter held in memory); outbox adds the blocking forms (docs/storage.md, "Who may block").
 */
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "audit/audit.hpp"
#include "storage/types.hpp"

namespace schakel::storage {

class async_outbox {
 public:
  virtual ~async_outbox() = default;

  /**
   * The head unit of (subscription, lane) if it is due at `now_ms`; forms and persists a batch when
   * batching is enabled (only when max_events are pending or the oldest waited linger_ms).
   * Per lane, units are handed out strictly in order and only one at a time: the next call returns
   * nothing until the previous unit is delivered, rescheduled or dead-lettered.
   * `cb` receives the unit, or nullopt plus the time (ms) of the next due unit (0 = none pending).
   * 0 is also the answer while a unit of the lane is in flight (its completion is the next event) or
   * the subscription is disabled; after an engine failure the answer is nullopt with now_ms + 1000.
   * Units in flight are tracked in memory only: after a restart every one of them is pending again.
   */
  virtual void next_unit(const std::string& subscription, std::uint32_t lane, std::int64_t now_ms,
                         const batching& batch,
                         std::function<void(std::optional<delivery_unit>, std::int64_t next_due_ms)> cb) = 0;

  /** Delivery outcomes; `audit` records are appended in the same transaction as the outcome. */
  virtual void mark_delivered(std::int64_t unit_id, std::vector<audit::entry> audit, done_fn done) = 0;
  virtual void reschedule(std::int64_t unit_id, std::int64_t next_attempt_ms, std::string last_error, done_fn done) = 0;
  virtual void move_to_dead_letters(std::int64_t unit_id, std::string reason, std::vector<audit::entry> audit,
                                    done_fn done) = 0;
  /**
   * The privacy gate refused some members of a handed-out unit at delivery time (consent withdrawn,
   * objection): those outbox rows are marked dropped with `reason` (they leave the depth and are never
   * sent); the other members go back to the head of their lane, so a batch is formed afresh without
   * them (new webhook id: the content changed). All in one transaction with `audit`.
   */
  virtual void drop_members(std::int64_t unit_id, std::vector<std::int64_t> member_seqs, std::string reason,
                            std::vector<audit::entry> audit, done_fn done) = 0;

  /** Disables a subscription (410 Gone); its pending units stay but are no longer handed out. */
  virtual void set_subscription_disabled(const std::string& subscription, bool disabled, done_fn done) = 0;
  /**
   * Disables (with why, e.g. "HTTP 410 Gone") or enables a subscription and appends `audit` in the
   * same transaction. Disabling keeps the pending units: enabling hands them out again, in order.
   * `store` gives engines without their own a default that runs the two steps one after the other
   * (it needs the audit trail, another role).
   */
  virtual void change_subscription(const std::string& subscription, bool disabled, std::string reason,
                                   std::vector<audit::entry> audit, done_fn done) = 0;

  /** The operator's view of one subscription, through `done` on an engine thread. */
  virtual void read_subscription_status(const std::string& subscription, result_fn<subscription_status> done) = 0;
  /** The dead letters of one subscription (or of all with ""), newest first, through `done`. */
  virtual void list_dead_letters(const std::string& subscription_or_empty,
                                 result_fn<std::vector<dead_letter>> done) = 0;
  /**
   * Puts a dead letter back at the head of its lane with fresh attempts, committed before `done`,
   * which gets its subscription (so the caller can wake that subscription's delivery), or nullopt
   * when no such dead letter exists.
   */
  virtual void replay_dead_letter(std::int64_t unit_id, result_fn<std::optional<std::string>> done) = 0;

  // Counters kept in memory (any engine): they never wait, so a request may read them.
  virtual bool subscription_disabled(const std::string& subscription) = 0;
  /** Events not yet delivered nor dead-lettered, per subscription (O(1)). */
  virtual std::int64_t outbox_depth(const std::string& subscription) = 0;
  virtual std::int64_t outbox_depth_total() = 0;
};

/**
 * The outboxes with the blocking forms of their reads and replay: for background threads, the CLI
 * and tests. The completion forms default to them, for engines whose reads never wait (a fake in
 * memory): such a default answers at once, on the caller's thread.
 */
class outbox : public async_outbox {
 public:
  using async_outbox::list_dead_letters;
  using async_outbox::read_subscription_status;
  using async_outbox::replay_dead_letter;

  /** The operator's view of one subscription. Blocking (reads); not for network threads. */
  virtual subscription_status read_subscription_status(const std::string& subscription) {
    subscription_status s;
    s.disabled = subscription_disabled(subscription);
    s.depth = outbox_depth(subscription);
    return s;
  }
  /** As the completion form. Blocking (reads). */
  virtual std::vector<dead_letter> list_dead_letters(const std::string& subscription_or_empty) = 0;
  /** As the completion form. Blocking: waits for the commit. */
  virtual std::optional<std::string> replay_dead_letter(std::int64_t unit_id) = 0;

  void read_subscription_status(const std::string& subscription, result_fn<subscription_status> done) override {
    done({}, read_subscription_status(subscription));
  }
  void list_dead_letters(const std::string& subscription_or_empty, result_fn<std::vector<dead_letter>> done) override {
    done({}, list_dead_letters(subscription_or_empty));
  }
  void replay_dead_letter(std::int64_t unit_id, result_fn<std::optional<std::string>> done) override {
    done({}, replay_dead_letter(unit_id));
  }
};

}  // namespace schakel::storage
