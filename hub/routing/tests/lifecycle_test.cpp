// Updates of an alert route like the alert they update, exactly as retractions do.
#include <gtest/gtest.h>

#include "routing/router.hpp"

namespace schakel::routing {
namespace {

nlohmann::json lifecycle_signal(const std::string& type, const std::string& field, const std::string& followed) {
  nlohmann::json sig = nlohmann::json::parse(R"({
    "id": "01JDZ3K7Q8M2X4V6N8P0R2T4W7", "schema_version": "1",
    "source": {"connector": "attendance-rules", "instance": "rules", "record_id": "leerplicht:2026-11-02"},
    "observed_at": "2026-11-05T00:00:00Z", "received_at": "2026-11-28T10:00:01.123Z",
    "subject": {"school": {"brin": "99XX", "vestiging": "00"}, "student_key": "S-2002"},
    "content": {"domain": "attendance", "indicator": "unauthorised_absence", "severity": "concern",
                "evidence": {"hours": 18}},
    "governance": {"data_category": "ordinary"}
  })");
  sig["type"] = type;
  if (!field.empty()) sig["content"]["evidence"][field] = followed;
  return sig;
}

const std::string leerplicht = "nl.schakel.attendance.leerplicht.threshold_reached";
const std::string mazl = "nl.schakel.attendance.mazl.triggered";
const std::string updated = "nl.schakel.attendance.alert.updated";

}  // namespace

TEST(router_lifecycle, an_update_reaches_the_subscriptions_that_take_the_alert_it_updates) {
  config::subscription_filter officer;
  officer.types = {leerplicht};
  config::subscription_filter jgz;
  jgz.types = {"nl.schakel.attendance.mazl.*"};
  const auto update = lifecycle_signal(updated, "updates_type", leerplicht);
  EXPECT_TRUE(matches(officer, update));
  EXPECT_FALSE(matches(jgz, update));
  // The same, for an update of an M@ZL alert: the officer never took M@ZL and hears nothing of it.
  const auto mazl_update = lifecycle_signal(updated, "updates_type", mazl);
  EXPECT_FALSE(matches(officer, mazl_update));
  EXPECT_TRUE(matches(jgz, mazl_update));
}

TEST(router_lifecycle, an_update_without_what_it_follows_routes_as_itself) {
  config::subscription_filter officer;
  officer.types = {leerplicht};
  EXPECT_FALSE(matches(officer, lifecycle_signal(updated, "", "")));
  // An update naming another lifecycle type is not followed (no chains): it routes as itself.
  config::subscription_filter retractions;
  retractions.types = {"nl.schakel.attendance.alert.retracted"};
  EXPECT_FALSE(
      matches(retractions, lifecycle_signal(updated, "updates_type", "nl.schakel.attendance.alert.retracted")));
  config::subscription_filter updates;
  updates.types = {updated};
  EXPECT_TRUE(matches(updates, lifecycle_signal(updated, "updates_type", "nl.schakel.attendance.alert.retracted")));
}

TEST(router_lifecycle, a_retraction_still_routes_as_what_it_retracts) {
  config::subscription_filter officer;
  officer.types = {leerplicht};
  EXPECT_TRUE(matches(officer, lifecycle_signal("nl.schakel.attendance.alert.retracted", "retracts_type", leerplicht)));
  EXPECT_FALSE(matches(officer, lifecycle_signal("nl.schakel.attendance.alert.retracted", "retracts_type", mazl)));
  // updates_type on a retraction is not what a retraction follows.
  EXPECT_FALSE(matches(officer, lifecycle_signal("nl.schakel.attendance.alert.retracted", "updates_type", leerplicht)));
}

}  // namespace schakel::routing
