// Loads the built jgz-fhir.so through the hub's plugin host (dlopen, C ABI), as the daemon does.
#include "plugin_host/plugin_host.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace ph = schakel::plugin_host;
using nlohmann::json;

namespace {

std::unique_ptr<ph::connector> load(const json& settings, ph::load_error& error) {
  return ph::load_connector(SCHAKEL_JGZ_FHIR_PLUGIN_DIR, {"jgz-fhir", "jgz-fhir", settings.dump()}, {}, error);
}

std::string data(const std::string& name) {
  std::ifstream in(std::string(JGZ_FHIR_TEST_DATA_DIR) + "/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(jgz_fhir_plugin, loads_through_the_abi_and_maps_a_bundle) {
  ph::load_error error;
  const json settings = {
      {"link", {{"student_systems", {{"https://schakel.example/id/leerlingnummer/99XX", {{"brin", "99XX"}}}}}}}};
  const auto c = load(settings, error);
  ASSERT_NE(c, nullptr) << ph::to_string(error);
  EXPECT_EQ(c->plugin_name(), "jgz-fhir");

  const auto result = c->ingest(data("bundle-collection.json"), "application/fhir+json");
  ASSERT_TRUE(result.parsed) << result.parse_error;
  // Two SDQs; no observation rule is configured, so the Observation is refused, as is the Practitioner.
  ASSERT_EQ(result.signals.size(), 2u);
  EXPECT_EQ(json::parse(result.signals[0])["type"], "nl.schakel.jgz.sdq.scored");
  EXPECT_EQ(result.signal_record_index, (std::vector<std::int64_t>{1, 2}));
  ASSERT_EQ(result.rejections.size(), 2u);
  EXPECT_EQ(result.rejections[0].index, 4);
  EXPECT_EQ(result.rejections[1].index, 3);
  EXPECT_EQ(result.rejections[1].field, "Bundle.entry[3].resource.code");

  const auto xml = c->ingest("<Bundle/>", "application/fhir+xml");
  EXPECT_FALSE(xml.parsed);
  EXPECT_NE(xml.parse_error.find("application/fhir+json"), std::string::npos) << xml.parse_error;
}

TEST(jgz_fhir_plugin, bad_settings_refuse_the_load_naming_the_path) {
  ph::load_error error;
  const auto c = load({{"link", {{"bsn", true}}}}, error);
  EXPECT_EQ(c, nullptr);
  EXPECT_NE(error.reason.find("settings.link.bsn_school"), std::string::npos) << ph::to_string(error);
}

}  // namespace
