#pragma once
/**
 * `schakel audit verify` and `schakel audit export`: the audit trail read straight from the hub's
 * database, for a privacy officer or an auditor. The lead's CLI parses the command line (config,
 * dates) and calls these. Output never holds more than the trail itself holds (pseudonyms, ids,
 * reasons); error messages name the path and the reason only.
 */
#include <cstdint>
#include <ostream>
#include <string>

namespace schakel::audit {

/**
 * Checks the whole chain from the retention anchor on. Prints "audit trail intact: N records (seq A..B)"
 * to `out` and returns 0, or "audit trail broken at record S: <why>" and returns 1. Returns 2 when the
 * database cannot be opened (message on `err`).
 */
int run_audit_verify(const std::string& db_path, std::ostream& out, std::ostream& err);

/**
 * Writes every record with from_ms <= time_ms < to_ms as one JSON line: the entry's fields plus "seq"
 * and "hash". Returns 0; 1 when a stored record could not be read (it is skipped, named on `err`);
 * 2 when the database cannot be opened.
 */
int run_audit_export(const std::string& db_path, std::int64_t from_ms, std::int64_t to_ms, std::ostream& out,
                     std::ostream& err);

}  // namespace schakel::audit
