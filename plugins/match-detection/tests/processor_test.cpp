#include "processor.hpp"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "schakel/testing/processor_testing.hpp"
#include "state.hpp"
#include "testing/validated_context.hpp"

namespace schakel::plugins::match_detection {
namespace {

using json = nlohmann::json;

// The roles of the brief's example configuration.
constexpr const char* roles_settings = R"({"roles": {"attendance": "school-attendance",
    "attendance-rules": "school-attendance", "jgz-fhir": "jgz", "tracking": "school-care",
    "schakel-alerts": "school-care"}})";

using fake_services = sdk::testing::memory_services;
using sdk::testing::test_ulid;

/** Collects emitted signals, completed like the core does and validated against the signal schema. */
class fake_context final : public test_support::validated_context {
 public:
  fake_context()
      : validated_context('M', "match-detection", "match", "2026-06-01T10:00:00.000Z",
                          match_detection_processor::emits()) {}
};

struct sig_opts {
  std::string severity = "concern";
  std::string category = "ordinary";
  std::string brin = "99XX";
  std::string student = "S-1";
  std::string type = "nl.schakel.test.concern";
  bool class_level = false;
};

std::set<std::string> keys_of(const json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) out.insert(k);
  return out;
}

class match_detection : public testing::Test {
 protected:
  fake_services svc_;
  fake_context ctx_;
  std::unique_ptr<match_detection_processor> proc_;
  int next_input_ = 1;
  std::vector<std::string> pending_;

  void SetUp() override { make(); }

  void TearDown() override {
    // No log line may carry a student key (issue 4, point 6).
    for (const auto& line : svc_.logs) {
      EXPECT_EQ(line.find("S-1"), std::string::npos) << line;
      EXPECT_EQ(line.find("S-2"), std::string::npos) << line;
    }
  }

  void make(const std::string& settings = roles_settings) {
    proc_ = std::make_unique<match_detection_processor>(settings, svc_);
  }

  /** A stored signal from connector/processor instance `instance`, as the core would hand it over. */
  std::string signal(const std::string& instance, const std::string& observed_at, const sig_opts& o = {}) {
    json subject = {{"school", {{"brin", o.brin}, {"vestiging", "01"}}},
                    {"class", "2B"},
                    {"school_year", "2025-2026"},
                    {"leerjaar", 2}};
    if (!o.class_level) subject["student_key"] = o.student;
    json sig = {
        {"id", test_ulid('J', next_input_++)},
        {"schema_version", "1"},
        {"type", o.type},
        {"source", {{"connector", "generic-json"}, {"instance", instance}, {"record_id", "rec-7"}}},
        {"observed_at", observed_at},
        {"received_at", "2026-06-01T09:00:00Z"},
        {"subject", subject},
        {"content",
         {{"domain", "emotional"},
          {"indicator", "sdq_total"},
          {"value", 21},
          {"severity", o.severity},
          {"instrument", "sdq"},
          {"evidence", {{"note", "private detail"}}}}},
        {"governance", {{"data_category", o.category}, {"legal_basis_hints", {"public_task"}}}},
    };
    return sig.dump();
  }

  static std::string id_of(const std::string& text) { return json::parse(text).at("id").get<std::string>(); }

  /** A retraction of `retracted` as attendance-rules writes one. */
  std::string retraction(const std::string& retracted, const std::string& observed_at) {
    const json orig = json::parse(retracted);
    json sig = orig;
    sig["id"] = test_ulid('R', next_input_++);
    sig["type"] = "nl.schakel.attendance.alert.retracted";
    sig["observed_at"] = observed_at;
    sig["content"]["evidence"] = {
        {"retracts", orig["id"]}, {"retracts_type", orig["type"]}, {"reason", "no_longer_holds"}};
    sig["derived_from"] = {orig["id"]};
    return sig.dump();
  }

