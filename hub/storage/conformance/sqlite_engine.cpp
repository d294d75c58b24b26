// The SQLite engine under the conformance suite: a database file in a fresh temp directory per case,
// and old-schema files built from the engine's own migrations (storage/sqlite_db.hpp), so what a
// case migrates from is exactly what that release created.
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "storage/conformance/fixture.hpp"
#include "storage/sqlite_db.hpp"
#include "support/temp_dir.hpp"

namespace schakel::storage::conformance {
namespace {

/** A raw connection for writing a file as an earlier release would have; throws on any failure. */
class raw_file {
 public:
  explicit raw_file(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) fail("open");
  }
  ~raw_file() { sqlite3_close(db_); }
  raw_file(const raw_file&) = delete;
  raw_file& operator=(const raw_file&) = delete;

  void exec(const std::string& sql) {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql.substr(0, 60));
  }

 private:
  [[noreturn]] void fail(const std::string& step) {
    throw std::runtime_error("sqlite conformance engine: " + step + ": " + sqlite3_errmsg(db_));
  }
  sqlite3* db_ = nullptr;
};

/** `value` as an SQL string literal. */
std::string quoted(const std::string& value) {
  char* q = sqlite3_mprintf("%Q", value.c_str());
  std::string out(q);
  sqlite3_free(q);
  return out;
}

std::string outbox_row(const outbox_item& i, std::int64_t unit_id, std::int64_t created_ms, int version) {
  // Columns every version has; the privacy gate's columns from schema 3 on.
  std::string columns = "unit_id, subscription, lane, seq, signal_id, webhook_id, body, created_ms";
  std::string values = std::to_string(unit_id) + ", " + quoted(i.subscription) + ", " + std::to_string(i.lane) + ", " +
                       std::to_string(unit_id) + ", " + quoted(i.signal_id) + ", " + quoted(i.webhook_id) + ", " +
                       quoted(i.event_json) + ", " + std::to_string(created_ms);
  if (version >= 3) {
    columns += ", signal_type, subject_ref, data_category";
    values += ", " + quoted(i.signal_type) + ", " + quoted(i.subject_ref) + ", " + quoted(i.data_category);
  }
  return "INSERT INTO outbox (" + columns + ") VALUES (" + values + ");";
}

class sqlite_database final : public database {
 public:
  std::unique_ptr<store> open() override { return open_sqlite_store({.path = path_}); }

  void write_at_schema(int version) override {
    raw_file f(path_);
    f.exec("BEGIN");
    for (int v = 0; v < version; ++v) {
      const char* sql = detail::migration_sql(v);
      if (sql == nullptr) throw std::invalid_argument("no schema version " + std::to_string(version));
      f.exec(sql);
    }
    const auto& old = legacy_content();
    const auto at = std::to_string(old.stored_ms);
    for (const auto& s : old.signals)
      f.exec("INSERT INTO signals (id, type, instance, stored_ms, json) VALUES (" + quoted(s.id) + ", " +
             quoted(s.type) + ", " + quoted(s.instance) + ", " + at + ", " + quoted(s.json) + ");");
    f.exec(outbox_row(old.pending, 1, old.stored_ms, version));
    f.exec(outbox_row(old.dead, 2, old.stored_ms, version));
    f.exec("UPDATE outbox SET attempts = 3, dead_at_ms = " + std::to_string(old.stored_ms + 1) +
           ", dead_reason = " + quoted(old.dead_reason) + " WHERE unit_id = 2;");
    f.exec("INSERT INTO state (ns, key, value, updated_ms) VALUES (" + quoted(old.state.ns) + ", " +
           quoted(old.state.key) + ", " + quoted(old.state.value) + ", " + at + ");");
    f.exec("INSERT INTO disabled_subscriptions (subscription, since_ms) VALUES (" + quoted(old.disabled_subscription) +
           ", " + at + ");");
    f.exec("PRAGMA user_version = " + std::to_string(version));
    f.exec("COMMIT");
  }

  void mark_schema_newer() override {
    raw_file(path_).exec("PRAGMA user_version = " + std::to_string(detail::schema_version() + 1));
  }

  std::string where() const override { return path_; }

 private:
  test::temp_dir dir_{"schakel-conformance"};
  std::string path_ = (dir_ / "hub.db").string();
};

engine sqlite_engine() {
  std::vector<int> earlier(static_cast<std::size_t>(detail::schema_version() - 1));
  std::iota(earlier.begin(), earlier.end(), 1);  // 1 .. current - 1; 0 is an empty file
  return {"sqlite", [] { return std::make_unique<sqlite_database>(); }, std::move(earlier)};
}

SCHAKEL_STORAGE_CONFORMANCE(sqlite_engine());
SCHAKEL_STORAGE_CONFORMANCE_STAGING(sqlite_engine());
SCHAKEL_STORAGE_CONFORMANCE_RECORD_LOOKUP(sqlite_engine());

}  // namespace
}  // namespace schakel::storage::conformance
