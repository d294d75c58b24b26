#pragma once
/**
 * Just enough of the Prometheus text exposition format for the load harness: samples with labels,
 * sums over label subsets, and histogram quantiles interpolated inside buckets the way PromQL's
 * histogram_quantile() does (so they are estimates, bounded by the bucket edges).
 */
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace schakel::load {

using label_set = std::vector<std::pair<std::string, std::string>>;

struct bucket_histogram {
  std::vector<std::pair<double, double>> buckets;  ///< (upper bound "le", cumulative count), ascending; +Inf last
  double count = 0;
  double sum = 0;

  /** This minus an earlier snapshot of the same histogram: what was observed in between. */
  bucket_histogram minus(const bucket_histogram& earlier) const;
  /** Interpolated q-quantile (0..1); NaN without observations; +infinity when it lies beyond the last finite bound. */
  double quantile(double q) const;
  /** The largest finite bucket bound (0 when none): what "+infinity" above means "more than". */
  double last_finite_bound() const;
};

class scrape {
 public:
  static scrape parse(std::string_view text);
  /** Sum of every sample named `name` whose labels include all of `filter`; 0 when none. */
  double sum(std::string_view name, const label_set& filter = {}) const;
  /** The histogram `base` (`base_bucket`, `base_count`, `base_sum`), summed over matching label sets. */
  bucket_histogram histogram(std::string_view base, const label_set& filter = {}) const;
  bool empty() const { return samples_.empty(); }

 private:
  struct sample {
    std::string name;
    label_set labels;
    double value = 0;
  };
  static bool matches(const sample& s, const label_set& filter);
  std::vector<sample> samples_;
};

}  // namespace schakel::load