  /** Feeds the signals as one batch. Returns the signals emitted by that batch. */
  std::vector<json> batch(const std::vector<std::string>& signals) {
    const std::size_t before = ctx_.emitted.size();
    for (const auto& s : signals) proc_->process(s, ctx_);
    proc_->flush(ctx_);
    return {ctx_.emitted.begin() + static_cast<std::ptrdiff_t>(before), ctx_.emitted.end()};
  }
};

TEST_F(match_detection, two_roles_within_window_emit_one_match_with_only_the_allowed_fields) {
  const std::string att = signal("attendance", "2026-03-02T08:30:00Z");
  const std::string jgz = signal("jgz-fhir", "2026-03-20T14:00:00+01:00", {.category = "health"});
  EXPECT_TRUE(batch({att}).empty()) << "one role is no match";
  const auto out = batch({jgz});
  ASSERT_EQ(out.size(), 1u);

  // Exactly what the plugin wrote: nothing beyond the listed fields, no content of the matched signals.
  const json& raw = ctx_.raw.back();
  EXPECT_EQ(keys_of(raw),
            (std::set<std::string>{"type", "observed_at", "subject", "content", "governance", "derived_from"}));
  EXPECT_EQ(raw["type"], "nl.schakel.match.detected");
  EXPECT_EQ(raw["subject"], (json{{"school", {{"brin", "99XX"}}}, {"student_key", "S-1"}}));
  EXPECT_EQ(keys_of(raw["content"]), (std::set<std::string>{"domain", "indicator", "severity", "evidence"}));
  EXPECT_EQ(raw["content"]["domain"], "wellbeing");
  EXPECT_EQ(raw["content"]["indicator"], "match");
  EXPECT_EQ(raw["content"]["severity"], "concern");
  EXPECT_EQ(raw["content"]["evidence"],
            (json{{"roles", "jgz,school-attendance"}, {"role_count", 2}, {"window_days", 90}}));
  EXPECT_EQ(raw["governance"], (json{{"data_category", "health"}}));
  // Latest signal per role, in role order (jgz, school-attendance).
  EXPECT_EQ(raw["derived_from"], (json{id_of(jgz), id_of(att)}));
  EXPECT_EQ(raw["observed_at"], "2026-03-20T14:00:00+01:00") << "the newest involved observation";

  const std::string text = raw.dump();
  for (const char* leak : {"2B", "sdq", "private detail", "vestiging", "rec-7", "public_task", "emotional"}) {
    EXPECT_EQ(text.find(leak), std::string::npos) << leak;
  }
}

TEST_F(match_detection, same_role_twice_is_no_match) {
  // attendance and attendance-rules are both mapped to school-attendance.
  EXPECT_TRUE(batch({signal("attendance", "2026-03-02T08:30:00Z"), signal("attendance-rules", "2026-03-03T00:00:00Z")})
                  .empty());
  EXPECT_TRUE(batch({signal("attendance", "2026-03-04T08:30:00Z")}).empty());
}

TEST_F(match_detection, window_day_90_is_inside) {
  // 2026-01-05 + 90 days = 2026-04-05.
  batch({signal("attendance", "2026-01-05T08:00:00Z")});
  const auto out = batch({signal("jgz-fhir", "2026-04-05T23:59:00Z")});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["content"]["evidence"]["roles"], "jgz,school-attendance");
}

TEST_F(match_detection, window_day_91_is_outside) {
  batch({signal("attendance", "2026-01-05T23:59:00Z")});
  EXPECT_TRUE(batch({signal("jgz-fhir", "2026-04-06T00:00:00Z")}).empty());
}

TEST_F(match_detection, window_is_symmetric_for_late_arriving_signals) {
  batch({signal("jgz-fhir", "2026-04-05T10:00:00Z")});
  EXPECT_EQ(batch({signal("attendance", "2026-01-05T10:00:00Z")}).size(), 1u) << "90 days earlier: inside";
  make();
  svc_.state.clear();
  batch({signal("jgz-fhir", "2026-04-06T10:00:00Z", {.student = "S-2"})});
  EXPECT_TRUE(batch({signal("attendance", "2026-01-05T10:00:00Z", {.student = "S-2"})}).empty())
      << "91 days earlier: outside";
}

