// Hub ids never reach a pseudonymous or aggregate partner: the gate's rewrite of a whole event.
#include "privacy/gate.hpp"

#include <gtest/gtest.h>

#include <set>

#include "privacy/hub_ids.hpp"
#include "privacy/tests/gate_fixture.hpp"

namespace schakel::privacy {
namespace {

using namespace gate_testing;
using json = nlohmann::json;

/** An alert, and the retraction and referral that name it in their evidence, as processors write them. */
json alert_signal() {
  json s = row_signal();
  s["id"] = "01JDZ3K7Q8M2X4V6N8P0R2T4A1";
  s["type"] = "nl.schakel.attendance.alert.raised";
  s["content"]["evidence"] = {{"count", 4}};
  return s;
}
json naming(const std::string& type, const std::string& id, json evidence) {
  json s = row_signal();
  s["id"] = id;
  s["type"] = type;
  s["content"]["evidence"] = std::move(evidence);
  s["derived_from"] = json::array({alert_signal()["id"]});
  return s;
}

TEST_F(gate_test, a_pseudonymous_partner_gets_its_own_stand_in_for_every_hub_id_anywhere_in_the_event) {
  auto jgz = pseudonymous("jgz", 'a');
  auto wijk = pseudonymous("wijkteam", 'b');
  for (auto* s : {&jgz, &wijk}) {
    s->fields = {"id", "type", "source", "subject.class", "content", "derived_from"};
    s->filter.types = {"nl.schakel.attendance.alert.raised", "nl.schakel.alert.referral.recorded"};
  }
  make({jgz, wijk});
  const std::string alert_id = alert_signal()["id"];
  const auto alert = route(alert_signal());
  const auto retraction =
      route(naming("nl.schakel.attendance.alert.retracted", "01JDZ3K7Q8M2X4V6N8P0R2T4B2",
                   {{"retracts", alert_id}, {"retracts_type", "nl.schakel.attendance.alert.raised"}}));
  auto referral_signal = naming("nl.schakel.alert.referral.recorded", "01JDZ3K7Q8M2X4V6N8P0R2T4C3",
                                {{"alert", alert_id}, {"note_for", {{"alerts", {alert_id}}}}});
  // A source's own ULID is a time to the millisecond too.
  referral_signal["source"]["record_id"] = "01JDZ3K7Q8M2X4V6N8P0R2T4D4";
  const auto referral = route(referral_signal);
  ASSERT_EQ(alert.size(), 2u);
  ASSERT_EQ(retraction.size(), 2u);
  ASSERT_EQ(referral.size(), 2u);
  std::set<std::string> all_ids;
  for (std::size_t p = 0; p < 2; ++p) {
    const auto a = json::parse(alert[p].event_json);
    const auto r = json::parse(retraction[p].event_json);
    const auto f = json::parse(referral[p].event_json);
    for (const auto* item : {&alert[p], &retraction[p], &referral[p]}) {
      // No ULID-shaped token in the event or its webhook id, the stand-ins are what is left.
      const std::string text = item->event_json + " " + item->webhook_id;
      for (std::size_t i = 0; i + 26 <= text.size(); ++i) EXPECT_FALSE(is_hub_id(text.substr(i, 26))) << text;
      EXPECT_EQ(item->webhook_id, "msg_" + json::parse(item->event_json)["id"].get<std::string>());
    }
    all_ids.insert(a["id"].get<std::string>());
    // The partner can still tell what a retraction or a referral is about: its own id for the alert.
    EXPECT_EQ(r["data"]["content"]["evidence"]["retracts"], a["id"]);
    EXPECT_EQ(r["data"]["derived_from"][0], a["id"]);
    EXPECT_EQ(f["data"]["content"]["evidence"]["alert"], a["id"]);
    EXPECT_EQ(f["data"]["content"]["evidence"]["note_for"]["alerts"][0], a["id"]);
    EXPECT_EQ(f["data"]["source"]["record_id"].get<std::string>().size(), 32u);
    EXPECT_NE(r["id"], a["id"]);
  }
  EXPECT_EQ(all_ids.size(), 2u) << "two partners, two ids for one alert";
  EXPECT_NE(alert[0].webhook_id, alert[1].webhook_id);
  // Stable: routing the same signal again gives the same ids (a replayed log, a restart).
  EXPECT_EQ(route(alert_signal())[0].event_json, alert[0].event_json);
  EXPECT_EQ(route(alert_signal())[0].webhook_id, alert[0].webhook_id);
}

TEST_F(gate_test, an_aggregate_partner_gets_stand_ins_and_an_identified_one_the_hub_ids) {
  auto agg = sub("regional", "aggregate");
  agg.fields = {"id", "type", "subject.class", "content", "derived_from"};
  auto school = sub("coordinator");
  school.fields = agg.fields;
  make({agg, school});
  auto cell = naming("nl.schakel.trend.cell.released", "01JDZ3K7Q8M2X4V6N8P0R2T4E5", {{"window", "2026-W47"}});
  cell["subject"].erase("student_key");
  const auto out = route(cell);
  ASSERT_EQ(out.size(), 2u);
  const auto regional = json::parse(out[0].event_json);
  EXPECT_NE(regional["id"], "01JDZ3K7Q8M2X4V6N8P0R2T4E5");
  EXPECT_EQ(regional["id"].get<std::string>().size(), 32u);
  EXPECT_EQ(out[0].event_json.find("01JDZ3K7Q8M2X4V6N8P0R2T4A1"), std::string::npos);
  EXPECT_EQ(out[0].webhook_id, "msg_" + regional["id"].get<std::string>());
  // The school's own people quote the hub's id back to it (a referral); they know the student anyway.
  const auto coordinator = json::parse(out[1].event_json);
  EXPECT_EQ(coordinator["id"], "01JDZ3K7Q8M2X4V6N8P0R2T4E5");
  EXPECT_EQ(coordinator["data"]["derived_from"][0], "01JDZ3K7Q8M2X4V6N8P0R2T4A1");
  EXPECT_EQ(out[1].webhook_id, "") << "the store's msg_<signal id>_<tag>";
}

}  // namespace
}  // namespace schakel::privacy
