#include "metrics/metrics.hpp"

#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

namespace schakel::metrics {

TEST(metrics, counters_render_with_labels_and_help) {
  registry r;
  r.get_counter("schakel_records_received_total", "Records received", {{"connector", "quickstart"}}).add(3);
  r.get_counter("schakel_records_received_total", "Records received", {{"connector", "quickstart"}}).add(2);
  auto text = r.render();
  EXPECT_NE(text.find("# TYPE schakel_records_received_total counter"), std::string::npos);
  EXPECT_NE(text.find("schakel_records_received_total{connector=\"quickstart\"} 5\n"), std::string::npos) << text;
}

TEST(metrics, histogram_buckets_are_cumulative) {
  registry r;
  auto& h = r.get_histogram("schakel_lat_seconds", "latency", {{"s", "a"}}, {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  auto text = r.render();
  EXPECT_NE(text.find("schakel_lat_seconds_bucket{s=\"a\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("schakel_lat_seconds_bucket{s=\"a\",le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("schakel_lat_seconds_bucket{s=\"a\",le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("schakel_lat_seconds_count{s=\"a\"} 3\n"), std::string::npos) << text;
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
  r.get_counter("schakel_c_total", "c", {{"k", "a\"b"}}).add();
  EXPECT_NE(r.render().find("schakel_c_total{k=\"a\\\"b\"} 1"), std::string::npos);
}

// A connector label called "instance" reached Prometheus as exported_instance; the registry now
// refuses every name that breaks the rules, so no later metric can repeat that.
TEST(metrics, the_registry_refuses_names_that_break_the_naming_rules) {
  registry r;
  EXPECT_THROW(r.get_counter("schakel_x_total", "x", {{"instance", "a"}}), std::invalid_argument);
  EXPECT_THROW(r.get_counter("schakel_x_total", "x", {{"job", "a"}}), std::invalid_argument);
  EXPECT_THROW(r.get_counter("schakel_x", "x"), std::invalid_argument);  // counter without _total
  EXPECT_THROW(r.add_gauge("schakel_x_total", "x", {}, [] { return 0.0; }), std::invalid_argument);
  EXPECT_THROW(r.get_histogram("schakel_x_total", "x"), std::invalid_argument);
  EXPECT_THROW(r.get_counter("records_total", "x"), std::invalid_argument);  // no schakel_ prefix
  EXPECT_THROW(r.get_counter("schakel_Records_total", "x"), std::invalid_argument);
  EXPECT_THROW(r.get_counter("schakel_x_total", "x", {{"Connector", "a"}}), std::invalid_argument);
  try {
    r.get_counter("schakel_x_total", "x", {{"instance", "a"}});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("connector"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(r.get_counter("schakel_x_total", "x", {{"connector", "a"}}));
  EXPECT_NO_THROW(r.add_gauge("schakel_outbox_depth", "x", {{"subscription", "s"}}, [] { return 0.0; }));
  EXPECT_NO_THROW(r.get_histogram("schakel_ingest_latency_seconds", "x", {{"connector", "a"}}));
  EXPECT_EQ(r.render().find("instance="), std::string::npos);
}

// Several nodes scrape into one Prometheus: the node label must be on every line of every kind of
// series, unlabelled ones and histogram buckets included, or their sums double-count or collide.
TEST(metrics, constant_labels_are_on_every_series) {
  registry r(labels{{"node", "hub-a"}});
  r.get_counter("schakel_auth_failures_total", "x").add(2);
  r.get_counter("schakel_records_received_total", "x", {{"connector", "src"}}).add(1);
  r.add_gauge("schakel_outbox_depth", "x", {}, [] { return 7.0; });
  r.get_histogram("schakel_lat_seconds", "x", {{"s", "a"}}, {0.1}).observe(0.05);
  r.get_histogram("schakel_bare_seconds", "x", {}, {0.1}).observe(0.05);
  const auto text = r.render();
  EXPECT_NE(text.find("schakel_auth_failures_total{node=\"hub-a\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("schakel_records_received_total{connector=\"src\",node=\"hub-a\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("schakel_outbox_depth{node=\"hub-a\"} 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("schakel_lat_seconds_bucket{s=\"a\",node=\"hub-a\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("schakel_bare_seconds_bucket{node=\"hub-a\",le=\"+Inf\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("schakel_bare_seconds_sum{node=\"hub-a\"} "), std::string::npos) << text;
  EXPECT_NE(text.find("schakel_lat_seconds_count{s=\"a\",node=\"hub-a\"} 1\n"), std::string::npos) << text;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind('#', 0) != 0) {
      EXPECT_NE(line.find("node=\"hub-a\""), std::string::npos) << line;
    }
}

TEST(metrics, a_series_may_not_set_a_constant_label_itself) {
  registry r(labels{{"node", "hub-a"}});
  EXPECT_THROW(r.get_counter("schakel_x_total", "x", {{"node", "b"}}), std::invalid_argument);
  EXPECT_THROW(r.add_gauge("schakel_x", "x", {{"node", "b"}}, [] { return 0.0; }), std::invalid_argument);
  EXPECT_THROW(registry(labels{{"instance", "a"}}), std::invalid_argument);
}

}  // namespace schakel::metrics
