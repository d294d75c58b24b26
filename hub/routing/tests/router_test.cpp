#include "routing/router.hpp"

#include <gtest/gtest.h>

namespace schakel::routing {
namespace {

nlohmann::json sample_signal() {
  return nlohmann::json::parse(R"({
    "id": "01JDZ3K7Q8M2X4V6N8P0R2T4W6", "schema_version": "1",
    "type": "nl.schakel.attendance.absence.recorded",
    "source": {"connector": "generic-json", "instance": "quickstart", "record_id": "A-1"},
    "observed_at": "2026-11-23T08:30:00Z", "received_at": "2026-11-28T10:00:01.123Z",
    "subject": {"school": {"brin": "12AB", "vestiging": "01"}, "student_key": "S-000123", "class": "2B"},
    "content": {"domain": "attendance", "indicator": "absence_hours", "value": 2, "severity": "attention"},
    "governance": {"data_category": "ordinary"}
  })");
}

}  // namespace

TEST(router_filter, empty_filter_matches_everything) {
  EXPECT_TRUE(matches({}, sample_signal()));
}

TEST(router_filter, type_prefix_and_exact) {
  config::subscription_filter f;
  f.types = {"nl.schakel.attendance.*"};
  EXPECT_TRUE(matches(f, sample_signal()));
  f.types = {"nl.schakel.tracking.*", "nl.schakel.attendance.absence.recorded"};
  EXPECT_TRUE(matches(f, sample_signal()));
  f.types = {"nl.schakel.attendance.absence"};
  EXPECT_FALSE(matches(f, sample_signal()));
}

TEST(router_filter, minimum_severity_is_inclusive) {
  config::subscription_filter f;
  f.min_severity = severity::attention;
  EXPECT_TRUE(matches(f, sample_signal()));
  f.min_severity = severity::concern;
  EXPECT_FALSE(matches(f, sample_signal()));
}

TEST(router_filter, school_by_brin_or_brin_and_vestiging) {
  config::subscription_filter f;
  f.schools = {"12AB"};
  EXPECT_TRUE(matches(f, sample_signal()));
  f.schools = {"12AB01"};
  EXPECT_TRUE(matches(f, sample_signal()));
  f.schools = {"12AB00", "99ZZ"};
  EXPECT_FALSE(matches(f, sample_signal()));
}

TEST(router_filter, domain_and_instance) {
  config::subscription_filter f;
  f.domains = {"health"};
  EXPECT_FALSE(matches(f, sample_signal()));
  f.domains = {"attendance"};
  f.instances = {"other"};
  EXPECT_FALSE(matches(f, sample_signal()));
  f.instances = {"quickstart"};
  EXPECT_TRUE(matches(f, sample_signal()));
}

TEST(router_projection, only_listed_fields_leave) {
  auto data = project(sample_signal(), {"type", "subject.class", "subject.school", "content.nothing"});
  EXPECT_EQ(data["type"], "nl.schakel.attendance.absence.recorded");
  EXPECT_EQ(data["subject"]["class"], "2B");
  EXPECT_EQ(data["subject"]["school"]["brin"], "12AB");
  EXPECT_FALSE(data["subject"].contains("student_key"));
  EXPECT_FALSE(data.contains("content"));
  EXPECT_FALSE(data.contains("id"));
}

TEST(router_projection, empty_allowlist_sends_nothing_of_the_signal) {
  EXPECT_TRUE(project(sample_signal(), {}).empty());
}

TEST(router_cloudevent, envelope_carries_no_subject) {
  auto ev = nlohmann::json::parse(render_cloudevent(sample_signal(), project(sample_signal(), {"content.severity"})));
  EXPECT_EQ(ev["specversion"], "1.0");
  EXPECT_EQ(ev["id"], "01JDZ3K7Q8M2X4V6N8P0R2T4W6");
  EXPECT_EQ(ev["source"], "/schakel/connectors/quickstart");
  EXPECT_EQ(ev["type"], "nl.schakel.attendance.absence.recorded");
  EXPECT_EQ(ev["data"]["content"]["severity"], "attention");
  EXPECT_EQ(ev.dump().find("S-000123"), std::string::npos);
}

TEST(router, one_students_signals_share_a_lane) {
  auto s1 = sample_signal();
  auto s2 = sample_signal();
  s2["type"] = "nl.schakel.attendance.other";
  EXPECT_EQ(lane_for(s1, 16), lane_for(s2, 16));
  EXPECT_EQ(lane_for(s1, 1), 0u);
}

}  // namespace schakel::routing
