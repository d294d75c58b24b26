// The embedded engine: one SQLite file in WAL mode, one store thread owning the write connection and
// folding every queued job into one transaction (group commit), a mutex-guarded read connection for
// the blocking reads. Design and durability promise: docs/storage.md.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "common/encoding.hpp"
#include "common/log.hpp"
#include "common/signal.hpp"
#include "storage/sqlite_db.hpp"
#include "storage/store.hpp"

namespace schakel::storage {
namespace {

using detail::connection;
using detail::from_sqlite;
using detail::statement;

constexpr int current_schema = 7;
constexpr std::string_view single_content_type = "application/cloudevents+json";
constexpr std::string_view batch_content_type = "application/cloudevents-batch+json";
constexpr std::size_t max_error_text = 1024;   // last_error / dead reason: status lines, not documents
constexpr std::int64_t error_retry_ms = 1000;  // next_due offered after a failed next_unit
constexpr std::size_t max_outcome_text = 200;  // a status and a short reason, for the operator's list

// Schema migrations: entry i brings user_version i to i + 1, each in its own transaction.
constexpr const char* migrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE signals (
  id        TEXT    NOT NULL UNIQUE,
  type      TEXT    NOT NULL,
  instance  TEXT    NOT NULL,
  stored_ms INTEGER NOT NULL,
  json      TEXT    NOT NULL
);
CREATE TABLE outbox (
  unit_id         INTEGER PRIMARY KEY AUTOINCREMENT,
  subscription    TEXT    NOT NULL,
  lane            INTEGER NOT NULL,
  seq             INTEGER NOT NULL,
  is_batch        INTEGER NOT NULL DEFAULT 0,
  batch_id        INTEGER,
  signal_id       TEXT,
  webhook_id      TEXT    NOT NULL,
  body            TEXT    NOT NULL,
  event_count     INTEGER NOT NULL DEFAULT 1,
  created_ms      INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT,
  formed          INTEGER NOT NULL DEFAULT 0,
  dead_at_ms      INTEGER,
  dead_reason     TEXT
);
CREATE INDEX outbox_lane ON outbox (subscription, lane, seq) WHERE dead_at_ms IS NULL AND batch_id IS NULL;
CREATE INDEX outbox_members ON outbox (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX outbox_dead ON outbox (dead_at_ms) WHERE dead_at_ms IS NOT NULL;
CREATE TABLE disabled_subscriptions (
  subscription TEXT PRIMARY KEY NOT NULL,
  since_ms     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE state (
  ns         TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  value      BLOB    NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (ns, key)
) WITHOUT ROWID;
)sql",
    // 1 -> 2: the log position becomes an explicit INTEGER PRIMARY KEY. A bare rowid may be renumbered
    // by VACUUM, and processors keep their position in the log as a number that must never move.
    R"sql(
CREATE TABLE signals_v2 (
  seq       INTEGER PRIMARY KEY,
  id        TEXT    NOT NULL UNIQUE,
  type      TEXT    NOT NULL,
  instance  TEXT    NOT NULL,
  stored_ms INTEGER NOT NULL,
  json      TEXT    NOT NULL
);
INSERT INTO signals_v2 (seq, id, type, instance, stored_ms, json)
  SELECT rowid, id, type, instance, stored_ms, json FROM signals ORDER BY rowid;
DROP TABLE signals;
ALTER TABLE signals_v2 RENAME TO signals;
)sql",
    // 2 -> 3: the privacy gate. Outbox rows carry what the gate re-checks at delivery time and may be
    // dropped (consent withdrawn); the hash-chained audit trail with its retention anchor; consents.
    // Retention ages signals by stored_ms, which every schema already has.
    R"sql(
ALTER TABLE outbox ADD COLUMN signal_type   TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN subject_ref   TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN data_category TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN dropped_at_ms INTEGER;
ALTER TABLE outbox ADD COLUMN drop_reason   TEXT;
UPDATE outbox SET signal_type = coalesce((SELECT type FROM signals WHERE signals.id = outbox.signal_id), '')
  WHERE signal_id IS NOT NULL;
DROP INDEX IF EXISTS outbox_lane;
CREATE INDEX outbox_lane ON outbox (subscription, lane, seq)
  WHERE dead_at_ms IS NULL AND batch_id IS NULL AND dropped_at_ms IS NULL;
CREATE INDEX outbox_signal ON outbox (signal_id) WHERE signal_id IS NOT NULL;
CREATE TABLE audit_log (
  seq       INTEGER PRIMARY KEY,
  time_ms   INTEGER NOT NULL,
  text      TEXT    NOT NULL,
  prev_hash TEXT    NOT NULL,
  hash      TEXT    NOT NULL
);
CREATE INDEX audit_time ON audit_log (time_ms);
CREATE TABLE audit_anchor (
  id        INTEGER PRIMARY KEY CHECK (id = 1),
  next_seq  INTEGER NOT NULL,
  prev_hash TEXT    NOT NULL
);
INSERT INTO audit_anchor (id, next_seq, prev_hash)
  VALUES (1, 1, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TABLE consents (
  id          INTEGER PRIMARY KEY,
  subject_ref TEXT    NOT NULL,
  recorded_ms INTEGER NOT NULL,
  json        TEXT    NOT NULL
);
)sql",
    // 3 -> 4: linking JGZ reports (docs/linking.md). Links by the hub's keyed hash of a BSN, and the
    // signals that wait for one: stored before the source's answer, outside the log until linked.
    R"sql(
CREATE TABLE student_links (
  link_hash   TEXT    PRIMARY KEY NOT NULL,
  brin        TEXT    NOT NULL,
  vestiging   TEXT    NOT NULL,
  student_key TEXT    NOT NULL,
  recorded_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE parked_signals (
  seq         INTEGER PRIMARY KEY,
  id          TEXT    NOT NULL UNIQUE,
  type        TEXT    NOT NULL,
  instance    TEXT    NOT NULL,
  plugin      TEXT    NOT NULL,
  link_hash   TEXT    NOT NULL,
  received_ms INTEGER NOT NULL,
  json        TEXT    NOT NULL
);
CREATE INDEX parked_by_link ON parked_signals (link_hash);
)sql",
    // 4 -> 5: an operator can see why and since when a subscription is disabled, and when its partner
    // last accepted or refused a delivery, also after a restart.
    R"sql(
ALTER TABLE disabled_subscriptions ADD COLUMN reason TEXT NOT NULL DEFAULT '';
CREATE TABLE subscription_outcomes (
  subscription    TEXT PRIMARY KEY NOT NULL,
  last_success_ms INTEGER NOT NULL DEFAULT 0,
  last_error_ms   INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;
)sql",
    // 5 -> 6: a deletion that names only the source's record id is completed from the stored record,
    // found by (instance, source.record_id). Purged records leave a tombstone (a hash of the id, never
    // the record) for a while, so such a deletion can be told "purged" rather than "never seen".
    R"sql(
CREATE INDEX signals_by_record ON signals (instance, json_extract(json, '$.source.record_id'))
  WHERE json_extract(json, '$.source.record_id') IS NOT NULL;
CREATE TABLE purged_records (
  instance    TEXT    NOT NULL,
  record_hash TEXT    NOT NULL,
  until_ms    INTEGER NOT NULL,
  PRIMARY KEY (instance, record_hash)
) WITHOUT ROWID;
)sql",
    // 6 -> 7: where the keyed part of the audit chain starts (0: not keyed yet). Kept with the anchor
    // so it outlives the marker record when retention purges it; signed checkpoints vouch for it.
    R"sql(
ALTER TABLE audit_anchor ADD COLUMN keyed_from INTEGER NOT NULL DEFAULT 0;
)sql",
};
static_assert(std::size(migrations) == current_schema);

// A drop file's parts until it is published (store::stage_part). TEMP tables live only on the writer
// connection: no reader, processor or delivery ever sees them, and a crash or restart discards them, so
// no migration and no clean-up at start. With temp_store = FILE they spill to a temp file, so a large
// file costs disk, not memory.
constexpr const char* staging_schema = R"sql(
CREATE TEMP TABLE staged_signals (
  seq INTEGER PRIMARY KEY, unit TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, instance TEXT NOT NULL,
  json TEXT NOT NULL
);
CREATE INDEX temp.staged_signals_unit ON staged_signals (unit, seq);
CREATE INDEX temp.staged_signals_record ON staged_signals (unit, json_extract(json, '$.source.record_id'))
  WHERE json_extract(json, '$.source.record_id') IS NOT NULL;
CREATE TEMP TABLE staged_outbox (
  seq INTEGER PRIMARY KEY, unit TEXT NOT NULL, subscription TEXT NOT NULL, signal_id TEXT NOT NULL,
  lane INTEGER NOT NULL, event_json TEXT NOT NULL, signal_type TEXT NOT NULL, subject_ref TEXT NOT NULL,
  data_category TEXT NOT NULL, webhook_id TEXT NOT NULL
);
CREATE INDEX temp.staged_outbox_unit ON staged_outbox (unit, seq);
CREATE TEMP TABLE staged_parked (
  seq INTEGER PRIMARY KEY, unit TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, instance TEXT NOT NULL,
  plugin TEXT NOT NULL, link_hash TEXT NOT NULL, received_ms INTEGER NOT NULL, json TEXT NOT NULL
);
CREATE INDEX temp.staged_parked_unit ON staged_parked (unit, seq);
)sql";
// Rows moved per step of a publish: bounds the memory a publish holds at once.
constexpr std::int64_t publish_step = 1000;

// The live rows of one lane: units and not-yet-batched items, in delivery order (uses outbox_lane).
#define LANE_FILTER \
  "subscription = ?1 AND lane = ?2 AND dead_at_ms IS NULL AND batch_id IS NULL AND dropped_at_ms IS NULL"

/** FNV-1a: stable across platforms and releases, unlike std::hash, because webhook ids persist. */
std::string subscription_tag(std::string_view name) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : name) {
    h ^= c;
    h *= 16777619u;
  }
  char out[9];
  std::snprintf(out, sizeof out, "%08x", h);
  return out;
}

std::string single_webhook_id(std::string_view signal_id, std::string_view subscription) {
  std::string id = "msg_";
  id += signal_id;
  id += '_';
  id += subscription_tag(subscription);
  return id;
}

/**
 * A batch is named after its members' webhook ids, in order: stable for every retry and replay, new
 * when the members change (a dropped member dissolves a batch and the rest re-form under another
 * id, which a partner must not take for one it has seen), and it reveals no more than the members'
 * ids would alone (no time of forming, unlike a fresh ULID).
 */
std::string batch_webhook_id(const std::string& member_ids) {
  return "msg_b" + encoding::sha256_hex(member_ids).substr(0, 32);
}

/** Cuts at a UTF-8 boundary so a stored error text stays valid text. */
std::string clip(std::string s) {
  if (s.size() <= max_error_text) return s;
  std::size_t n = max_error_text;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

constexpr std::int64_t ms_per_day = 86'400'000;

/**
 * What a tombstone keeps of a purged record id: its SHA-256, so the table answers "was this id purged"
 * without keeping the id itself (a derived id can be built from a student key and a date).
 */
std::string record_hash(std::string_view record_id) {
  return encoding::sha256_hex(record_id);
}

/** now - days, or nullopt when the period reaches past the start of the clock (nothing is old enough). */
std::optional<std::int64_t> cutoff_ms(std::int64_t now_ms, std::int64_t days) {
  if (days <= 0 || days > INT64_MAX / ms_per_day) return std::nullopt;
  const auto span = days * ms_per_day;
  if (now_ms < INT64_MIN + span) return std::nullopt;
  return now_ms - span;
}

/** Days a signal type is kept: the first matching rule (exact, or a prefix ending in '*'), else the default. */
std::int64_t retention_days(const retention_plan& plan, std::string_view type) {
  for (const auto& r : plan.rules) {
    const std::string_view p = r.type_pattern;
    if (!p.empty() && p.back() == '*') {
      if (type.substr(0, p.size() - 1) == p.substr(0, p.size() - 1)) return r.days;
    } else if (p == type) {
      return r.days;
    }
  }
  return plan.default_days;
}

/**
 * The members' events of a stored batch body, as the exact bytes they were joined from: the body is
 * "[" + e1 + "," + e2 + ... + "]" and every event is a JSON value, so the commas at depth 0 outside
 * strings are exactly the joins. nullopt when the body is not shaped like that.
 */
std::optional<std::vector<std::string>> split_batch_body(std::string_view body) {
  if (body.size() < 2 || body.front() != '[' || body.back() != ']') return std::nullopt;
  std::vector<std::string> parts;
  const auto inner = body.substr(1, body.size() - 2);
  if (inner.empty()) return parts;
  int depth = 0;
  bool in_string = false, escaped = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < inner.size(); ++i) {
    const char c = inner[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth < 0) return std::nullopt;
    } else if (c == ',' && depth == 0) {
      parts.emplace_back(inner.substr(start, i - start));
      start = i + 1;
    }
  }
  if (in_string || depth != 0) return std::nullopt;
  parts.emplace_back(inner.substr(start));
  return parts;
}

