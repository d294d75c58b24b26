#include "metrics/metrics.hpp"

#include <gtest/gtest.h>

namespace schakel::metrics {

TEST(metrics, counters_render_with_labels_and_help) {
  registry r;
  r.get_counter("schakel_records_received_total", "Records received", {{"instance", "quickstart"}}).add(3);
  r.get_counter("schakel_records_received_total", "Records received", {{"instance", "quickstart"}}).add(2);
  auto text = r.render();
  EXPECT_NE(text.find("# TYPE schakel_records_received_total counter"), std::string::npos);
  EXPECT_NE(text.find("schakel_records_received_total{instance=\"quickstart\"} 5\n"), std::string::npos) << text;
}

TEST(metrics, histogram_buckets_are_cumulative) {
  registry r;
  auto& h = r.get_histogram("lat_seconds", "latency", {{"s", "a"}}, {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  auto text = r.render();
  EXPECT_NE(text.find("lat_seconds_bucket{s=\"a\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{s=\"a\",le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{s=\"a\",le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_count{s=\"a\"} 3\n"), std::string::npos) << text;
}

TEST(metrics, gauges_are_read_at_scrape_time) {
  registry r;
  double depth = 1;
  r.add_gauge("schakel_outbox_depth", "depth", {{"subscription", "x"}}, [&] { return depth; });
  depth = 42;
  EXPECT_NE(r.render().find("schakel_outbox_depth{subscription=\"x\"} 42\n"), std::string::npos);
}

TEST(metrics, label_values_are_escaped) {
  registry r;
  r.get_counter("c_total", "c", {{"k", "a\"b"}}).add();
  EXPECT_NE(r.render().find("c_total{k=\"a\\\"b\"} 1"), std::string::npos);
}

}  // namespace schakel::metrics
