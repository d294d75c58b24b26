// Opening the SQLite engine: pragmas, the migrations from any older schema, the staging tables, the
// counters kept in memory and the keying of the audit chain. Before the store thread starts.

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <system_error>

#include "common/signal.hpp"
#include "storage/sqlite_engine.hpp"

namespace schakel::storage::detail {

namespace {

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

}  // namespace

// Connections are closed by the members' destructors, after any borrowed statement has unwound.
void sqlite_store::fail_open(std::error_code ec, const std::string& why) {
  throw std::system_error(ec, "storage: opening " + options_.path + ": " + why);
}

void sqlite_store::check(int rc, connection& c, const char* step) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    fail_open(from_sqlite(rc), std::string(step) + ": " + c.last_error());
}

std::int64_t sqlite_store::query_int(connection& c, const char* sql, const char* step) {
  int rc = SQLITE_OK;
  auto st = c.prepare(sql, rc);
  if (!st) check(rc, c, step);
  rc = st->step();
  check(rc, c, step);
  return rc == SQLITE_ROW ? st->int64(0) : 0;
}

void sqlite_store::configure(connection& c) {
  check(c.exec("PRAGMA busy_timeout = 5000"), c, "busy_timeout");
  check(c.exec("PRAGMA synchronous = FULL"), c, "synchronous");
  check(c.exec("PRAGMA foreign_keys = OFF"), c, "foreign_keys");
}

void sqlite_store::open_or_throw() {
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

void sqlite_store::migrate() {
  const auto version = query_int(writer_, "PRAGMA user_version", "user_version");
  if (version > current_schema)
    fail_open(storage_errc::schema_too_new,
              "schema version " + std::to_string(version) + " but this build knows " + std::to_string(current_schema));
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
void sqlite_store::load_memory_state() {
  signal_count_ = query_int(writer_, "SELECT count(*) FROM signals", "count signals");
  next_id_ = 1 + std::max(query_int(writer_, "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'outbox'",
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
void sqlite_store::key_audit_chain() {
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

int schema_version() noexcept {
  return current_schema;
}

const char* migration_sql(int from) noexcept {
  return from >= 0 && from < current_schema ? migrations[from] : nullptr;
}

}  // namespace schakel::storage::detail
