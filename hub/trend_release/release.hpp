#pragma once
/**
 * The trend releaser (docs/trends.md): follows the signal log like a processor, collects each
 * school week's contributions per measure, and once a week has closed (its Sunday plus
 * `release_delay_days`) seals it and releases every window that closes with it — week, month,
 * year to date — through disclosure control. The released cells become `nl.schakel.trend.<window>`
 * signals that the pipeline validates and the privacy gate routes, so an aggregate subscription
 * receives them through the same outbox, delivery and audit as everything else.
 *
 * What is sealed is final: a signal that arrives for a sealed week is counted as late and left out
 * of every window, so no released figure is ever revised (a revision would be a second release of
 * the same window, and the difference between the two would show the late students).
 *
 * Its bookkeeping lives in the store's state table (namespace `schakel.trends`) and is committed in
 * one transaction with the cells' signals and outbox items: a crash never releases a week twice
 * nor loses one.
 */
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/metrics.hpp"
#include "pipeline/ingest_pipeline.hpp"
#include "schakel/plugin.hpp"
#include "storage/store.hpp"
#include "trends/noise.hpp"
#include "trends/settings.hpp"
#include "trends/windows.hpp"

namespace schakel::trends {

inline constexpr const char* state_namespace = "schakel.trends";

/** Enrolled students of one class from a date on (the denominators). */
struct class_enrolment {
  std::string school;  ///< BRIN + vestiging as in settings.schools (4 or 6 characters)
  std::string klass;
  int leerjaar = 0;
  std::int64_t students = 0;
  std::string valid_from;  ///< YYYY-MM-DD
};

/** What `released` selects; empty fields select everything. Dates compare with a window's last day. */
struct trend_query {
  std::string school;
  std::optional<window_kind> kind;
  std::string from;
  std::string to;
  std::string subscription;  ///< only releases routed to this subscription ("" = all, the admin's view)
};

struct run_result {
  std::size_t signals_read = 0;
  std::size_t late_signals = 0;  ///< for weeks already sealed: left out
  std::size_t releases = 0;      ///< windows released (per school and window)
  std::size_t cells = 0;
};

class releaser;

/**
 * What a request handler gets of the releaser: a queue onto its own thread. Releasing, reading the
 * releases and recording enrolment wait for the store, so they are reachable only through the
 * releaser handed to a job here, never from a network thread (docs/storage.md, "Who may block").
 */
class release_queue {
 public:
  virtual ~release_queue() = default;
  /**
   * Runs `job` with the releaser on the releaser's own thread, after the jobs before it (any thread).
   * Before start() or after stop() the job runs at once on the caller's thread.
   */
  virtual void submit(std::function<void(releaser&)> job) = 0;
};

class releaser final : public release_queue {
 public:
  using subject_ref_fn = std::function<std::string(const std::string& brin, const std::string& student_key)>;
  using committed_fn = std::function<void(const std::vector<std::string>& subscriptions)>;

  /**
   * `subject_ref` gives the hub's keyed pseudonym of a student: the only student identity the
   * releaser keeps (to count distinct students). Loads its bookkeeping from `store`.
   */
  releaser(settings s, storage::store& store, const pipeline::ingest_pipeline& pipeline, subject_ref_fn subject_ref,
           committed_fn committed, metrics::registry* metrics);
  ~releaser() override;
  releaser(const releaser&) = delete;
  releaser& operator=(const releaser&) = delete;

  void start();
  /** Runs the jobs already submitted, then stops the thread. */
  void stop();
  void wake();
  /** The API hands its releases and reads here, so a long release never holds a network thread. */
  void submit(std::function<void(releaser&)> job) override;

  /**
   * Reads the log up to its end and releases every week closed at `now_ms` (any thread; serialised),
   * or only those whose Sunday is on or before `until` (a backfill in steps). Throws
   * std::runtime_error when the store fails (nothing of the failed step is committed).
   */
  run_result run_once(std::int64_t now_ms, std::optional<days> until = std::nullopt);

  /** The released document (trends/model.hpp) for `q`. */
  nlohmann::json released(const trend_query& q) const;

  /** Records enrolment (all rows in one state write per school); throws std::runtime_error on a store failure. */
  void record_enrolment(const std::vector<class_enrolment>& rows);

  /** The log position read so far (retention keeps what comes after it). */
  std::int64_t position() const { return position_.load(); }
  const settings& config() const { return settings_; }

 private:
  void load();
  void accumulate(const storage::logged_signal& s, std::set<std::string>& dirty, std::size_t& late);
  nlohmann::json& open_for(const std::string& school, days monday, std::set<std::string>& dirty);
  nlohmann::json release_week(const std::string& school, days monday, std::int64_t now_ms, pipeline::batch& out,
                              std::vector<storage::state_write>& writes, std::size_t& cells);
  nlohmann::json sealed_week(const std::string& school, days monday) const;
  std::vector<nlohmann::json> released_before(const std::string& school, const std::vector<days>& weeks,
                                              days monday) const;
  nlohmann::json seal_week(const std::string& school, const std::string& monday_text,
                           std::vector<storage::state_write>& writes);
  std::pair<std::set<std::string>, std::set<std::string>> route_within_budget(
      const std::string& school, const std::string& year, std::size_t first_item, pipeline::batch& out,
      std::vector<storage::state_write>& writes);
  void forget_old_weeks(const std::string& school, days monday, std::vector<storage::state_write>& writes);
  nlohmann::json enrolment_of(const std::string& school) const;
  std::string school_of(const nlohmann::json& signal) const;
  nlohmann::json index_json() const;
  void loop();

  settings settings_;
  storage::store& store_;
  const pipeline::ingest_pipeline& pipeline_;
  subject_ref_fn subject_ref_;
  committed_fn committed_;
  metrics::counter* released_metric_ = nullptr;
  metrics::counter* suppressed_metric_ = nullptr;
  metrics::counter* late_metric_ = nullptr;
  metrics::counter* withheld_metric_ = nullptr;

  mutable std::mutex run_mu_;  // one run at a time; guards everything below
  std::atomic<std::int64_t> position_{0};
  std::map<std::string, nlohmann::json> open_;           // "<school>/<monday>" -> contributions
  std::map<std::string, std::set<std::string>> sealed_;  // school -> sealed Mondays (YYYY-MM-DD)
  mutable std::map<std::string, nlohmann::json> sealed_cache_;
  budget_ledger budget_;                                        // per subscription and "<school>/<school year>"
  nlohmann::json first_ = nlohmann::json::object();             // school -> first Monday released
  nlohmann::json forgotten_before_ = nlohmann::json::object();  // school -> sealed weeks before it hold no pseudonyms

  std::mutex loop_mu_;
  std::condition_variable cv_;
  bool woken_ = false;
  bool stopping_ = false;
  bool running_ = false;
  std::vector<std::function<void()>> jobs_;
  std::thread thread_;
};

/** The source.instance of every released trend signal. */
inline constexpr const char* release_instance = "trends";

/**
 * What the releaser emits under `s`: a `nl.schakel.trend.<window>` type per configured window, with the
 * content and evidence keys trend_signal writes (check-config holds subscriptions' field lists against it).
 */
sdk::emitted_signals release_emits(const settings& s);

}  // namespace schakel::trends
