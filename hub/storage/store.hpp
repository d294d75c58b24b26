#pragma once
/**
 * Storage interfaces: the signal log, the per-subscription outbox with dead letters, and plugin state.
 * The core speaks only to these; the SQLite engine (sqlite_store.hpp) is the embedded default and a
 * NATS JetStream engine can implement the same contract later.
 *
 * Threading contract: every method may be called from any thread. Methods taking a completion run
 * it on the store's own thread once the work is durable (or failed); the caller re-posts to its own
 * executor. Nothing here blocks a network thread.
 */
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include "audit/audit.hpp"

namespace schakel::storage {

/**
 * Why a storage operation failed; completions receive these as std::error_code (category
 * storage_category(), name "schakel.storage"). Messages never contain record content.
 */
enum class storage_errc {
  closed = 1,        ///< the store was closed; nothing was written
  not_found,         ///< no live (not delivered, not dead-lettered) unit with that id
  invalid_argument,  ///< a required field is empty (signal id, subscription, event body, ...)
  duplicate,         ///< a uniqueness constraint failed, e.g. a signal id that is already stored
  busy,              ///< the database stayed locked beyond busy_timeout
  disk_full,         ///< the disk or the database size limit is full
  io_error,          ///< reading, writing or syncing the database file failed; nothing of the job is stored
  corrupt,           ///< the file is not a database or is damaged
  schema_too_new,    ///< the database was written by a newer Schakel (PRAGMA user_version)
  internal,          ///< any other engine failure (see the log for the engine's message)
};

const std::error_category& storage_category() noexcept;
std::error_code make_error_code(storage_errc e) noexcept;

/**
 * Diagnostics of an engine, for tests, benchmarks and metrics; not part of the data path. An engine
 * that keeps none returns zeros.
 */
struct store_stats {
  std::uint64_t commits = 0;        ///< write transactions committed (each one fsync with synchronous=FULL)
  std::uint64_t jobs = 0;           ///< queued operations run (appends, next_unit, mark_delivered, ...)
  std::uint64_t failed_jobs = 0;    ///< operations that completed with an error
  std::uint64_t largest_group = 0;  ///< most jobs that shared one transaction (group commit)
  std::uint64_t queued_jobs = 0;    ///< operations waiting for the store thread right now
};

/** One validated signal, serialised as its JSON text (schema v1). */
struct signal_row {
  std::string id;        ///< ULID, primary key
  std::string type;      ///< e.g. nl.schakel.attendance.absence.recorded
  std::string instance;  ///< connector instance that produced it
  std::string json;      ///< the whole signal document
};

/** One rendered event waiting for one subscription. */
struct outbox_item {
  std::string subscription;
  std::string signal_id;
  std::uint32_t lane = 0;  ///< ordering lane: hash(student key) % lanes; one lane is FIFO
  std::string event_json;  ///< the CloudEvent as delivered (already filtered by the privacy gate)
  // What the privacy gate checks again at delivery time (consent, objections) and the audit records;
  // never content. subject_ref is the hub's keyed pseudonym ("" for class-level signals).
  std::string signal_type;
  std::string subject_ref;
  std::string data_category;  ///< ordinary | health
  /// The webhook-id its delivery carries when sent alone, as the privacy gate chose it for this
  /// partner; "" for the engine's `msg_<signal id>_<subscription tag>`. A batch is named after its
  /// members': "msg_b" + 32 hex digits of SHA-256 over their webhook ids, in order.
  std::string webhook_id;
};

/** One event inside a delivery unit, as the privacy gate and the audit see it. */
struct unit_member {
  std::int64_t seq = 0;  ///< outbox row
  std::string signal_id;
  std::string signal_type;
  std::string subject_ref;
  std::string data_category;
};

/**
 * A unit of delivery: one event, or a batch of events formed once and stored, so that a retry sends
 * byte-identical content under the same webhook id.
 */
struct delivery_unit {
  std::int64_t unit_id = 0;
  std::string subscription;
  std::uint32_t lane = 0;
  std::string webhook_id;
  std::string content_type;  ///< application/cloudevents+json or application/cloudevents-batch+json
  std::string body;
  std::uint32_t attempts = 0;   ///< attempts already made
  std::int64_t created_ms = 0;  ///< when the oldest member was enqueued
  std::size_t event_count = 1;
  std::vector<unit_member> members;  ///< event_count entries, in body order
};

struct dead_letter {
  std::int64_t unit_id = 0;
  std::string subscription;
  std::string webhook_id;
  std::size_t event_count = 1;
  std::uint32_t attempts = 0;
  std::int64_t created_ms = 0;
  std::int64_t dead_at_ms = 0;
  std::string reason;  ///< never contains event content: status codes and transport errors only
};

/**
 * What an operator sees of one subscription's delivery (`schakel subscriptions list`). Times are Unix
 * ms, 0 when there is none. Never content: errors are a status code and a short reason.
 */
struct subscription_status {
  bool disabled = false;
  std::int64_t disabled_since_ms = 0;
  std::string disabled_reason;         ///< e.g. "HTTP 410 Gone"
  std::int64_t depth = 0;              ///< events neither delivered, dead-lettered nor dropped
  std::int64_t oldest_pending_ms = 0;  ///< when the oldest of those was enqueued
  std::int64_t last_success_ms = 0;    ///< the last delivery the partner accepted
  std::int64_t last_error_ms = 0;      ///< the last attempt that failed (retried, dead-lettered or 410)
  std::string last_error;
};

/** One plugin-state change committed together with an append (see store::append_with_state). */
struct state_write {
  std::string ns;
  std::string key;
  std::string value;
  bool erase = false;  ///< true: remove the key (value ignored)
};

/** A stored signal with its position in the log (strictly increasing in commit order). */
struct logged_signal {
  std::int64_t seq = 0;
  std::string id;
  std::string type;
  std::string instance;
  std::string json;
};

/** One consent, withdrawal or objection as recorded (privacy/consent.hpp gives `json` its meaning). */
struct consent_row {
  std::int64_t id = 0;      ///< assigned by the store, increasing in recording order
  std::string subject_ref;  ///< hub pseudonym of the student
  std::int64_t recorded_ms = 0;
  std::string json;  ///< the record (no student key: subject_ref stands for it)
};

/**
 * A link from a JGZ report's identifier to the school's student (docs/linking.md). `link_hash` is the
 * hub's keyed hash of the BSN: the BSN itself is never stored.
 */
struct student_link {
  std::string link_hash;
  std::string brin;
  std::string vestiging;  ///< may be empty
  std::string student_key;
  std::int64_t recorded_ms = 0;
};

/** A normalised signal that could not be linked yet: kept out of the log and the outboxes until it can. */
struct parked_signal {
  std::string id;  ///< the signal id it will have in the log
  std::string type;
  std::string instance;
  std::string plugin;
  std::string link_hash;  ///< what it waits for (also in its subject.student_key)
  std::int64_t received_ms = 0;
  std::string json;  ///< the normalised signal, BSN already replaced by the hash
};

/**
 * What the log holds of one source record, found by (connector instance, source.record_id): for a
 * deletion that names only the record id, which the hub completes from the stored record.
 */
struct stored_record {
  enum class state {
    found,   ///< `json` is the latest signal stored with that record id
    purged,  ///< retention removed every signal with that record id
    unknown  ///< no signal with that record id was ever stored for the instance
  };
  state what = state::unknown;
  std::string json;
};

/** Retention: how long signals of matching types are kept, and the audit trail. */
struct retention_rule {
  std::string type_pattern;  ///< exact type or prefix ending in '*'
  std::int64_t days = 0;
};
struct retention_plan {
  std::vector<retention_rule> rules;  ///< first match wins
  std::int64_t default_days = 0;      ///< 0 = keep signals no rule matches
  std::int64_t audit_days = 1826;     ///< 5 years
  /// Signals at or after this log position are kept whatever their age (processors not past them yet).
  std::int64_t keep_from_seq = INT64_MAX;
};
struct purge_result {
  std::int64_t signals = 0;  ///< signals removed (with their finished outbox rows)
  std::int64_t parked = 0;   ///< parked reports never linked within their type's retention
  std::int64_t audit_records = 0;
};

/** Where a purge of the audit trail left the chain: verification starts here. */
struct audit_anchor {
  std::int64_t next_seq = 1;
  std::string prev_hash;        ///< audit::genesis_hash() when nothing was purged
  std::int64_t keyed_from = 0;  ///< first keyed seq (audit::chain_keying); 0 while the chain is plain
};

/** The last committed audit record (or, with none left, where the anchor says the chain stands). */
struct audit_head {
  std::int64_t seq = 0;  ///< 0: an empty chain
  std::string hash;
  std::int64_t keyed_from = 0;  ///< as audit_anchor::keyed_from, read with the head
};

/** How a subscription's pending events are grouped into delivery units. */
struct batching {
  bool enabled = false;
  std::size_t max_events = 100;
  std::int64_t linger_ms = 200;
};

using done_fn = std::function<void(std::error_code)>;

class store {
 public:
  virtual ~store() = default;

