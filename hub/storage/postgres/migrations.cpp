#include "storage/postgres/migrations.hpp"

#include <stdexcept>
#include <system_error>

#include "common/log.hpp"
#include "storage/types.hpp"

namespace schakel::storage::postgres {
namespace {

// pg_advisory_lock takes a 64-bit key shared by every client of the database: "schakel" in ASCII,
// unlikely to collide with another application's key.
constexpr std::int64_t migration_lock_key = 0x7363686b6c;  // 's' 'c' 'h' 'k' 'l'

// The version table itself, created under the lock so two first starts do not both create it.
constexpr const char* version_table = R"sql(
CREATE TABLE IF NOT EXISTS schakel_schema (
  version     integer     PRIMARY KEY,
  applied_at  timestamptz NOT NULL DEFAULT now(),
  description text        NOT NULL
))sql";

[[noreturn]] void fail(const pg_error& e, const std::string& where, const std::string& what) {
  throw std::system_error(e.code, "storage: " + what + " " + where + ": " + e.message);
}

/** The session-level advisory lock, released on every path out (also when a migration throws). */
class migration_lock {
 public:
  migration_lock(connection& db, const std::string& where, std::chrono::milliseconds wait) : db_(db) {
    // lock_timeout bounds the wait for the lock; 0 would mean "wait forever".
    const std::string timeout = std::to_string(std::max<std::int64_t>(1, wait.count())) + "ms";
    if (auto e = db_.exec("setting lock_timeout", "SELECT set_config('lock_timeout', $1, false)", {timeout}))
      fail(e, where, "migrating");
    if (auto e = db_.exec("waiting for the migration lock", "SELECT pg_advisory_lock($1)", {migration_lock_key})) {
      reset_lock_timeout();  // the session may serve other work after this failure
      fail(e, where, "migrating");
    }
  }
  ~migration_lock() {
    // When the connection broke the server already dropped the lock with the session.
    (void)db_.exec("releasing the migration lock", "SELECT pg_advisory_unlock($1)", {migration_lock_key});
    reset_lock_timeout();
  }
  migration_lock(const migration_lock&) = delete;
  migration_lock& operator=(const migration_lock&) = delete;

 private:
  void reset_lock_timeout() {
    (void)db_.exec("resetting lock_timeout", "SELECT set_config('lock_timeout', '0', false)");
  }
  connection& db_;
};

int read_version(connection& db, const std::string& where) {
  pg_rows rows;
  if (auto e = db.exec("reading the schema version", "SELECT to_regclass('schakel_schema') IS NOT NULL", {}, &rows))
    fail(e, where, "reading");
  if (rows.text(0, 0) != "t") return 0;
  if (auto e = db.exec("reading the schema version", "SELECT coalesce(max(version), 0) FROM schakel_schema", {}, &rows))
    fail(e, where, "reading");
  const auto v = rows.int64(0, 0);
  if (!v) fail({make_error_code(pg_errc::unexpected_result), "", "schakel_schema: no version"}, where, "reading");
  return static_cast<int>(*v);
}

void apply(connection& db, const std::string& where, int version, const migration& m) {
  const std::string context = "migration to schema " + std::to_string(version + 1);
  if (auto e = db.exec(context, "BEGIN")) fail(e, where, "migrating");
  const auto roll_back_and_fail = [&](const pg_error& e) {
    (void)db.exec(context, "ROLLBACK");
    fail(e, where, "migrating");
  };
  for (std::size_t i = 0; i < m.statements.size(); ++i) {
    if (auto e = db.exec(context + ", statement " + std::to_string(i + 1), m.statements[i])) roll_back_and_fail(e);
  }
  if (auto e = db.exec(context, "INSERT INTO schakel_schema (version, description) VALUES ($1, $2)",
                       {version + 1, m.description}))
    roll_back_and_fail(e);
  if (auto e = db.exec(context, "COMMIT")) fail(e, where, "migrating");
}

}  // namespace

