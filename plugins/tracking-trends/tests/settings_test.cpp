#include "settings.hpp"

#include <gtest/gtest.h>

#include "schakel/testing/processor_testing.hpp"

namespace schakel::plugins::tracking_trends {
namespace {

std::string error_of(const std::string& text) {
  return sdk::testing::config_error_of(&settings::parse, text);
}

TEST(tracking_trends_settings, empty_gives_documented_defaults) {
  const auto s = settings::parse("");
  const auto& r = s.rule_for("any", "scale");
  EXPECT_EQ(r.risk_rank, 3);
  EXPECT_EQ(r.decline_by, 5);
  EXPECT_TRUE(r.higher_is_better);
  EXPECT_EQ(s.severity_at_risk(), "concern");
  EXPECT_EQ(s.severity_declined(), "attention");
  EXPECT_EQ(s.severity_withdrawn(), "concern");
  EXPECT_TRUE(s.withdrawn().enabled);
  EXPECT_EQ(s.withdrawn().respondents, (std::set<std::string>{"parent", "student", "teacher"}));
  EXPECT_EQ(s.withdrawn().emotional_rank, 2);
  EXPECT_TRUE(s.withdrawn().behavioural_must_be_normal);
  EXPECT_FALSE(s.withdrawn().behavioural_must_be_measured);
  EXPECT_EQ(s.keep_days(), 1100);
}

TEST(tracking_trends_settings, bands_make_the_worst_band_the_default_and_levels_override) {
  const auto s = settings::parse(R"({"defaults": {"decline_by": 4},
    "instruments": {"zien": {"bands": ["high", "average", "low", "very_low", "far_below"], "higher_is_better": false,
                             "scales": {"welbevinden": {"risk_band": "low", "decline_by": 2},
                                        "ranked": {"risk_rank": 1}}}}})");
  EXPECT_EQ(s.rule_for("zien", "other").risk_rank, 4);   // worst of five bands
  EXPECT_EQ(s.rule_for("zien", "other").decline_by, 4);  // from defaults
  EXPECT_FALSE(s.rule_for("zien", "other").higher_is_better);
  EXPECT_EQ(s.rule_for("zien", "welbevinden").risk_rank, 2);
  EXPECT_EQ(s.rule_for("zien", "welbevinden").decline_by, 2);
  EXPECT_FALSE(s.rule_for("zien", "welbevinden").higher_is_better);  // inherited from the instrument
  EXPECT_EQ(s.rule_for("zien", "ranked").risk_rank, 1);
  EXPECT_EQ(s.rule_for("other", "welbevinden").risk_rank, 3);  // another instrument: defaults
}

TEST(tracking_trends_settings, errors_name_the_path) {
  EXPECT_EQ(error_of(R"({"defaults": {"decline_by": 0}})"),
            "settings.defaults.decline_by: must be a number above 0 (at most 1000000)");
  EXPECT_EQ(error_of(R"({"nonsense": 1})"), "settings.nonsense: unknown field");
  EXPECT_EQ(error_of(R"({"instruments": {"x": {"risk_band": "low"}}})"),
            "settings.instruments.x.risk_band: needs the instrument's bands list to name a band");
  EXPECT_EQ(error_of(R"({"instruments": {"x": {"bands": ["a", "b"], "scales": {"s": {"risk_band": "c"}}}}})"),
            "settings.instruments.x.scales.s.risk_band: must be one of the instrument's bands");
  EXPECT_EQ(error_of(R"({"instruments": {"x": {"bands": ["a", "b"], "risk_band": "a", "risk_rank": 1}}})"),
            "settings.instruments.x.risk_rank: give risk_rank or risk_band, not both");
  EXPECT_EQ(error_of(R"({"withdrawn": {"respondents": ["student", "neighbour"]}})"),
            "settings.withdrawn.respondents[1]: must be student | teacher | parent");
  EXPECT_EQ(error_of(R"({"severity": {"at_risk": "high"}})"),
            "settings.severity.at_risk: must be one of info | attention | concern | urgent");
  EXPECT_EQ(error_of(R"({"withdrawn": {"respondents": []}})"),
            "settings.withdrawn.respondents: must name at least one respondent");
  EXPECT_EQ(error_of(R"({"instruments": {"x": {"scales": {"S!": {}}}}})"),
            "settings.instruments.x.scales.S!: scale ids are [a-z0-9_], at most 64 characters");
  EXPECT_EQ(error_of("[1]"), "settings: must be an object");
}

}  // namespace
}  // namespace schakel::plugins::tracking_trends