TEST_F(match_detection, window_days_count_the_date_as_written_not_utc) {
  // 2026-04-05T23:30-02:00 is 2026-04-06 in UTC, but the observer's date is day 90: inside.
  batch({signal("attendance", "2026-01-05T08:00:00Z")});
  EXPECT_EQ(batch({signal("jgz-fhir", "2026-04-05T23:30:00-02:00")}).size(), 1u);
}

TEST_F(match_detection, configured_window_applies) {
  make(R"({"window_days": 7})");
  batch({signal("attendance", "2026-03-01T08:00:00Z")});
  EXPECT_TRUE(batch({signal("jgz-fhir", "2026-03-09T08:00:00Z")}).empty());
  const auto out = batch({signal("tracking", "2026-03-15T08:00:00Z")});
  ASSERT_EQ(out.size(), 1u) << "8 days after attendance was out, 6 after jgz is in";
  EXPECT_EQ(out[0]["content"]["evidence"]["roles"], "jgz-fhir,tracking") << "unmapped: instance name is the role";
  EXPECT_EQ(out[0]["content"]["evidence"]["window_days"], 7);
}

TEST_F(match_detection, reprocessing_and_reexports_do_not_emit_again) {
  const std::string att = signal("attendance", "2026-03-02T08:30:00Z");
  const std::string jgz = signal("jgz-fhir", "2026-03-04T08:30:00Z");
  ASSERT_EQ(batch({att, jgz}).size(), 1u);
  EXPECT_TRUE(batch({att, jgz}).empty()) << "the same signals again";
  // A re-export: new ids for the same records, later observations, same two roles.
  EXPECT_TRUE(batch({signal("attendance", "2026-03-10T08:30:00Z"), signal("jgz-fhir", "2026-03-11T08:30:00Z"),
                     signal("attendance-rules", "2026-03-12T00:00:00Z")})
                  .empty());
  EXPECT_EQ(ctx_.emitted.size(), 1u);
}

TEST_F(match_detection, replayed_batch_gives_the_same_output) {
  // A crash replays a batch against the committed state: same state in, same signals out.
  batch({signal("attendance", "2026-03-02T08:30:00Z")});
  const auto committed = svc_.state;
  const std::string jgz = signal("jgz-fhir", "2026-03-04T08:30:00Z");
  const auto first = batch({jgz});
  svc_.state = committed;
  make();
  const auto second = batch({jgz});
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[0]["derived_from"], second[0]["derived_from"]);
  EXPECT_EQ(first[0]["content"], second[0]["content"]);
}

TEST_F(match_detection, third_role_emits_a_new_match_with_three_roles) {
  const std::string att = signal("attendance", "2026-03-02T08:30:00Z");
  const std::string jgz = signal("jgz-fhir", "2026-03-04T08:30:00Z");
  ASSERT_EQ(batch({att, jgz}).size(), 1u);
  const std::string lvs = signal("tracking", "2026-03-06T08:30:00Z");
  const auto out = batch({lvs});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["content"]["evidence"]["roles"], "jgz,school-attendance,school-care");
  EXPECT_EQ(out[0]["content"]["evidence"]["role_count"], 3);
  EXPECT_EQ(out[0]["derived_from"], (json{id_of(jgz), id_of(att), id_of(lvs)}));
  // A fourth instance of a known role adds nothing.
  EXPECT_TRUE(batch({signal("schakel-alerts", "2026-03-07T08:30:00Z")}).empty());
}

TEST_F(match_detection, three_roles_in_one_batch_give_one_match) {
  const auto out = batch({signal("attendance", "2026-03-02T08:30:00Z"), signal("jgz-fhir", "2026-03-04T08:30:00Z"),
                          signal("tracking", "2026-03-05T08:30:00Z")});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["content"]["evidence"]["role_count"], 3);
}

