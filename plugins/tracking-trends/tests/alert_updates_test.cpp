// One observation is one alert: measurements of a round that arrive after the alert update it, as
// they would have shaped it had they come at once; only an alert that no longer holds is retracted.
#include <gtest/gtest.h>

#include "fixture.hpp"

namespace schakel::plugins::tracking_trends::test {
namespace {

const std::string updated = "nl.schakel.tracking.alert.updated";

const meas emotional{.score = 30, .rank = 2, .scale = "angst", .domain = "emotional"};
const meas social{.score = 30, .rank = 2, .scale = "contact", .domain = "social"};
const meas behaviour{.score = 30, .rank = 0, .scale = "onrust", .domain = "behavioural", .respondent = "teacher"};

TEST_F(tracking_trends, a_round_arriving_scale_by_scale_gives_one_withdrawal_alert_with_the_evidence_of_one_batch) {
  make();
  std::vector<json> told;
  for (const meas& m : {emotional, social, behaviour}) {
    for (auto& s : batch({m})) told.push_back(std::move(s));
  }
  ASSERT_EQ(types(told), (std::vector<std::string>{withdrawn, updated}));
  const json& alert = told[0];
  const json& update = told[1];
  EXPECT_EQ(alert["content"]["evidence"]["behavioural_measured"], 0);
  EXPECT_EQ(update["content"]["evidence"]["updates"], alert["id"]);
  EXPECT_EQ(update["content"]["evidence"]["updates_type"], withdrawn);
  EXPECT_EQ(update["content"]["domain"], "emotional");
  EXPECT_EQ(update["content"]["severity"], "concern");
  EXPECT_EQ(update["observed_at"], alert["observed_at"]);

  // The same round at once, for another student.
  const auto at_once = batch({{.score = 30, .rank = 2, .scale = "angst", .domain = "emotional", .student = "S-2"},
                              {.score = 30, .rank = 2, .scale = "contact", .domain = "social", .student = "S-2"},
                              {.score = 30,
                               .rank = 0,
                               .scale = "onrust",
                               .domain = "behavioural",
                               .respondent = "teacher",
                               .student = "S-2"}});
  ASSERT_EQ(types(at_once), std::vector<std::string>{withdrawn});
  json final_evidence = update["content"]["evidence"];
  final_evidence.erase("updates");
  final_evidence.erase("updates_type");
  EXPECT_EQ(final_evidence, at_once[0]["content"]["evidence"]);
  EXPECT_EQ(update["derived_from"].size(), at_once[0]["derived_from"].size());

  // A behavioural scale that turns out elevated undoes the pattern: that still retracts.
  auto out = batch({{.score = 30, .rank = 3, .scale = "onrust", .domain = "behavioural", .respondent = "teacher"}});
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0]["type"], retracted);
  EXPECT_EQ(out[0]["content"]["evidence"]["retracts"], alert["id"]);
}

TEST_F(tracking_trends, an_alert_whose_routing_would_change_is_retracted_and_sent_again_not_updated) {
  // A correction that moves a scale to another domain changes where the alert goes: an update would
  // follow the old alert's route, so this one is withdrawn there and sent anew.
  make();
  auto first = batch({{.score = 9, .rank = 3}});
  ASSERT_EQ(types(first), std::vector<std::string>{at_risk});
  auto out = batch({{.score = 8, .rank = 3, .domain = "emotional"}});
  ASSERT_EQ(types(out), (std::vector<std::string>{retracted, at_risk}));
  EXPECT_EQ(out[1]["content"]["domain"], "emotional");
}

}  // namespace
}  // namespace schakel::plugins::tracking_trends::test