std::string lane_key(std::string_view subscription, std::uint32_t lane) {
  std::string k(subscription);
  k.push_back('\0');
  k += std::to_string(lane);
  return k;
}

/** What a job changed besides the database: applied after commit, or undone when its work is lost. */
struct effects {
  std::vector<std::pair<std::string, std::int64_t>> depth;  // subscription, delta in events
  std::int64_t signals = 0;
  std::vector<std::function<void()>> undo;  // in-memory changes already made, reversed on failure
  std::string detail;                       // engine message for the log; never record content

  void roll_back() {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) (*it)();
    undo.clear();
    depth.clear();
    signals = 0;  // detail stays: it explains the failure in the log
  }
};

struct job {
  const char* kind = "";
  std::function<std::error_code(effects&)> run;  // on the store thread, inside a savepoint
  std::function<void(std::error_code)> finish;   // on the store thread, after the commit
};

class sqlite_store final : public store {
 public:
  explicit sqlite_store(sqlite_options options) : options_(std::move(options)) {
    if (options_.max_batch_jobs == 0) options_.max_batch_jobs = 1;
    open_or_throw();
    thread_ = std::thread([this] { loop(); });
  }

  ~sqlite_store() override { close(); }

  // ---- queued writes -------------------------------------------------------------------------

  void append(std::vector<signal_row> signals, std::vector<outbox_item> items, done_fn done) override {
    append_with_state(std::move(signals), std::move(items), {}, std::move(done));
  }

  void append_with_state(std::vector<signal_row> signals, std::vector<outbox_item> items,
                         std::vector<state_write> state, done_fn done) override {
    struct payload {
      std::vector<signal_row> signals;
      std::vector<outbox_item> items;
      std::vector<state_write> state;
    };
    auto data = std::make_shared<payload>(payload{std::move(signals), std::move(items), std::move(state)});
    enqueue({"append",
             [this, data](effects& fx) {
               if (auto ec = do_append(data->signals, data->items, fx)) return ec;
               return do_state_writes(data->state, fx);
             },
             [done = std::move(done)](std::error_code ec) {
               if (done) done(ec);
             }});
  }

  std::vector<logged_signal> read_signals_after(std::int64_t after_seq, std::size_t limit) override {
    std::vector<logged_signal> out;
    read_rows(
        "read_signals_after", "SELECT seq, id, type, instance, json FROM signals WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        [&](statement& st) { st.bind(1, after_seq).bind(2, static_cast<std::int64_t>(limit)); },
        [&](statement& st) {
          logged_signal& s = out.emplace_back();
          s.seq = st.int64(0);
          s.id = st.text(1);
          s.type = st.text(2);
          s.instance = st.text(3);
          s.json = st.text(4);
          return true;
        });
    return out;
  }

  void next_unit(const std::string& subscription, std::uint32_t lane, std::int64_t now_ms, const batching& batch,
                 std::function<void(std::optional<delivery_unit>, std::int64_t)> cb) override {
    struct result {
      std::optional<delivery_unit> unit;
      std::int64_t next_due = 0;
    };
    auto r = std::make_shared<result>();
    enqueue({"next_unit",
             [this, r, subscription, lane, now_ms, batch](effects& fx) {
               return do_next_unit(subscription, lane, now_ms, batch, r->unit, r->next_due, fx);
             },
             [r, now_ms, cb = std::move(cb)](std::error_code ec) {
               if (!cb) return;
               if (ec) {
                 cb(std::nullopt, ec == storage_errc::closed ? 0 : now_ms + error_retry_ms);
               } else {
                 cb(std::move(r->unit), r->next_due);
               }
             }});
  }

  void mark_delivered(std::int64_t unit_id, std::vector<audit::entry> audit, done_fn done) override {
    enqueue({"mark_delivered",
             [this, unit_id, audit = std::move(audit)](effects& fx) {
               if (auto ec = do_mark_delivered(unit_id, fx)) return ec;
               return do_append_audit(audit, fx);
             },
             wrap(std::move(done))});
  }

  void reschedule(std::int64_t unit_id, std::int64_t next_attempt_ms, std::string last_error, done_fn done) override {
    enqueue({"reschedule",
             [this, unit_id, next_attempt_ms, err = clip(std::move(last_error))](effects& fx) {
               return do_reschedule(unit_id, next_attempt_ms, err, fx);
             },
             wrap(std::move(done))});
  }

  void move_to_dead_letters(std::int64_t unit_id, std::string reason, std::vector<audit::entry> audit,
                            done_fn done) override {
    enqueue({"move_to_dead_letters",
             [this, unit_id, reason = clip(std::move(reason)), audit = std::move(audit)](effects& fx) {
               if (auto ec = do_dead_letter(unit_id, reason, fx)) return ec;
               return do_append_audit(audit, fx);
             },
             wrap(std::move(done))});
  }

  void drop_members(std::int64_t unit_id, std::vector<std::int64_t> member_seqs, std::string reason,
                    std::vector<audit::entry> audit, done_fn done) override {
    enqueue({"drop_members",
             [this, unit_id, seqs = std::move(member_seqs), reason = clip(std::move(reason)),
              audit = std::move(audit)](effects& fx) {
               if (auto ec = do_drop_members(unit_id, seqs, reason, fx)) return ec;
               return do_append_audit(audit, fx);
             },
             wrap(std::move(done))});
  }

  void append_audit(std::vector<audit::entry> audit, done_fn done) override {
    enqueue({"append_audit", [this, audit = std::move(audit)](effects& fx) { return do_append_audit(audit, fx); },
             wrap(std::move(done))});
  }

  bool read_audit(std::int64_t from_ms, std::int64_t to_ms,
                  const std::function<bool(const audit::record&)>& fn) override {
    bool whole = true;
    // One statement reads one snapshot, however long `fn` takes.
    read_rows(
        "read_audit",
        "SELECT seq, time_ms, text, prev_hash, hash FROM audit_log WHERE time_ms >= ?1 AND time_ms < ?2 ORDER BY seq",
        [&](statement& st) { st.bind(1, from_ms).bind(2, to_ms); },
        [&](statement& st) {
          audit::record r;
          r.seq = st.int64(0);
          r.time_ms = st.int64(1);
          r.text = st.text(2);
          r.prev_hash = st.text(3);
          r.hash = st.text(4);
          return whole = fn(r);
        });
    return whole;
  }

  audit_anchor read_audit_anchor() override {
    audit_anchor a;
    a.prev_hash = audit::genesis_hash();
    read_rows("read_audit_anchor", "SELECT next_seq, prev_hash, keyed_from FROM audit_anchor WHERE id = 1",
              no_parameters, [&](statement& st) {
                a.next_seq = st.int64(0);
                a.prev_hash = st.text(1);
                a.keyed_from = st.int64(2);
                return false;
              });
    return a;
  }

  std::optional<audit_head> read_audit_head() override {
    // Committed records only (the reader's snapshot): a checkpoint must never vouch for a record a
    // rollback could still take back. A failed read is no head at all, never a default one.
    std::optional<audit_head> head;
    if (read_rows("read_audit_head", "SELECT next_seq - 1, prev_hash, keyed_from FROM audit_anchor WHERE id = 1",
                  no_parameters,
                  [&](statement& st) {
                    head = audit_head{st.int64(0), st.text(1), st.int64(2)};
                    return false;
                  }) ||
        !head)
      return std::nullopt;
    if (read_rows("read_audit_head", "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", no_parameters,
                  [&](statement& st) {
                    head->seq = st.int64(0);
                    head->hash = st.text(1);
                    return false;
                  }))
      return std::nullopt;
    return head;
  }

  void append_consent(consent_row row, std::vector<audit::entry> audit,
                      std::function<void(std::error_code, std::int64_t)> done) override {
    auto id = std::make_shared<std::int64_t>(0);
    enqueue({"append_consent",
             [this, row = std::move(row), audit = std::move(audit), id](effects& fx) mutable {
               if (auto ec = do_append_consent(row, *id, fx)) return ec;
               // The caller cannot know the id before the insert: consent records that name no
               // object get this one.
               for (auto& e : audit)
                 if (e.object_type == "consent" && e.object_id.empty()) e.object_id = std::to_string(*id);
               return do_append_audit(audit, fx);
             },
             [id, done = std::move(done)](std::error_code ec) {
               if (done) done(ec, ec ? 0 : *id);
             }});
  }

  std::vector<consent_row> load_consents() override {
    std::vector<consent_row> out;
    read_rows("load_consents", "SELECT id, subject_ref, recorded_ms, json FROM consents ORDER BY id", no_parameters,
              [&](statement& st) {
                consent_row& c = out.emplace_back();
                c.id = st.int64(0);
                c.subject_ref = st.text(1);
                c.recorded_ms = st.int64(2);
                c.json = st.text(3);
                return true;
              });
    return out;
  }

  void append_with_parked(std::vector<signal_row> signals, std::vector<outbox_item> items,
                          std::vector<state_write> state, std::vector<parked_signal> parked, done_fn done) override {
    struct payload {
      std::vector<signal_row> signals;
      std::vector<outbox_item> items;
      std::vector<state_write> state;
      std::vector<parked_signal> parked;
    };
    auto data =
        std::make_shared<payload>(payload{std::move(signals), std::move(items), std::move(state), std::move(parked)});
    enqueue({"append_with_parked",
             [this, data](effects& fx) {
               if (auto ec = do_append(data->signals, data->items, fx)) return ec;
               if (auto ec = do_park(data->parked, fx)) return ec;
               return do_state_writes(data->state, fx);
             },
             [done = std::move(done)](std::error_code ec) {
               if (done) done(ec);
             }});
  }

  void record_link(student_link link, std::vector<audit::entry> audit,
                   std::function<void(std::error_code, std::vector<parked_signal>)> done) override {
    auto waiting = std::make_shared<std::vector<parked_signal>>();
    enqueue({"record_link",
             [this, link = std::move(link), audit = std::move(audit), waiting](effects& fx) mutable {
               if (auto ec = do_record_link(link, fx)) return ec;
               if (auto ec = do_append_audit(audit, fx)) return ec;
               return do_parked_for(link.link_hash, *waiting, fx);
             },
             [waiting, done = std::move(done)](std::error_code ec) {
               if (done) done(ec, ec ? std::vector<parked_signal>{} : std::move(*waiting));
             }});
  }

  std::vector<student_link> load_links() override {
    std::vector<student_link> out;
    read_rows("load_links", "SELECT link_hash, brin, vestiging, student_key, recorded_ms FROM student_links",
              no_parameters, [&](statement& st) {
                student_link& l = out.emplace_back();
                l.link_hash = st.text(0);
                l.brin = st.text(1);
                l.vestiging = st.text(2);
                l.student_key = st.text(3);
                l.recorded_ms = st.int64(4);
                return true;
              });
    return out;
  }

