#pragma once
/**
 * An in-memory storage::store for delivery tests: per (subscription, lane) FIFO of events, units
 * formed on demand (batched or single) and handed out one at a time, completions run on a thread
 * of its own like the real engine. Records every outcome for assertions.
 */
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "storage/store.hpp"

namespace schakel::delivery::testing {

class fake_store final : public storage::store {
 public:
  fake_store();
  ~fake_store() override;

  /** Queues one event (its JSON) for (subscription, lane); `subject_ref` is what the gate checks consent for. */
  void enqueue(const std::string& subscription, std::uint32_t lane, std::string event_json, std::int64_t created_ms = 0,
               std::string subject_ref = {}, std::string data_category = "ordinary");

  struct reschedule_call {
    std::int64_t unit_id;
    std::int64_t next_attempt_ms;
    std::int64_t called_at_ms;
    std::string error;
  };
  /**
   * The next `n` outcome writes (mark_delivered, reschedule, move_to_dead_letters, drop_members) fail
   * with disk_full and change nothing, like the real engine on a full disk: the unit stays in flight.
   */
  void fail_outcomes(std::size_t n);
  std::size_t failed_outcomes() const;
  std::vector<std::int64_t> delivered() const;
  std::vector<reschedule_call> reschedules() const;
  /** Units formed so far (as handed out the first time). */
  std::vector<storage::delivery_unit> formed() const;
  std::size_t next_unit_calls() const;
  /** Audit records written with outcomes, in order. */
  std::vector<audit::entry> audit() const;
  /** Outbox rows dropped by the privacy gate. */
  std::vector<std::int64_t> dropped() const;

  // storage::store
  void append(std::vector<storage::signal_row> signals, std::vector<storage::outbox_item> items,
              storage::done_fn done) override;
  std::optional<std::string> get_signal(const std::string& id) override;
  std::int64_t signal_count() override;
  void next_unit(const std::string& subscription, std::uint32_t lane, std::int64_t now_ms,
                 const storage::batching& batch,
                 std::function<void(std::optional<storage::delivery_unit>, std::int64_t)> cb) override;
  void mark_delivered(std::int64_t unit_id, std::vector<audit::entry> audit, storage::done_fn done) override;
  void reschedule(std::int64_t unit_id, std::int64_t next_attempt_ms, std::string last_error,
                  storage::done_fn done) override;
  void move_to_dead_letters(std::int64_t unit_id, std::string reason, std::vector<audit::entry> audit,
                            storage::done_fn done) override;
  void drop_members(std::int64_t unit_id, std::vector<std::int64_t> member_seqs, std::string reason,
                    std::vector<audit::entry> audit, storage::done_fn done) override;
  void append_audit(std::vector<audit::entry> audit, storage::done_fn done) override;
  /** Delivery reads none of these; they fail loudly if it starts to. */
  bool read_audit(std::int64_t, std::int64_t, const std::function<bool(const audit::record&)>&) override {
    throw std::logic_error("fake_store: read_audit is not used by delivery");
  }
  storage::audit_anchor read_audit_anchor() override { throw std::logic_error("fake_store: not used by delivery"); }
  void append_consent(storage::consent_row, std::vector<audit::entry>,
                      std::function<void(std::error_code, std::int64_t)> done) override {
    done(storage::storage_errc::internal, 0);
  }
  std::vector<storage::consent_row> load_consents() override { return {}; }
  // Linking is not delivery's concern: refused like consents.
  void append_with_parked(std::vector<storage::signal_row>, std::vector<storage::outbox_item>,
                          std::vector<storage::state_write>, std::vector<storage::parked_signal>,
                          storage::done_fn done) override {
    done(storage::storage_errc::internal);
  }
  void record_link(storage::student_link, std::vector<audit::entry>,
                   std::function<void(std::error_code, std::vector<storage::parked_signal>)> done) override {
    done(storage::storage_errc::internal, {});
  }
  std::vector<storage::student_link> load_links() override { return {}; }
  void unpark(std::vector<std::string>, std::vector<storage::signal_row>, std::vector<storage::outbox_item>,
              storage::done_fn done) override {
    done(storage::storage_errc::internal);
  }
  std::vector<storage::parked_signal> list_parked() override { return {}; }
  storage::purge_result purge(const storage::retention_plan&, std::int64_t) override { return {}; }
  void set_subscription_disabled(const std::string& subscription, bool disabled, storage::done_fn done) override;
  bool subscription_disabled(const std::string& subscription) override;
  std::vector<storage::dead_letter> list_dead_letters(const std::string& subscription_or_empty) override;
  std::optional<std::string> replay_dead_letter(std::int64_t unit_id) override;
  std::int64_t outbox_depth(const std::string& subscription) override;
  std::int64_t outbox_depth_total() override;
  /** Delivery never appends with state nor follows the log; both fail loudly if it starts to. */
  void append_with_state(std::vector<storage::signal_row>, std::vector<storage::outbox_item>,
                         std::vector<storage::state_write>, storage::done_fn done) override {
    done(storage::storage_errc::internal);
  }
  std::vector<storage::logged_signal> read_signals_after(std::int64_t, std::size_t) override {
    throw std::logic_error("fake_store: read_signals_after is not used by delivery");
  }
  std::optional<std::string> state_get(const std::string& ns, const std::string& key) override;
  void state_put(const std::string& ns, const std::string& key, const std::string& value) override;
  void close() override;

 private:
  struct pending_event {
    std::string json;
    std::int64_t created_ms;
    storage::unit_member member;
  };
  struct lane_queue {
    std::deque<pending_event> events;
    std::optional<storage::delivery_unit> head;  // formed unit not yet finished
    std::int64_t next_attempt_ms = 0;
    bool in_flight = false;
  };
  using lane_key = std::pair<std::string, std::uint32_t>;

  void post(std::function<void()> job);
  lane_queue* find_unit(std::int64_t unit_id);

  mutable std::mutex mutex_;
  std::map<lane_key, lane_queue> lanes_;
  std::set<std::string> disabled_;
  std::vector<std::int64_t> delivered_;
  std::vector<reschedule_call> reschedules_;
  std::vector<storage::dead_letter> dead_;
  std::vector<storage::delivery_unit> formed_;
  std::vector<audit::entry> audit_;
  std::vector<std::int64_t> dropped_;
  std::deque<pending_event> in_unit_;  // events of each lane's head unit, by seq (to release after a drop)
  std::int64_t next_seq_ = 1;
  std::int64_t next_unit_id_ = 1;
  std::size_t next_unit_calls_ = 0;
  std::size_t failing_outcomes_ = 0;
  std::size_t failed_outcomes_ = 0;

  std::mutex jobs_mutex_;
  std::condition_variable jobs_cv_;
  std::deque<std::function<void()>> jobs_;
  bool closing_ = false;
  std::thread worker_;
};

}  // namespace schakel::delivery::testing
