// Loads the built observations.so through the hub's plugin host (dlopen, C ABI), as the daemon does.
#include "plugin_host/plugin_host.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ph = schakel::plugin_host;
using nlohmann::json;

namespace {

std::unique_ptr<ph::connector> load(const json& settings, ph::load_error& error) {
  return ph::load_connector(SCHAKEL_OBSERVATIONS_PLUGIN_DIR, {"observations", "observations", settings.dump()}, {},
                            error);
}

TEST(observations_plugin, loads_through_the_abi_and_maps_a_batch) {
  ph::load_error error;
  const auto c = load({{"school", {{"brin", "12AB"}, {"vestiging", "01"}}}}, error);
  ASSERT_NE(c, nullptr) << ph::to_string(error);
  EXPECT_EQ(c->plugin_name(), "observations");
  const json good = {{"student_key", "S-1"},
                     {"category", "isolated"},
                     {"severity", "concern"},
                     {"observer_role", "canteen_staff"},
                     {"observed_at", "2026-11-27"}};
  json bad = good;
  bad["remark"] = "x";
  const auto result = c->ingest(json{{"observations", {bad, good}}}.dump(), "application/json");
  ASSERT_TRUE(result.parsed) << result.parse_error;
  ASSERT_EQ(result.signals.size(), 1u);
  EXPECT_EQ(json::parse(result.signals[0])["type"], "nl.schakel.observation.recorded");
  EXPECT_EQ(result.signal_record_index, std::vector<std::int64_t>{1});
  ASSERT_EQ(result.rejections.size(), 1u);
  EXPECT_EQ(result.rejections[0].index, 0);
  EXPECT_EQ(result.rejections[0].field, "/remark");

  const auto csv = c->ingest("a;b\n", "text/csv");
  EXPECT_FALSE(csv.parsed);
  EXPECT_NE(csv.parse_error.find("application/json"), std::string::npos) << csv.parse_error;
}

TEST(observations_plugin, bad_settings_refuse_the_load_naming_the_path) {
  ph::load_error error;
  const auto c = load({{"school", {{"brin", "99XX"}}}, {"note_max_length", 500}}, error);
  EXPECT_EQ(c, nullptr);
  EXPECT_NE(error.reason.find("settings.note_max_length"), std::string::npos) << ph::to_string(error);
}

}  // namespace
