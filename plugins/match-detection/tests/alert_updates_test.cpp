// An update of an alert is the same concern told again with more evidence, not a new concern.
#include <gtest/gtest.h>

#include "fixture.hpp"

namespace schakel::plugins::match_detection::test {
namespace {

/** An update of `alert` as attendance-rules writes one: its frame, a new id, evidence naming the alert. */
std::string update_of(const std::string& alert, const std::string& update_id) {
  json sig = json::parse(alert);
  sig["id"] = update_id;
  sig["type"] = "nl.schakel.attendance.alert.updated";
  sig["content"]["evidence"] = {
      {"updates", json::parse(alert)["id"]}, {"updates_type", json::parse(alert)["type"]}, {"hours", 18}};
  return sig.dump();
}

TEST_F(match_detection, an_update_neither_matches_nor_hides_the_alert_from_its_retraction) {
  make(R"({"roles": {"attendance": "school-attendance", "jgz-fhir": "jgz"}, "retract_on_withdrawal": true})");
  const std::string att = signal("attendance", "2026-03-02T08:30:00Z");
  ASSERT_EQ(batch({att, signal("jgz-fhir", "2026-03-04T08:30:00Z")}).size(), 1u);
  const std::string match_id = ctx_.emitted[0]["id"];

  // The school's alert is updated (more hours): no new concern, no new match.
  EXPECT_TRUE(batch({update_of(att, test_ulid('U', 1))}).empty());
  // Its retraction names the alert: the school role leaves, and the match is retracted.
  const auto out = batch({retraction(att, "2026-03-06T00:00:00Z")});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["type"], "nl.schakel.match.retracted");
  EXPECT_EQ(out[0]["content"]["evidence"]["retracts"], match_id);
}

TEST_F(match_detection, an_update_alone_is_no_concern) {
  const std::string att = signal("attendance", "2026-03-02T08:30:00Z");
  EXPECT_TRUE(batch({update_of(att, test_ulid('U', 1)), signal("jgz-fhir", "2026-03-04T08:30:00Z")}).empty());
}

}  // namespace
}  // namespace schakel::plugins::match_detection::test
