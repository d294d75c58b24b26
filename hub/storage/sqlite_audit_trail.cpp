// The SQLite engine's audit trail: the hash chain, its head in memory, and the reads that verify it.

#include "common/signal.hpp"
#include "storage/sqlite_engine.hpp"

namespace schakel::storage::detail {

void sqlite_store::append_audit(std::vector<audit::entry> audit, done_fn done) {
  enqueue({"append_audit", [this, audit = std::move(audit)](effects& fx) { return do_append_audit(audit, fx); },
           wrap(std::move(done))});
}

bool sqlite_store::read_audit(std::int64_t from_ms, std::int64_t to_ms,
                              const std::function<bool(const audit::record&)>& fn) {
  bool whole = true;
  // One statement reads one snapshot, however long `fn` takes.
  read_rows(
      "read_audit",
      "SELECT seq, time_ms, text, prev_hash, hash FROM audit_log WHERE time_ms >= ?1 AND time_ms < ?2 ORDER BY seq",
      [&](statement& st) { st.bind(1, from_ms).bind(2, to_ms); },
      [&](statement& st) {
        audit::record r;
        r.seq = st.int64(0);
        r.time_ms = st.int64(1);
        r.text = st.text(2);
        r.prev_hash = st.text(3);
        r.hash = st.text(4);
        return whole = fn(r);
      });
  return whole;
}

audit_anchor sqlite_store::read_audit_anchor() {
  audit_anchor a;
  a.prev_hash = audit::genesis_hash();
  read_rows("read_audit_anchor", "SELECT next_seq, prev_hash, keyed_from FROM audit_anchor WHERE id = 1", no_parameters,
            [&](statement& st) {
              a.next_seq = st.int64(0);
              a.prev_hash = st.text(1);
              a.keyed_from = st.int64(2);
              return false;
            });
  return a;
}

std::optional<audit_head> sqlite_store::read_audit_head() {
  // Committed records only (the reader's snapshot): a checkpoint must never vouch for a record a
  // rollback could still take back. A failed read is no head at all, never a default one.
  std::optional<audit_head> head;
  if (read_rows("read_audit_head", "SELECT next_seq - 1, prev_hash, keyed_from FROM audit_anchor WHERE id = 1",
                no_parameters,
                [&](statement& st) {
                  head = audit_head{st.int64(0), st.text(1), st.int64(2)};
                  return false;
                }) ||
      !head)
    return std::nullopt;
  if (read_rows("read_audit_head", "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", no_parameters,
                [&](statement& st) {
                  head->seq = st.int64(0);
                  head->hash = st.text(1);
                  return false;
                }))
    return std::nullopt;
  return head;
}

/**
 * Appends to the chain. The head lives in memory (store thread only) and moves with the records;
 * the undo puts it back if this job or its transaction is rolled back, so the next record never
 * skips a seq or names a prev_hash that is not on disk.
 */
std::error_code sqlite_store::do_append_audit(const std::vector<audit::entry>& entries, effects& fx) {
  if (entries.empty()) return {};
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].action.empty() || entries[i].outcome.empty()) {
      fx.detail = "audit entry " + std::to_string(i) + " has no action or outcome";
      return storage_errc::invalid_argument;
    }
  }
  // A keyed chain continued without its key would be plain again from here: refuse instead.
  if (audit_keyed_from_ > 0 && options_.audit_key.empty()) {
    fx.detail = "the audit chain is keyed but this store was opened without the audit key";
    return storage_errc::invalid_argument;
  }
  int rc = SQLITE_OK;
  auto st =
      writer_.prepare("INSERT INTO audit_log (seq, time_ms, text, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5)", rc);
  if (!st) return from_sqlite(rc);
  fx.undo.emplace_back([this, seq = audit_next_seq_, prev = audit_prev_hash_] {
    audit_next_seq_ = seq;
    audit_prev_hash_ = prev;
  });
  const auto now = schakel::now_ms();
  for (auto e : entries) {
    if (e.time_ms == 0) e.time_ms = now;
    // replace: a stray invalid UTF-8 byte in a reason must not cost the record.
    const auto text = audit::to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    const auto seq = audit_next_seq_;
    auto hash = audit::record_hash({audit_keyed_from_, options_.audit_key}, audit_prev_hash_, seq, text);
    if (hash.empty()) {
      fx.detail = "audit hash failed";
      return storage_errc::internal;
    }
    if (auto ec =
            step_done(st->bind(1, seq).bind(2, e.time_ms).bind(3, text).bind(4, audit_prev_hash_).bind(5, hash))) {
      fx.detail = writer_.last_error() + " (audit record " + std::to_string(seq) + ")";
      return ec;
    }
    st->reset();
    audit_next_seq_ = seq + 1;
    audit_prev_hash_ = std::move(hash);
  }
  return {};
}

}  // namespace schakel::storage::detail
