#pragma once
/**
 * The signal log: validated signals in commit order, each append committing its outbox items (and a
 * processor's or drop file's state, and reports parked for a link) in the same transaction. Ingest,
 * processors and the trend releaser write it; processors and record lookups read it.
 * Threading: as store.hpp. Transactions per operation: docs/storage.md, "Roles".
 *
 * Two types: async_signal_log is what a request handler gets (every operation completes later, or
 * reads a counter held in memory); signal_log adds the blocking reads, for the threads that may wait
 * (docs/storage.md, "Who may block").
 */
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "storage/types.hpp"

namespace schakel::storage {

class async_signal_log {
 public:
  virtual ~async_signal_log() = default;

  /**
   * Appends signals and their outbox items in one transaction. `done` runs after the transaction is
   * on disk (fsync'd). Many concurrent appends share one commit (group commit).
   */
  virtual void append(std::vector<signal_row> signals, std::vector<outbox_item> items, done_fn done) = 0;

  /**
   * As append, and in the same transaction the state changes: what makes a drop-folder file's "already
   * ingested" mark, or a processor's derived signals, state and log position, all-or-nothing.
   */
  virtual void append_with_state(std::vector<signal_row> signals, std::vector<outbox_item> items,
                                 std::vector<state_write> state, done_fn done) = 0;

  /**
   * append_with_state() plus signals that wait for a link (docs/linking.md), in the same transaction
   * (on disk before `done`). Here rather than in the registry: it is the ingest path's one append, and
   * a report parked and a report logged from one request must commit together.
   */
  virtual void append_with_parked(std::vector<signal_row> signals, std::vector<outbox_item> items,
                                  std::vector<state_write> state, std::vector<parked_signal> parked, done_fn done) = 0;

  /**
   * The stored record of each (instance, record id) in `record_ids`: one answer per id, in order,
   * through `done` on the store's thread (the caller re-posts). Sees everything committed before and,
   * when `staged_unit` is not empty, the parts staged under that key (stage_part), newest first.
   * Whether retention purged a record is known for as long again as the record was kept (its type's
   * retention); after that a purged id reads as unknown. An engine without the lookup fails with
   * std::errc::function_not_supported (so the hub answers "retry later", never "unknown").
   */
  virtual void find_records(std::string instance, std::vector<std::string> record_ids, std::string staged_unit,
                            std::function<void(std::error_code, std::vector<stored_record>)> done) {
    (void)instance;
    (void)record_ids;
    (void)staged_unit;
    if (done) done(std::make_error_code(std::errc::function_not_supported), {});
  }

  /** A stored signal's JSON, or nullopt when there is none, through `done` on an engine thread. */
  virtual void get_signal(const std::string& id, result_fn<std::optional<std::string>> done) = 0;
  /** Signals in the log: a counter kept in memory, so it never waits for the engine (any engine). */
  virtual std::int64_t signal_count() = 0;

  // ---- a large unit staged in parts (a drop-folder file; docs/drop-folder.md) ----
  /**
   * Adds one part of the unit `key` (a file's digest) to its staging area: durable for as long as
   * this store is open, invisible to every reader (log, outboxes, parked reports, counters) and gone
   * after a crash or restart. Parts are published in the order they were staged. An engine without
   * staging completes with std::errc::operation_not_supported (this default).
   */
  virtual void stage_part(const std::string& key, std::vector<signal_row> signals, std::vector<outbox_item> items,
                          std::vector<parked_signal> parked, done_fn done) {
    (void)key, (void)signals, (void)items, (void)parked;
    if (done) done(std::make_error_code(std::errc::operation_not_supported));
  }
  /**
   * Moves everything staged under `key` into the log, the outboxes and the parked reports, together
   * with `state` (the file's digest mark), in one transaction: readers see all of it or nothing.
   * `progress` (may be empty) runs on the store thread with the number of signals moved so far.
   * The staging area of `key` is empty after a commit; after a failure it stays until discard_staged().
   */
  virtual void publish_staged(const std::string& key, std::vector<state_write> state,
                              std::function<void(std::size_t moved)> progress, done_fn done) {
    (void)key, (void)state, (void)progress;
    if (done) done(std::make_error_code(std::errc::operation_not_supported));
  }
  /** Forgets what is staged under `key` (a unit given up, or a leftover of an earlier attempt). */
  virtual void discard_staged(const std::string& key, done_fn done) {
    (void)key;
    if (done) done({});
  }
};

/** The signal log with its blocking reads: for processors, the trend releaser and start-up. */
class signal_log : public async_signal_log {
 public:
  using async_signal_log::get_signal;

  /**
   * Up to `limit` signals stored after position `after_seq`, in log order (seq ascending). Blocking;
   * for processors, which follow the log from a committed position on their own thread.
   */
  virtual std::vector<logged_signal> read_signals_after(std::int64_t after_seq, std::size_t limit) = 0;

  /** A stored signal's JSON, or nullopt. Blocking; not for network threads. */
  virtual std::optional<std::string> get_signal(const std::string& id) = 0;

  /** For an engine whose reads never wait (a fake in memory): answers at once, on the caller's thread. */
  void get_signal(const std::string& id, result_fn<std::optional<std::string>> done) override {
    done({}, get_signal(id));
  }
};

}  // namespace schakel::storage
