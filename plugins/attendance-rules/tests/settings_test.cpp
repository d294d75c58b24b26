#include "settings.hpp"

#include <gtest/gtest.h>

#include "schakel/testing/processor_testing.hpp"

namespace schakel::plugins::attendance_rules {
namespace {

std::string error_of(const std::string& text) {
  return sdk::testing::config_error_of(&settings::parse, text);
}

TEST(attendance_rules_settings, empty_gives_documented_defaults) {
  const auto s = settings::parse("");
  const auto& d = s.for_school("12AB");
  EXPECT_EQ(d.mazl.reports, 4);
  EXPECT_EQ(d.mazl.weeks, 12);
  EXPECT_FALSE(d.mazl.calendar_weeks);
  EXPECT_EQ(d.mazl.consecutive_days, 7);
  EXPECT_FALSE(d.mazl.referral_direct);
  EXPECT_EQ(d.leerplicht.threshold, 16);
  EXPECT_EQ(d.leerplicht.weeks, 4);
  EXPECT_FALSE(d.leerplicht.clock_hours);
  EXPECT_EQ(d.leerplicht.categories, std::set<category>{category::unauthorised});
  EXPECT_EQ(d.leerplicht.adults, adults_policy::rmc);
  EXPECT_EQ(d.leerplicht.report_deadline_days, 5);
  EXPECT_FALSE(d.lateness.enabled);
  EXPECT_EQ(d.lesson_minutes, 50);
  EXPECT_EQ(d.lessons_per_day, 7);
  EXPECT_EQ(d.keep_days, 400);
}

TEST(attendance_rules_settings, school_override_deep_merges_over_defaults) {
  const auto s = settings::parse(R"({"defaults": {"mazl": {"weeks": 10}, "lesson_minutes": 45},
                                     "schools": {"99XX": {"mazl": {"reports": 3}, "leerplicht": {"unit": "clock_hours"}}}})");
  const auto& x = s.for_school("99XX");
  EXPECT_EQ(x.mazl.reports, 3);
  EXPECT_EQ(x.mazl.weeks, 10);  // from defaults, not from the built-in 12
  EXPECT_EQ(x.lesson_minutes, 45);
  EXPECT_TRUE(x.leerplicht.clock_hours);
  const auto& other = s.for_school("11AA");
  EXPECT_EQ(other.mazl.reports, 4);
  EXPECT_EQ(other.mazl.weeks, 10);
  EXPECT_FALSE(other.leerplicht.clock_hours);
}

TEST(attendance_rules_settings, errors_name_the_settings_path) {
  EXPECT_EQ(error_of(R"({"defaults": {"mazl": {"reportz": 3}}})"), "settings.defaults.mazl.reportz: unknown field");
  EXPECT_EQ(error_of(R"({"extra": 1})"), "settings.extra: unknown field");
  EXPECT_EQ(error_of(R"({"schools": {"99XX": {"mazl": {"reports": 0}}}})"),
            "settings.schools.99XX.mazl.reports: must be between 1 and 100");
  EXPECT_EQ(error_of(R"({"schools": {"99xx": {}}})"),
            "settings.schools.99xx: the key must be a BRIN: 4 characters, digits or capital letters");
  EXPECT_EQ(error_of(R"({"defaults": {"mazl": {"week_kind": "month"}}})"),
            "settings.defaults.mazl.week_kind: must be one of school | calendar");
  EXPECT_EQ(error_of(R"({"defaults": {"leerplicht": {"categories": ["unauthorised", "absent"]}}})"),
            "settings.defaults.leerplicht.categories[1]: must be one of sick | authorised | unauthorised | late | "
            "removed_from_class | suspended | other");
  EXPECT_EQ(error_of(R"({"defaults": {"leerplicht": {"threshold": -1}}})"),
            "settings.defaults.leerplicht.threshold: must be a number above 0 (at most 10000)");
  EXPECT_EQ(error_of(R"({"defaults": {"keep_days": 100}})"),
            "settings.defaults.keep_days: must be at least 244 days for the configured rule windows");
  EXPECT_EQ(error_of(R"({"defaults": {"mazl": 3}})"), "settings.defaults.mazl: must be an object");
  EXPECT_EQ(error_of("[1"), "settings: not valid JSON");
}

}  // namespace
}  // namespace schakel::plugins::attendance_rules
