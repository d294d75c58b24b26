#include "processor.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "schakel/testing/processor_testing.hpp"
#include "testing/validated_context.hpp"

namespace schakel::plugins::tracking_trends {
namespace {

using json = nlohmann::json;
using sdk::testing::test_ulid;

/** Collects emitted signals, completed like the core does and validated against the signal schema. */
class fake_context final : public test_support::validated_context {
 public:
  fake_context()
      : validated_context('T', "tracking-trends", "trends", "2027-03-20T10:00:00.000Z",
                          tracking_trends_processor::emits()) {}
};

const char* const band_names[] = {"above_average", "average", "below_average", "far_below_average"};

const std::string four_bands =
    R"({"instruments": {"zien": {"bands": ["above_average", "average", "below_average", "far_below_average"]}}})";

/** One row of an LVS export, as the tracking connector turns it into a measurement signal. */
struct meas {
  std::string date = "2026-10-05";
  double score = 20;
  int rank = 1;
  std::string scale = "welbevinden";
  std::string domain = "wellbeing";
  std::string respondent = "student";
  std::string round = "";
  std::string student = "S-1";
  std::string instrument = "zien";
  bool norm = false;  ///< a norm-only export: content.value is the norm score
};

class tracking_trends : public testing::Test {
 protected:
  sdk::testing::memory_services svc_;
  fake_context ctx_;
  std::unique_ptr<tracking_trends_processor> proc_;
  int next_input_ = 1;
  std::vector<std::string> input_ids_;

  void make(const std::string& settings = four_bands) {
    proc_ = std::make_unique<tracking_trends_processor>(settings, svc_);
  }

  std::string signal(const meas& m) {
    json ev = {{"instrument", m.instrument},
               {"respondent", m.respondent},
               {"scale", m.scale},
               {"band", band_names[m.rank]},
               {"band_rank", m.rank}};
    if (!m.round.empty()) ev["round"] = m.round;
    if (m.norm) ev["value_kind"] = "norm_score";
    input_ids_.push_back(test_ulid('J', next_input_++));
    json sig = {
        {"id", input_ids_.back()},
        {"schema_version", "1"},
        {"type", "nl.schakel.tracking.measurement.recorded"},
        {"source", {{"connector", "tracking"}, {"instance", "tracking"}, {"record_id", "row"}}},
        {"observed_at", m.date + "T00:00:00Z"},
        {"received_at", "2027-03-20T09:00:00Z"},
        {"subject",
         {{"school", {{"brin", "99XX"}, {"vestiging", "00"}}},
          {"student_key", m.student},
          {"class", "2B"},
          {"school_year", "2026-2027"},
          {"leerjaar", 2}}},
        {"content",
         {{"domain", m.domain},
          {"indicator", "tracking.scale"},
          {"value", m.score},
          {"severity", "info"},
          {"instrument", m.instrument},
          {"evidence", ev}}},
        {"governance", {{"data_category", "ordinary"}}},
    };
    return sig.dump();
  }

  /** Feeds one batch and flushes; returns what that batch emitted. */
  std::vector<json> batch(const std::vector<meas>& rows) {
    const std::size_t before = ctx_.emitted.size();
    for (const auto& r : rows) proc_->process(signal(r), ctx_);
    proc_->flush(ctx_);
    return {ctx_.emitted.begin() + static_cast<std::ptrdiff_t>(before), ctx_.emitted.end()};
  }