  void unpark(std::vector<std::string> parked_ids, std::vector<signal_row> signals, std::vector<outbox_item> items,
              done_fn done) override {
    struct payload {
      std::vector<std::string> ids;
      std::vector<signal_row> signals;
      std::vector<outbox_item> items;
    };
    auto data = std::make_shared<payload>(payload{std::move(parked_ids), std::move(signals), std::move(items)});
    enqueue({"unpark",
             [this, data](effects& fx) {
               if (auto ec = do_unpark_rows(data->ids, fx)) return ec;
               return do_append(data->signals, data->items, fx);
             },
             [done = std::move(done)](std::error_code ec) {
               if (done) done(ec);
             }});
  }

  std::vector<parked_signal> list_parked() override {
    std::vector<parked_signal> out;
    read_rows("list_parked",
              "SELECT id, type, instance, plugin, link_hash, received_ms, json FROM parked_signals ORDER BY seq",
              no_parameters, [&](statement& st) {
                out.push_back(parked_from(st));
                return true;
              });
    return out;
  }

  void stage_part(const std::string& key, std::vector<signal_row> signals, std::vector<outbox_item> items,
                  std::vector<parked_signal> parked, done_fn done) override {
    struct payload {
      std::string key;
      std::vector<signal_row> signals;
      std::vector<outbox_item> items;
      std::vector<parked_signal> parked;
    };
    auto data = std::make_shared<payload>(payload{key, std::move(signals), std::move(items), std::move(parked)});
    enqueue({"stage_part",
             [this, data](effects& fx) { return do_stage(data->key, data->signals, data->items, data->parked, fx); },
             wrap(std::move(done))});
  }

  void publish_staged(const std::string& key, std::vector<state_write> state, std::function<void(std::size_t)> progress,
                      done_fn done) override {
    auto writes = std::make_shared<std::vector<state_write>>(std::move(state));
    enqueue({"publish_staged",
             [this, key, writes, progress = std::move(progress)](effects& fx) {
               if (auto ec = do_publish_staged(key, progress, fx)) return ec;
               if (auto ec = do_discard_staged(key, fx)) return ec;
               return do_state_writes(*writes, fx);
             },
             wrap(std::move(done))});
  }

  void discard_staged(const std::string& key, done_fn done) override {
    enqueue({"discard_staged", [this, key](effects& fx) { return do_discard_staged(key, fx); }, wrap(std::move(done))});
  }

  purge_result purge(const retention_plan& plan, std::int64_t now_ms) override {
    purge_result total;
    // Signals go in bounded chunks, each its own job, so appends keep flowing during a long purge.
    std::int64_t after_seq = 0;
    for (;;) {
      std::int64_t removed = 0;
      bool more = false;
      const auto ec =
          run_sync({"purge_signals",
                    [&](effects& fx) { return do_purge_signals(plan, now_ms, after_seq, removed, more, fx); },
                    {}});
      if (ec) {
        log::error("storage.purge_failed", {{"what", "signals"}, {"error", ec.message()}});
        break;
      }
      total.signals += removed;
      if (!more) break;
    }
    std::int64_t audit_removed = 0;
    const auto ec = run_sync({"purge_audit",
                              [&](effects& fx) -> std::error_code {
                                if (auto e = do_purge_parked(plan, now_ms, total.parked, fx)) return e;
                                if (auto e = do_purge_audit(plan, now_ms, audit_removed, fx)) return e;
                                if (audit_removed == 0 && total.signals == 0 && total.parked == 0) return {};
                                // The purge itself is on the record: who can delete is auditable.
                                audit::entry e;
                                e.time_ms = now_ms;
                                e.action = "retention.purged";
                                e.outcome = "success";
                                e.actor = "schakel";
                                e.actor_role = "system";
                                e.detail = "signals=" + std::to_string(total.signals) +
                                           " parked=" + std::to_string(total.parked) +
                                           " audit_records=" + std::to_string(audit_removed);
                                return do_append_audit({e}, fx);
                              },
                              {}});
    if (ec) {
      log::error("storage.purge_failed", {{"what", "audit"}, {"error", ec.message()}});
    } else {
      total.audit_records = audit_removed;
    }
    if (total.signals > 0 || total.audit_records > 0 || total.parked > 0)
      log::info("storage.purged",
                {{"signals", total.signals}, {"parked", total.parked}, {"audit_records", total.audit_records}});
    return total;
  }

  void set_subscription_disabled(const std::string& subscription, bool disabled, done_fn done) override {
    change_subscription(subscription, disabled, {}, {}, std::move(done));
  }

  void change_subscription(const std::string& subscription, bool disabled, std::string reason,
                           std::vector<audit::entry> audit, done_fn done) override {
    enqueue({"change_subscription",
             [this, subscription, disabled, reason = std::move(reason), audit = std::move(audit)](effects& fx) {
               if (auto ec = do_set_disabled(subscription, disabled, reason, fx)) return ec;
               return do_append_audit(audit, fx);
             },
             wrap(std::move(done))});
  }

  std::optional<std::string> replay_dead_letter(std::int64_t unit_id) override {
    std::string subscription;
    const auto ec =
        run_sync({"replay_dead_letter",
                  [this, unit_id, &subscription](effects& fx) { return do_replay(unit_id, subscription, fx); },
                  {}});
    if (ec) return std::nullopt;
    return subscription;
  }

  void state_put(const std::string& ns, const std::string& key, const std::string& value) override {
    const auto ec = run_sync({"state_put",
                              [this, &ns, &key, &value](effects&) -> std::error_code {
                                int rc = SQLITE_OK;
                                auto st = writer_.prepare(
                                    "INSERT INTO state (ns, key, value, updated_ms) VALUES (?1, ?2, ?3, ?4) "
                                    "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, "
                                    "updated_ms = excluded.updated_ms",
                                    rc);
                                if (!st) return from_sqlite(rc);
                                rc = st->bind(1, ns).bind(2, key).bind_blob(3, value).bind(4, schakel::now_ms()).step();
                                return rc == SQLITE_DONE ? std::error_code{} : from_sqlite(rc);
                              },
                              {}});
    // The contract gives state_put no error channel; the failure is logged (without the value).
    if (ec) log::error("storage.state_put_failed", {{"ns", ns}, {"error", ec.message()}});
  }

  // ---- reads -----------------------------------------------------------------------------------

  void find_records(std::string instance, std::vector<std::string> record_ids, std::string staged_unit,
                    std::function<void(std::error_code, std::vector<stored_record>)> done) override {
    // A job on the store thread, like an append: the request's coroutine awaits it instead of
    // blocking a network thread on the reader's lock, and it sees every commit acknowledged before.
    auto found = std::make_shared<std::vector<stored_record>>();
    enqueue({"find_records",
             [this, instance = std::move(instance), record_ids = std::move(record_ids),
              staged_unit = std::move(staged_unit),
              found](effects&) { return do_find_records(instance, record_ids, staged_unit, *found); },
             [found, done = std::move(done)](std::error_code ec) {
               if (done) done(ec, ec ? std::vector<stored_record>{} : std::move(*found));
             }});
  }

  std::optional<std::string> get_signal(const std::string& id) override {
    std::optional<std::string> json;
    read_rows(
        "get_signal", "SELECT json FROM signals WHERE id = ?1", [&](statement& st) { st.bind(1, id); },
        [&](statement& st) {
          json = st.text(0);
          return false;
        });
    return json;
  }

  std::int64_t signal_count() override { return signal_count_.load(std::memory_order_relaxed); }

  bool subscription_disabled(const std::string& subscription) override {
    std::lock_guard lock(disabled_mu_);
    return disabled_.contains(subscription);
  }

  subscription_status read_subscription_status(const std::string& subscription) override {
    subscription_status out;
    out.depth = outbox_depth(subscription);
    read_rows(
        "read_subscription_status",
        "SELECT (SELECT since_ms FROM disabled_subscriptions WHERE subscription = ?1), "
        "(SELECT reason FROM disabled_subscriptions WHERE subscription = ?1), "
        "(SELECT min(created_ms) FROM outbox WHERE subscription = ?1 AND dead_at_ms IS NULL AND batch_id IS NULL "
        "AND dropped_at_ms IS NULL), "
        "o.last_success_ms, o.last_error_ms, o.last_error "
        "FROM (SELECT 1) LEFT JOIN subscription_outcomes o ON o.subscription = ?1",
        [&](statement& st) { st.bind(1, subscription); },
        [&](statement& st) {
          out.disabled = !st.is_null(0);
          out.disabled_since_ms = st.int64(0);
          out.disabled_reason = st.text(1);
          out.oldest_pending_ms = st.int64(2);
          out.last_success_ms = st.int64(3);
          out.last_error_ms = st.int64(4);
          out.last_error = st.text(5);
          return false;
        });
    return out;
  }

  std::vector<dead_letter> list_dead_letters(const std::string& subscription_or_empty) override {
    std::vector<dead_letter> out;
    read_rows(
        "list_dead_letters",
        "SELECT unit_id, subscription, webhook_id, event_count, attempts, created_ms, dead_at_ms, dead_reason "
        "FROM outbox WHERE dead_at_ms IS NOT NULL AND batch_id IS NULL AND (?1 = '' OR subscription = ?1) "
        "ORDER BY dead_at_ms DESC, unit_id DESC",
        [&](statement& st) { st.bind(1, subscription_or_empty); },
        [&](statement& st) {
          dead_letter& d = out.emplace_back();
          d.unit_id = st.int64(0);
          d.subscription = st.text(1);
          d.webhook_id = st.text(2);
          d.event_count = static_cast<std::size_t>(st.int64(3));
          d.attempts = static_cast<std::uint32_t>(st.int64(4));
          d.created_ms = st.int64(5);
          d.dead_at_ms = st.int64(6);
          d.reason = st.text(7);
          return true;
        });
    return out;
  }

  std::int64_t outbox_depth(const std::string& subscription) override {
    std::shared_lock lock(depth_mu_);
    auto it = depth_.find(subscription);
    return it == depth_.end() ? 0 : it->second->load(std::memory_order_relaxed);
  }

  std::int64_t outbox_depth_total() override { return depth_total_.load(std::memory_order_relaxed); }

  std::optional<std::string> state_get(const std::string& ns, const std::string& key) override {
    std::error_code ignored;
    return state_get_checked(ns, key, ignored);
  }

  std::optional<std::string> state_get_checked(const std::string& ns, const std::string& key,
                                               std::error_code& error) override {
    std::optional<std::string> value;
    error = read_rows(
        "state_get", "SELECT value FROM state WHERE ns = ?1 AND key = ?2",
        [&](statement& st) { st.bind(1, ns).bind(2, key); },
        [&](statement& st) {
          value = st.blob(0);
          return false;
        });
    return error ? std::nullopt : value;
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  void close() override {
    {
      std::lock_guard lock(queue_mu_);
      closing_ = true;
    }
    queue_cv_.notify_all();
    // From a completion (the store thread itself) we can only ask; the owner's close/destructor joins.
    if (std::this_thread::get_id() == store_thread_id_.load()) return;
    std::lock_guard lock(join_mu_);
    if (thread_.joinable()) thread_.join();
    {
      std::lock_guard rl(reader_mu_);
      reader_.close();
    }
    if (writer_.is_open()) {
      writer_.close();
      log::info("storage.closed", {{"path", options_.path}});
    }
  }

  store_stats stats() override {
    store_stats s;
    s.commits = commits_.load();
    s.jobs = jobs_.load();
    s.failed_jobs = failed_jobs_.load();
    s.largest_group = largest_group_.load();
    std::lock_guard lock(queue_mu_);
    s.queued_jobs = queue_.size();
    return s;
  }

 private:
  static std::function<void(std::error_code)> wrap(done_fn done) {
    return [done = std::move(done)](std::error_code ec) {
      if (done) done(ec);
    };
  }

  static void no_parameters(statement&) {}

  /**
   * One read on the reader connection, under its lock: `bind(statement&)` binds the parameters,
   * `row(statement&)` takes each row and returns false to stop early. A failed read is logged under
   * `what` (never with the values) and returned; a closed store reads nothing.
   */
  template <class Bind, class Row>
  std::error_code read_rows(const char* what, const char* sql, Bind&& bind, Row&& row) {
    std::lock_guard lock(reader_mu_);
    if (!reader_.is_open()) return storage_errc::closed;
    int rc = SQLITE_OK;
    auto st = reader_.prepare(sql, rc);
    if (st) {
      bind(*st);
      while ((rc = st->step()) == SQLITE_ROW)
        if (!row(*st)) return {};
      if (rc == SQLITE_DONE) return {};
    }
    log::error("storage.read_failed",
               {{"op", what}, {"error", from_sqlite(rc).message()}, {"engine", reader_.last_error()}});
    return from_sqlite(rc);
  }

  // ---- opening and migration -------------------------------------------------------------------

  // Connections are closed by the members' destructors, after any borrowed statement has unwound.
  [[noreturn]] void fail_open(std::error_code ec, const std::string& why) {
    throw std::system_error(ec, "storage: opening " + options_.path + ": " + why);
  }

  void check(int rc, connection& c, const char* step) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
      fail_open(from_sqlite(rc), std::string(step) + ": " + c.last_error());
  }

