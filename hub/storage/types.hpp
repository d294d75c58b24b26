#pragma once
/**
 * What every storage role shares: the error codes, the rows that cross the interfaces, and the
 * completion type. The role interfaces (signal_log.hpp, outbox.hpp, plugin_state.hpp, registry.hpp,
 * audit_trail.hpp) and their composition `store` (store.hpp) speak only these; an engine adds none.
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
/** A completion with an answer: the engine's error, or none and the value (threading: store.hpp). */
template <class T>
using result_fn = std::function<void(std::error_code, T)>;

}  // namespace schakel::storage

template <>
struct std::is_error_code_enum<schakel::storage::storage_errc> : std::true_type {};
