// Retention in the SQLite engine: purge() spans the log, the outboxes, parked reports and the audit trail.

#include "common/encoding.hpp"
#include "common/signal.hpp"
#include "storage/sqlite_engine.hpp"

namespace schakel::storage::detail {

namespace {

constexpr std::int64_t ms_per_day = 86'400'000;

/** now - days, or nullopt when the period reaches past the start of the clock (nothing is old enough). */
std::optional<std::int64_t> cutoff_ms(std::int64_t now_ms, std::int64_t days) {
  if (days <= 0 || days > INT64_MAX / ms_per_day) return std::nullopt;
  const auto span = days * ms_per_day;
  if (now_ms < INT64_MIN + span) return std::nullopt;
  return now_ms - span;
}

/** Days a signal type is kept: the first matching rule (exact, or a prefix ending in '*'), else the default. */
std::int64_t retention_days(const retention_plan& plan, std::string_view type) {
  for (const auto& r : plan.rules) {
    const std::string_view p = r.type_pattern;
    if (!p.empty() && p.back() == '*') {
      if (type.substr(0, p.size() - 1) == p.substr(0, p.size() - 1)) return r.days;
    } else if (p == type) {
      return r.days;
    }
  }
  return plan.default_days;
}

}  // namespace

purge_result sqlite_store::purge(const retention_plan& plan, std::int64_t now_ms) {
  purge_result total;
  // Signals go in bounded chunks, each its own job, so appends keep flowing during a long purge.
  std::int64_t after_seq = 0;
  for (;;) {
    std::int64_t removed = 0;
    bool more = false;
    const auto ec = run_sync({"purge_signals",
                              [&](effects& fx) { return do_purge_signals(plan, now_ms, after_seq, removed, more, fx); },
                              {}});
    if (ec) {
      log::error("storage.purge_failed", {{"what", "signals"}, {"error", ec.message()}});
      break;
    }
    total.signals += removed;
    if (!more) break;
  }
  std::int64_t audit_removed = 0;
  const auto ec = run_sync({"purge_audit",
                            [&](effects& fx) -> std::error_code {
                              if (auto e = do_purge_parked(plan, now_ms, total.parked, fx)) return e;
                              if (auto e = do_purge_audit(plan, now_ms, audit_removed, fx)) return e;
                              if (audit_removed == 0 && total.signals == 0 && total.parked == 0) return {};
                              // The purge itself is on the record: who can delete is auditable.
                              audit::entry e;
                              e.time_ms = now_ms;
                              e.action = "retention.purged";
                              e.outcome = "success";
                              e.actor = "schakel";
                              e.actor_role = "system";
                              e.detail = "signals=" + std::to_string(total.signals) +
                                         " parked=" + std::to_string(total.parked) +
                                         " audit_records=" + std::to_string(audit_removed);
                              return do_append_audit({e}, fx);
                            },
                            {}});
  if (ec) {
    log::error("storage.purge_failed", {{"what", "audit"}, {"error", ec.message()}});
  } else {
    total.audit_records = audit_removed;
  }
  if (total.signals > 0 || total.audit_records > 0 || total.parked > 0)
    log::info("storage.purged",
              {{"signals", total.signals}, {"parked", total.parked}, {"audit_records", total.audit_records}});
  return total;
}

/**
 * A parked report never linked is kept no longer than its type's retention, counted from when it
 * arrived: health data about someone the school could not name must not wait forever.
 */
std::error_code sqlite_store::do_purge_parked(const retention_plan& plan, std::int64_t now, std::int64_t& removed,
                                              effects& fx) {
  int rc = SQLITE_OK;
  std::vector<std::int64_t> old;
  {
    auto scan = writer_.prepare("SELECT seq, type, received_ms FROM parked_signals", rc);
    if (!scan) return from_sqlite(rc);
    while ((rc = scan->step()) == SQLITE_ROW) {
      const auto cutoff = cutoff_ms(now, retention_days(plan, scan->text(1)));
      if (cutoff && scan->int64(2) < *cutoff) old.push_back(scan->int64(0));
    }
    if (rc != SQLITE_DONE) return from_sqlite(rc);
  }
  auto del = writer_.prepare("DELETE FROM parked_signals WHERE seq = ?1", rc);
  if (!del) return from_sqlite(rc);
  for (const auto seq : old) {
    del->reset();
    if (auto ec = step_done(del->bind(1, seq))) {
      fx.detail = writer_.last_error() + " (purge parked)";
      return ec;
    }
  }
  removed = static_cast<std::int64_t>(old.size());
  return {};
}

/**
 * One chunk of the signal purge: scans up to purge_chunk signals after `after_seq` (and before
 * keep_from_seq), removes those past their retention that no outbox row still waits for, with
 * their finished outbox rows. `more` when the chunk was full.
 */
std::error_code sqlite_store::do_purge_signals(const retention_plan& plan, std::int64_t now, std::int64_t& after_seq,
                                               std::int64_t& removed, bool& more, effects& fx) {
  constexpr std::int64_t purge_chunk = 2000;
  removed = 0;
  more = false;
  int rc = SQLITE_OK;
  struct candidate {
    std::int64_t seq;
    std::string id;
    std::string instance;
    std::string record_id;  // "" when the signal has none
    std::int64_t kept_ms;   // how long its type is kept: its tombstone lasts as long again
  };
  std::vector<candidate> old;
  {
    auto scan = writer_.prepare(
        "SELECT seq, id, type, stored_ms, instance, coalesce(json_extract(json, '$.source.record_id'), '') "
        "FROM signals WHERE seq > ?1 AND seq < ?2 ORDER BY seq LIMIT ?3",
        rc);
    if (!scan) return from_sqlite(rc);
    scan->bind(1, after_seq).bind(2, plan.keep_from_seq).bind(3, purge_chunk);
    std::int64_t scanned = 0;
    while ((rc = scan->step()) == SQLITE_ROW) {
      ++scanned;
      after_seq = scan->int64(0);
      const std::int64_t days = retention_days(plan, scan->text(2));
      const auto cutoff = cutoff_ms(now, days);
      if (cutoff && scan->int64(3) < *cutoff)
        old.push_back({after_seq, scan->text(1), scan->text(4), scan->text(5), now - *cutoff});
    }
    if (rc != SQLITE_DONE) return from_sqlite(rc);
    more = scanned == purge_chunk;
  }
  if (old.empty()) return {};
  // Waiting: a live item, or a member of a live (not dead) batch. Dead letters, dropped rows and
  // members of dead batches are finished.
  auto waiting = writer_.prepare(
      "SELECT 1 FROM outbox o WHERE o.signal_id = ?1 AND o.dead_at_ms IS NULL AND o.dropped_at_ms IS NULL AND "
      "(o.batch_id IS NULL OR EXISTS (SELECT 1 FROM outbox b WHERE b.unit_id = o.batch_id AND b.dead_at_ms IS NULL)) "
      "LIMIT 1",
      rc);
  if (!waiting) return from_sqlite(rc);
  auto del_rows = writer_.prepare("DELETE FROM outbox WHERE signal_id = ?1", rc);
  if (!del_rows) return from_sqlite(rc);
  auto del_signal = writer_.prepare("DELETE FROM signals WHERE seq = ?1", rc);
  if (!del_signal) return from_sqlite(rc);
  auto add_tombstone = writer_.prepare(
      "INSERT INTO purged_records (instance, record_hash, until_ms) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (instance, record_hash) DO UPDATE SET until_ms = max(until_ms, excluded.until_ms)",
      rc);
  if (!add_tombstone) return from_sqlite(rc);
  for (const auto& c : old) {
    rc = waiting->bind(1, c.id).step();
    waiting->reset();
    if (rc == SQLITE_ROW) continue;
    if (rc != SQLITE_DONE) return from_sqlite(rc);
    if (auto ec = step_done(del_rows->bind(1, c.id))) return ec;
    del_rows->reset();
    if (auto ec = step_done(del_signal->bind(1, c.seq))) return ec;
    del_signal->reset();
    if (!c.record_id.empty()) {
      const std::int64_t until = c.kept_ms > INT64_MAX - now ? INT64_MAX : now + c.kept_ms;
      if (auto ec = step_done(add_tombstone->bind(1, c.instance).bind(2, record_hash(c.record_id)).bind(3, until)))
        return ec;
      add_tombstone->reset();
    }
    ++removed;
  }
  // Tombstones past their time go in the same chunk: they only ever answer a late deletion.
  auto expired = writer_.prepare("DELETE FROM purged_records WHERE until_ms < ?1", rc);
  if (!expired) return from_sqlite(rc);
  if (auto ec = step_done(expired->bind(1, now))) return ec;
  // A dead batch whose members are all gone goes too: its body held only purged events.
  auto orphans = writer_.prepare(
      "DELETE FROM outbox WHERE is_batch = 1 AND dead_at_ms IS NOT NULL AND "
      "NOT EXISTS (SELECT 1 FROM outbox m WHERE m.batch_id = outbox.unit_id)",
      rc);
  if (!orphans) return from_sqlite(rc);
  if (auto ec = step_done(*orphans)) return ec;
  fx.signals = -removed;
  return {};
}

/**
 * Removes the oldest audit records: the longest run from the start of the chain older than
 * audit_days (a prefix, so the rest still verifies), and moves the anchor to the first kept record.
 */
std::error_code sqlite_store::do_purge_audit(const retention_plan& plan, std::int64_t now, std::int64_t& removed,
                                             effects&) {
  removed = 0;
  const auto cutoff = cutoff_ms(now, plan.audit_days);
  if (!cutoff) return {};
  int rc = SQLITE_OK;
  std::int64_t first_kept = 0;
  std::string anchor_hash;
  {
    auto st = writer_.prepare(
        "SELECT seq, prev_hash FROM audit_log WHERE seq = (SELECT min(seq) FROM audit_log WHERE time_ms >= ?1)", rc);
    if (!st) return from_sqlite(rc);
    rc = st->bind(1, *cutoff).step();
    if (rc == SQLITE_ROW) {
      first_kept = st->int64(0);
      anchor_hash = st->text(1);
    } else if (rc == SQLITE_DONE) {
      // Every record is old: the chain continues from the head in memory.
      first_kept = audit_next_seq_;
      anchor_hash = audit_prev_hash_;
    } else {
      return from_sqlite(rc);
    }
  }
  auto del = writer_.prepare("DELETE FROM audit_log WHERE seq < ?1", rc);
  if (!del) return from_sqlite(rc);
  if (auto ec = step_done(del->bind(1, first_kept))) return ec;
  removed = writer_.changes();
  if (removed == 0) return {};
  auto an = writer_.prepare(
      "INSERT INTO audit_anchor (id, next_seq, prev_hash) VALUES (1, ?1, ?2) "
      "ON CONFLICT (id) DO UPDATE SET next_seq = excluded.next_seq, prev_hash = excluded.prev_hash",
      rc);
  if (!an) return from_sqlite(rc);
  return step_done(an->bind(1, first_kept).bind(2, anchor_hash));
}

std::string record_hash(std::string_view record_id) {
  return encoding::sha256_hex(record_id);
}

}  // namespace schakel::storage::detail