  static std::vector<std::string> types(const std::vector<json>& sigs) {
    std::vector<std::string> out;
    for (const auto& s : sigs) out.push_back(s["type"].get<std::string>());
    return out;
  }
};

const std::string at_risk = "nl.schakel.tracking.score.at_risk";
const std::string declined = "nl.schakel.tracking.score.declined";
const std::string withdrawn = "nl.schakel.tracking.pattern.withdrawn";
const std::string retracted = "nl.schakel.tracking.alert.retracted";

// --- at_risk -------------------------------------------------------------------------------------

TEST_F(tracking_trends, worst_band_is_at_risk_with_evidence_and_minimal_subject) {
  make();
  auto out = batch({{.score = 9, .rank = 3}});
  ASSERT_EQ(types(out), std::vector<std::string>{at_risk});
  const json& a = out[0];
  EXPECT_EQ(a["observed_at"], "2026-10-05T00:00:00Z");
  EXPECT_EQ(a["content"]["domain"], "wellbeing");
  EXPECT_EQ(a["content"]["indicator"], "tracking.at_risk");
  EXPECT_EQ(a["content"]["severity"], "concern");
  EXPECT_EQ(a["content"]["value"], 9);
  const json& ev = a["content"]["evidence"];
  EXPECT_EQ(ev["instrument"], "zien");
  EXPECT_EQ(ev["respondent"], "student");
  EXPECT_EQ(ev["scale"], "welbevinden");
  EXPECT_EQ(ev["band"], "far_below_average");
  EXPECT_EQ(ev["band_rank"], 3);
  EXPECT_EQ(ev["risk_rank"], 3);
  EXPECT_EQ(a["governance"]["data_category"], "ordinary");
  EXPECT_EQ(a["derived_from"], json::array({input_ids_[0]}));
  EXPECT_EQ(a["subject"]["student_key"], "S-1");
  EXPECT_EQ(a["subject"]["leerjaar"], 2);
  EXPECT_FALSE(a["subject"].contains("school_year"));  // not needed to act on the alert
}

TEST_F(tracking_trends, a_band_better_than_the_risk_rank_is_not_at_risk) {
  make();
  EXPECT_TRUE(batch({{.score = 14, .rank = 2}}).empty());
}

TEST_F(tracking_trends, risk_band_per_scale_and_severity_are_configurable) {
  make(R"({"instruments": {"zien": {"bands": ["above_average", "average", "below_average", "far_below_average"],
                                     "scales": {"welbevinden": {"risk_band": "below_average"}}}},
           "severity": {"at_risk": "urgent"}})");
  auto out = batch({{.score = 14, .rank = 2}, {.score = 14, .rank = 2, .scale = "other", .domain = "social"}});
  ASSERT_EQ(types(out), std::vector<std::string>{at_risk});
  EXPECT_EQ(out[0]["content"]["evidence"]["scale"], "welbevinden");
  EXPECT_EQ(out[0]["content"]["severity"], "urgent");
}

TEST_F(tracking_trends, each_new_round_at_risk_is_news_and_the_earlier_alert_stands) {
  make();
  ASSERT_EQ(types(batch({{.score = 9, .rank = 3}})), std::vector<std::string>{at_risk});
  auto out = batch({{.date = "2027-03-01", .score = 9, .rank = 3}});
  ASSERT_EQ(types(out), std::vector<std::string>{at_risk});  // no retraction of the autumn alert
  EXPECT_EQ(out[0]["observed_at"], "2027-03-01T00:00:00Z");
}

TEST_F(tracking_trends, only_the_latest_measurement_raises_alerts) {
  make();
  // A history imported at once: the autumn at-risk is past; only the spring measurement speaks.
  auto out = batch({{.date = "2026-10-05", .score = 9, .rank = 3}, {.date = "2027-03-01", .score = 21, .rank = 1}});
  EXPECT_TRUE(out.empty());
}

// --- declined ------------------------------------------------------------------------------------

TEST_F(tracking_trends, a_first_measurement_never_declines) {
  make();
  EXPECT_TRUE(batch({{.score = 12, .rank = 2}}).empty());
}

TEST_F(tracking_trends, equal_scores_do_not_decline) {
  make();
  batch({{.score = 20, .rank = 1}});
  EXPECT_TRUE(batch({{.date = "2027-03-01", .score = 20, .rank = 1}}).empty());
}

