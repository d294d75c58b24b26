// Loads the built tracking.so through the hub's plugin host (dlopen, C ABI), as the daemon does.
#include "plugin_host/plugin_host.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ph = schakel::plugin_host;
using nlohmann::json;

namespace {

std::unique_ptr<ph::connector> load(const json& settings, ph::load_error& error) {
  return ph::load_connector(SCHAKEL_TRACKING_PLUGIN_DIR, {"tracking", "tracking", settings.dump()}, {}, error);
}

TEST(tracking_plugin, loads_through_the_abi_and_maps_an_export) {
  ph::load_error error;
  const auto c = load({{"profile", "kanvas-like"}, {"school", {{"brin", "12AB"}, {"vestiging", "01"}}}}, error);
  ASSERT_NE(c, nullptr) << ph::to_string(error);
  EXPECT_EQ(c->plugin_name(), "tracking");
  const auto result = c->ingest(
      "leerling_id,groep,leerjaar,datum,ronde,Welbevinden,Zelfbeeld,Sociale relaties,Zelfsturing\n"
      "S-1,2B,2,2026-10-05,r1,52,40,x,\n",
      "text/csv");
  ASSERT_TRUE(result.parsed) << result.parse_error;
  ASSERT_EQ(result.signals.size(), 2u);
  EXPECT_EQ(json::parse(result.signals[0])["type"], "nl.schakel.tracking.measurement.recorded");
  ASSERT_EQ(result.rejections.size(), 1u);
  EXPECT_EQ(result.rejections[0].index, 2);
  EXPECT_EQ(result.rejections[0].field, "Sociale relaties");
  EXPECT_EQ(result.rejections[0].reason, "not a number");
}

TEST(tracking_plugin, bad_settings_refuse_the_load_naming_the_path) {
  ph::load_error error;
  const auto c = load({{"profile", "zien-like"}, {"school", {{"brin", "bad"}}}}, error);
  EXPECT_EQ(c, nullptr);
  EXPECT_NE(error.reason.find("settings.school.brin"), std::string::npos) << ph::to_string(error);
}

}  // namespace