TEST_F(match_detection, severity_below_minimum_is_no_match) {
  EXPECT_TRUE(batch({signal("attendance", "2026-03-02T08:30:00Z", {.severity = "attention"}),
                     signal("jgz-fhir", "2026-03-04T08:30:00Z")})
                  .empty());
  EXPECT_TRUE(batch({signal("tracking", "2026-03-04T08:30:00Z", {.severity = "info"})}).empty());
  EXPECT_EQ(batch({signal("tracking", "2026-03-05T08:30:00Z", {.severity = "urgent"})}).size(), 1u)
      << "urgent is above concern";
}

TEST_F(match_detection, configured_minimum_severity_applies) {
  make(R"({"min_severity": "attention"})");
  EXPECT_EQ(batch({signal("attendance", "2026-03-02T08:30:00Z", {.severity = "attention"}),
                   signal("jgz-fhir", "2026-03-04T08:30:00Z", {.severity = "attention"})})
                .size(),
            1u);
}

TEST_F(match_detection, class_level_signals_are_ignored) {
  EXPECT_TRUE(batch({signal("attendance", "2026-03-02T08:30:00Z", {.class_level = true}),
                     signal("jgz-fhir", "2026-03-04T08:30:00Z", {.class_level = true})})
                  .empty());
  EXPECT_TRUE(svc_.state.empty()) << "nothing kept for a class";
}

TEST_F(match_detection, same_key_at_different_schools_is_no_match) {
  EXPECT_TRUE(batch({signal("attendance", "2026-03-02T08:30:00Z", {.brin = "99XX"}),
                     signal("jgz-fhir", "2026-03-04T08:30:00Z", {.brin = "88YY"})})
                  .empty());
  EXPECT_EQ(svc_.state.size(), 2u);
}

TEST_F(match_detection, different_students_are_kept_apart) {
  EXPECT_TRUE(batch({signal("attendance", "2026-03-02T08:30:00Z", {.student = "S-1"}),
                     signal("jgz-fhir", "2026-03-04T08:30:00Z", {.student = "S-2"})})
                  .empty());
}

TEST_F(match_detection, health_when_any_involved_signal_is_health) {
  auto out = batch({signal("attendance", "2026-03-02T08:30:00Z"), signal("tracking", "2026-03-04T08:30:00Z")});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["governance"]["data_category"], "ordinary");
  out = batch({signal("jgz-fhir", "2026-03-05T08:30:00Z", {.category = "health"})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["governance"]["data_category"], "health");
}

TEST_F(match_detection, health_flag_of_a_replaced_signal_within_the_window_sticks) {
  batch({signal("attendance", "2026-03-02T08:30:00Z", {.category = "health"})});  // sick absence alert
  const auto out = batch({signal("attendance", "2026-03-10T08:30:00Z"), signal("tracking", "2026-03-11T08:30:00Z")});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["governance"]["data_category"], "health");
}

TEST_F(match_detection, own_output_and_retractions_never_count) {
  sig_opts own;
  own.type = "nl.schakel.match.detected";
  batch({signal("other-match", "2026-03-02T08:30:00Z", own)});
  const std::string att = signal("attendance", "2026-03-02T08:30:00Z");
  // A retraction carries the severity of what it retracts; it must not count as a concern.
  EXPECT_TRUE(batch({att, retraction(signal("tracking", "2026-03-01T08:30:00Z"), "2026-03-03T00:00:00Z")}).empty());
}

TEST_F(match_detection, retraction_before_the_match_prevents_it) {
  const std::string att = signal("attendance", "2026-03-02T08:30:00Z");
  batch({att});
  batch({retraction(att, "2026-03-03T00:00:00Z")});
  EXPECT_TRUE(batch({signal("jgz-fhir", "2026-03-04T08:30:00Z")}).empty());
}

