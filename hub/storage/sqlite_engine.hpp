#pragma once
/**
 * Internal to the SQLite engine: the one class behind open_sqlite_store(), declared here so that its
 * roles can live in a file each (sqlite_signal_log.cpp, sqlite_outbox.cpp, sqlite_plugin_state.cpp,
 * sqlite_registry.cpp, sqlite_audit_trail.cpp), over one core (sqlite_engine.cpp: the store thread,
 * its queue and the group commit; sqlite_schema.cpp: opening and migrations). One writer thread
 * serves every role: an operation that spans roles (an append with its state, an outcome with its
 * audit records) is one job, so one savepoint in one transaction. Nothing outside hub/storage
 * includes this.
 */
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/log.hpp"
#include "storage/sqlite_db.hpp"
#include "storage/store.hpp"

namespace schakel::storage::detail {

/** The schema version this build writes (PRAGMA user_version); sqlite_schema.cpp has the migrations. */
constexpr int current_schema = 7;

/**
 * What a tombstone keeps of a purged record id: its SHA-256, so the table answers "was this id purged"
 * without keeping the id itself (a derived id can be built from a student key and a date).
 */
std::string record_hash(std::string_view record_id);

/** What a job changed besides the database: applied after commit, or undone when its work is lost. */
struct effects {
  std::vector<std::pair<std::string, std::int64_t>> depth;  // subscription, delta in events
  std::int64_t signals = 0;
  std::vector<std::function<void()>> undo;  // in-memory changes already made, reversed on failure
  std::string detail;                       // engine message for the log; never record content

  void roll_back() {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) (*it)();
    undo.clear();
    depth.clear();
    signals = 0;  // detail stays: it explains the failure in the log
  }
};

struct job {
  const char* kind = "";
  std::function<std::error_code(effects&)> run;  // on the store thread, inside a savepoint
  std::function<void(std::error_code)> finish;   // on the store thread, after the commit
};

class sqlite_store final : public store {
 public:
  // ---- the engine core (sqlite_engine.cpp): the store thread, its queue and the group commit ----
  explicit sqlite_store(sqlite_options options);
  ~sqlite_store() override;
  void close() override;
  store_stats stats() override;
  // ---- signal_log (sqlite_signal_log.cpp) ----
  void append(std::vector<signal_row> signals, std::vector<outbox_item> items, done_fn done) override;
  void append_with_state(std::vector<signal_row> signals, std::vector<outbox_item> items,
                         std::vector<state_write> state, done_fn done) override;
  std::vector<logged_signal> read_signals_after(std::int64_t after_seq, std::size_t limit) override;
  void append_with_parked(std::vector<signal_row> signals, std::vector<outbox_item> items,
                          std::vector<state_write> state, std::vector<parked_signal> parked, done_fn done) override;
  void stage_part(const std::string& key, std::vector<signal_row> signals, std::vector<outbox_item> items,
                  std::vector<parked_signal> parked, done_fn done) override;
  void publish_staged(const std::string& key, std::vector<state_write> state, std::function<void(std::size_t)> progress,
                      done_fn done) override;
  void discard_staged(const std::string& key, done_fn done) override;
  void find_records(std::string instance, std::vector<std::string> record_ids, std::string staged_unit,
                    std::function<void(std::error_code, std::vector<stored_record>)> done) override;
  std::optional<std::string> get_signal(const std::string& id) override;
  void get_signal(const std::string& id, result_fn<std::optional<std::string>> done) override;
  std::int64_t signal_count() override;
  // ---- outbox (sqlite_outbox.cpp) ----
  void next_unit(const std::string& subscription, std::uint32_t lane, std::int64_t now_ms, const batching& batch,
                 std::function<void(std::optional<delivery_unit>, std::int64_t)> cb) override;
  void mark_delivered(std::int64_t unit_id, std::vector<audit::entry> audit, done_fn done) override;
  void reschedule(std::int64_t unit_id, std::int64_t next_attempt_ms, std::string last_error, done_fn done) override;
  void move_to_dead_letters(std::int64_t unit_id, std::string reason, std::vector<audit::entry> audit,
                            done_fn done) override;
  void drop_members(std::int64_t unit_id, std::vector<std::int64_t> member_seqs, std::string reason,
                    std::vector<audit::entry> audit, done_fn done) override;
  void set_subscription_disabled(const std::string& subscription, bool disabled, done_fn done) override;
  void change_subscription(const std::string& subscription, bool disabled, std::string reason,
                           std::vector<audit::entry> audit, done_fn done) override;
  std::optional<std::string> replay_dead_letter(std::int64_t unit_id) override;
  void replay_dead_letter(std::int64_t unit_id, result_fn<std::optional<std::string>> done) override;
  bool subscription_disabled(const std::string& subscription) override;
  subscription_status read_subscription_status(const std::string& subscription) override;
  void read_subscription_status(const std::string& subscription, result_fn<subscription_status> done) override;
  std::vector<dead_letter> list_dead_letters(const std::string& subscription_or_empty) override;
  void list_dead_letters(const std::string& subscription_or_empty, result_fn<std::vector<dead_letter>> done) override;
  std::int64_t outbox_depth(const std::string& subscription) override;
  std::int64_t outbox_depth_total() override;
  // ---- plugin_state (sqlite_plugin_state.cpp) ----
  void state_put(const std::string& ns, const std::string& key, const std::string& value) override;
  void state_put(const std::string& ns, const std::string& key, const std::string& value, done_fn done) override;
  std::optional<std::string> state_get(const std::string& ns, const std::string& key) override;
  void state_get(const std::string& ns, const std::string& key, result_fn<std::optional<std::string>> done) override;
  std::optional<std::string> state_get_checked(const std::string& ns, const std::string& key,
                                               std::error_code& error) override;
  // ---- registry (sqlite_registry.cpp) ----
  void append_consent(consent_row row, std::vector<audit::entry> audit,
                      std::function<void(std::error_code, std::int64_t)> done) override;
  std::vector<consent_row> load_consents() override;
  void record_link(student_link link, std::vector<audit::entry> audit,
                   std::function<void(std::error_code, std::vector<parked_signal>)> done) override;
  std::vector<student_link> load_links() override;
  void unpark(std::vector<std::string> parked_ids, std::vector<signal_row> signals, std::vector<outbox_item> items,
              done_fn done) override;
  std::vector<parked_signal> list_parked() override;
  void list_parked(result_fn<std::vector<parked_signal>> done) override;
  // ---- audit_trail (sqlite_audit_trail.cpp) ----
  void append_audit(std::vector<audit::entry> audit, done_fn done) override;
  bool read_audit(std::int64_t from_ms, std::int64_t to_ms,
                  const std::function<bool(const audit::record&)>& fn) override;
  audit_anchor read_audit_anchor() override;
  std::optional<audit_head> read_audit_head() override;
  // ---- retention, across the roles (sqlite_retention.cpp) ----
  purge_result purge(const retention_plan& plan, std::int64_t now_ms) override;