  std::int64_t query_int(connection& c, const char* sql, const char* step) {
    int rc = SQLITE_OK;
    auto st = c.prepare(sql, rc);
    if (!st) check(rc, c, step);
    rc = st->step();
    check(rc, c, step);
    return rc == SQLITE_ROW ? st->int64(0) : 0;
  }

  void configure(connection& c) {
    check(c.exec("PRAGMA busy_timeout = 5000"), c, "busy_timeout");
    check(c.exec("PRAGMA synchronous = FULL"), c, "synchronous");
    check(c.exec("PRAGMA foreign_keys = OFF"), c, "foreign_keys");
  }

  void open_or_throw() {
    std::string why;
    if (auto ec = writer_.open(options_.path, true, why)) fail_open(ec, why);
    configure(writer_);
    {
      int rc = SQLITE_OK;
      auto st = writer_.prepare("PRAGMA journal_mode = WAL", rc);
      if (!st) check(rc, writer_, "journal_mode");
      rc = st->step();
      check(rc, writer_, "journal_mode");
      if (rc != SQLITE_ROW || st->text(0) != "wal")
        fail_open(storage_errc::io_error, "the file system does not support WAL mode");
    }
    // Keep the WAL from growing without bound between checkpoints after a burst.
    check(writer_.exec("PRAGMA journal_size_limit = 67108864"), writer_, "journal_size_limit");
    migrate();
    check(writer_.exec("PRAGMA temp_store = FILE"), writer_, "temp_store");
    check(writer_.exec(staging_schema), writer_, "staging tables");
    load_memory_state();
    if (!options_.audit_key.empty() && audit_keyed_from_ == 0) key_audit_chain();

    if (auto ec = reader_.open(options_.path, false, why)) fail_open(ec, why);
    configure(reader_);
    check(reader_.exec("PRAGMA query_only = ON"), reader_, "query_only");
  }

  void migrate() {
    const auto version = query_int(writer_, "PRAGMA user_version", "user_version");
    if (version > current_schema)
      fail_open(storage_errc::schema_too_new, "schema version " + std::to_string(version) + " but this build knows " +
                                                  std::to_string(current_schema));
    for (auto v = version; v < current_schema; ++v) {
      check(writer_.exec("BEGIN IMMEDIATE"), writer_, "migration begin");
      const int rc = writer_.exec(migrations[v]);
      if (rc != SQLITE_OK) {
        const auto msg = writer_.last_error();
        writer_.exec("ROLLBACK");
        fail_open(from_sqlite(rc), "migration to schema " + std::to_string(v + 1) + ": " + msg);
      }
      const auto set = "PRAGMA user_version = " + std::to_string(v + 1);
      check(writer_.exec(set.c_str()), writer_, "user_version");
      check(writer_.exec("COMMIT"), writer_, "migration commit");
      log::info("storage.migrated", {{"path", options_.path}, {"schema", v + 1}});
    }
  }

  /**
   * Counters and sets kept in memory are rebuilt from the file. In-flight units are memory-only, so
   * every unit that was handed out before a crash or restart is simply pending again here.
   */
  void load_memory_state() {
    signal_count_ = query_int(writer_, "SELECT count(*) FROM signals", "count signals");
    next_id_ =
        1 + std::max(query_int(writer_, "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'outbox'",
                               "outbox sequence"),
                     query_int(writer_, "SELECT coalesce(max(max(unit_id), max(seq)), 0) FROM outbox", "max seq"));
    int rc = SQLITE_OK;
    {
      auto st = writer_.prepare(
          "SELECT subscription, sum(event_count) FROM outbox WHERE dead_at_ms IS NULL AND batch_id IS NULL "
          "AND dropped_at_ms IS NULL GROUP BY subscription",
          rc);
      if (!st) check(rc, writer_, "depth");
      while ((rc = st->step()) == SQLITE_ROW) add_depth(st->text(0), st->int64(1));
      check(rc, writer_, "depth");
    }
    {
      auto st = writer_.prepare("SELECT subscription FROM disabled_subscriptions", rc);
      if (!st) check(rc, writer_, "disabled");
      while ((rc = st->step()) == SQLITE_ROW) disabled_.insert(st->text(0));
      check(rc, writer_, "disabled");
    }
    {
      // The chain head: the last record, or where the last purge left the anchor.
      auto st = writer_.prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", rc);
      if (!st) check(rc, writer_, "audit head");
      rc = st->step();
      check(rc, writer_, "audit head");
      if (rc == SQLITE_ROW) {
        audit_next_seq_ = st->int64(0) + 1;
        audit_prev_hash_ = st->text(1);
      } else {
        auto an = writer_.prepare("SELECT next_seq, prev_hash FROM audit_anchor WHERE id = 1", rc);
        if (!an) check(rc, writer_, "audit anchor");
        rc = an->step();
        check(rc, writer_, "audit anchor");
        audit_next_seq_ = rc == SQLITE_ROW ? an->int64(0) : 1;
        audit_prev_hash_ = rc == SQLITE_ROW ? an->text(1) : audit::genesis_hash();
      }
    }
    audit_keyed_from_ = query_int(writer_, "SELECT coalesce(max(keyed_from), 0) FROM audit_anchor", "audit keyed_from");
    log::info("storage.opened", {{"path", options_.path},
                                 {"schema", current_schema},
                                 {"signals", signal_count_.load()},
                                 {"outbox_depth", depth_total_.load()},
                                 {"disabled_subscriptions", disabled_.size()},
                                 {"audit_next_seq", audit_next_seq_}});
  }

  /**
   * The first start with an audit key: one plain marker record closes the plain chain (or opens a
   * fresh one) and every record after it is keyed. Before the store thread runs, so nothing else
   * appends meanwhile; in one transaction with keyed_from, so a crash leaves neither or both.
   */
  void key_audit_chain() {
    const auto marker_seq = audit_next_seq_;
    const auto keyed_from = marker_seq + 1;
    const auto text = audit::to_json(audit::chain_keyed_marker(schakel::now_ms(), keyed_from)).dump();
    const auto e = audit::from_json(nlohmann::json::parse(text));
    auto hash = audit::chain_hash(audit_prev_hash_, marker_seq, text);
    if (hash.empty()) fail_open(storage_errc::internal, "SHA-256 failed");
    check(writer_.exec("BEGIN IMMEDIATE"), writer_, "audit keying begin");
    int rc = SQLITE_OK;
    auto ins =
        writer_.prepare("INSERT INTO audit_log (seq, time_ms, text, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5)", rc);
    if (ins)
      rc = ins->bind(1, marker_seq).bind(2, e->time_ms).bind(3, text).bind(4, audit_prev_hash_).bind(5, hash).step();
    auto upd =
        rc == SQLITE_DONE ? writer_.prepare("UPDATE audit_anchor SET keyed_from = ?1 WHERE id = 1", rc) : std::nullopt;
    if (upd) rc = upd->bind(1, keyed_from).step();
    if (rc != SQLITE_DONE || writer_.changes() != 1) {
      const auto msg = writer_.last_error();
      writer_.exec("ROLLBACK");
      fail_open(storage_errc::io_error, "keying the audit chain: " + msg);
    }
    check(writer_.exec("COMMIT"), writer_, "audit keying commit");
    audit_next_seq_ = keyed_from;
    audit_prev_hash_ = std::move(hash);
    audit_keyed_from_ = keyed_from;
    log::info("audit.chain_keyed", {{"marker_seq", marker_seq}, {"keyed_from", keyed_from}});
  }

  // ---- the store thread ------------------------------------------------------------------------

  void enqueue(job j) {
    {
      std::lock_guard lock(queue_mu_);
      if (!closing_) {
        queue_.push_back(std::move(j));
        queue_cv_.notify_one();
        return;
      }
    }
    // After close there is no store thread: complete on the caller's thread.
    if (j.finish) j.finish(storage_errc::closed);
  }

  /** Runs one job through the queue and waits; on the store thread itself, runs it in place. */
  std::error_code run_sync(job j) {
    if (std::this_thread::get_id() == store_thread_id_.load()) {
      std::error_code result;
      j.finish = [&result](std::error_code ec) { result = ec; };
      std::vector<job> one;
      one.push_back(std::move(j));
      run_group(one);
      return result;
    }
    std::promise<std::error_code> done;
    auto fut = done.get_future();
    j.finish = [&done](std::error_code ec) { done.set_value(ec); };
    enqueue(std::move(j));
    return fut.get();
  }