TEST_F(match_detection, withdrawal_after_a_match_does_not_retract_it_by_default) {
  const std::string att = signal("attendance", "2026-03-02T08:30:00Z");
  ASSERT_EQ(batch({att, signal("jgz-fhir", "2026-03-04T08:30:00Z")}).size(), 1u);
  EXPECT_TRUE(batch({retraction(att, "2026-03-05T00:00:00Z")}).empty());
  // The same roles again while the match is open: they already know of each other.
  EXPECT_TRUE(batch({signal("attendance", "2026-03-06T08:30:00Z")}).empty());
}

TEST_F(match_detection, withdrawal_retracts_the_match_when_configured) {
  make(R"({"roles": {"attendance": "school-attendance", "jgz-fhir": "jgz"}, "retract_on_withdrawal": true})");
  const std::string att = signal("attendance", "2026-03-02T08:30:00Z");
  const std::string lvs = signal("tracking", "2026-03-03T08:30:00Z");
  ASSERT_EQ(batch({att, signal("jgz-fhir", "2026-03-04T08:30:00Z")}).size(), 1u);
  ASSERT_EQ(batch({lvs}).size(), 1u);
  const std::string first = ctx_.emitted[0]["id"], second = ctx_.emitted[1]["id"];

  EXPECT_TRUE(batch({retraction(lvs, "2026-03-05T00:00:00Z")}).empty()) << "two roles left: still a match";
  const auto out = batch({retraction(att, "2026-03-06T00:00:00Z")});
  ASSERT_EQ(out.size(), 2u) << "one retraction per match signal sent";
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(out[i]["type"], "nl.schakel.match.retracted");
    EXPECT_EQ(out[i]["content"]["evidence"]["retracts_type"], "nl.schakel.match.detected");
    EXPECT_EQ(out[i]["content"]["evidence"]["reason"], "no_longer_holds");
    EXPECT_EQ(out[i]["subject"], (json{{"school", {{"brin", "99XX"}}}, {"student_key", "S-1"}}));
    EXPECT_EQ(out[i]["observed_at"], "2026-03-06T00:00:00Z");
  }
  EXPECT_EQ(out[0]["derived_from"], json{first});
  EXPECT_EQ(out[1]["derived_from"], json{second});
  // Re-armed: a new match is news again.
  EXPECT_EQ(batch({signal("attendance", "2026-03-07T08:30:00Z")}).size(), 1u);
}

TEST_F(match_detection, withdrawal_of_every_matched_role_is_retracted_even_with_a_new_role_in_the_batch) {
  make(R"({"retract_on_withdrawal": true})");
  const std::string att = signal("attendance", "2026-03-02T08:30:00Z");
  const std::string jgz = signal("jgz-fhir", "2026-03-03T08:30:00Z", {.category = "health"});
  ASSERT_EQ(batch({att, jgz}).size(), 1u);
  const auto out = batch({retraction(att, "2026-03-05T00:00:00Z"), retraction(jgz, "2026-03-05T00:00:00Z"),
                          signal("tracking", "2026-03-06T08:30:00Z")});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["type"], "nl.schakel.match.retracted");
  EXPECT_EQ(out[0]["governance"]["data_category"], "health") << "as the retracted match";
}

TEST_F(match_detection, rearms_after_all_matched_roles_left_the_window) {
  ASSERT_EQ(batch({signal("attendance", "2026-01-05T08:30:00Z"), signal("jgz-fhir", "2026-01-06T08:30:00Z")}).size(),
            1u);
  // 100 days later both have left the window; the first new concern alone is no match...
  EXPECT_TRUE(batch({signal("attendance", "2026-04-16T08:30:00Z")}).empty());
  // ...and the second role makes a new one.
  const auto out = batch({signal("jgz-fhir", "2026-04-17T08:30:00Z")});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["content"]["evidence"]["roles"], "jgz,school-attendance");
}