TEST_F(tracking_trends, a_drop_just_below_decline_by_does_not_decline_and_one_at_it_does) {
  make();
  batch({{.score = 20, .rank = 1}, {.score = 20, .rank = 1, .student = "S-2"}});
  auto out = batch({{.date = "2027-03-01", .score = 15.5, .rank = 1},
                    {.date = "2027-03-01", .score = 15, .rank = 1, .student = "S-2"}});
  ASSERT_EQ(types(out), std::vector<std::string>{declined});
  const json& d = out[0];
  EXPECT_EQ(d["subject"]["student_key"], "S-2");
  EXPECT_EQ(d["content"]["severity"], "attention");
  EXPECT_EQ(d["content"]["indicator"], "tracking.declined");
  EXPECT_EQ(d["content"]["value"], 5);
  const json& ev = d["content"]["evidence"];
  EXPECT_EQ(ev["previous_date"], "2026-10-05");
  EXPECT_EQ(ev["date"], "2027-03-01");
  EXPECT_EQ(ev["previous_score"], 20);
  EXPECT_EQ(ev["score"], 15);
  EXPECT_EQ(ev["reason"], "drop");
  EXPECT_TRUE(ev["score"].is_number_integer());  // whole scores read as written in the export
  EXPECT_EQ(d["derived_from"], json::array({input_ids_[1], input_ids_[3]}));
}

TEST_F(tracking_trends, a_band_crossing_without_a_large_drop_declines) {
  make();
  batch({{.score = 20, .rank = 1}});
  auto out = batch({{.date = "2027-03-01", .score = 18, .rank = 2}});
  ASSERT_EQ(types(out), std::vector<std::string>{declined});
  EXPECT_EQ(out[0]["content"]["evidence"]["reason"], "band");
  EXPECT_EQ(out[0]["content"]["evidence"]["previous_band"], "average");
  EXPECT_EQ(out[0]["content"]["evidence"]["band"], "below_average");
}

TEST_F(tracking_trends, a_worse_band_at_an_equal_score_is_a_norm_change_not_a_decline) {
  make();
  batch({{.score = 20, .rank = 1}});
  EXPECT_TRUE(batch({{.date = "2027-03-01", .score = 20, .rank = 2}}).empty());
}

TEST_F(tracking_trends, a_raw_score_and_a_norm_score_are_compared_by_band_only) {
  make();
  // Raw 40 then norm score 20 (a different scale): a 20-point "drop" is no drop at all.
  batch({{.score = 40, .rank = 1}, {.score = 40, .rank = 1, .student = "S-2"}});
  EXPECT_TRUE(batch({{.date = "2027-03-01", .score = 20, .rank = 1, .norm = true}}).empty());
  // A worse band still counts, whatever the scores.
  auto out = batch({{.date = "2027-03-01", .score = 60, .rank = 2, .student = "S-2", .norm = true}});
  ASSERT_EQ(types(out), std::vector<std::string>{declined});
  const json& ev = out[0]["content"]["evidence"];
  EXPECT_EQ(ev["reason"], "band");
  EXPECT_FALSE(ev.contains("worsened_by"));
  EXPECT_EQ(ev["previous_value_kind"], "raw_score");
  EXPECT_EQ(ev["value_kind"], "norm_score");
  // Two norm scores compare by points again.
  auto next = batch({{.date = "2027-06-01", .score = 50, .rank = 2, .student = "S-2", .norm = true}});
  ASSERT_EQ(types(next), std::vector<std::string>{declined});
  EXPECT_EQ(next[0]["content"]["evidence"]["reason"], "drop");
}

