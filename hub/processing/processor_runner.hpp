#pragma once
/**
 * Runs one processor plugin over the signal log: reads stored signals after its committed position,
 * feeds the ones it consumes to the plugin in batches, and commits each batch's derived signals (with
 * their outbox items), the plugin's state writes and the new position in ONE transaction. A crash
 * therefore replays whole batches against the state they started from: derived signals are neither
 * lost nor doubled (docs/plugin-abi.md, "Processors").
 */
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "metrics/metrics.hpp"
#include "pipeline/ingest_pipeline.hpp"
#include "plugin_host/plugin_host.hpp"
#include "storage/store.hpp"

namespace schakel::processing {

struct runner_options {
  std::size_t batch_max_signals = 10000;       ///< log entries scanned per batch at most
  std::size_t page_size = 1000;                ///< log entries read per query
  std::chrono::milliseconds idle_wait{1000};   ///< re-check the log this often even without a wake()
  std::chrono::milliseconds retry_wait{1000};  ///< after a failed commit
};

/** What a runner has done so far (for /v1/processors, tests and the load harness). */
struct runner_status {
  std::string name;
  std::int64_t position = 0;    ///< last log position committed
  bool caught_up = false;       ///< nothing stored after `position`
  std::uint64_t processed = 0;  ///< signals handed to the plugin
  std::uint64_t derived = 0;    ///< derived signals committed
  std::uint64_t errors = 0;     ///< plugin failures on a signal, refused derived signals, failed commits
};

/** Namespace of the processors' committed positions in the store's state table. */
inline constexpr const char* position_namespace = "schakel.processor-position";

class processor_runner {
 public:
  /**
   * `skip_instances`: connector instances whose signals this processor does not read (those not in
   * its `inputs`). Its own signals are always skipped. `committed` runs on the runner thread with the
   * subscriptions that received derived signals, after they are durable.
   */
  processor_runner(std::unique_ptr<plugin_host::processor> processor, std::set<std::string> skip_instances,
                   storage::store& store, const pipeline::ingest_pipeline& pipeline,
                   std::function<void(const std::vector<std::string>&)> committed, metrics::registry* metrics,
                   runner_options options = {});
  ~processor_runner();

  processor_runner(const processor_runner&) = delete;
  processor_runner& operator=(const processor_runner&) = delete;

  void start();
  /** Finishes the batch in progress (committing it), then stops. */
  void stop();
  /** New signals are in the log: look now instead of at the next idle check. Any thread. */
  void wake();

  /** Runs batches on the caller's thread until the log is exhausted (tests). Returns batches committed. */
  std::size_t drain();

  runner_status status() const;
  const std::string& name() const { return name_; }

 private:
  enum class step { idle, committed, failed };
  step run_batch();
  void loop();

  std::unique_ptr<plugin_host::processor> processor_;
  std::string name_;
  std::set<std::string> skip_instances_;
  storage::store& store_;
  const pipeline::ingest_pipeline& pipeline_;
  std::function<void(const std::vector<std::string>&)> committed_;
  runner_options options_;

  std::atomic<std::int64_t> position_{0};
  std::atomic<std::uint64_t> processed_{0}, derived_{0}, errors_{0};
  metrics::counter* derived_metric_ = nullptr;
  metrics::counter* errors_metric_ = nullptr;

  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace schakel::processing