TEST_F(match_detection, a_new_role_while_one_matched_role_remains_is_news) {
  // jgz + attendance match; attendance falls out, jgz stays, tracking joins: tracking was never told.
  ASSERT_EQ(batch({signal("attendance", "2026-01-05T08:30:00Z"), signal("jgz-fhir", "2026-03-01T08:30:00Z")}).size(),
            1u);
  const auto out = batch({signal("tracking", "2026-04-20T08:30:00Z")});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["content"]["evidence"]["roles"], "jgz,school-care");
  EXPECT_EQ(out[0]["content"]["evidence"]["role_count"], 2);
  // attendance coming back while that match is open is not news.
  EXPECT_TRUE(batch({signal("attendance", "2026-04-21T08:30:00Z")}).empty());
}

TEST_F(match_detection, state_is_small_and_pruned) {
  batch({signal("attendance", "2026-01-05T08:30:00Z"), signal("jgz-fhir", "2026-01-06T08:30:00Z")});
  batch({signal("tracking", "2026-06-01T08:30:00Z")});
  ASSERT_EQ(svc_.state.size(), 1u);
  const auto& [key, value] = *svc_.state.begin();
  EXPECT_EQ(key, "stu:99XX:S-1");
  const student_state st = parse_student_state(value);
  EXPECT_EQ(st.roles.size(), 1u) << "roles beyond the window are pruned";
  EXPECT_TRUE(st.roles.contains("school-care"));
  EXPECT_FALSE(st.match.has_value()) << "the old match is closed";
  for (const char* leak : {"2B", "sdq", "private", "emotional", "vestiging", "class"}) {
    EXPECT_EQ(value.find(std::string("\"") + leak), std::string::npos) << leak;
  }
}

TEST_F(match_detection, unreadable_state_starts_afresh_without_quoting_it) {
  svc_.state["stu:99XX:S-1"] = "{not json S-1";
  EXPECT_TRUE(batch({signal("attendance", "2026-03-02T08:30:00Z")}).empty());
  ASSERT_EQ(svc_.logs.size(), 1u);
  EXPECT_NE(svc_.logs[0].find("unreadable"), std::string::npos);
  EXPECT_EQ(batch({signal("jgz-fhir", "2026-03-04T08:30:00Z")}).size(), 1u);
}

TEST_F(match_detection, refused_match_is_retried_on_the_next_touch) {
  ctx_.refuse = true;
  EXPECT_TRUE(
      batch({signal("attendance", "2026-03-02T08:30:00Z"), signal("jgz-fhir", "2026-03-04T08:30:00Z")}).empty());
  ctx_.refuse = false;
  EXPECT_EQ(batch({signal("attendance", "2026-03-05T08:30:00Z")}).size(), 1u);
}

TEST_F(match_detection, malformed_input_is_skipped_and_logged_without_content) {
  proc_->process("not json S-1", ctx_);
  json bad = json::parse(signal("attendance", "2026-03-02T08:30:00Z"));
  bad["observed_at"] = "yesterday";
  proc_->process(bad.dump(), ctx_);
  proc_->flush(ctx_);
  EXPECT_TRUE(ctx_.emitted.empty());
  EXPECT_EQ(svc_.logs.size(), 2u);
}

TEST(match_detection_instant, parses_rfc3339_with_zones_and_fractions) {
  auto a = parse_instant("2026-03-02T08:30:00Z");
  auto b = parse_instant("2026-03-02T09:30:00.250+01:00");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->utc_ms + 250, b->utc_ms);
  EXPECT_EQ(a->day, b->day);
  EXPECT_EQ(parse_instant("1970-01-02T00:00:00Z")->day, 1);
  EXPECT_EQ(parse_instant("2026-03-02T00:30:00+02:00")->day, parse_instant("2026-03-02T12:00:00Z")->day);
  for (const char* bad : {"", "2026-03-02", "2026-13-02T00:00:00Z", "2026-03-02T08:30:00", "2026-03-02T08:30:00+0100",
                          "2026-03-02T08:30:00Zx", "2026-03-32T00:00:00Z"}) {
    EXPECT_FALSE(parse_instant(bad)) << bad;
  }
}

}  // namespace
}  // namespace schakel::plugins::match_detection