 private:
  static void no_parameters(statement&) {}

  /**
   * One read on the reader connection, under its lock: `bind(statement&)` binds the parameters,
   * `row(statement&)` takes each row and returns false to stop early. A failed read is logged under
   * `what` (never with the values) and returned; a closed store reads nothing.
   */
  template <class Bind, class Row>
  std::error_code read_rows(const char* what, const char* sql, Bind&& bind, Row&& row) {
    std::lock_guard lock(reader_mu_);
    if (!reader_.is_open()) return storage_errc::closed;
    int rc = SQLITE_OK;
    auto st = reader_.prepare(sql, rc);
    if (st) {
      bind(*st);
      while ((rc = st->step()) == SQLITE_ROW)
        if (!row(*st)) return {};
      if (rc == SQLITE_DONE) return {};
    }
    log::error("storage.read_failed",
               {{"op", what}, {"error", from_sqlite(rc).message()}, {"engine", reader_.last_error()}});
    return from_sqlite(rc);
  }

  struct live_unit {
    std::string subscription;
    std::int64_t lane = 0;
    std::int64_t event_count = 0;
    bool is_batch = false;
  };

  // ---- the engine core (sqlite_engine.cpp): the store thread, its queue and the group commit ----
  static std::function<void(std::error_code)> wrap(done_fn done);
  void enqueue(job j);
  std::error_code run_sync(job j);
  void loop();
  /**
   * Runs `read` on the reader thread, in order: the completion forms of the reads, so a caller never
   * waits for the reader connection's lock nor for SQLite. After close it runs on the caller's thread
   * (the reader connection is closed then, so the read fails with storage_errc::closed).
   */
  void read_later(const char* kind, std::function<void()> read);
  void reader_loop();
  void stop_reader();
  void run_group(std::vector<job>& group);
  void add_depth(const std::string& subscription, std::int64_t delta);
  std::error_code step_done(detail::statement& st);

  // ---- opening and migration (sqlite_schema.cpp) ----
  [[noreturn]] void fail_open(std::error_code ec, const std::string& why);
  void check(int rc, connection& c, const char* step);
  std::int64_t query_int(connection& c, const char* sql, const char* step);
  void configure(connection& c);
  void open_or_throw();
  void migrate();
  void load_memory_state();
  void key_audit_chain();

  // ---- signal_log (sqlite_signal_log.cpp) ----
  std::error_code read_signal(const std::string& id, std::optional<std::string>& json);
  std::error_code do_find_records(const std::string& instance, const std::vector<std::string>& record_ids,
                                  const std::string& staged_unit, std::vector<stored_record>& out);
  std::error_code do_append(const std::vector<signal_row>& signals, const std::vector<outbox_item>& items, effects& fx);
  template <class Row, class Bind>
  std::error_code insert_each(const char* sql, const std::vector<Row>& rows, const char* what, effects& fx, Bind bind);
  std::error_code do_stage(const std::string& key, const std::vector<signal_row>& signals,
                           const std::vector<outbox_item>& items, const std::vector<parked_signal>& parked,
                           effects& fx);
  template <class Row>
  std::error_code for_each_staged_step(const char* sql, const std::string& key, Row (*read)(statement&),
                                       const std::function<std::error_code(std::vector<Row>&)>& move);
  std::error_code do_publish_staged(const std::string& key, const std::function<void(std::size_t)>& progress,
                                    effects& fx);
  std::error_code do_discard_staged(const std::string& key, effects& fx);

