#pragma once
/**
 * Internal to the SQLite engine: an owning connection with a cache of prepared statements, and the
 * mapping of SQLite result codes onto storage_errc. One connection is used by one thread at a time
 * (the store thread, or a reader holding the read mutex), so connections open with NOMUTEX.
 */
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include <sqlite3.h>

#include "storage/store.hpp"

namespace schakel::storage::detail {

/** storage_errc for a SQLite primary or extended result code (SQLITE_OK maps to success). */
std::error_code from_sqlite(int rc) noexcept;

/** The schema version this build writes (PRAGMA user_version). */
int schema_version() noexcept;

/**
 * The SQL that brings schema `from` to `from + 1` (nullptr outside 0 .. schema_version() - 1): the
 * migrations themselves, so a test can build a file exactly as an earlier release left it.
 */
const char* migration_sql(int from) noexcept;

/**
 * A prepared statement borrowed from the cache. Binding is by 1-based index; the statement is reset
 * and its bindings cleared when the borrow ends, so the next user starts clean.
 */
class statement {
 public:
  explicit statement(sqlite3_stmt* s) noexcept : s_(s) {}
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

  statement& bind(int i, std::int64_t v) {
    rc_ = keep(sqlite3_bind_int64(s_, i, v));
    return *this;
  }
  statement& bind(int i, std::string_view v) {
    // SQLITE_STATIC: every bound view outlives the statement's use, which ends with this borrow.
    rc_ = keep(sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8));
    return *this;
  }
  statement& bind_blob(int i, std::string_view v) {
    rc_ = keep(sqlite3_bind_blob64(s_, i, v.data(), v.size(), SQLITE_STATIC));
    return *this;
  }
  statement& bind_null(int i) {
    rc_ = keep(sqlite3_bind_null(s_, i));
    return *this;
  }

  /** Ready for new bindings and a new run (in a loop reusing one borrow). */
  void reset() noexcept {
    sqlite3_reset(s_);
    rc_ = SQLITE_OK;
  }

  /** SQLITE_ROW, SQLITE_DONE or an error code (a bind error is reported here). */
  int step() {
    if (rc_ != SQLITE_OK) return rc_;
    return sqlite3_step(s_);
  }

  std::int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    const int n = sqlite3_column_bytes(s_, col);
    return p ? std::string(p, static_cast<std::size_t>(n)) : std::string();
  }
  std::string blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, col));
    const int n = sqlite3_column_bytes(s_, col);
    return p ? std::string(p, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  int keep(int rc) const noexcept { return rc_ != SQLITE_OK ? rc_ : rc; }
  sqlite3_stmt* s_;
  int rc_ = SQLITE_OK;
};

class connection {
 public:
  connection() = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() { close(); }

  /** Opens `path` (creating it when `create`); on failure returns the error and fills `why`. */
  std::error_code open(const std::string& path, bool create, std::string& why);
  void close() noexcept;
  bool is_open() const noexcept { return db_ != nullptr; }

  /** Runs SQL without results (pragmas, DDL, BEGIN/COMMIT). */
  int exec(const char* sql);
  /** A cached statement for this SQL text (prepared once, persistent). nullopt on a prepare error. */
  std::optional<statement> prepare(const char* sql, int& rc);

  /** The engine's message for the last failure: object names and reasons, never bound values. */
  std::string last_error() const { return db_ ? sqlite3_errmsg(db_) : "not open"; }
  sqlite3* handle() const noexcept { return db_; }
  int changes() const noexcept { return sqlite3_changes(db_); }
  bool in_transaction() const noexcept { return db_ && sqlite3_get_autocommit(db_) == 0; }

 private:
  sqlite3* db_ = nullptr;
  // Keyed by the SQL literal's address: every caller passes a string literal, so this is exact.
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace schakel::storage::detail