TEST_F(tracking_trends, direction_per_scale_lower_is_better) {
  make(R"({"instruments": {"zien": {"scales": {"angst": {"higher_is_better": false, "decline_by": 3}}}}})");
  batch({{.score = 10, .rank = 1, .scale = "angst", .domain = "emotional"},
         {.score = 10, .rank = 1, .scale = "welbevinden"}});
  auto out = batch({{.date = "2027-03-01", .score = 13, .rank = 1, .scale = "angst", .domain = "emotional"},
                    {.date = "2027-03-01", .score = 13, .rank = 1, .scale = "welbevinden"}});
  ASSERT_EQ(types(out), std::vector<std::string>{declined});  // welbevinden rose: better, not worse
  EXPECT_EQ(out[0]["content"]["evidence"]["scale"], "angst");
  EXPECT_EQ(out[0]["content"]["domain"], "emotional");
}

TEST_F(tracking_trends, series_are_kept_per_respondent) {
  make();
  batch({{.score = 20, .rank = 1, .respondent = "student"}});
  // The teacher's first rating of the same scale is not compared with the student's own.
  EXPECT_TRUE(batch({{.date = "2027-03-01", .score = 10, .rank = 2, .respondent = "teacher"}}).empty());
}

// --- idempotence and corrections -----------------------------------------------------------------

TEST_F(tracking_trends, reprocessing_and_reimport_emit_nothing_new) {
  make();
  const std::vector<meas> rows = {{.score = 20, .rank = 1}, {.date = "2027-03-01", .score = 9, .rank = 3}};
  batch(rows);
  const auto after_first = ctx_.emitted.size();
  ASSERT_EQ(after_first, 2u);        // at_risk and declined
  EXPECT_TRUE(batch(rows).empty());  // a re-import: new signal ids, the same rows
  make();                            // a restart: state comes from the store
  EXPECT_TRUE(batch(rows).empty());
  EXPECT_TRUE(batch({rows[1]}).empty());
}

TEST_F(tracking_trends, a_correction_that_undoes_an_alert_retracts_it) {
  make();
  auto first = batch({{.score = 9, .rank = 3}});
  ASSERT_EQ(types(first), std::vector<std::string>{at_risk});
  auto out = batch({{.score = 19, .rank = 1}});  // same date, instrument, respondent, scale: a correction
  ASSERT_EQ(types(out), std::vector<std::string>{retracted});
  const json& r = out[0];
  EXPECT_EQ(r["content"]["evidence"]["retracts_type"], at_risk);
  EXPECT_EQ(r["content"]["evidence"]["retracts"], first[0]["id"]);
  EXPECT_EQ(r["derived_from"], json::array({first[0]["id"]}));
  EXPECT_EQ(r["observed_at"], "2026-10-05T00:00:00Z");
  EXPECT_TRUE(batch({{.score = 19, .rank = 1}}).empty());  // and nothing more
}

TEST_F(tracking_trends, a_correction_of_an_older_measurement_retracts_the_decline_it_caused) {
  make();
  batch({{.score = 20, .rank = 1}});
  auto d = batch({{.date = "2027-03-01", .score = 14, .rank = 1}});
  ASSERT_EQ(types(d), std::vector<std::string>{declined});
  auto out = batch({{.score = 15, .rank = 1}});  // the autumn score was mistyped
  ASSERT_EQ(types(out), std::vector<std::string>{retracted});
  EXPECT_EQ(out[0]["content"]["evidence"]["retracts_type"], declined);
  EXPECT_EQ(out[0]["derived_from"], json::array({d[0]["id"]}));
}

TEST_F(tracking_trends, a_correction_that_changes_a_latest_alert_replaces_it) {
  make();
  auto first = batch({{.score = 9, .rank = 3}});
  auto out = batch({{.score = 7, .rank = 3}});
  ASSERT_EQ(types(out), (std::vector<std::string>{retracted, at_risk}));
  EXPECT_EQ(out[0]["derived_from"], json::array({first[0]["id"]}));
  EXPECT_EQ(out[1]["content"]["evidence"]["score"], 7);
}

// --- quiet withdrawal ----------------------------------------------------------------------------

