#pragma once
/**
 * Storage, split by role: the signal log (signal_log.hpp), the per-subscription outboxes with dead
 * letters (outbox.hpp), plugin state (plugin_state.hpp), the hub's registry of consents, links and
 * parked reports (registry.hpp), and the audit trail (audit_trail.hpp). A part of the core that needs
 * one role takes that interface; `store` is an engine's whole surface: every role, plus what spans
 * them (retention, closing, diagnostics). The SQLite engine (open_sqlite_store) is the embedded
 * default; another engine (PostgreSQL, NATS JetStream) implements the same contract, and the roles
 * tell it which operations must commit together (docs/storage.md, "Roles").
 *
 * Threading contract: every method may be called from any thread. Methods taking a completion run
 * it on one of the engine's own threads once the work is durable or read (or failed); the caller
 * re-posts to its own executor. The methods marked "Blocking" wait for the engine: not for network
 * threads. They live only in the role types (signal_log, outbox, ...); a request handler gets a role's
 * async_ base (async_signal_log, async_outbox, ...), which has none, so it cannot call one
 * (docs/storage.md, "Who may block").
 */
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit.hpp"
#include "storage/audit_trail.hpp"
#include "storage/outbox.hpp"
#include "storage/plugin_state.hpp"
#include "storage/registry.hpp"
#include "storage/signal_log.hpp"
#include "storage/types.hpp"

namespace schakel::storage {

class store : public signal_log, public outbox, public plugin_state, public registry, public audit_trail {
 public:
  ~store() override = default;

  /**
   * Removes signals past their retention (by received time and type) that no outbox row still waits
   * for, parked reports never linked within theirs, and audit records older than audit_days (keeping
   * the chain anchor). Spans the log, the outboxes, the registry and the trail. Blocking; run from a
   * timer, not a network thread.
   */
  virtual purge_result purge(const retention_plan& plan, std::int64_t now_ms) = 0;

  /**
   * The outbox's change of a subscription with its audit records. This default, for engines without
   * one transaction for both, runs the two steps one after the other.
   */
  void change_subscription(const std::string& subscription, bool disabled, std::string reason,
                           std::vector<audit::entry> audit, done_fn done) override {
    (void)reason;
    set_subscription_disabled(subscription, disabled,
                              [this, audit = std::move(audit), done = std::move(done)](std::error_code ec) mutable {
                                if (ec || audit.empty()) return done(ec);
                                append_audit(std::move(audit), std::move(done));
                              });
  }

  /** Drains queued work and stops the store thread; later calls complete with an error. */
  virtual void close() = 0;

  /** Diagnostic counters (see store_stats); cheap, callable from any thread. */
  virtual store_stats stats() { return {}; }
};

struct sqlite_options {
  std::string path;                   ///< the database file; its WAL sits beside it
  std::size_t max_batch_jobs = 4096;  ///< jobs folded into one transaction at most
  /// The audit key (keys_dir, never the database). Given: a plain chain gets its marker on open and
  /// every new record is HMAC-keyed. Empty: read-only use (audit verify); appending to a keyed chain fails.
  std::string audit_key = {};
};

/**
 * Opens (creating if needed) the embedded SQLite engine in WAL mode with synchronous=FULL, migrating
 * an older schema. Throws std::system_error (storage_errc, message naming the path and the engine's
 * reason) when the file cannot be opened or migrated: a start-up failure, never on the data path.
 * Engine-specific behaviour is described in docs/storage.md.
 */
std::unique_ptr<store> open_sqlite_store(const sqlite_options& options);

}  // namespace schakel::storage