  /**
   * Appends signals and their outbox items in one transaction. `done` runs after the transaction is
   * on disk (fsync'd). Many concurrent appends share one commit (group commit).
   */
  virtual void append(std::vector<signal_row> signals, std::vector<outbox_item> items, done_fn done) = 0;

  /**
   * As append, and in the same transaction the state changes: what makes a drop-folder file's "already
   * ingested" mark, or a processor's derived signals, state and log position, all-or-nothing.
   */
  virtual void append_with_state(std::vector<signal_row> signals, std::vector<outbox_item> items,
                                 std::vector<state_write> state, done_fn done) = 0;

  /**
   * Up to `limit` signals stored after position `after_seq`, in log order (seq ascending). Blocking;
   * for processors, which follow the log from a committed position.
   */
  virtual std::vector<logged_signal> read_signals_after(std::int64_t after_seq, std::size_t limit) = 0;

  /**
   * The stored record of each (instance, record id) in `record_ids`: one answer per id, in order,
   * through `done` on the store's thread (the caller re-posts). Sees everything committed before and,
   * when `staged_unit` is not empty, the parts staged under that key (stage_part), newest first.
   * Whether retention purged a record is known for as long again as the record was kept (its type's
   * retention); after that a purged id reads as unknown. An engine without the lookup fails with
   * std::errc::function_not_supported (so the hub answers "retry later", never "unknown").
   */
  virtual void find_records(std::string instance, std::vector<std::string> record_ids, std::string staged_unit,
                            std::function<void(std::error_code, std::vector<stored_record>)> done) {
    (void)instance;
    (void)record_ids;
    (void)staged_unit;
    if (done) done(std::make_error_code(std::errc::function_not_supported), {});
  }

