#pragma once
/**
 * Prometheus metrics: counters, gauges and histograms with fixed label sets, rendered in the text
 * exposition format. Labels carry only configuration names (instances, subscriptions), never data.
 * Thread-safe; the hot path is one lookup under a shared lock and an atomic add.
 */
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace schakel::metrics {

class counter {
 public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class histogram {
 public:
  explicit histogram(std::vector<double> bounds);
  void observe(double v);
  struct snapshot {
    std::vector<double> bounds;
    std::vector<std::uint64_t> cumulative;  ///< one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  snapshot take() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

/** Label pairs in a fixed order, e.g. {{"connector","quickstart"}}. */
using labels = std::vector<std::pair<std::string, std::string>>;

/**
 * Throws std::invalid_argument when a series breaks the naming rules (docs/observability.md):
 * `schakel_` snake_case names, `_total` on counters only, snake_case labels other than Prometheus's
 * own `instance` and `job`. Every registry call checks it; `type` is counter, gauge or histogram.
 */
void check_naming(std::string_view type, const std::string& name, const labels& l);

class registry {
 public:
  registry() = default;
  /**
   * Every series this registry renders also carries `constant` (e.g. {{"node", "hub-a"}}), after its
   * own labels: set once here rather than by each caller, so no metric can be born without them.
   * Throws std::invalid_argument for a label check_naming refuses; a series that names one of these
   * labels itself is refused when it is created.
   */
  explicit registry(labels constant);

  /**
   * Returns the counter for (name, labels), creating it and its HELP text on first use. Each call
   * below throws std::invalid_argument for a name or label that check_naming refuses.
   */
  counter& get_counter(const std::string& name, const std::string& help, const labels& l = {});
  histogram& get_histogram(const std::string& name, const std::string& help, const labels& l = {},
                           std::vector<double> bounds = default_latency_bounds());
  /** A gauge computed when scraped (e.g. outbox depth read from the store). */
  void add_gauge(const std::string& name, const std::string& help, const labels& l, std::function<double()> read);

  std::string render() const;

  static std::vector<double> default_latency_bounds();  ///< seconds, 0.5 ms .. 10 s

 private:
  struct family {
    std::string help;
    std::string type;
    std::map<std::string, std::unique_ptr<counter>> counters;
    std::map<std::string, std::unique_ptr<histogram>> histograms;
    std::map<std::string, std::function<double()>> gauges;
  };
  /** The series' labels followed by the constant ones, rendered: "{connector=\"x\",node=\"a\"}". */
  std::string full_labels(const std::string& own) const;
  void check_own_labels(const std::string& name, const labels& l) const;

  labels constant_;
  std::string constant_text_;  ///< constant_ rendered without braces
  mutable std::shared_mutex mutex_;
  std::map<std::string, family> families_;
};

}  // namespace schakel::metrics
