#include "storage/sqlite_db.hpp"

namespace schakel::storage::detail {

std::error_code from_sqlite(int rc) noexcept {
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return {};
    case SQLITE_CONSTRAINT:
      return storage_errc::duplicate;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return storage_errc::busy;
    case SQLITE_FULL:
      return storage_errc::disk_full;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
      return storage_errc::io_error;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return storage_errc::corrupt;
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
      return storage_errc::invalid_argument;
    default:
      return storage_errc::internal;
  }
}

std::error_code connection::open(const std::string& path, bool create, std::string& why) {
  close();
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (create) flags |= SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    why = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    close();
    return from_sqlite(rc);
  }
  sqlite3_extended_result_codes(db_, 1);
  return {};
}

void connection::close() noexcept {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  cache_.clear();
  if (db_) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

int connection::exec(const char* sql) {
  return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
}

std::optional<statement> connection::prepare(const char* sql, int& rc) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* s = nullptr;
    rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) return std::nullopt;
    it = cache_.emplace(sql, s).first;
  }
  rc = SQLITE_OK;
  return std::optional<statement>(std::in_place, it->second);
}

}  // namespace schakel::storage::detail
