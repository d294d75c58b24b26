#include "settings.hpp"

#include <string>

#include <gtest/gtest.h>

#include "schakel/testing/processor_testing.hpp"

namespace schakel::plugins::match_detection {
namespace {

std::string error_of(const std::string& text) {
  return sdk::testing::config_error_of(&settings::parse, text);
}

TEST(match_detection_settings, defaults_when_empty_or_null) {
  for (const char* text : {"", "null", "{}"}) {
    const settings s = settings::parse(text);
    EXPECT_EQ(s.window_days, 90) << text;
    EXPECT_EQ(s.min_severity, severity::concern) << text;
    EXPECT_FALSE(s.retract_on_withdrawal) << text;
    EXPECT_TRUE(s.roles.empty()) << text;
  }
}

TEST(match_detection_settings, parses_every_field) {
  const settings s = settings::parse(
      R"({"roles": {"attendance": "school-attendance", "jgz-fhir": "jgz"}, "window_days": 30,
          "min_severity": "attention", "retract_on_withdrawal": true})");
  EXPECT_EQ(s.window_days, 30);
  EXPECT_EQ(s.min_severity, severity::attention);
  EXPECT_TRUE(s.retract_on_withdrawal);
  EXPECT_EQ(s.role_of("attendance"), "school-attendance");
  EXPECT_EQ(s.role_of("jgz-fhir"), "jgz");
  EXPECT_EQ(s.role_of("tracking"), "tracking") << "an unmapped instance is its own role";
}

TEST(match_detection_settings, errors_name_the_path_and_reason) {
  EXPECT_EQ(error_of("[1]"), "settings: must be an object");
  EXPECT_EQ(error_of("{"), "settings: not valid JSON");
  EXPECT_EQ(error_of(R"({"windw_days": 3})"), "settings.windw_days: unknown field");
  EXPECT_EQ(error_of(R"({"window_days": 0})"), "settings.window_days: must be between 1 and 3650");
  EXPECT_EQ(error_of(R"({"window_days": 3651})"), "settings.window_days: must be between 1 and 3650");
  EXPECT_EQ(error_of(R"({"window_days": 1.5})"), "settings.window_days: must be a whole number");
  EXPECT_EQ(error_of(R"({"window_days": "90"})"), "settings.window_days: must be a whole number");
  EXPECT_EQ(error_of(R"({"min_severity": "high"})"),
            "settings.min_severity: must be one of info | attention | concern | urgent");
  EXPECT_EQ(error_of(R"({"retract_on_withdrawal": "no"})"), "settings.retract_on_withdrawal: must be true or false");
  EXPECT_EQ(error_of(R"({"roles": ["jgz"]})"), "settings.roles: must be an object mapping instance names to roles");
  EXPECT_EQ(error_of(R"({"roles": {"jgz-fhir": "JGZ,school"}})"),
            "settings.roles.jgz-fhir: must be a role name: 1 to 63 of a-z, 0-9, _ or -, starting with a letter or "
            "digit");
  EXPECT_EQ(error_of(R"({"roles": {"Bad Name": "jgz"}})"),
            "settings.roles.Bad Name: the key must be an instance name: 1 to 63 of a-z, 0-9, _ or -");
}

TEST(match_detection_settings, window_bounds_are_accepted) {
  EXPECT_EQ(settings::parse(R"({"window_days": 1})").window_days, 1);
  EXPECT_EQ(settings::parse(R"({"window_days": 3650.0})").window_days, 3650);
}

}  // namespace
}  // namespace schakel::plugins::match_detection