  void loop() {
    store_thread_id_ = std::this_thread::get_id();
    std::vector<job> group;
    for (;;) {
      {
        std::unique_lock lock(queue_mu_);
        queue_cv_.wait(lock, [this] { return !queue_.empty() || closing_; });
        if (queue_.empty()) break;  // closing and drained
        const auto n = std::min(queue_.size(), options_.max_batch_jobs);
        group.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      run_group(group);
      group.clear();
    }
  }

  /**
   * The group commit: every job in its own savepoint inside one transaction, one COMMIT (one fsync)
   * for all, then the completions. A failing job rolls back to its savepoint and fails alone. If
   * SQLite itself aborted the transaction (I/O error, disk full), the jobs already run in it are lost
   * too and fail with the same error; the rest start a new transaction.
   */
  void run_group(std::vector<job>& group) {
    const std::size_t n = group.size();
    std::vector<std::error_code> results(n);
    std::vector<effects> fx(n);
    std::size_t txn_start = 0;
    bool in_txn = false;

    auto fail_since = [&](std::size_t from, std::size_t to, std::error_code ec) {
      for (std::size_t j = to; j-- > from;) {
        if (!results[j]) {
          results[j] = ec;
          fx[j].roll_back();
        }
      }
    };

    for (std::size_t i = 0; i < n; ++i) {
      if (!in_txn) {
        const int rc = writer_.exec("BEGIN IMMEDIATE");
        if (rc != SQLITE_OK) {
          results[i] = from_sqlite(rc);
          fx[i].detail = writer_.last_error();
          continue;
        }
        in_txn = true;
        txn_start = i;
      }
      std::error_code ec;
      int rc = writer_.exec("SAVEPOINT job");
      if (rc != SQLITE_OK) {
        ec = from_sqlite(rc);
      } else {
        try {
          ec = group[i].run(fx[i]);
        } catch (const std::exception& e) {
          ec = storage_errc::internal;
          fx[i].detail = e.what();
        }
        if (!ec && (rc = writer_.exec("RELEASE job")) != SQLITE_OK) ec = from_sqlite(rc);
      }
      if (!ec) continue;

      if (fx[i].detail.empty()) fx[i].detail = writer_.last_error();
      results[i] = ec;
      fx[i].roll_back();
      if (writer_.in_transaction()) {
        writer_.exec("ROLLBACK TO job");
        writer_.exec("RELEASE job");
      }
      if (!writer_.in_transaction()) {
        fail_since(txn_start, i, ec);
        in_txn = false;
      }
    }

    if (in_txn) {
      const int rc = writer_.exec("COMMIT");
      if (rc != SQLITE_OK) {
        const auto ec = from_sqlite(rc);
        log::error("storage.commit_failed",
                   {{"error", ec.message()}, {"engine", writer_.last_error()}, {"jobs", n - txn_start}});
        if (writer_.in_transaction()) writer_.exec("ROLLBACK");
        fail_since(txn_start, n, ec);
      } else {
        commits_.fetch_add(1, std::memory_order_relaxed);
      }
    }

    // Counters move only for work that is on disk, before completions so callers see them updated.
    for (std::size_t i = 0; i < n; ++i) {
      if (results[i]) continue;
      for (const auto& [sub, delta] : fx[i].depth) add_depth(sub, delta);
      signal_count_.fetch_add(fx[i].signals, std::memory_order_relaxed);
    }
    jobs_.fetch_add(n, std::memory_order_relaxed);
    auto largest = largest_group_.load();
    while (n > largest && !largest_group_.compare_exchange_weak(largest, n)) {
    }

    for (std::size_t i = 0; i < n; ++i) {
      if (results[i]) {
        failed_jobs_.fetch_add(1, std::memory_order_relaxed);
        // not_found is an expected answer (e.g. a replay of an unknown id), not an engine problem.
        if (results[i] != storage_errc::not_found)
          log::warn("storage.job_failed",
                    {{"op", group[i].kind}, {"error", results[i].message()}, {"engine", fx[i].detail}});
      }
      if (!group[i].finish) continue;
      try {
        group[i].finish(results[i]);
      } catch (const std::exception& e) {
        log::error("storage.completion_threw", {{"op", group[i].kind}, {"what", e.what()}});
      } catch (...) {
        log::error("storage.completion_threw", {{"op", group[i].kind}});
      }
    }
  }

  void add_depth(const std::string& subscription, std::int64_t delta) {
    depth_total_.fetch_add(delta, std::memory_order_relaxed);
    {
      std::shared_lock lock(depth_mu_);
      if (auto it = depth_.find(subscription); it != depth_.end()) {
        it->second->fetch_add(delta, std::memory_order_relaxed);
        return;
      }
    }
    std::unique_lock lock(depth_mu_);
    auto& slot = depth_[subscription];
    if (!slot) slot = std::make_unique<std::atomic<std::int64_t>>(0);
    slot->fetch_add(delta, std::memory_order_relaxed);
  }

  // ---- jobs (store thread, inside a savepoint) ---------------------------------------------------

  std::error_code step_done(detail::statement& st) {
    const int rc = st.step();
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? std::error_code{} : from_sqlite(rc);
  }

  std::error_code do_find_records(const std::string& instance, const std::vector<std::string>& record_ids,
                                  const std::string& staged_unit, std::vector<stored_record>& out) {
    int rc = SQLITE_OK;
    // A staged part is newer than anything in the log (staged_signals_record is the index).
    auto staged = writer_.prepare(
        "SELECT json FROM staged_signals WHERE unit = ?1 AND json_extract(json, '$.source.record_id') = ?2 "
        "AND instance = ?3 ORDER BY seq DESC LIMIT 1",
        rc);
    if (!staged) return from_sqlite(rc);
    // The expression is the index's (signals_by_record); the latest version is the highest seq.
    auto latest = writer_.prepare(
        "SELECT json FROM signals WHERE instance = ?1 AND json_extract(json, '$.source.record_id') = ?2 "
        "ORDER BY seq DESC LIMIT 1",
        rc);
    if (!latest) return from_sqlite(rc);
    auto tombstone =
        writer_.prepare("SELECT 1 FROM purged_records WHERE instance = ?1 AND record_hash = ?2 AND until_ms >= ?3", rc);
    if (!tombstone) return from_sqlite(rc);
    const std::int64_t now = schakel::now_ms();
    out.clear();
    out.reserve(record_ids.size());
    for (const auto& id : record_ids) {
      stored_record& r = out.emplace_back();
      if (!staged_unit.empty()) {
        rc = staged->bind(1, staged_unit).bind(2, id).bind(3, instance).step();
        if (rc == SQLITE_ROW) {
          r.what = stored_record::state::found;
          r.json = staged->text(0);
        }
        staged->reset();
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return from_sqlite(rc);
        if (r.what == stored_record::state::found) continue;
      }
      rc = latest->bind(1, instance).bind(2, id).step();
      if (rc == SQLITE_ROW) {
        r.what = stored_record::state::found;
        r.json = latest->text(0);
      }
      latest->reset();
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return from_sqlite(rc);
      if (r.what == stored_record::state::found) continue;
      rc = tombstone->bind(1, instance).bind(2, record_hash(id)).bind(3, now).step();
      tombstone->reset();
      if (rc == SQLITE_ROW) r.what = stored_record::state::purged;
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return from_sqlite(rc);
    }
    return {};
  }

  std::error_code do_append(const std::vector<signal_row>& signals, const std::vector<outbox_item>& items,
                            effects& fx) {
    for (std::size_t i = 0; i < signals.size(); ++i) {
      if (signals[i].id.empty() || signals[i].json.empty()) {
        fx.detail = "signal " + std::to_string(i) + " has an empty id or document";
        return storage_errc::invalid_argument;
      }
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (items[i].subscription.empty() || items[i].signal_id.empty() || items[i].event_json.empty()) {
        fx.detail = "outbox item " + std::to_string(i) + " has an empty subscription, signal id or event";
        return storage_errc::invalid_argument;
      }
    }
    const auto now = schakel::now_ms();
    int rc = SQLITE_OK;
    if (!signals.empty()) {
      auto st =
          writer_.prepare("INSERT INTO signals (id, type, instance, stored_ms, json) VALUES (?1, ?2, ?3, ?4, ?5)", rc);
      if (!st) return from_sqlite(rc);
      for (const auto& s : signals) {
        if (auto ec = step_done(st->bind(1, s.id).bind(2, s.type).bind(3, s.instance).bind(4, now).bind(5, s.json))) {
          fx.detail = writer_.last_error() + " (signal " + s.id + ")";
          return ec;
        }
        st->reset();
      }
    }
    if (!items.empty()) {
      auto st = writer_.prepare(
          "INSERT INTO outbox (unit_id, subscription, lane, seq, signal_id, webhook_id, body, created_ms, "
          "signal_type, subject_ref, data_category) VALUES (?1, ?2, ?3, ?1, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
          rc);
      if (!st) return from_sqlite(rc);
      for (const auto& it : items) {
        const auto webhook_id =
            it.webhook_id.empty() ? single_webhook_id(it.signal_id, it.subscription) : it.webhook_id;
        if (auto ec = step_done(st->bind(1, next_id_++)
                                    .bind(2, it.subscription)
                                    .bind(3, static_cast<std::int64_t>(it.lane))
                                    .bind(4, it.signal_id)
                                    .bind(5, webhook_id)
                                    .bind(6, it.event_json)
                                    .bind(7, now)
                                    .bind(8, it.signal_type)
                                    .bind(9, it.subject_ref)
                                    .bind(10, it.data_category))) {
          fx.detail = writer_.last_error();
          return ec;
        }
        st->reset();
      }
    }
    fx.signals = static_cast<std::int64_t>(signals.size());
    for (const auto& it : items) fx.depth.emplace_back(it.subscription, 1);
    return {};
  }

  std::error_code do_state_writes(const std::vector<state_write>& writes, effects& fx) {
    if (writes.empty()) return {};
    int rc = SQLITE_OK;
    auto put = writer_.prepare(
        "INSERT INTO state (ns, key, value, updated_ms) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms",
        rc);
    if (!put) return from_sqlite(rc);
    auto del = writer_.prepare("DELETE FROM state WHERE ns = ?1 AND key = ?2", rc);
    if (!del) return from_sqlite(rc);
    const auto now = schakel::now_ms();
    for (const auto& w : writes) {
      if (w.ns.empty()) {
        fx.detail = "a state write has an empty namespace";
        return storage_errc::invalid_argument;
      }
      auto ec = w.erase ? step_done(del->bind(1, w.ns).bind(2, w.key))
                        : step_done(put->bind(1, w.ns).bind(2, w.key).bind_blob(3, w.value).bind(4, now));
      if (ec) {
        fx.detail = writer_.last_error() + " (state of " + w.ns + ")";
        return ec;
      }
      (w.erase ? del : put)->reset();
    }
    return {};
  }

  std::error_code do_next_unit(const std::string& subscription, std::uint32_t lane, std::int64_t now,
                               const batching& batch, std::optional<delivery_unit>& unit, std::int64_t& next_due,
                               effects& fx) {
    next_due = 0;
    if (subscription_disabled(subscription)) return {};
    auto key = lane_key(subscription, lane);
    if (in_flight_lanes_.contains(key)) return {};

    delivery_unit u;
    u.subscription = subscription;
    u.lane = lane;
    std::int64_t head_seq = 0, next_attempt = 0;
    bool is_batch = false, formed = false;
    int rc = SQLITE_OK;
    {
      auto head = writer_.prepare(
          "SELECT unit_id, seq, is_batch, formed, attempts, next_attempt_ms, created_ms, event_count, webhook_id, "
          "body, signal_id, signal_type, subject_ref, data_category FROM outbox WHERE " LANE_FILTER
          " ORDER BY seq LIMIT 1",
          rc);
      if (!head) return from_sqlite(rc);
      rc = head->bind(1, subscription).bind(2, static_cast<std::int64_t>(lane)).step();
      if (rc == SQLITE_DONE) return {};
      if (rc != SQLITE_ROW) return from_sqlite(rc);
      u.unit_id = head->int64(0);
      head_seq = head->int64(1);
      is_batch = head->int64(2) != 0;
      formed = head->int64(3) != 0;
      u.attempts = static_cast<std::uint32_t>(head->int64(4));
      next_attempt = head->int64(5);
      u.created_ms = head->int64(6);
      u.event_count = static_cast<std::size_t>(head->int64(7));
      u.webhook_id = head->text(8);
      u.body = head->text(9);
      if (!is_batch) u.members.push_back({u.unit_id, head->text(10), head->text(11), head->text(12), head->text(13)});
    }

    // A unit that was ever handed out keeps its shape (and bytes) for every retry, whatever the
    // batching settings are now.
    if (!batch.enabled || is_batch || formed) {
      if (next_attempt > now) {
        next_due = next_attempt;
        return {};
      }
      u.content_type = is_batch ? batch_content_type : single_content_type;
      if (is_batch) {
        if (auto ec = load_members(u.unit_id, u.members)) return ec;
      }
    } else {
      u.members.clear();
      const auto max_events = std::max<std::size_t>(batch.max_events, 1);
      const auto linger = std::max<std::int64_t>(batch.linger_ms, 0);
      std::vector<std::int64_t> ids;
      std::string body = "[", member_ids;
      {
        auto members = writer_.prepare(
            "SELECT unit_id, is_batch, formed, body, signal_id, signal_type, subject_ref, data_category, webhook_id "
            "FROM outbox "
            "WHERE " LANE_FILTER " ORDER BY seq LIMIT ?3",
            rc);
        if (!members) return from_sqlite(rc);
        members->bind(1, subscription)
            .bind(2, static_cast<std::int64_t>(lane))
            .bind(3, static_cast<std::int64_t>(max_events));
        while ((rc = members->step()) == SQLITE_ROW) {
          if (members->int64(1) != 0 || members->int64(2) != 0) break;  // a formed unit ends the run
          if (!ids.empty()) {
            body += ',';
            member_ids += '\n';
          }
          member_ids += members->text(8);
          body += members->text(3);
          ids.push_back(members->int64(0));
          u.members.push_back(
              {members->int64(0), members->text(4), members->text(5), members->text(6), members->text(7)});
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return from_sqlite(rc);
      }
      if (ids.size() < max_events && now - u.created_ms < linger) {
        next_due = u.created_ms + linger;
        return {};
      }
      body += ']';
      u.unit_id = next_id_++;
      u.webhook_id = batch_webhook_id(member_ids);
      u.body = std::move(body);
      u.content_type = batch_content_type;
      u.event_count = ids.size();
      u.attempts = 0;
      auto ins = writer_.prepare(
          "INSERT INTO outbox (unit_id, subscription, lane, seq, is_batch, webhook_id, body, event_count, created_ms, "
          "formed) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, 1)",
          rc);
      if (!ins) return from_sqlite(rc);
      if (auto ec = step_done(ins->bind(1, u.unit_id)
                                  .bind(2, subscription)
                                  .bind(3, static_cast<std::int64_t>(lane))
                                  .bind(4, head_seq)
                                  .bind(5, u.webhook_id)
                                  .bind(6, u.body)
                                  .bind(7, static_cast<std::int64_t>(ids.size()))
                                  .bind(8, u.created_ms)))
        return ec;
      // Members keep their row (signal id, position) for tracing but hand their body to the batch.
      auto link = writer_.prepare("UPDATE outbox SET batch_id = ?1, body = '' WHERE unit_id = ?2", rc);
      if (!link) return from_sqlite(rc);
      for (auto id : ids) {
        if (auto ec = step_done(link->bind(1, u.unit_id).bind(2, id))) return ec;
        link->reset();
      }
    }

    in_flight_lanes_.emplace(key, u.unit_id);
    in_flight_units_.emplace(u.unit_id, key);
    fx.undo.emplace_back([this, key, id = u.unit_id] {
      in_flight_lanes_.erase(key);
      in_flight_units_.erase(id);
    });
    unit = std::move(u);
    return {};
  }

  /** Forgets that a unit is in flight (if it was), undoably. Returns whether it was. */
  bool release_in_flight(std::int64_t unit_id, effects& fx) {
    auto it = in_flight_units_.find(unit_id);
    if (it == in_flight_units_.end()) return false;
    auto key = std::move(it->second);
    in_flight_units_.erase(it);
    in_flight_lanes_.erase(key);
    fx.undo.emplace_back([this, key, unit_id] {
      in_flight_lanes_.emplace(key, unit_id);
      in_flight_units_.emplace(unit_id, key);
    });
    return true;
  }

  struct live_unit {
    std::string subscription;
    std::int64_t lane = 0;
    std::int64_t event_count = 0;
    bool is_batch = false;
  };

  /** A unit that is neither delivered nor dead (or, with `dead`, one that is dead). */
  std::error_code find_unit(std::int64_t unit_id, bool dead, live_unit& out) {
    int rc = SQLITE_OK;
    auto st = dead ? writer_.prepare(
                         "SELECT subscription, lane, event_count, is_batch FROM outbox WHERE unit_id = ?1 "
                         "AND batch_id IS NULL AND dead_at_ms IS NOT NULL",
                         rc)
                   : writer_.prepare(
                         "SELECT subscription, lane, event_count, is_batch FROM outbox WHERE unit_id = ?1 "
                         "AND batch_id IS NULL AND dead_at_ms IS NULL AND dropped_at_ms IS NULL",
                         rc);
    if (!st) return from_sqlite(rc);
    rc = st->bind(1, unit_id).step();
    if (rc == SQLITE_DONE) return storage_errc::not_found;
    if (rc != SQLITE_ROW) return from_sqlite(rc);
    out.subscription = st->text(0);
    out.lane = st->int64(1);
    out.event_count = st->int64(2);
    out.is_batch = st->int64(3) != 0;
    return {};
  }

  std::error_code do_mark_delivered(std::int64_t unit_id, effects& fx) {
    live_unit u;
    if (auto ec = find_unit(unit_id, false, u)) return ec;
    int rc = SQLITE_OK;
    // Delivered payloads are not kept: the signal log is the record of what happened.
    auto members = writer_.prepare("DELETE FROM outbox WHERE batch_id = ?1", rc);
    if (!members) return from_sqlite(rc);
    if (auto ec = step_done(members->bind(1, unit_id))) return ec;
    auto self = writer_.prepare("DELETE FROM outbox WHERE unit_id = ?1", rc);
    if (!self) return from_sqlite(rc);
    if (auto ec = step_done(self->bind(1, unit_id))) return ec;
    if (auto ec = record_outcome(u.subscription, true, {})) return ec;
    fx.depth.emplace_back(u.subscription, -u.event_count);
    release_in_flight(unit_id, fx);
    return {};
  }

  /** The partner's last answer, kept for `subscriptions list`; `error` is a status and a short reason. */
  std::error_code record_outcome(const std::string& subscription, bool success, std::string_view error) {
    int rc = SQLITE_OK;
    auto st = success ? writer_.prepare(
                            "INSERT INTO subscription_outcomes (subscription, last_success_ms) VALUES (?1, ?2) "
                            "ON CONFLICT (subscription) DO UPDATE SET last_success_ms = excluded.last_success_ms",
                            rc)
                      : writer_.prepare(
                            "INSERT INTO subscription_outcomes (subscription, last_error_ms, last_error) "
                            "VALUES (?1, ?2, ?3) ON CONFLICT (subscription) DO UPDATE SET "
                            "last_error_ms = excluded.last_error_ms, last_error = excluded.last_error",
                            rc);
    if (!st) return from_sqlite(rc);
    st->bind(1, subscription).bind(2, schakel::now_ms());
    if (!success) st->bind(3, error.substr(0, max_outcome_text));
    return step_done(*st);
  }

  std::error_code do_reschedule(std::int64_t unit_id, std::int64_t next_attempt_ms, const std::string& err,
                                effects& fx) {
    live_unit u;
    if (auto ec = find_unit(unit_id, false, u)) return ec;
    if (auto ec = record_outcome(u.subscription, false, err)) return ec;
    int rc = SQLITE_OK;
    auto st = writer_.prepare(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3, formed = 1 "
        "WHERE unit_id = ?1 AND batch_id IS NULL AND dead_at_ms IS NULL AND dropped_at_ms IS NULL",
        rc);
    if (!st) return from_sqlite(rc);
    if (auto ec = step_done(st->bind(1, unit_id).bind(2, next_attempt_ms).bind(3, err))) return ec;
    if (writer_.changes() == 0) return storage_errc::not_found;
    release_in_flight(unit_id, fx);
    return {};
  }

  std::error_code do_dead_letter(std::int64_t unit_id, const std::string& reason, effects& fx) {
    live_unit u;
    if (auto ec = find_unit(unit_id, false, u)) return ec;
    // The attempt in flight when the worker gives up counts as made.
    const bool was_in_flight = release_in_flight(unit_id, fx);
    int rc = SQLITE_OK;
    auto st = writer_.prepare(
        "UPDATE outbox SET dead_at_ms = ?2, dead_reason = ?3, formed = 1, attempts = attempts + ?4 "
        "WHERE unit_id = ?1",
        rc);
    if (!st) return from_sqlite(rc);
    if (auto ec = step_done(
            st->bind(1, unit_id).bind(2, schakel::now_ms()).bind(3, reason).bind(4, std::int64_t{was_in_flight})))
      return ec;
    if (auto ec = record_outcome(u.subscription, false, reason)) return ec;
    fx.depth.emplace_back(u.subscription, -u.event_count);
    return {};
  }

  std::error_code do_replay(std::int64_t unit_id, std::string& subscription, effects& fx) {
    live_unit u;
    if (auto ec = find_unit(unit_id, true, u)) return ec;
    int rc = SQLITE_OK;
    auto st = writer_.prepare(
        "UPDATE outbox SET dead_at_ms = NULL, dead_reason = NULL, attempts = 0, next_attempt_ms = 0, "
        "last_error = NULL, seq = coalesce((SELECT min(seq) - 1 FROM outbox WHERE " LANE_FILTER
        "), seq) "
        "WHERE unit_id = ?3",
        rc);
    if (!st) return from_sqlite(rc);
    if (auto ec = step_done(st->bind(1, u.subscription).bind(2, u.lane).bind(3, unit_id))) return ec;
    fx.depth.emplace_back(u.subscription, u.event_count);
    subscription = u.subscription;
    return {};
  }

  /** A stored batch's members, in body order. */
  std::error_code load_members(std::int64_t batch_id, std::vector<unit_member>& out) {
    int rc = SQLITE_OK;
    auto st = writer_.prepare(
        "SELECT unit_id, signal_id, signal_type, subject_ref, data_category FROM outbox WHERE batch_id = ?1 "
        "ORDER BY seq, unit_id",
        rc);
    if (!st) return from_sqlite(rc);
    st->bind(1, batch_id);
    while ((rc = st->step()) == SQLITE_ROW)
      out.push_back({st->int64(0), st->text(1), st->text(2), st->text(3), st->text(4)});
    return rc == SQLITE_DONE ? std::error_code{} : from_sqlite(rc);
  }

  std::error_code do_drop_members(std::int64_t unit_id, const std::vector<std::int64_t>& seqs,
                                  const std::string& reason, effects& fx) {
    live_unit u;
    if (auto ec = find_unit(unit_id, false, u)) return ec;
    if (seqs.empty()) {
      fx.detail = "drop_members of unit " + std::to_string(unit_id) + " names no member";
      return storage_errc::invalid_argument;
    }
    const std::unordered_set<std::int64_t> drop(seqs.begin(), seqs.end());
    const auto now = schakel::now_ms();
    int rc = SQLITE_OK;
    auto mark = writer_.prepare(
        "UPDATE outbox SET dropped_at_ms = ?2, drop_reason = ?3, batch_id = NULL, body = '' WHERE unit_id = ?1", rc);
    if (!mark) return from_sqlite(rc);

    if (!u.is_batch) {
      if (drop.size() != 1 || !drop.contains(unit_id)) {
        fx.detail = "drop_members names a row that is not unit " + std::to_string(unit_id);
        return storage_errc::invalid_argument;
      }
      if (auto ec = step_done(mark->bind(1, unit_id).bind(2, now).bind(3, reason))) return ec;
      fx.depth.emplace_back(u.subscription, -1);
      release_in_flight(unit_id, fx);
      return {};
    }

    std::vector<unit_member> members;
    if (auto ec = load_members(unit_id, members)) return ec;
    for (auto seq : drop) {
      if (std::none_of(members.begin(), members.end(), [seq](const unit_member& m) { return m.seq == seq; })) {
        fx.detail = "drop_members names row " + std::to_string(seq) + " that is not in unit " + std::to_string(unit_id);
        return storage_errc::invalid_argument;
      }
    }
    // The members kept go back to the lane as plain items, so they need their own events again.
    std::string body;
    {
      auto st = writer_.prepare("SELECT body FROM outbox WHERE unit_id = ?1", rc);
      if (!st) return from_sqlite(rc);
      rc = st->bind(1, unit_id).step();
      if (rc != SQLITE_ROW) return from_sqlite(rc == SQLITE_DONE ? SQLITE_INTERNAL : rc);
      body = st->text(0);
    }
    auto parts = split_batch_body(body);
    if (!parts || parts->size() != members.size()) {
      fx.detail = "the body of batch " + std::to_string(unit_id) + " does not split into its " +
                  std::to_string(members.size()) + " members";
      return storage_errc::internal;
    }
    auto release = writer_.prepare("UPDATE outbox SET batch_id = NULL, body = ?2, formed = 0 WHERE unit_id = ?1", rc);
    if (!release) return from_sqlite(rc);
    for (std::size_t i = 0; i < members.size(); ++i) {
      const auto seq = members[i].seq;
      auto ec = drop.contains(seq) ? step_done(mark->bind(1, seq).bind(2, now).bind(3, reason))
                                   : step_done(release->bind(1, seq).bind(2, (*parts)[i]));
      if (ec) return ec;
      mark->reset();
      release->reset();
    }
    auto del = writer_.prepare("DELETE FROM outbox WHERE unit_id = ?1", rc);
    if (!del) return from_sqlite(rc);
    if (auto ec = step_done(del->bind(1, unit_id))) return ec;
    fx.depth.emplace_back(u.subscription, -static_cast<std::int64_t>(drop.size()));
    release_in_flight(unit_id, fx);
    return {};
  }

  /**
   * Appends to the chain. The head lives in memory (store thread only) and moves with the records;
   * the undo puts it back if this job or its transaction is rolled back, so the next record never
   * skips a seq or names a prev_hash that is not on disk.
   */
  std::error_code do_append_audit(const std::vector<audit::entry>& entries, effects& fx) {
    if (entries.empty()) return {};
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].action.empty() || entries[i].outcome.empty()) {
        fx.detail = "audit entry " + std::to_string(i) + " has no action or outcome";
        return storage_errc::invalid_argument;
      }
    }
    // A keyed chain continued without its key would be plain again from here: refuse instead.
    if (audit_keyed_from_ > 0 && options_.audit_key.empty()) {
      fx.detail = "the audit chain is keyed but this store was opened without the audit key";
      return storage_errc::invalid_argument;
    }
    int rc = SQLITE_OK;
    auto st =
        writer_.prepare("INSERT INTO audit_log (seq, time_ms, text, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5)", rc);
    if (!st) return from_sqlite(rc);
    fx.undo.emplace_back([this, seq = audit_next_seq_, prev = audit_prev_hash_] {
      audit_next_seq_ = seq;
      audit_prev_hash_ = prev;
    });
    const auto now = schakel::now_ms();
    for (auto e : entries) {
      if (e.time_ms == 0) e.time_ms = now;
      // replace: a stray invalid UTF-8 byte in a reason must not cost the record.
      const auto text = audit::to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      const auto seq = audit_next_seq_;
      auto hash = audit::record_hash({audit_keyed_from_, options_.audit_key}, audit_prev_hash_, seq, text);
      if (hash.empty()) {
        fx.detail = "audit hash failed";
        return storage_errc::internal;
      }
      if (auto ec =
              step_done(st->bind(1, seq).bind(2, e.time_ms).bind(3, text).bind(4, audit_prev_hash_).bind(5, hash))) {
        fx.detail = writer_.last_error() + " (audit record " + std::to_string(seq) + ")";
        return ec;
      }
      st->reset();
      audit_next_seq_ = seq + 1;
      audit_prev_hash_ = std::move(hash);
    }
    return {};
  }

  template <class Statement>
  static parked_signal parked_from(Statement& st) {
    parked_signal p;
    p.id = st.text(0);
    p.type = st.text(1);
    p.instance = st.text(2);
    p.plugin = st.text(3);
    p.link_hash = st.text(4);
    p.received_ms = st.int64(5);
    p.json = st.text(6);
    return p;
  }

  std::error_code do_park(const std::vector<parked_signal>& parked, effects& fx) {
    if (parked.empty()) return {};
    int rc = SQLITE_OK;
    auto st = writer_.prepare(
        "INSERT INTO parked_signals (id, type, instance, plugin, link_hash, received_ms, json) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rc);
    if (!st) return from_sqlite(rc);
    for (const auto& p : parked) {
      if (p.id.empty() || p.link_hash.empty() || p.json.empty()) {
        fx.detail = "a parked signal has an empty id, link or document";
        return storage_errc::invalid_argument;
      }
      st->reset();
      if (auto ec = step_done(st->bind(1, p.id)
                                  .bind(2, p.type)
                                  .bind(3, p.instance)
                                  .bind(4, p.plugin)
                                  .bind(5, p.link_hash)
                                  .bind(6, p.received_ms)
                                  .bind(7, p.json))) {
        fx.detail = writer_.last_error() + " (parked signal)";
        return ec;
      }
    }
    return {};
  }

  /** Inserts each row with one prepared statement; `what` names a row in the error detail. */
  template <class Row, class Bind>
  std::error_code insert_each(const char* sql, const std::vector<Row>& rows, const char* what, effects& fx, Bind bind) {
    if (rows.empty()) return {};
    int rc = SQLITE_OK;
    auto st = writer_.prepare(sql, rc);
    if (!st) return from_sqlite(rc);
    for (const auto& r : rows) {
      st->reset();
      if (auto ec = step_done(bind(*st, r))) {
        fx.detail = writer_.last_error() + " (" + what + ")";
        return ec;
      }
    }
    return {};
  }

  std::error_code do_stage(const std::string& key, const std::vector<signal_row>& signals,
                           const std::vector<outbox_item>& items, const std::vector<parked_signal>& parked,
                           effects& fx) {
    if (auto ec =
            insert_each("INSERT INTO staged_signals (unit, id, type, instance, json) VALUES (?1, ?2, ?3, ?4, ?5)",
                        signals, "staged signal", fx, [&](statement& st, const signal_row& r) -> statement& {
                          return st.bind(1, key).bind(2, r.id).bind(3, r.type).bind(4, r.instance).bind(5, r.json);
                        }))
      return ec;
    if (auto ec =
            insert_each("INSERT INTO staged_outbox (unit, subscription, signal_id, lane, event_json, signal_type, "
                        "subject_ref, data_category, webhook_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        items, "staged outbox item", fx, [&](statement& st, const outbox_item& it) -> statement& {
                          return st.bind(1, key)
                              .bind(2, it.subscription)
                              .bind(3, it.signal_id)
                              .bind(4, static_cast<std::int64_t>(it.lane))
                              .bind(5, it.event_json)
                              .bind(6, it.signal_type)
                              .bind(7, it.subject_ref)
                              .bind(8, it.data_category)
                              .bind(9, it.webhook_id);
                        }))
      return ec;
    return insert_each(
        "INSERT INTO staged_parked (unit, id, type, instance, plugin, link_hash, received_ms, json) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        parked, "staged parked signal", fx, [&](statement& st, const parked_signal& p) -> statement& {
          return st.bind(1, key)
              .bind(2, p.id)
              .bind(3, p.type)
              .bind(4, p.instance)
              .bind(5, p.plugin)
              .bind(6, p.link_hash)
              .bind(7, p.received_ms)
              .bind(8, p.json);
        });
  }

  /**
   * Reads the staged rows of `key` from `table` in steps of publish_step, in staging order, handing
   * each step to `move`: at most one step is in memory at a time.
   */
  template <class Row>
  std::error_code for_each_staged_step(const char* sql, const std::string& key, Row (*read)(statement&),
                                       const std::function<std::error_code(std::vector<Row>&)>& move) {
    std::int64_t after = 0;
    for (;;) {
      std::vector<Row> rows;
      {
        int rc = SQLITE_OK;
        auto st = writer_.prepare(sql, rc);
        if (!st) return from_sqlite(rc);
        st->bind(1, key).bind(2, after).bind(3, publish_step);
        while ((rc = st->step()) == SQLITE_ROW) {
          after = st->int64(0);
          rows.push_back(read(*st));
        }
        if (rc != SQLITE_DONE) return from_sqlite(rc);
      }
      if (rows.empty()) return {};
      if (auto ec = move(rows)) return ec;
    }
  }

  std::error_code do_publish_staged(const std::string& key, const std::function<void(std::size_t)>& progress,
                                    effects& fx) {
    std::int64_t moved = 0;
    auto ec = for_each_staged_step<signal_row>(
        "SELECT seq, id, type, instance, json FROM staged_signals WHERE unit = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        key,
        [](statement& st) {
          return signal_row{st.text(1), st.text(2), st.text(3), st.text(4)};
        },
        [&](std::vector<signal_row>& rows) {
          if (auto e = do_append(rows, {}, fx)) return e;
          moved += static_cast<std::int64_t>(rows.size());
          if (progress) progress(static_cast<std::size_t>(moved));
          return std::error_code{};
        });
    if (ec) return ec;
    // Outbox depth is counted per subscription, not per item, so a large file adds few entries.
    std::map<std::string, std::int64_t> depth;
    ec = for_each_staged_step<outbox_item>(
        "SELECT seq, subscription, signal_id, lane, event_json, signal_type, subject_ref, data_category, webhook_id "
        "FROM staged_outbox WHERE unit = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        key,
        [](statement& st) {
          // The webhook id is the privacy gate's stand-in for this partner: lost here, a pseudonymous
          // partner would get the engine's msg_<hub signal id> for every file-borne event.
          return outbox_item{st.text(1), st.text(2), static_cast<std::uint32_t>(st.int64(3)),
                             st.text(4), st.text(5), st.text(6),
                             st.text(7), st.text(8)};
        },
        [&](std::vector<outbox_item>& items) {
          if (auto e = do_append({}, items, fx)) return e;
          for (const auto& [sub, delta] : fx.depth) depth[sub] += delta;
          fx.depth.clear();
          return std::error_code{};
        });
    if (ec) return ec;
    ec = for_each_staged_step<parked_signal>(
        "SELECT seq, id, type, instance, plugin, link_hash, received_ms, json FROM staged_parked "
        "WHERE unit = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        key,
        [](statement& st) {
          return parked_signal{st.text(1), st.text(2), st.text(3), st.text(4), st.text(5), st.int64(6), st.text(7)};
        },
        [&](std::vector<parked_signal>& parked) { return do_park(parked, fx); });
    if (ec) return ec;
    fx.signals = moved;
    for (const auto& [sub, delta] : depth) fx.depth.emplace_back(sub, delta);
    return {};
  }

  std::error_code do_discard_staged(const std::string& key, effects& fx) {
    for (const char* sql : {"DELETE FROM staged_signals WHERE unit = ?1", "DELETE FROM staged_outbox WHERE unit = ?1",
                            "DELETE FROM staged_parked WHERE unit = ?1"}) {
      int rc = SQLITE_OK;
      auto st = writer_.prepare(sql, rc);
      if (!st) return from_sqlite(rc);
      if (auto ec = step_done(st->bind(1, key))) {
        fx.detail = writer_.last_error() + " (staging)";
        return ec;
      }
    }
    return {};
  }

  std::error_code do_record_link(const student_link& link, effects& fx) {
    if (link.link_hash.empty() || link.brin.empty() || link.student_key.empty()) {
      fx.detail = "a link has an empty hash, school or student key";
      return storage_errc::invalid_argument;
    }
    int rc = SQLITE_OK;
    auto st = writer_.prepare(
        "INSERT INTO student_links (link_hash, brin, vestiging, student_key, recorded_ms) VALUES (?1, ?2, ?3, ?4, ?5) "
        "ON CONFLICT (link_hash) DO UPDATE SET brin = ?2, vestiging = ?3, student_key = ?4, recorded_ms = ?5",
        rc);
    if (!st) return from_sqlite(rc);
    if (auto ec = step_done(st->bind(1, link.link_hash)
                                .bind(2, link.brin)
                                .bind(3, link.vestiging)
                                .bind(4, link.student_key)
                                .bind(5, link.recorded_ms != 0 ? link.recorded_ms : schakel::now_ms()))) {
      fx.detail = writer_.last_error() + " (link)";
      return ec;
    }
    return {};
  }

  std::error_code do_parked_for(const std::string& link_hash, std::vector<parked_signal>& out, effects& fx) {
    int rc = SQLITE_OK;
    auto st = writer_.prepare(
        "SELECT id, type, instance, plugin, link_hash, received_ms, json FROM parked_signals WHERE link_hash = ?1 "
        "ORDER BY seq",
        rc);
    if (!st) return from_sqlite(rc);
    st->bind(1, link_hash);
    while ((rc = st->step()) == SQLITE_ROW) out.push_back(parked_from(*st));
    if (rc != SQLITE_DONE) {
      fx.detail = writer_.last_error() + " (parked signals)";
      return from_sqlite(rc);
    }
    return {};
  }

  std::error_code do_unpark_rows(const std::vector<std::string>& ids, effects& fx) {
    int rc = SQLITE_OK;
    auto st = writer_.prepare("DELETE FROM parked_signals WHERE id = ?1", rc);
    if (!st) return from_sqlite(rc);
    for (const auto& id : ids) {
      st->reset();
      if (auto ec = step_done(st->bind(1, id))) {
        fx.detail = writer_.last_error() + " (unpark)";
        return ec;
      }
    }
    return {};
  }

  std::error_code do_append_consent(consent_row& row, std::int64_t& id, effects& fx) {
    if (row.subject_ref.empty() || row.json.empty()) {
      fx.detail = "a consent record has an empty subject or document";
      return storage_errc::invalid_argument;
    }
    if (row.recorded_ms == 0) row.recorded_ms = schakel::now_ms();
    int rc = SQLITE_OK;
    auto st = writer_.prepare("INSERT INTO consents (subject_ref, recorded_ms, json) VALUES (?1, ?2, ?3)", rc);
    if (!st) return from_sqlite(rc);
    if (auto ec = step_done(st->bind(1, row.subject_ref).bind(2, row.recorded_ms).bind(3, row.json))) {
      fx.detail = writer_.last_error() + " (consent)";
      return ec;
    }
    id = sqlite3_last_insert_rowid(writer_.handle());
    return {};
  }

  /**
   * One chunk of the signal purge: scans up to purge_chunk signals after `after_seq` (and before
   * keep_from_seq), removes those past their retention that no outbox row still waits for, with
   * their finished outbox rows. `more` when the chunk was full.
   */
  /**
   * A parked report never linked is kept no longer than its type's retention, counted from when it
   * arrived: health data about someone the school could not name must not wait forever.
   */
  std::error_code do_purge_parked(const retention_plan& plan, std::int64_t now, std::int64_t& removed, effects& fx) {
    int rc = SQLITE_OK;
    std::vector<std::int64_t> old;
    {
      auto scan = writer_.prepare("SELECT seq, type, received_ms FROM parked_signals", rc);
      if (!scan) return from_sqlite(rc);
      while ((rc = scan->step()) == SQLITE_ROW) {
        const auto cutoff = cutoff_ms(now, retention_days(plan, scan->text(1)));
        if (cutoff && scan->int64(2) < *cutoff) old.push_back(scan->int64(0));
      }
      if (rc != SQLITE_DONE) return from_sqlite(rc);
    }
    auto del = writer_.prepare("DELETE FROM parked_signals WHERE seq = ?1", rc);
    if (!del) return from_sqlite(rc);
    for (const auto seq : old) {
      del->reset();
      if (auto ec = step_done(del->bind(1, seq))) {
        fx.detail = writer_.last_error() + " (purge parked)";
        return ec;
      }
    }
    removed = static_cast<std::int64_t>(old.size());
    return {};
  }

  std::error_code do_purge_signals(const retention_plan& plan, std::int64_t now, std::int64_t& after_seq,
                                   std::int64_t& removed, bool& more, effects& fx) {
    constexpr std::int64_t purge_chunk = 2000;
    removed = 0;
    more = false;
    int rc = SQLITE_OK;
    struct candidate {
      std::int64_t seq;
      std::string id;
      std::string instance;
      std::string record_id;  // "" when the signal has none
      std::int64_t kept_ms;   // how long its type is kept: its tombstone lasts as long again
    };
    std::vector<candidate> old;
    {
      auto scan = writer_.prepare(
          "SELECT seq, id, type, stored_ms, instance, coalesce(json_extract(json, '$.source.record_id'), '') "
          "FROM signals WHERE seq > ?1 AND seq < ?2 ORDER BY seq LIMIT ?3",
          rc);
      if (!scan) return from_sqlite(rc);
      scan->bind(1, after_seq).bind(2, plan.keep_from_seq).bind(3, purge_chunk);
      std::int64_t scanned = 0;
      while ((rc = scan->step()) == SQLITE_ROW) {
        ++scanned;
        after_seq = scan->int64(0);
        const std::int64_t days = retention_days(plan, scan->text(2));
        const auto cutoff = cutoff_ms(now, days);
        if (cutoff && scan->int64(3) < *cutoff)
          old.push_back({after_seq, scan->text(1), scan->text(4), scan->text(5), now - *cutoff});
      }
      if (rc != SQLITE_DONE) return from_sqlite(rc);
      more = scanned == purge_chunk;
    }
    if (old.empty()) return {};
    // Waiting: a live item, or a member of a live (not dead) batch. Dead letters, dropped rows and
    // members of dead batches are finished.
    auto waiting = writer_.prepare(
        "SELECT 1 FROM outbox o WHERE o.signal_id = ?1 AND o.dead_at_ms IS NULL AND o.dropped_at_ms IS NULL AND "
        "(o.batch_id IS NULL OR EXISTS (SELECT 1 FROM outbox b WHERE b.unit_id = o.batch_id AND b.dead_at_ms IS NULL)) "
        "LIMIT 1",
        rc);
    if (!waiting) return from_sqlite(rc);
    auto del_rows = writer_.prepare("DELETE FROM outbox WHERE signal_id = ?1", rc);
    if (!del_rows) return from_sqlite(rc);
    auto del_signal = writer_.prepare("DELETE FROM signals WHERE seq = ?1", rc);
    if (!del_signal) return from_sqlite(rc);
    auto add_tombstone = writer_.prepare(
        "INSERT INTO purged_records (instance, record_hash, until_ms) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (instance, record_hash) DO UPDATE SET until_ms = max(until_ms, excluded.until_ms)",
        rc);
    if (!add_tombstone) return from_sqlite(rc);
    for (const auto& c : old) {
      rc = waiting->bind(1, c.id).step();
      waiting->reset();
      if (rc == SQLITE_ROW) continue;
      if (rc != SQLITE_DONE) return from_sqlite(rc);
      if (auto ec = step_done(del_rows->bind(1, c.id))) return ec;
      del_rows->reset();
      if (auto ec = step_done(del_signal->bind(1, c.seq))) return ec;
      del_signal->reset();
      if (!c.record_id.empty()) {
        const std::int64_t until = c.kept_ms > INT64_MAX - now ? INT64_MAX : now + c.kept_ms;
        if (auto ec = step_done(add_tombstone->bind(1, c.instance).bind(2, record_hash(c.record_id)).bind(3, until)))
          return ec;
        add_tombstone->reset();
      }
      ++removed;
    }
    // Tombstones past their time go in the same chunk: they only ever answer a late deletion.
    auto expired = writer_.prepare("DELETE FROM purged_records WHERE until_ms < ?1", rc);
    if (!expired) return from_sqlite(rc);
    if (auto ec = step_done(expired->bind(1, now))) return ec;
    // A dead batch whose members are all gone goes too: its body held only purged events.
    auto orphans = writer_.prepare(
        "DELETE FROM outbox WHERE is_batch = 1 AND dead_at_ms IS NOT NULL AND "
        "NOT EXISTS (SELECT 1 FROM outbox m WHERE m.batch_id = outbox.unit_id)",
        rc);
    if (!orphans) return from_sqlite(rc);
    if (auto ec = step_done(*orphans)) return ec;
    fx.signals = -removed;
    return {};
  }

  /**
   * Removes the oldest audit records: the longest run from the start of the chain older than
   * audit_days (a prefix, so the rest still verifies), and moves the anchor to the first kept record.
   */
  std::error_code do_purge_audit(const retention_plan& plan, std::int64_t now, std::int64_t& removed, effects&) {
    removed = 0;
    const auto cutoff = cutoff_ms(now, plan.audit_days);
    if (!cutoff) return {};
    int rc = SQLITE_OK;
    std::int64_t first_kept = 0;
    std::string anchor_hash;
    {
      auto st = writer_.prepare(
          "SELECT seq, prev_hash FROM audit_log WHERE seq = (SELECT min(seq) FROM audit_log WHERE time_ms >= ?1)", rc);
      if (!st) return from_sqlite(rc);
      rc = st->bind(1, *cutoff).step();
      if (rc == SQLITE_ROW) {
        first_kept = st->int64(0);
        anchor_hash = st->text(1);
      } else if (rc == SQLITE_DONE) {
        // Every record is old: the chain continues from the head in memory.
        first_kept = audit_next_seq_;
        anchor_hash = audit_prev_hash_;
      } else {
        return from_sqlite(rc);
      }
    }
    auto del = writer_.prepare("DELETE FROM audit_log WHERE seq < ?1", rc);
    if (!del) return from_sqlite(rc);
    if (auto ec = step_done(del->bind(1, first_kept))) return ec;
    removed = writer_.changes();
    if (removed == 0) return {};
    auto an = writer_.prepare(
        "INSERT INTO audit_anchor (id, next_seq, prev_hash) VALUES (1, ?1, ?2) "
        "ON CONFLICT (id) DO UPDATE SET next_seq = excluded.next_seq, prev_hash = excluded.prev_hash",
        rc);
    if (!an) return from_sqlite(rc);
    return step_done(an->bind(1, first_kept).bind(2, anchor_hash));
  }

  std::error_code do_set_disabled(const std::string& subscription, bool disabled, const std::string& reason,
                                  effects& fx) {
    if (subscription.empty()) return storage_errc::invalid_argument;
    int rc = SQLITE_OK;
    // Disabling twice keeps the first time and reason: "since" is when the partner first refused.
    auto st = disabled ? writer_.prepare(
                             "INSERT INTO disabled_subscriptions (subscription, since_ms, reason) VALUES (?1, ?2, ?3) "
                             "ON CONFLICT (subscription) DO NOTHING",
                             rc)
                       : writer_.prepare("DELETE FROM disabled_subscriptions WHERE subscription = ?1", rc);
    if (!st) return from_sqlite(rc);
    st->bind(1, subscription);
    if (disabled) st->bind(2, schakel::now_ms()).bind(3, std::string_view(reason).substr(0, max_outcome_text));
    if (auto ec = step_done(*st)) return ec;
    std::lock_guard lock(disabled_mu_);
    const bool was = disabled_.contains(subscription);
    if (was == disabled) return {};
    if (disabled) {
      disabled_.insert(subscription);
    } else {
      disabled_.erase(subscription);
    }
    fx.undo.emplace_back([this, subscription, was] {
      std::lock_guard l(disabled_mu_);
      if (was) {
        disabled_.insert(subscription);
      } else {
        disabled_.erase(subscription);
      }
    });
    return {};
  }

  sqlite_options options_;
  connection writer_;  // store thread only (and the constructor before the thread starts)
  std::mutex reader_mu_;
  connection reader_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<job> queue_;
  bool closing_ = false;
  std::mutex join_mu_;
  std::thread thread_;
  std::atomic<std::thread::id> store_thread_id_{};

  // Store thread only.
  std::int64_t next_id_ = 1;  // unit ids and lane positions; never reused (AUTOINCREMENT on disk)
  std::unordered_map<std::string, std::int64_t> in_flight_lanes_;
  std::unordered_map<std::int64_t, std::string> in_flight_units_;
  std::int64_t audit_next_seq_ = 1;  // the chain head: next record's seq and its prev_hash
  std::string audit_prev_hash_;
  std::int64_t audit_keyed_from_ = 0;  // first keyed seq; 0 while the chain is plain

  std::mutex disabled_mu_;
  std::unordered_set<std::string> disabled_;

  std::shared_mutex depth_mu_;
  std::unordered_map<std::string, std::unique_ptr<std::atomic<std::int64_t>>> depth_;
  std::atomic<std::int64_t> depth_total_{0};
  std::atomic<std::int64_t> signal_count_{0};

  std::atomic<std::uint64_t> commits_{0}, jobs_{0}, failed_jobs_{0}, largest_group_{0};
};

}  // namespace

std::unique_ptr<store> open_sqlite_store(const sqlite_options& options) {
  return std::make_unique<sqlite_store>(options);
}

int detail::schema_version() noexcept {
  return current_schema;
}

const char* detail::migration_sql(int from) noexcept {
  return from >= 0 && from < current_schema ? migrations[from] : nullptr;
}

}  // namespace schakel::storage