meas emo(int rank, const std::string& date = "2026-10-05") {
  return {.date = date, .score = 30, .rank = rank, .scale = "angst", .domain = "emotional"};
}
meas soc(int rank, const std::string& date = "2026-10-05", const std::string& respondent = "student") {
  return {.date = date, .score = 30, .rank = rank, .scale = "contact", .domain = "social", .respondent = respondent};
}
meas beh(int rank, const std::string& date = "2026-10-05") {
  return {.date = date, .score = 30, .rank = rank, .scale = "onrust", .domain = "behavioural", .respondent = "teacher"};
}

TEST_F(tracking_trends, withdrawal_holds_when_internalising_and_social_are_elevated_and_behaviour_is_quiet) {
  make();
  auto out = batch({emo(2), soc(2), beh(0)});
  ASSERT_EQ(types(out), std::vector<std::string>{withdrawn});
  const json& w = out[0];
  EXPECT_EQ(w["content"]["indicator"], "tracking.withdrawn");
  EXPECT_EQ(w["content"]["severity"], "concern");
  EXPECT_EQ(w["content"]["domain"], "emotional");
  const json& ev = w["content"]["evidence"];
  EXPECT_EQ(ev["emotional_scale"], "angst");
  EXPECT_EQ(ev["social_scale"], "contact");
  EXPECT_EQ(ev["behavioural_measured"], 1);
  EXPECT_EQ(ev["behavioural_band_rank"], 0);
  EXPECT_EQ(w["derived_from"].size(), 3u);
}

TEST_F(tracking_trends, withdrawal_fails_when_behaviour_is_elevated_unless_configured_otherwise) {
  make();
  EXPECT_TRUE(batch({emo(2), soc(2), beh(2)}).empty());
  make(four_bands.substr(0, four_bands.size() - 1) + R"(, "withdrawn": {"behavioural_must_be_normal": false}})");
  EXPECT_EQ(types(batch({emo(2, "2027-03-01"), soc(2, "2027-03-01"), beh(2, "2027-03-01")})),
            std::vector<std::string>{withdrawn});
}

TEST_F(tracking_trends, withdrawal_needs_both_scales) {
  make();
  EXPECT_TRUE(batch({emo(2), soc(1), beh(0)}).empty());
  EXPECT_TRUE(batch({emo(1, "2027-03-01"), soc(2, "2027-03-01")}).empty());
}

TEST_F(tracking_trends, withdrawal_groups_a_labelled_round_across_dates) {
  make();
  meas e = emo(2, "2026-10-05");
  meas s = soc(2, "2026-10-12");
  e.round = s.round = "2026-najaar";
  auto out = batch({e, s});
  ASSERT_EQ(types(out), std::vector<std::string>{withdrawn});
  EXPECT_EQ(out[0]["content"]["evidence"]["round"], "2026-najaar");
  EXPECT_EQ(out[0]["observed_at"], "2026-10-12T00:00:00Z");
  // Without the label the two dates are two rounds, each with only one elevated scale.
  make();
  EXPECT_TRUE(batch({emo(2, "2027-03-01"), soc(2, "2027-03-08")}).empty());
}

TEST_F(tracking_trends, withdrawal_counts_only_the_configured_respondents_and_scales) {
  make(four_bands.substr(0, four_bands.size() - 1) +
       R"(, "withdrawn": {"respondents": ["student"], "social_scales": ["contact"]}})");
  EXPECT_TRUE(batch({emo(2), soc(2, "2026-10-05", "teacher")}).empty());
  auto out = batch({emo(2, "2027-03-01"), soc(2, "2027-03-01", "student")});
  EXPECT_EQ(types(out), std::vector<std::string>{withdrawn});
}

