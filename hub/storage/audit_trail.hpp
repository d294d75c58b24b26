#pragma once
/**
 * The audit trail: a hash chain of audit records (docs/privacy.md). Other roles append records in the
 * same transaction as the change they describe (a delivery outcome, a consent, a link); this is the
 * trail on its own: records that describe no stored change, and the reads that verify the chain.
 * Threading: as store.hpp. Transactions per operation: docs/storage.md, "Roles".
 *
 * Two types: async_audit_trail (appending) is what a request handler gets; audit_trail adds the
 * blocking reads that verify the chain (docs/storage.md, "Who may block").
 */
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "audit/audit.hpp"
#include "storage/types.hpp"

namespace schakel::storage {

class async_audit_trail {
 public:
  virtual ~async_audit_trail() = default;

  /** Appends audit records on their own (consent changes, admin reads, replays). */
  virtual void append_audit(std::vector<audit::entry> audit, done_fn done) = 0;
};

class audit_trail : public async_audit_trail {
 public:
  /**
   * Calls `fn` for each audit record with from_ms <= time_ms < to_ms, in seq order; the whole trail
   * with (INT64_MIN, INT64_MAX). Blocking (reads a snapshot); returns false when `fn` stopped early.
   */
  virtual bool read_audit(std::int64_t from_ms, std::int64_t to_ms,
                          const std::function<bool(const audit::record&)>& fn) = 0;
  /** Where the chain starts after retention purges. Blocking. */
  virtual audit_anchor read_audit_anchor() = 0;
  /** The head a signed checkpoint vouches for; nullopt from a store that keeps no audit trail. */
  virtual std::optional<audit_head> read_audit_head() { return std::nullopt; }
};

}  // namespace schakel::storage