  /** A stored signal's JSON, or nullopt. Blocking; not for network threads. */
  virtual std::optional<std::string> get_signal(const std::string& id) = 0;
  virtual std::int64_t signal_count() = 0;

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

  /** Appends audit records on their own (consent changes, admin reads, replays). */
  virtual void append_audit(std::vector<audit::entry> audit, done_fn done) = 0;
  /**
   * Calls `fn` for each audit record with from_ms <= time_ms < to_ms, in seq order; the whole trail
   * with (INT64_MIN, INT64_MAX). Blocking (reads a snapshot); returns false when `fn` stopped early.
   */
  virtual bool read_audit(std::int64_t from_ms, std::int64_t to_ms,
                          const std::function<bool(const audit::record&)>& fn) = 0;
  /** Where the chain starts after retention purges. Blocking. */
  virtual audit_anchor read_audit_anchor() = 0;
  /** The head a signed checkpoint vouches for; nullopt from a store that keeps no audit trail. */
  virtual std::optional<audit_head> read_audit_head() { return std::nullopt; }

  /** Records a consent/withdrawal/objection with its audit record in one transaction; `done` gets the id. */
  virtual void append_consent(consent_row row, std::vector<audit::entry> audit,
                              std::function<void(std::error_code, std::int64_t id)> done) = 0;
  /** Every consent row in recording order. Blocking; at start-up (the registry then keeps them in memory). */
  virtual std::vector<consent_row> load_consents() = 0;

  /**
   * Removes signals past their retention (by received time and type) that no outbox row still waits
   * for, and audit records older than audit_days (keeping the chain anchor). Blocking; run from a
   * timer, not a network thread.
   */
  // ---- linking JGZ reports (docs/linking.md) ----
  /** append_with_state() plus signals that wait for a link, in the same transaction (on disk before `done`). */
  virtual void append_with_parked(std::vector<signal_row> signals, std::vector<outbox_item> items,
                                  std::vector<state_write> state, std::vector<parked_signal> parked, done_fn done) = 0;
  /**
   * Records (or replaces) a link with its audit records; `done` gets the parked signals waiting for
   * that hash, still parked: the caller routes them and calls unpark().
   */
  virtual void record_link(student_link link, std::vector<audit::entry> audit,
                           std::function<void(std::error_code, std::vector<parked_signal>)> done) = 0;
  virtual std::vector<student_link> load_links() = 0;
  /** Moves parked signals into the log with their outbox items, in one transaction. */
  virtual void unpark(std::vector<std::string> parked_ids, std::vector<signal_row> signals,
                      std::vector<outbox_item> items, done_fn done) = 0;
  /** Every parked signal, oldest first. */
  virtual std::vector<parked_signal> list_parked() = 0;

