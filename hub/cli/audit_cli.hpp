#pragma once
/**
 * `schakel audit verify` and `schakel audit export`: the audit trail read straight from the hub's
 * database, for a privacy officer or an auditor. The lead's CLI parses the command line (config,
 * dates) and calls these. Output never holds more than the trail itself holds (pseudonyms, ids,
 * reasons); error messages name the path and the reason only.
 */
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>

namespace schakel::audit {

/** What verify reads besides the database, all from keys_dir by default (privacy::audit_files_of). */
struct verify_keys {
  std::string chain_key = {};                 ///< the audit key; "" when there is none (a plain chain needs none)
  std::filesystem::path chain_key_file = {};  ///< named in messages
  std::filesystem::path public_key = {};      ///< audit-checkpoint.pub: checks the checkpoints' signatures
  std::filesystem::path checkpoints = {};     ///< audit-checkpoints.log; empty: no checkpoints to check
};

/**
 * Checks the chain from the retention anchor on (plain records with SHA-256 up to the chain-keyed
 * marker, keyed ones with HMAC under keys.chain_key), then every signed checkpoint in
 * keys.checkpoints against it. Prints "audit trail intact: N records (seq A..B)" and, with a
 * checkpoint file, how the chain is keyed and which checkpoint it was checked against; returns 0.
 * Returns 1 with one line naming what was found: "audit trail broken at record S: <why>" (a changed
 * or rewritten record), "audit trail truncated: …" (the database ends before a checkpoint), "audit
 * trail rolled back: …" (a record differs from what a checkpoint signed), "audit checkpoint line N
 * of <file>: …" (a forged or altered checkpoint). Returns 2 when the database, the public key or the
 * audit key needed cannot be read (message on `err`).
 */
int run_audit_verify(const std::string& db_path, const verify_keys& keys, std::ostream& out, std::ostream& err);

/**
 * Checks the whole chain from the retention anchor on, without keys or checkpoints. Prints "audit trail intact: N
 * records (seq A..B)" to `out` and returns 0, or "audit trail broken at record S: <why>" and returns 1. Returns 2 when
 * the database cannot be opened (message on `err`).
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
