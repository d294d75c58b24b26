#include "trends/settings.hpp"

#include <gtest/gtest.h>

namespace schakel::trends {
namespace {

using nlohmann::json;

json minimal() {
  return {{"schools", {"12AB00"}},
          {"measures",
           {{{"name", "concern"}, {"kind", "students"}, {"domain", "emotional"}, {"types", {"nl.schakel.x.*"}}}}}};
}

std::string error_of(const json& section) {
  try {
    parse_settings(section);
  } catch (const settings_error& e) {
    return e.what();
  }
  return {};
}

TEST(trend_settings, defaults_are_k_ten_all_windows_and_levels) {
  const auto s = parse_settings(minimal());
  EXPECT_EQ(s.k, 10);
  EXPECT_EQ(s.windows.size(), 3u);
  EXPECT_EQ(s.levels.size(), 3u);
  EXPECT_EQ(s.release_delay_days, 2);
  EXPECT_FALSE(s.noise);
  EXPECT_EQ(s.measures.at(0).kind, measure_kind::students);
}

TEST(trend_settings, k_below_five_is_refused_and_five_accepted) {
  auto j = minimal();
  j["k"] = 4;
  EXPECT_EQ(error_of(j), "trends.k: must be at least 5 (the minimum cell size; 10 is the default)");
  j["k"] = 5;
  EXPECT_EQ(parse_settings(j).k, 5);
}

TEST(trend_settings, errors_name_the_path) {
  auto j = minimal();
  j["measures"][0]["kind"] = "median";
  EXPECT_EQ(error_of(j), "trends.measures[0].kind: must be students, hours or distribution");
  j = minimal();
  j["measures"].push_back(j["measures"][0]);
  EXPECT_EQ(error_of(j), "trends.measures[1].name: another measure has this name");
  j = minimal();
  j["measures"][0]["types"] = {"nl.schakel.trend.week"};
  EXPECT_EQ(error_of(j), "trends.measures[0].types[0]: trend cells are the output, not an input");
  j = minimal();
  j["schools"] = {"12ab"};
  EXPECT_EQ(error_of(j), "trends.schools[0]: BRIN (4) or BRIN + vestiging (6)");
  j = minimal();
  j["measures"][0]["kind"] = "distribution";
  j["measures"][0]["field"] = "content.evidence.band";
  j["measures"][0]["categories"] = {"low", "low"};
  EXPECT_EQ(error_of(j), "trends.measures[0].categories[1]: listed twice");
  j["measures"][0]["categories"] = {"low", "total"};
  EXPECT_EQ(error_of(j), "trends.measures[0].categories[1]: total is reserved");
  j = minimal();
  j["noise"] = {{"epsilon_per_release", 2.0}, {"budget_per_school_year", 1.0}};
  EXPECT_EQ(error_of(j), "trends.noise.budget_per_school_year: must hold at least one release (epsilon_per_release)");
}

TEST(trend_settings, type_patterns_match_exactly_or_by_prefix) {
  EXPECT_TRUE(type_matches({"nl.schakel.attendance.*"}, "nl.schakel.attendance.absence.recorded"));
  EXPECT_FALSE(type_matches({"nl.schakel.attendance.absence"}, "nl.schakel.attendance.absence.recorded"));
  EXPECT_TRUE(type_matches({"a.b.c", "nl.schakel.jgz.sdq.scored"}, "nl.schakel.jgz.sdq.scored"));
}

}  // namespace
}  // namespace schakel::trends
