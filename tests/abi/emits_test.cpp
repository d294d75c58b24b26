// What plugins declare they emit (ABI 1.2): the loader's side, against purpose-built plugins, plugins
// built against older minors, and the real generic-json plugin.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "plugin_host/plugin_host.hpp"

namespace ph = schakel::plugin_host;

namespace {

using key_set = std::set<std::string, std::less<>>;

struct loaded {
  std::unique_ptr<ph::connector> connector;
  ph::load_error error;
};

loaded load(const std::string& plugin, const std::string& settings = "{}",
            const std::filesystem::path& dir = SCHAKEL_TEST_PLUGIN_DIR) {
  loaded out;
  out.connector = ph::load_connector(dir, ph::load_request{"inst-1", plugin, settings}, {}, out.error);
  return out;
}

TEST(PluginLoader, LoadsAPluginBuiltAgainstThePreviousMinorThatDeclaresNothing) {
  auto r = load("abi_minor_1_1");
  ASSERT_NE(r.connector, nullptr) << ph::to_string(r.error);
  EXPECT_EQ(r.connector->plugin_name(), "c-1-1");
  EXPECT_FALSE(r.connector->emits().has_value());
  auto result = r.connector->ingest("x", "");
  ASSERT_EQ(result.signals.size(), 1u);
  EXPECT_EQ(result.signals[0], R"({"from":"c"})");
  // Neither does a 1.0 plugin.
  auto old = load("abi_old_small");
  ASSERT_NE(old.connector, nullptr);
  EXPECT_FALSE(old.connector->emits().has_value());
}

TEST(PluginLoader, RefusesADeclarationWithPatterns) {
  auto r = load("abi_bad_emits");
  EXPECT_EQ(r.connector, nullptr);
  EXPECT_EQ(
      r.error.reason,
      "emits declaration refused: signals: \"nl.schakel.attendance.*\" is not an exact signal type (no patterns)");
}

TEST(PluginLoader, SdkPluginDeclaresWhatItsSettingsDecide) {
  auto r = load("abi_good", R"({"emits_type":"nl.schakel.test.made"})");
  ASSERT_NE(r.connector, nullptr) << ph::to_string(r.error);
  ASSERT_TRUE(r.connector->emits().has_value());
  const auto& declared = *r.connector->emits();
  ASSERT_EQ(declared.size(), 1u);
  const auto& shape = declared.at("nl.schakel.test.made");
  // The SDK adds "evidence" to the content keys whenever evidence keys are declared.
  EXPECT_EQ(shape.content, (key_set{"evidence", "indicator", "value"}));
  EXPECT_EQ(shape.evidence, (key_set{"code"}));
  auto other = load("abi_good", R"({"emits_type":"nl.schakel.test.other"})");
  ASSERT_NE(other.connector, nullptr);
  EXPECT_EQ(other.connector->emits()->count("nl.schakel.test.other"), 1u);
}

TEST(PluginLoader, ParseEmitsRefusesWhatCannotBeChecked) {
  std::string error;
  EXPECT_FALSE(ph::parse_emits("[]", error));
  EXPECT_EQ(error, "not a JSON object");
  EXPECT_FALSE(ph::parse_emits(R"({"signals":{"a.b.c":{"evidence":["*"]}}})", error));
  EXPECT_EQ(error, "signals.a.b.c.evidence: every entry must be an exact key ([A-Za-z0-9_], no patterns)");
  EXPECT_FALSE(ph::parse_emits(R"({"signals":{"a.b.c":{"content":"value"}}})", error));
  EXPECT_EQ(error, "signals.a.b.c.content: must be an array of names");
  const auto ok = ph::parse_emits(R"({"signals":{"a.b.c":{"content":["value"],"evidence":["count"]}}})", error);
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->at("a.b.c").evidence.contains("count"));
}

TEST(PluginLoader, GenericJsonDeclaresWhatItsMappingProduces) {
  // The README's kind of mapping, with its type read from the record through a map.
  nlohmann::json mapping = {
      {"subject.student_key", {{"pointer", "/leerling"}}}, {"subject.school.brin", {{"const", "12AB"}}},
      {"content.domain", {{"const", "attendance"}}},       {"content.indicator", {{"const", "absence_hours"}}},
      {"content.severity", {{"const", "info"}}},           {"content.value", {{"pointer", "/uren"}}},
      {"content.evidence.code", {{"pointer", "/code"}}},   {"governance.data_category", {{"const", "ordinary"}}}};
  mapping["type"] = {{"pointer", "/soort"},
                     {"map", {{"a", "nl.schakel.attendance.absence.recorded"}}},
                     {"map_default", "nl.schakel.attendance.other.recorded"}};
  const std::string settings = nlohmann::json{{"mapping", mapping}}.dump();
  auto r = load("generic-json", settings, SCHAKEL_REAL_PLUGIN_DIR);
  ASSERT_NE(r.connector, nullptr) << ph::to_string(r.error);
  ASSERT_TRUE(r.connector->emits().has_value());
  const auto& declared = *r.connector->emits();
  ASSERT_EQ(declared.size(), 2u);
  for (const auto& [type, shape] : declared) {
    EXPECT_EQ(shape.content, (key_set{"domain", "evidence", "indicator", "severity", "value"})) << type;
    EXPECT_EQ(shape.evidence, (key_set{"code"})) << type;
  }
  EXPECT_EQ(declared.count("nl.schakel.attendance.other.recorded"), 1u);

  // A type read from the record without a map could be anything: such a mapping is refused.
  auto open = load("generic-json",
                   R"({"mapping":{"type":{"pointer":"/soort"},"subject.school.brin":{"const":"12AB"},
                       "content.domain":{"const":"attendance"},"content.indicator":{"const":"x"},
                       "content.severity":{"const":"info"},"governance.data_category":{"const":"ordinary"}}})",
                   SCHAKEL_REAL_PLUGIN_DIR);
  EXPECT_EQ(open.connector, nullptr);
  EXPECT_NE(open.error.reason.find("settings.mapping.type: a type read from the record needs a 'map'"),
            std::string::npos)
      << open.error.reason;
}

}  // namespace
