#pragma once
/**
 * The PostgreSQL engine's schema and how a database gets it: an ordered list of migrations, each a
 * list of SQL statements applied in one transaction together with its row in `schakel_schema`
 * (version, applied_at, description). The whole run holds a session advisory lock, so nodes starting
 * together apply each migration once: the others wait, then find nothing left to do.
 *
 * A database whose version is newer than this binary knows is refused (storage_errc::schema_too_new)
 * before anything is written, as the SQLite engine refuses a newer file.
 */
#include <chrono>
#include <string>
#include <vector>

#include "storage/postgres/connection.hpp"

namespace schakel::storage::postgres {

/** One migration: brings the schema from version (its index) to version + 1. */
struct migration {
  const char* description;
  std::vector<const char*> statements;  ///< run one by one (PQexecParams takes one statement each)
};

/** The engine's migrations, in order; migrations()[i] brings version i to i + 1. */
const std::vector<migration>& migrations();

/** The schema version this binary writes: migrations().size(). */
int known_schema_version();

/** What migrate did: `from` == `to` when there was nothing to apply. */
struct migration_report {
  int from = 0;
  int to = 0;
};

/**
 * Applies every migration the database lacks. `where` names the database in messages (a URL without
 * its query). Waits at most `lock_wait` for another migrator's advisory lock. Throws
 * std::system_error: storage_errc::schema_too_new ("storage: opening <where>: schema version N but
 * this build knows M"), or a pg_errc with the failing migration, statement number and SQLSTATE; a
 * failed migration leaves the database at the version before it.
 */
migration_report migrate(connection& db, const std::string& where,
                         std::chrono::milliseconds lock_wait = std::chrono::seconds(60));

/**
 * The database's schema version: 0 when it has no `schakel_schema` table yet. Reads only; takes no
 * lock. Throws std::system_error (pg_errc) when the database cannot be read.
 */
int schema_version(connection& db, const std::string& where);

}  // namespace schakel::storage::postgres