const std::vector<migration>& migrations() {
  // The tables of the SQLite engine's schema 7 (docs/storage.md), in PostgreSQL's types: identity
  // columns instead of rowids and AUTOINCREMENT, boolean flags, bytea for plugin state, and the
  // signal's source.record_id as a stored generated column instead of an expression index over
  // json_extract. The drop-file staging tables are not here: SQLite keeps them as TEMP tables of its
  // writer connection, and how a pooled engine stages a file is the engine's decision.
  static const std::vector<migration> list = {
      {"the signal log, outbox, plugin state, audit trail, consents, links, parked reports and hub_meta",
       {
           R"sql(
CREATE TABLE signals (
  seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id        text   NOT NULL UNIQUE,
  type      text   NOT NULL,
  instance  text   NOT NULL,
  stored_ms bigint NOT NULL,
  json      text   NOT NULL,
  record_id text   GENERATED ALWAYS AS ((json::jsonb) #>> '{source,record_id}') STORED
))sql",
           "CREATE INDEX signals_by_record ON signals (instance, record_id) WHERE record_id IS NOT NULL",
           R"sql(
CREATE TABLE outbox (
  unit_id         bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subscription    text    NOT NULL,
  lane            integer NOT NULL,
  seq             bigint  NOT NULL,
  is_batch        boolean NOT NULL DEFAULT false,
  batch_id        bigint,
  signal_id       text,
  webhook_id      text    NOT NULL,
  body            text    NOT NULL,
  event_count     integer NOT NULL DEFAULT 1,
  created_ms      bigint  NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_ms bigint  NOT NULL DEFAULT 0,
  last_error      text,
  formed          boolean NOT NULL DEFAULT false,
  dead_at_ms      bigint,
  dead_reason     text,
  signal_type     text    NOT NULL DEFAULT '',
  subject_ref     text    NOT NULL DEFAULT '',
  data_category   text    NOT NULL DEFAULT '',
  dropped_at_ms   bigint,
  drop_reason     text
))sql",
           "CREATE INDEX outbox_lane ON outbox (subscription, lane, seq) "
           "WHERE dead_at_ms IS NULL AND batch_id IS NULL AND dropped_at_ms IS NULL",
           "CREATE INDEX outbox_signal ON outbox (signal_id) WHERE signal_id IS NOT NULL",
           "CREATE INDEX outbox_members ON outbox (batch_id) WHERE batch_id IS NOT NULL",
           "CREATE INDEX outbox_dead ON outbox (dead_at_ms) WHERE dead_at_ms IS NOT NULL",
           R"sql(
CREATE TABLE disabled_subscriptions (
  subscription text   PRIMARY KEY,
  since_ms     bigint NOT NULL,
  reason       text   NOT NULL DEFAULT ''
))sql",
           R"sql(
CREATE TABLE subscription_outcomes (
  subscription    text   PRIMARY KEY,
  last_success_ms bigint NOT NULL DEFAULT 0,
  last_error_ms   bigint NOT NULL DEFAULT 0,
  last_error      text   NOT NULL DEFAULT ''
))sql",
           R"sql(
CREATE TABLE state (
  ns         text   NOT NULL,
  key        text   NOT NULL,
  value      bytea  NOT NULL,
  updated_ms bigint NOT NULL,
  PRIMARY KEY (ns, key)
))sql",
           R"sql(
CREATE TABLE audit_log (
  seq       bigint PRIMARY KEY,
  time_ms   bigint NOT NULL,
  text      text   NOT NULL,
  prev_hash text   NOT NULL,
  hash      text   NOT NULL
))sql",
           "CREATE INDEX audit_time ON audit_log (time_ms)",
           R"sql(
CREATE TABLE audit_anchor (
  id         integer PRIMARY KEY CHECK (id = 1),
  next_seq   bigint  NOT NULL,
  prev_hash  text    NOT NULL,
  keyed_from bigint  NOT NULL DEFAULT 0
))sql",
           "INSERT INTO audit_anchor (id, next_seq, prev_hash) "
           "VALUES (1, 1, '0000000000000000000000000000000000000000000000000000000000000000')",
           R"sql(
CREATE TABLE consents (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subject_ref text   NOT NULL,
  recorded_ms bigint NOT NULL,
  json        text   NOT NULL
))sql",
           R"sql(
CREATE TABLE student_links (
  link_hash   text   PRIMARY KEY,
  brin        text   NOT NULL,
  vestiging   text   NOT NULL,
  student_key text   NOT NULL,
  recorded_ms bigint NOT NULL
))sql",
           R"sql(
CREATE TABLE parked_signals (
  seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id          text   NOT NULL UNIQUE,
  type        text   NOT NULL,
  instance    text   NOT NULL,
  plugin      text   NOT NULL,
  link_hash   text   NOT NULL,
  received_ms bigint NOT NULL,
  json        text   NOT NULL
))sql",
           "CREATE INDEX parked_by_link ON parked_signals (link_hash)",
           R"sql(
CREATE TABLE purged_records (
  instance    text   NOT NULL,
  record_hash text   NOT NULL,
  until_ms    bigint NOT NULL,
  PRIMARY KEY (instance, record_hash)
))sql",
           // Facts about the hub every node must agree on, e.g. the fingerprint of the hub key, so a
           // node started with another key refuses the database instead of writing unlinkable hashes.
           R"sql(
CREATE TABLE hub_meta (
  key        text   PRIMARY KEY,
  value      text   NOT NULL,
  updated_ms bigint NOT NULL
))sql",
       }},
  };
  return list;
}

int known_schema_version() {
  return static_cast<int>(migrations().size());
}

int schema_version(connection& db, const std::string& where) {
  return read_version(db, where);
}

migration_report migrate(connection& db, const std::string& where, std::chrono::milliseconds lock_wait) {
  migration_lock lock(db, where, lock_wait);
  if (auto e = db.exec("creating schakel_schema", version_table)) fail(e, where, "migrating");
  migration_report report;
  report.from = read_version(db, where);
  report.to = report.from;
  const int known = known_schema_version();
  if (report.from > known)
    throw std::system_error(storage_errc::schema_too_new, "storage: opening " + where + ": schema version " +
                                                              std::to_string(report.from) + " but this build knows " +
                                                              std::to_string(known));
  for (int v = report.from; v < known; ++v) {
    apply(db, where, v, migrations()[static_cast<std::size_t>(v)]);
    report.to = v + 1;
    log::info("storage.migrated", {{"database", where}, {"schema", v + 1}});
  }
  return report;
}

}  // namespace schakel::storage::postgres
