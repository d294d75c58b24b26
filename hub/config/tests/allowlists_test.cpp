#include "config/allowlists.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace schakel::config {
namespace {

constexpr const char* mazl = "nl.schakel.attendance.mazl.triggered";
constexpr const char* referred = "nl.schakel.attendance.mazl.referred";
constexpr const char* retracted = "nl.schakel.attendance.alert.retracted";
constexpr const char* updated = "nl.schakel.attendance.alert.updated";

/** The rules' declaration, shaped like attendance-rules' own. */
producer rules() {
  sdk::emitted_signals e;
  e[mazl] = {{"domain", "indicator", "value", "unit", "severity"}, {"rule", "count", "days", "episode_start"}};
  e[referred] = {{"domain", "indicator", "severity"},
                 {"rule", "count", "days", "episode_start", "parents_informed_on"}};
  e[retracted] = {{"domain", "indicator", "severity"}, {"retracts", "retracts_type"}};
  e[updated] = {{"domain", "indicator", "severity"}, {"updates", "updates_type", "count"}};
  return {"processors[0] (attendance-rules)", "attendance-rules", e};
}

hub_config with_subscription(std::vector<std::string> types, std::vector<std::string> fields) {
  hub_config c;
  subscription s;
  s.name = "jgz-mazl";
  s.filter.types = std::move(types);
  s.fields = std::move(fields);
  c.subscriptions.push_back(std::move(s));
  return c;
}

TEST(Allowlists, RefusesEvidenceNoProducerEmitsNamingSubscriptionEntryAndNearName) {
  // The shipped attendance example promised the JGZ doctor these two; no rule writes them.
  const auto report =
      check_allowlists(with_subscription({referred}, {"type", "content.evidence.count", "content.evidence.reports",
                                                      "content.evidence.consecutive_days"}),
                       {rules()});
  ASSERT_EQ(report.errors.size(), 2u);
  EXPECT_TRUE(report.warnings.empty());
  EXPECT_EQ(report.errors[0].rfind("subscriptions[0] (jgz-mazl): fields[2] content.evidence.reports: no configured "
                                   "producer emits it for nl.schakel.attendance.mazl.referred",
                                   0),
            0u)
      << report.errors[0];
  EXPECT_NE(report.errors[1].find("fields[3] content.evidence.consecutive_days"), std::string::npos);
  EXPECT_NE(report.errors[1].find("did you mean content.evidence.days?"), std::string::npos) << report.errors[1];
}

TEST(Allowlists, SuggestsANameAFewEditsAway) {
  const auto report =
      check_allowlists(with_subscription({mazl}, {"content.evidence.cuont", "content.vaule"}), {rules()});
  ASSERT_EQ(report.errors.size(), 2u);
  EXPECT_NE(report.errors[0].find("did you mean content.evidence.count?"), std::string::npos) << report.errors[0];
  EXPECT_NE(report.errors[1].find("did you mean content.value?"), std::string::npos) << report.errors[1];
}

TEST(Allowlists, AContentKeyOneTypeLacksIsRefusedForThatSubscriptionOnly) {
  // A referral carries no content.value; the alert does.
  EXPECT_EQ(check_allowlists(with_subscription({referred}, {"content.value"}), {rules()}).errors.size(), 1u);
  EXPECT_TRUE(check_allowlists(with_subscription({mazl}, {"content.value"}), {rules()}).errors.empty());
  // Patterns in the filter reach every declared type they match.
  EXPECT_TRUE(
      check_allowlists(with_subscription({"nl.schakel.attendance.*"}, {"content.value"}), {rules()}).errors.empty());
}

TEST(Allowlists, TheEnvelopeAndWholeSectionsFollowTheDeclaration) {
  EXPECT_TRUE(check_allowlists(with_subscription({mazl}, {"type", "subject.class", "governance.data_category",
                                                          "derived_from", "content", "content.evidence"}),
                               {rules()})
                  .errors.empty());
  // No producer of the type at all: every content entry is refused, the envelope is not checked here.
  const auto none =
      check_allowlists(with_subscription({"nl.schakel.jgz.sdq.scored"}, {"subject.class", "content"}), {rules()});
  ASSERT_EQ(none.errors.size(), 1u);
  EXPECT_NE(none.errors[0].find("no configured connector or processor emits any of these types"), std::string::npos);
}

TEST(Allowlists, ARetractionReachesWhoeverTakesTheTypeItRetracts) {
  EXPECT_TRUE(check_allowlists(with_subscription({mazl}, {"content.evidence.retracts"}), {rules()}).errors.empty());
}

// An update routes like a retraction: as the alert it follows (the router's rule).
TEST(Allowlists, AnUpdateReachesWhoeverTakesTheTypeItUpdates) {
  EXPECT_TRUE(check_allowlists(with_subscription({referred}, {"content.evidence.updates"}), {rules()}).errors.empty());
  // Not for a subscription that takes none of the producer's alerts.
  EXPECT_EQ(check_allowlists(with_subscription({"nl.schakel.tracking.*"}, {"content.evidence.updates"}), {rules()})
                .errors.size(),
            1u);
}

TEST(Allowlists, AnInstanceFilterLeavesOtherProducersOut) {
  auto c = with_subscription({mazl}, {"content.evidence.count"});
  c.subscriptions[0].filter.instances = {"attendance"};
  EXPECT_EQ(check_allowlists(c, {rules()}).errors.size(), 1u);
}

TEST(Allowlists, AProducerThatDeclaresNothingTurnsTheRefusalIntoAWarning) {
  const producer old{"connectors[0] (legacy)", "legacy", std::nullopt};
  const auto report = check_allowlists(with_subscription({referred}, {"content.evidence.reports"}), {rules(), old});
  EXPECT_TRUE(report.errors.empty());
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_NE(report.warnings[0].find("connectors[0] (legacy)"), std::string::npos) << report.warnings[0];
  EXPECT_NE(report.warnings[0].find("content.evidence.reports"), std::string::npos);
}

TEST(Allowlists, EditDistance) {
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("count", "cuont"), 2u);
  EXPECT_EQ(edit_distance("days", "days"), 0u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

}  // namespace
}  // namespace schakel::config