TEST_F(tracking_trends, a_correction_that_elevates_behaviour_retracts_the_withdrawal) {
  make();
  auto first = batch({emo(2), soc(2), beh(0)});
  ASSERT_EQ(types(first), std::vector<std::string>{withdrawn});
  auto out = batch({beh(3)});
  ASSERT_EQ(types(out), (std::vector<std::string>{retracted, at_risk}));
  EXPECT_EQ(out[0]["content"]["evidence"]["retracts_type"], withdrawn);
  EXPECT_EQ(out[0]["derived_from"], json::array({first[0]["id"]}));
}

TEST_F(tracking_trends, long_ids_keep_source_record_id_within_the_schema_and_fractions_stay_exact) {
  make();
  const std::string instrument(64, 'i');
  const std::string scale(64, 's');
  auto out = batch({{.score = 8.5, .rank = 3, .scale = scale, .instrument = instrument}});
  ASSERT_EQ(types(out), std::vector<std::string>{at_risk});  // the validated context checks record_id's length
  EXPECT_LE(out[0]["source"]["record_id"].get<std::string>().size(), 128u);
  EXPECT_EQ(out[0]["content"]["value"], 8.5);
}

// --- bad input and state -------------------------------------------------------------------------

TEST_F(tracking_trends, bad_input_is_skipped_and_logged_without_personal_data) {
  make();
  proc_->process("not json", ctx_);
  json sig = json::parse(signal({.score = 9, .rank = 3, .student = "SECRET-KEY"}));
  sig["content"]["evidence"].erase("band_rank");
  proc_->process(sig.dump(), ctx_);
  sig = json::parse(signal({.score = 9, .rank = 3, .student = "SECRET-KEY"}));
  sig["content"]["evidence"]["respondent"] = "neighbour";
  proc_->process(sig.dump(), ctx_);
  proc_->flush(ctx_);
  EXPECT_TRUE(ctx_.emitted.empty());
  ASSERT_EQ(svc_.logs.size(), 3u);
  for (const auto& l : svc_.logs) EXPECT_EQ(l.find("SECRET"), std::string::npos) << l;
  EXPECT_TRUE(svc_.state.empty());
}

TEST_F(tracking_trends, an_unreadable_state_starts_afresh) {
  make();
  svc_.state[student_state_key("99XX", "S-1")] = "{broken";
  EXPECT_EQ(types(batch({{.score = 9, .rank = 3}})), std::vector<std::string>{at_risk});
  ASSERT_EQ(svc_.logs.size(), 1u);
  EXPECT_EQ(svc_.logs[0].find("S-1"), std::string::npos);
  EXPECT_NO_THROW(parse_student_state(svc_.state.at(student_state_key("99XX", "S-1"))));
}

TEST_F(tracking_trends, a_refused_alert_is_retried_with_the_next_change) {
  make();
  ctx_.refuse = true;
  EXPECT_TRUE(batch({{.score = 9, .rank = 3}}).empty());
  ctx_.refuse = false;
  EXPECT_EQ(types(batch({{.score = 8, .rank = 3}})), std::vector<std::string>{at_risk});
}

TEST_F(tracking_trends, old_rounds_are_pruned_without_retracting_what_they_raised) {
  make(four_bands.substr(0, four_bands.size() - 1) + R"(, "keep_days": 365})");
  batch({{.date = "2025-10-06", .score = 20, .rank = 1}});
  ASSERT_EQ(types(batch({{.date = "2026-03-02", .score = 9, .rank = 3}})),
            (std::vector<std::string>{at_risk, declined}));
  // Two years on: both earlier rounds leave the kept history; their alerts are forgotten, not retracted.
  auto out = batch({{.date = "2028-03-06", .score = 20, .rank = 1}});
  EXPECT_TRUE(out.empty());
  const auto st = parse_student_state(svc_.state.at(student_state_key("99XX", "S-1")));
  EXPECT_EQ(st.series_by_key.begin()->second.size(), 1u);
  EXPECT_TRUE(st.alerts.empty());
}

}  // namespace
}  // namespace schakel::plugins::tracking_trends