  // ---- outbox (sqlite_outbox.cpp) ----
  std::error_code do_next_unit(const std::string& subscription, std::uint32_t lane, std::int64_t now,
                               const batching& batch, std::optional<delivery_unit>& unit, std::int64_t& next_due,
                               effects& fx);
  bool release_in_flight(std::int64_t unit_id, effects& fx);
  std::error_code find_unit(std::int64_t unit_id, bool dead, live_unit& out);
  std::error_code do_mark_delivered(std::int64_t unit_id, effects& fx);
  std::error_code record_outcome(const std::string& subscription, bool success, std::string_view error);
  std::error_code do_reschedule(std::int64_t unit_id, std::int64_t next_attempt_ms, const std::string& err,
                                effects& fx);
  std::error_code do_dead_letter(std::int64_t unit_id, const std::string& reason, effects& fx);
  std::error_code do_replay(std::int64_t unit_id, std::string& subscription, effects& fx);
  std::error_code load_members(std::int64_t batch_id, std::vector<unit_member>& out);
  std::error_code do_drop_members(std::int64_t unit_id, const std::vector<std::int64_t>& seqs,
                                  const std::string& reason, effects& fx);
  std::error_code do_set_disabled(const std::string& subscription, bool disabled, const std::string& reason,
                                  effects& fx);

  std::error_code read_status(const std::string& subscription, subscription_status& out);
  std::error_code read_dead_letters(const std::string& subscription_or_empty, std::vector<dead_letter>& out);

  // ---- plugin_state (sqlite_plugin_state.cpp) ----
  job state_put_job(std::string ns, std::string key, std::string value);
  std::error_code do_state_writes(const std::vector<state_write>& writes, effects& fx);

  // ---- registry (sqlite_registry.cpp) ----
  template <class Statement>
  static parked_signal parked_from(Statement& st);
  std::error_code do_park(const std::vector<parked_signal>& parked, effects& fx);
  std::error_code read_parked(std::vector<parked_signal>& out);
  std::error_code do_record_link(const student_link& link, effects& fx);
  std::error_code do_parked_for(const std::string& link_hash, std::vector<parked_signal>& out, effects& fx);
  std::error_code do_unpark_rows(const std::vector<std::string>& ids, effects& fx);
  std::error_code do_append_consent(consent_row& row, std::int64_t& id, effects& fx);

  // ---- audit_trail (sqlite_audit_trail.cpp) ----
  std::error_code do_append_audit(const std::vector<audit::entry>& entries, effects& fx);

  // ---- retention, across the roles (sqlite_retention.cpp) ----
  std::error_code do_purge_parked(const retention_plan& plan, std::int64_t now, std::int64_t& removed, effects& fx);
  std::error_code do_purge_signals(const retention_plan& plan, std::int64_t now, std::int64_t& after_seq,
                                   std::int64_t& removed, bool& more, effects& fx);
  std::error_code do_purge_audit(const retention_plan& plan, std::int64_t now, std::int64_t& removed, effects&);

  sqlite_options options_;
  connection writer_;  // store thread only (and the constructor before the thread starts)
  std::mutex reader_mu_;
  connection reader_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<job> queue_;
  bool closing_ = false;
  std::mutex join_mu_;
  std::thread thread_;
  std::atomic<std::thread::id> store_thread_id_{};

  // The reader thread: the completion forms of the reads, one at a time on reader_ (docs/storage.md).
  std::mutex reads_mu_;
  std::condition_variable reads_cv_;
  std::deque<std::pair<const char*, std::function<void()>>> reads_;
  bool reads_closing_ = false;
  std::thread reader_thread_;
  std::atomic<std::thread::id> reader_thread_id_{};

  // Store thread only.
  std::int64_t next_id_ = 1;  // unit ids and lane positions; never reused (AUTOINCREMENT on disk)
  std::unordered_map<std::string, std::int64_t> in_flight_lanes_;
  std::unordered_map<std::int64_t, std::string> in_flight_units_;
  std::int64_t audit_next_seq_ = 1;  // the chain head: next record's seq and its prev_hash
  std::string audit_prev_hash_;
  std::int64_t audit_keyed_from_ = 0;  // first keyed seq; 0 while the chain is plain

  std::mutex disabled_mu_;
  std::unordered_set<std::string> disabled_;

  std::shared_mutex depth_mu_;
  std::unordered_map<std::string, std::unique_ptr<std::atomic<std::int64_t>>> depth_;
  std::atomic<std::int64_t> depth_total_{0};
  std::atomic<std::int64_t> signal_count_{0};

  std::atomic<std::uint64_t> commits_{0}, jobs_{0}, failed_jobs_{0}, largest_group_{0};
};

}  // namespace schakel::storage::detail