  virtual purge_result purge(const retention_plan& plan, std::int64_t now_ms) = 0;
  /** Disables a subscription (410 Gone); its pending units stay but are no longer handed out. */
  virtual void set_subscription_disabled(const std::string& subscription, bool disabled, done_fn done) = 0;
  virtual bool subscription_disabled(const std::string& subscription) = 0;
  /**
   * Disables (with why, e.g. "HTTP 410 Gone") or enables a subscription and appends `audit` in the
   * same transaction. Disabling keeps the pending units: enabling hands them out again, in order.
   * The default (engines without their own) runs the two steps one after the other.
   */
  virtual void change_subscription(const std::string& subscription, bool disabled, std::string reason,
                                   std::vector<audit::entry> audit, done_fn done) {
    (void)reason;
    set_subscription_disabled(subscription, disabled,
                              [this, audit = std::move(audit), done = std::move(done)](std::error_code ec) mutable {
                                if (ec || audit.empty()) return done(ec);
                                append_audit(std::move(audit), std::move(done));
                              });
  }
  /** The operator's view of one subscription. Blocking (reads); not for network threads' hot paths. */
  virtual subscription_status read_subscription_status(const std::string& subscription) {
    subscription_status s;
    s.disabled = subscription_disabled(subscription);
    s.depth = outbox_depth(subscription);
    return s;
  }

  virtual std::vector<dead_letter> list_dead_letters(const std::string& subscription_or_empty) = 0;
  /**
   * Puts a dead letter back at the head of its lane with fresh attempts. Returns its subscription
   * (so the caller can wake that subscription's delivery), or nullopt when no such dead letter exists.
   */
  virtual std::optional<std::string> replay_dead_letter(std::int64_t unit_id) = 0;

  /** Events not yet delivered nor dead-lettered, per subscription (kept in memory, O(1)). */
  virtual std::int64_t outbox_depth(const std::string& subscription) = 0;
  virtual std::int64_t outbox_depth_total() = 0;

  /** Plugin state: a key-value map per plugin instance. Blocking; small values. */
  virtual std::optional<std::string> state_get(const std::string& ns, const std::string& key) = 0;
  /**
   * As state_get, telling "absent" from "could not read": `error` is set when the engine failed.
   * A processor that took a failed read for "no state" would start a student afresh and repeat
   * alerts, so the processor runner abandons such a batch instead.
   */
  virtual std::optional<std::string> state_get_checked(const std::string& ns, const std::string& key,
                                                       std::error_code& error) {
    error.clear();
    return state_get(ns, key);
  }
  virtual void state_put(const std::string& ns, const std::string& key, const std::string& value) = 0;

  /** Drains queued work and stops the store thread; later calls complete with an error. */
  virtual void close() = 0;

  /** Diagnostic counters (see store_stats); cheap, callable from any thread. */
  virtual store_stats stats() { return {}; }

  // ---- a large unit staged in parts (a drop-folder file; docs/drop-folder.md) ----
  /**
   * Adds one part of the unit `key` (a file's digest) to its staging area: durable for as long as
   * this store is open, invisible to every reader (log, outboxes, parked reports, counters) and gone
   * after a crash or restart. Parts are published in the order they were staged. An engine without
   * staging completes with std::errc::operation_not_supported (this default).
   */
  virtual void stage_part(const std::string& key, std::vector<signal_row> signals, std::vector<outbox_item> items,
                          std::vector<parked_signal> parked, done_fn done) {
    (void)key, (void)signals, (void)items, (void)parked;
    if (done) done(std::make_error_code(std::errc::operation_not_supported));
  }
  /**
   * Moves everything staged under `key` into the log, the outboxes and the parked reports, together
   * with `state` (the file's digest mark), in one transaction: readers see all of it or nothing.
   * `progress` (may be empty) runs on the store thread with the number of signals moved so far.
   * The staging area of `key` is empty after a commit; after a failure it stays until discard_staged().
   */
  virtual void publish_staged(const std::string& key, std::vector<state_write> state,
                              std::function<void(std::size_t moved)> progress, done_fn done) {
    (void)key, (void)state, (void)progress;
    if (done) done(std::make_error_code(std::errc::operation_not_supported));
  }
  /** Forgets what is staged under `key` (a unit given up, or a leftover of an earlier attempt). */
  virtual void discard_staged(const std::string& key, done_fn done) {
    (void)key;
    if (done) done({});
  }
};

struct sqlite_options {
  std::string path;                   ///< the database file; its WAL sits beside it
  std::size_t max_batch_jobs = 4096;  ///< jobs folded into one transaction at most
  /// The audit key (keys_dir, never the database). Given: a plain chain gets its marker on open and
  /// every new record is HMAC-keyed. Empty: read-only use (audit verify); appending to a keyed chain fails.
  std::string audit_key = {};
};

/**
 * Opens (creating if needed) the embedded SQLite engine in WAL mode with synchronous=FULL, migrating
 * an older schema. Throws std::system_error (storage_errc, message naming the path and the engine's
 * reason) when the file cannot be opened or migrated: a start-up failure, never on the data path.
 * Engine-specific behaviour is described in docs/storage.md.
 */
std::unique_ptr<store> open_sqlite_store(const sqlite_options& options);

}  // namespace schakel::storage

template <>
struct std::is_error_code_enum<schakel::storage::storage_errc> : std::true_type {};
