#include "processor.hpp"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "rules.hpp"
#include "schakel/testing/processor_testing.hpp"
#include "testing/validated_context.hpp"

namespace schakel::plugins::attendance_rules {
namespace {

using json = nlohmann::json;

std::int32_t d(const char* text) {
  return *parse_date(text);
}

/** State store + a school calendar (autumn 2026) + captured logs. */
class fake_services final : public sdk::testing::memory_services {
 public:
  std::set<std::int32_t> holidays;
  std::set<std::int32_t> study_days;
  std::set<std::string> schools_without_calendar;

  fake_services() {
    for (auto x = d("2026-07-20"); x <= d("2026-09-04"); ++x) holidays.insert(x);  // summer
    for (auto x = d("2026-10-19"); x <= d("2026-10-23"); ++x) holidays.insert(x);  // autumn
    for (auto x = d("2026-12-21"); x <= d("2027-01-01"); ++x) holidays.insert(x);  // Christmas
    study_days.insert(d("2026-11-11"));
  }
  std::optional<sdk::day_kind> school_day(std::string_view brin, std::string_view, std::int32_t day) override {
    if (schools_without_calendar.count(std::string(brin)) > 0) return std::nullopt;
    if (weekday(day) >= 5) return sdk::day_kind::weekend;
    if (holidays.count(day) > 0) return sdk::day_kind::holiday;
    if (study_days.count(day) > 0) return sdk::day_kind::study_day;
    return sdk::day_kind::school_day;
  }
};

using sdk::testing::test_ulid;

/** Collects emitted signals, completed like the core does and validated against the signal schema. */
class fake_context final : public test_support::validated_context {
 public:
  fake_context()
      : validated_context('H', "attendance-rules", "rules", "2027-01-10T10:00:00.000Z",
                          attendance_rules_processor::emits()) {}
};

struct rec {
  std::string cat = "sick";
  std::optional<int> lessons = std::nullopt;
  std::optional<int> minutes = std::nullopt;
  bool whole_day = false;
  std::optional<int> age = std::nullopt;
  std::optional<bool> bq = std::nullopt;
  std::string snapshot = "";
  std::string brin = "99XX";
  std::string student = "S-1";
  std::string instance = "mag";
};

class attendance_rules : public testing::Test {
 protected:
  fake_services svc_;
  std::unique_ptr<attendance_rules_processor> proc_;
  int next_input_ = 1;
  std::vector<std::string> pending_;

  void make(const std::string& settings = "") { proc_ = std::make_unique<attendance_rules_processor>(settings, svc_); }

  /** An absence.recorded as the attendance connector emits it, with the id the core gave it. */
  std::string recorded(const std::string& record_id, const std::string& date, const rec& r = {}) {
    json ev = {{"date", date}, {"category", r.cat}, {"code", r.cat.substr(0, 1)}};
    if (r.lessons) ev["lessons"] = *r.lessons;
    if (r.minutes) ev["minutes"] = *r.minutes;
    if (r.whole_day) ev["whole_day"] = true;
    if (r.age) ev["age"] = *r.age;
    if (r.bq) ev["basic_qualification"] = *r.bq;
    if (!r.snapshot.empty()) ev["snapshot"] = r.snapshot;
    json sig = {
        {"id", test_ulid('J', next_input_++)},
        {"schema_version", "1"},
        {"type", "nl.schakel.attendance.absence.recorded"},
        {"source", {{"connector", "attendance"}, {"instance", r.instance}, {"record_id", record_id}}},
        {"observed_at", date + "T08:30:00Z"},
        {"received_at", "2027-01-10T09:00:00Z"},
        {"subject",
         {{"school", {{"brin", r.brin}, {"vestiging", "00"}}},
          {"student_key", r.student},
          {"class", "2B"},
          {"school_year", "2026-2027"},
          {"leerjaar", 2}}},
        {"content",
         {{"domain", "attendance"},
          {"indicator", "absence"},
          {"severity", "info"},
          {"instrument", "absence-registration"},
          {"evidence", ev}}},
        {"governance",
         {{"data_category", r.cat == "sick" ? "health" : "ordinary"}, {"legal_basis_hints", {"public_task"}}}},
    };
    return sig.dump();
  }

  std::string deleted(const std::string& record_id, const std::string& date, const rec& r = {}) {
    json sig = {
        {"id", test_ulid('J', next_input_++)},
        {"type", "nl.schakel.attendance.absence.deleted"},
        {"source", {{"connector", "attendance"}, {"instance", r.instance}, {"record_id", record_id}}},
        {"subject", {{"school", {{"brin", r.brin}, {"vestiging", "00"}}}, {"student_key", r.student}}},
        {"content",
         {{"domain", "attendance"},
          {"indicator", "absence"},
          {"severity", "info"},
          {"evidence", {{"date", date}, {"reason", "deleted_in_source"}}}}},
        {"governance", {{"data_category", "ordinary"}}},
    };
    return sig.dump();
  }

  std::string snapshot(const std::string& id, const std::string& from, const std::string& to, int count,
                       const std::string& instance = "mag") {
    json sig = {
        {"id", test_ulid('J', next_input_++)},
        {"type", "nl.schakel.attendance.snapshot.completed"},
        {"source", {{"connector", "attendance"}, {"instance", instance}}},
        {"subject", {{"school", {{"brin", "99XX"}, {"vestiging", "00"}}}}},
        {"content",
         {{"domain", "attendance"},
          {"indicator", "snapshot"},
          {"value", count},
          {"severity", "info"},
          {"evidence", {{"snapshot", id}, {"from", from}, {"to", to}}}}},
        {"governance", {{"data_category", "ordinary"}}},
    };
    return sig.dump();
  }

  std::string referral(const std::string& alert_id, std::string* referral_id = nullptr,
                       const std::string& student = "S-1") {
    const std::string id = test_ulid('J', next_input_++);
    if (referral_id != nullptr) *referral_id = id;
    json sig = {
        {"id", id},
        {"type", "nl.schakel.alert.referral.recorded"},
        {"source", {{"connector", "core"}, {"instance", "api"}}},
        {"subject", {{"school", {{"brin", "99XX"}, {"vestiging", "00"}}}, {"student_key", student}}},
        {"content",
         {{"domain", "attendance"},
          {"indicator", "referral"},
          {"severity", "info"},
          {"evidence", {{"alert", alert_id}, {"parents_informed_on", "2026-11-20"}, {"informed_by", "mentor"}}}}},
        {"governance", {{"data_category", "health"}}},
        {"derived_from", {alert_id}},
    };
    return sig.dump();
  }

  /** One batch: every signal, then flush. Returns what the batch emitted. */
  std::vector<json> batch(const std::vector<std::string>& signals, fake_context* use = nullptr) {
    fake_context local;
    fake_context& ctx = use != nullptr ? *use : local;
    const std::size_t before = ctx.emitted.size();
    for (const auto& s : signals) proc_->process(s, ctx);
    proc_->flush(ctx);
    return {ctx.emitted.begin() + static_cast<std::ptrdiff_t>(before), ctx.emitted.end()};
  }

  /** Sick records, one per date, ids "r-<date>". */
  std::vector<std::string> sick(const std::vector<std::string>& dates, rec r = {}) {
    std::vector<std::string> out;
    for (const auto& date : dates) out.push_back(recorded("r-" + r.student + "-" + date, date, r));
    return out;
  }

  std::vector<std::string> input_ids(const std::vector<std::string>& signals) {
    std::vector<std::string> ids;
    for (const auto& s : signals) ids.push_back(json::parse(s)["id"].get<std::string>());
    return ids;
  }
};

std::vector<std::string> derived(const json& sig) {
  return sig.at("derived_from").get<std::vector<std::string>>();
}
const json& ev(const json& sig) {
  return sig.at("content").at("evidence");
}

// ---- M@ZL -----------------------------------------------------------------------------------------

// Sep 11 (Fri) + Sep 14 (Mon): one report across a weekend. Sep 16: a new one (Sep 15 is a school day
// without a sick record). Oct 16 (Fri) + Oct 26 (Mon): one report across the autumn holiday.
// Nov 10 + Nov 12: one report across the study day Nov 11. Three reports fire nothing; the fourth does.
TEST_F(attendance_rules, mazl_episodes_span_weekends_holidays_and_study_days_and_fire_at_the_fourth_report) {
  make();
  const auto first = sick({"2026-09-11", "2026-09-14", "2026-09-16", "2026-10-16", "2026-10-26"});
  EXPECT_TRUE(batch(first).empty());  // three reports: one below the threshold

  const auto fourth = sick({"2026-11-10", "2026-11-12"});
  const auto out = batch(fourth);
  ASSERT_EQ(out.size(), 1u);
  const json& a = out[0];
  EXPECT_EQ(a["type"], "nl.schakel.attendance.mazl.triggered");
  EXPECT_EQ(a["observed_at"], "2026-11-10T00:00:00Z");
  EXPECT_EQ(a["source"]["record_id"], "mazl_count:2026-11-10");
  EXPECT_EQ(a["content"]["severity"], "concern");
  EXPECT_EQ(a["governance"]["data_category"], "health");
  EXPECT_EQ(a["subject"]["student_key"], "S-1");
  EXPECT_EQ(a["subject"]["class"], "2B");
  EXPECT_EQ(ev(a)["rule"], "count");
  EXPECT_EQ(ev(a)["report_starts"], "2026-09-11,2026-09-16,2026-10-16,2026-11-10");
  EXPECT_EQ(ev(a)["count"], 4);
  // 12 school weeks back from the week of Nov 9: Nov 9, 2, Oct 26, (autumn skipped) Oct 12, 5, Sep 28,
  // 21, 14, 7, (summer skipped) Jul 13, Jul 6, Jun 29.
  EXPECT_EQ(ev(a)["window_start"], "2026-06-29");
  EXPECT_EQ(ev(a)["window_end"], "2026-11-10");
  EXPECT_EQ(ev(a)["calendar"], "school");
  EXPECT_EQ(ev(a)["referral"], "pending");
  auto ids = input_ids(first);
  for (const auto& id : input_ids(fourth)) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  auto got = derived(a);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, ids);
}

// 12 school weeks back from the week of Dec 14 reach Sep 21 because the autumn week is skipped; with
// calendar weeks the window starts Sep 28 and the Sep 22 report is outside it.
TEST_F(attendance_rules, mazl_holiday_week_in_window_is_skipped_so_window_reaches_a_week_further) {
  make(R"({"schools": {"11AA": {"mazl": {"week_kind": "calendar"}}}})");
  const std::vector<std::string> dates = {"2026-09-22", "2026-10-07", "2026-11-04", "2026-12-15"};
  auto signals = sick(dates);
  for (const auto& s : sick(dates, rec{.brin = "11AA", .student = "S-2"})) signals.push_back(s);
  const auto out = batch(signals);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["subject"]["school"]["brin"], "99XX");
  EXPECT_EQ(ev(out[0])["window_start"], "2026-09-21");
  EXPECT_EQ(ev(out[0])["report_starts"], "2026-09-22,2026-10-07,2026-11-04,2026-12-15");
}

// Sep 7..11, 14, 15 are seven school days: the 7th is Tue Sep 15 (calendar day 9), not Sun Sep 13.
// The report goes on to Sep 17 and fires only once.
TEST_F(attendance_rules, mazl_seventh_consecutive_sick_school_day_across_a_weekend_fires_once) {
  make();
  EXPECT_TRUE(
      batch(sick({"2026-09-07", "2026-09-08", "2026-09-09", "2026-09-10", "2026-09-11", "2026-09-14"})).empty());
  const auto more = sick({"2026-09-15", "2026-09-16"});
  const auto out = batch(more);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["source"]["record_id"], "mazl_duration:2026-09-07");
  EXPECT_EQ(out[0]["observed_at"], "2026-09-15T00:00:00Z");
  EXPECT_EQ(ev(out[0])["rule"], "duration");
  EXPECT_EQ(ev(out[0])["episode_start"], "2026-09-07");
  EXPECT_EQ(ev(out[0])["days"], 7);
  EXPECT_EQ(derived(out[0]).size(), 7u);  // the records of the seven days, not the 8th
  EXPECT_EQ(derived(out[0]).back(), input_ids(more)[0]);
  EXPECT_TRUE(batch(sick({"2026-09-17"})).empty());
}

// Reports Sep 8, 10, 15, 17 fire; Sep 22 (5th) does not: the first four are used up; Oct 1 (8th) fires
// with the four new ones.
TEST_F(attendance_rules, mazl_reports_that_fired_are_used_up) {
  make();
  const auto out1 = batch(sick({"2026-09-08", "2026-09-10", "2026-09-15", "2026-09-17"}));
  ASSERT_EQ(out1.size(), 1u);
  EXPECT_EQ(out1[0]["source"]["record_id"], "mazl_count:2026-09-17");
  EXPECT_TRUE(batch(sick({"2026-09-22"})).empty());
  EXPECT_TRUE(batch(sick({"2026-09-24", "2026-09-29"})).empty());
  const auto out2 = batch(sick({"2026-10-01"}));
  ASSERT_EQ(out2.size(), 1u);
  EXPECT_EQ(out2[0]["source"]["record_id"], "mazl_count:2026-10-01");
  EXPECT_EQ(ev(out2[0])["report_starts"], "2026-09-22,2026-09-24,2026-09-29,2026-10-01");
}

TEST_F(attendance_rules, sick_records_on_holidays_and_weekends_are_kept_but_ignored) {
  make();
  EXPECT_TRUE(batch(sick({"2026-09-08", "2026-09-10", "2026-09-15", "2026-10-20", "2026-09-19"})).empty());
  // Kept: the state holds all five records.
  const auto st = parse_student_state(svc_.state.at("stu:99XX:S-1"));
  EXPECT_EQ(st.records.size(), 5u);
}

TEST_F(attendance_rules, records_no_rule_uses_are_not_kept) {
  make();
  EXPECT_TRUE(batch({recorded("x1", "2026-09-08", rec{.cat = "authorised", .student = "S-9"})}).empty());
  EXPECT_EQ(svc_.state.count("stu:99XX:S-9"), 0u);
  EXPECT_EQ(svc_.state.count("idx:mag:99XX"), 0u);
}

TEST_F(attendance_rules, two_schools_with_different_thresholds) {
  make(R"({"schools": {"99XX": {"mazl": {"reports": 3}}}})");
  const std::vector<std::string> dates = {"2026-09-08", "2026-09-10", "2026-09-15"};
  auto signals = sick(dates);
  for (const auto& s : sick(dates, rec{.brin = "11AA"})) signals.push_back(s);
  const auto out = batch(signals);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["subject"]["school"]["brin"], "99XX");
  EXPECT_EQ(ev(out[0])["count"], 3);
  EXPECT_TRUE(batch(sick({"2026-09-17"}, rec{.brin = "11AA"})).size() == 1u);  // the 4th at the default school
}

// ---- idempotency and corrections ---------------------------------------------------------------

TEST_F(attendance_rules, overlapping_reexport_emits_nothing_new) {
  make();
  const std::vector<std::string> dates = {"2026-09-08", "2026-09-10", "2026-09-15", "2026-09-17"};
  ASSERT_EQ(batch(sick(dates)).size(), 1u);
  // The same export again (new signal ids), and an overlapping one with one more non-firing record.
  EXPECT_TRUE(batch(sick(dates)).empty());
  EXPECT_TRUE(batch(sick({"2026-09-15", "2026-09-17", "2026-09-22"})).empty());
  const auto st = parse_student_state(svc_.state.at("stu:99XX:S-1"));
  EXPECT_EQ(st.records.size(), 5u);
  EXPECT_EQ(st.alerts.size(), 1u);
}

TEST_F(attendance_rules, correction_from_sick_to_authorised_retracts_the_alert) {
  make();
  const auto out = batch(sick({"2026-09-08", "2026-09-10", "2026-09-15", "2026-09-17"}));
  ASSERT_EQ(out.size(), 1u);
  const std::string alert_id = out[0]["id"];
  const auto retract = batch({recorded("r-S-1-2026-09-10", "2026-09-10", rec{.cat = "authorised"})});
  ASSERT_EQ(retract.size(), 1u);
  const json& r = retract[0];
  EXPECT_EQ(r["type"], "nl.schakel.attendance.alert.retracted");
  EXPECT_EQ(ev(r)["retracts"], alert_id);
  EXPECT_EQ(ev(r)["retracts_type"], "nl.schakel.attendance.mazl.triggered");
  EXPECT_EQ(ev(r)["reason"], "no_longer_holds");
  EXPECT_EQ(r["content"]["severity"], "concern");
  EXPECT_EQ(r["content"]["indicator"], "mazl");
  EXPECT_EQ(r["governance"]["data_category"], "health");
  EXPECT_EQ(derived(r), std::vector<std::string>{alert_id});
  EXPECT_EQ(r["subject"]["student_key"], "S-1");
  // A fourth report again fires a new alert.
  const auto again = batch(sick({"2026-09-22"}));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0]["source"]["record_id"], "mazl_count:2026-09-22");
}

TEST_F(attendance_rules, deleted_record_retracts_the_alert) {
  make();
  const auto out = batch(sick({"2026-09-08", "2026-09-10", "2026-09-15", "2026-09-17"}));
  ASSERT_EQ(out.size(), 1u);
  const auto retract = batch({deleted("r-S-1-2026-09-08", "2026-09-08")});
  ASSERT_EQ(retract.size(), 1u);
  EXPECT_EQ(ev(retract[0])["retracts"], out[0]["id"]);
}

// Snapshot "aaa" holds four reports; snapshot "bbb" holds only three of them. Records of another
// source instance and records outside [from, to] stay.
TEST_F(attendance_rules, snapshot_that_drops_a_record_retracts_the_alert) {
  make();
  const std::vector<std::string> dates = {"2026-09-08", "2026-09-10", "2026-09-15", "2026-09-17"};
  auto first = sick(dates, rec{.snapshot = "aaa"});
  first.push_back(snapshot("aaa", "2026-09-01", "2026-09-30", 4));
  const auto fired = batch(first);
  ASSERT_EQ(fired.size(), 1u);
  // Same export again: same snapshot id, nothing dropped, nothing emitted.
  auto same = sick(dates, rec{.snapshot = "aaa"});
  same.push_back(snapshot("aaa", "2026-09-01", "2026-09-30", 4));
  EXPECT_TRUE(batch(same).empty());

  auto second = sick({"2026-09-08", "2026-09-10", "2026-09-15"}, rec{.snapshot = "bbb"});
  second.push_back(recorded("other-1", "2026-09-22", rec{.instance = "som"}));  // another source instance
  second.push_back(snapshot("bbb", "2026-09-01", "2026-09-30", 3));
  const auto out = batch(second);
  // Sep 17 is gone: the alert is retracted. The other instance's Sep 22 record is kept and is now the
  // fourth report (Sep 8, 10, 15, 22): a new alert.
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["type"], "nl.schakel.attendance.alert.retracted");
  EXPECT_EQ(ev(out[0])["retracts"], fired[0]["id"]);
  EXPECT_EQ(out[1]["source"]["record_id"], "mazl_count:2026-09-22");
  const auto st = parse_student_state(svc_.state.at("stu:99XX:S-1"));
  EXPECT_EQ(st.records.size(), 4u);  // three of bbb + the other instance's record
}

// ---- referral ----------------------------------------------------------------------------------

TEST_F(attendance_rules, referral_on_request_refers_once_and_retraction_retracts_both) {
  make();
  const auto out = batch(sick({"2026-09-08", "2026-09-10", "2026-09-15", "2026-09-17"}));
  ASSERT_EQ(out.size(), 1u);
  const std::string alert_id = out[0]["id"];
  std::string referral_id;
  const auto referred = batch({referral(alert_id, &referral_id)});
  ASSERT_EQ(referred.size(), 1u);
  const json& r = referred[0];
  EXPECT_EQ(r["type"], "nl.schakel.attendance.mazl.referred");
  EXPECT_EQ(r["content"]["severity"], "concern");
  EXPECT_EQ(r["governance"]["data_category"], "health");
  EXPECT_EQ(ev(r)["parents_informed_on"], "2026-11-20");
  EXPECT_EQ(ev(r)["informed_by"], "mentor");
  EXPECT_EQ(ev(r)["rule"], "count");
  EXPECT_EQ(ev(r)["count"], 4);
  EXPECT_EQ(ev(r)["report_starts"], "2026-09-08,2026-09-10,2026-09-15,2026-09-17");
  EXPECT_EQ(ev(r)["window_end"], "2026-09-17");
  EXPECT_EQ(derived(r), (std::vector<std::string>{alert_id, referral_id}));

  EXPECT_TRUE(batch({referral(alert_id)}).empty());  // a second referral: nothing

  const auto retract = batch({deleted("r-S-1-2026-09-08", "2026-09-08")});
  ASSERT_EQ(retract.size(), 2u);
  std::set<std::string> retracted{ev(retract[0])["retracts"], ev(retract[1])["retracts"]};
  EXPECT_EQ(retracted, (std::set<std::string>{alert_id, r["id"].get<std::string>()}));
  for (const auto& x : retract) EXPECT_EQ(x["type"], "nl.schakel.attendance.alert.retracted");

  EXPECT_TRUE(batch({referral(alert_id)}).empty());  // referral for a retracted alert: nothing
}

TEST_F(attendance_rules, referral_direct_refers_at_once) {
  make(R"({"schools": {"99XX": {"mazl": {"referral": "direct"}}}})");
  const auto out = batch(sick({"2026-09-08", "2026-09-10", "2026-09-15", "2026-09-17"}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["type"], "nl.schakel.attendance.mazl.triggered");
  EXPECT_EQ(ev(out[0])["referral"], "direct");
  EXPECT_EQ(out[1]["type"], "nl.schakel.attendance.mazl.referred");
  EXPECT_EQ(ev(out[1])["referral"], "direct");
  EXPECT_FALSE(ev(out[1]).contains("parents_informed_on"));
  EXPECT_EQ(derived(out[1]), std::vector<std::string>{out[0]["id"].get<std::string>()});
  EXPECT_TRUE(batch({referral(out[0]["id"])}).empty());  // already referred
}

// ---- leerplicht --------------------------------------------------------------------------------

// 4+4 lessons in the week of Oct 12, the autumn holiday, 4 on Oct 27 and 4 on Thu Nov 12: the period
// of 4 school weeks from Mon Oct 12 runs to Mon Nov 16 (the holiday week does not count), so 16 is
// reached on Nov 12. The deadline: 5 working days later, Thu Nov 19.
TEST_F(attendance_rules, leerplicht_sixteen_lessons_with_a_holiday_week_in_between) {
  make();
  const rec u{.cat = "unauthorised", .lessons = 4};
  const auto out = batch({recorded("u1", "2026-10-12", u), recorded("u2", "2026-10-14", u),
                          recorded("u3", "2026-10-27", u), recorded("u4", "2026-11-12", u)});
  ASSERT_EQ(out.size(), 1u);
  const json& a = out[0];
  EXPECT_EQ(a["type"], "nl.schakel.attendance.leerplicht.threshold_reached");
  EXPECT_EQ(a["source"]["record_id"], "leerplicht:2026-10-12:2026-11-12");
  EXPECT_EQ(a["observed_at"], "2026-11-12T00:00:00Z");
  EXPECT_EQ(a["governance"]["data_category"], "ordinary");
  EXPECT_EQ(a["governance"]["legal_basis_hints"], json::array({"legal_obligation"}));
  EXPECT_EQ(ev(a)["period_start"], "2026-10-12");
  EXPECT_EQ(ev(a)["reached_on"], "2026-11-12");
  EXPECT_EQ(ev(a)["hours"], 16);
  EXPECT_EQ(ev(a)["threshold"], 16);
  EXPECT_EQ(ev(a)["weeks"], 4);
  EXPECT_EQ(ev(a)["unit"], "lessons");
  EXPECT_EQ(ev(a)["days"], "2026-10-12:4,2026-10-14:4,2026-10-27:4,2026-11-12:4");
  EXPECT_EQ(ev(a)["report_deadline"], "2026-11-19");
  EXPECT_EQ(derived(a).size(), 4u);
}

// 5+5+5 = 15 lessons: nothing. Another student with 30 minutes more (ceil(30/50) = 1 lesson): 16.
TEST_F(attendance_rules, leerplicht_exactly_sixteen_fires_and_fifteen_does_not) {
  make();
  const rec a{.cat = "unauthorised", .lessons = 5, .student = "S-A"};
  const rec b{.cat = "unauthorised", .lessons = 5, .student = "S-B"};
  rec b_minutes{.cat = "unauthorised", .minutes = 30, .student = "S-B"};
  const auto out =
      batch({recorded("a1", "2026-09-07", a), recorded("a2", "2026-09-08", a), recorded("a3", "2026-09-09", a),
             recorded("b1", "2026-09-07", b), recorded("b2", "2026-09-08", b), recorded("b3", "2026-09-09", b),
             recorded("b4", "2026-09-10", b_minutes)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["subject"]["student_key"], "S-B");
  EXPECT_EQ(out[0]["source"]["record_id"], "leerplicht:2026-09-07:2026-09-10");
  EXPECT_EQ(ev(out[0])["days"], "2026-09-07:5,2026-09-08:5,2026-09-09:5,2026-09-10:1");
}

// 8 lessons on Mon Sep 7; the 4 school weeks from it end before Mon Oct 5, so on Oct 5 the start
// slides to Oct 5 (8, not 16). Oct 6 reaches 16; the next period starts Oct 7 and closes Oct 8.
TEST_F(attendance_rules, leerplicht_period_start_slides_and_next_period_starts_after_reached_day) {
  make();
  const rec u{.cat = "unauthorised", .lessons = 8};
  const auto out =
      batch({recorded("u1", "2026-09-07", u), recorded("u2", "2026-10-05", u), recorded("u3", "2026-10-06", u),
             recorded("u4", "2026-10-07", u), recorded("u5", "2026-10-08", u)});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["source"]["record_id"], "leerplicht:2026-10-05:2026-10-06");
  EXPECT_EQ(out[1]["source"]["record_id"], "leerplicht:2026-10-07:2026-10-08");
}

// Three days of 200 minutes, one of 4 lessons, one whole day. Lessons (11AA): 4+4+4+4 = 16 on Sep 10.
// Clock hours (99XX): 3.33 × 3 + 4 × 50/60 = 13.33 on Sep 10; + 7 × 50/60 = 19.17 on Sep 11.
TEST_F(attendance_rules, leerplicht_lessons_versus_clock_hours) {
  make(R"({"schools": {"99XX": {"leerplicht": {"unit": "clock_hours"}}}})");
  std::vector<std::string> signals;
  for (const std::string brin : {"99XX", "11AA"}) {
    signals.push_back(recorded(brin + "1", "2026-09-07", rec{.cat = "unauthorised", .minutes = 200, .brin = brin}));
    signals.push_back(recorded(brin + "2", "2026-09-08", rec{.cat = "unauthorised", .minutes = 200, .brin = brin}));
    signals.push_back(recorded(brin + "3", "2026-09-09", rec{.cat = "unauthorised", .minutes = 200, .brin = brin}));
    signals.push_back(recorded(brin + "4", "2026-09-10", rec{.cat = "unauthorised", .lessons = 4, .brin = brin}));
    signals.push_back(recorded(brin + "5", "2026-09-11", rec{.cat = "unauthorised", .whole_day = true, .brin = brin}));
  }
  const auto out = batch(signals);
  ASSERT_EQ(out.size(), 2u);
  const json& lessons = out[0]["subject"]["school"]["brin"] == "11AA" ? out[0] : out[1];
  const json& clock = out[0]["subject"]["school"]["brin"] == "99XX" ? out[0] : out[1];
  EXPECT_EQ(ev(lessons)["reached_on"], "2026-09-10");
  EXPECT_EQ(ev(lessons)["hours"], 16);
  EXPECT_EQ(ev(lessons)["unit"], "lessons");
  EXPECT_EQ(ev(clock)["reached_on"], "2026-09-11");
  EXPECT_DOUBLE_EQ(ev(clock)["hours"].get<double>(), 19.17);
  EXPECT_EQ(ev(clock)["unit"], "clock_hours");
  EXPECT_EQ(ev(clock)["days"], "2026-09-07:3.33,2026-09-08:3.33,2026-09-09:3.33,2026-09-10:3.33,2026-09-11:5.83");
  EXPECT_EQ(clock["content"]["unit"], "hours");
}

// 18+: reported under `rmc` only below 23 without a basic qualification; unknown age is a minor.
TEST_F(attendance_rules, leerplicht_adults_rmc_policy) {
  make();
  auto four_days = [&](const std::string& student, std::optional<int> age, std::optional<bool> bq) {
    std::vector<std::string> s;
    for (const char* date : {"2026-09-07", "2026-09-08", "2026-09-09", "2026-09-10"}) {
      s.push_back(recorded(student + date, date,
                           rec{.cat = "unauthorised", .lessons = 4, .age = age, .bq = bq, .student = student}));
    }
    return s;
  };
  std::vector<std::string> signals;
  for (const auto& s : four_days("S-19-none", 19, false)) signals.push_back(s);
  for (const auto& s : four_days("S-19-sq", 19, true)) signals.push_back(s);
  for (const auto& s : four_days("S-19-unknown", 19, std::nullopt)) signals.push_back(s);
  for (const auto& s : four_days("S-24", 24, false)) signals.push_back(s);
  for (const auto& s : four_days("S-17-sq", 17, true)) signals.push_back(s);
  for (const auto& s : four_days("S-noage", std::nullopt, std::nullopt)) signals.push_back(s);
  std::set<std::string> reported;
  for (const auto& x : batch(signals)) reported.insert(x["subject"]["student_key"].get<std::string>());
  EXPECT_EQ(reported, (std::set<std::string>{"S-19-none", "S-19-unknown", "S-17-sq", "S-noage"}));
}

// ---- lateness ----------------------------------------------------------------------------------

TEST_F(attendance_rules, lateness_counts_one_per_day_when_enabled) {
  make(R"({"defaults": {"lateness": {"enabled": true, "count": 3}}})");
  const rec late{.cat = "late", .minutes = 10};
  const auto out = batch({recorded("l1", "2026-09-07", late), recorded("l2", "2026-09-08", late),
                          recorded("l3", "2026-09-08", late), recorded("l4", "2026-09-09", late)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["type"], "nl.schakel.attendance.lateness.pattern_detected");
  EXPECT_EQ(out[0]["content"]["severity"], "attention");
  EXPECT_EQ(out[0]["source"]["record_id"], "lateness:2026-09-09");
  EXPECT_EQ(ev(out[0])["dates"], "2026-09-07,2026-09-08,2026-09-09");
}

// ---- calendars, restarts, replays --------------------------------------------------------------

TEST_F(attendance_rules, no_calendar_counts_weekdays_and_says_so) {
  make();
  svc_.schools_without_calendar.insert("99XX");
  // Without a calendar the autumn holiday week holds school days: Oct 16, 19 are separate reports.
  const auto out = batch(sick({"2026-10-14", "2026-10-16", "2026-10-20", "2026-10-22"}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ev(out[0])["calendar"], "weekdays");
}

TEST_F(attendance_rules, state_survives_a_restart) {
  make();
  EXPECT_TRUE(batch(sick({"2026-09-08", "2026-09-10", "2026-09-15"})).empty());
  make();  // a new processor object on the same state
  const auto out = batch(sick({"2026-09-17"}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ev(out[0])["report_starts"], "2026-09-08,2026-09-10,2026-09-15,2026-09-17");
  make();
  EXPECT_TRUE(batch(sick({"2026-09-17"})).empty());  // the emitted alert survived too
}

TEST_F(attendance_rules, batch_replay_gives_identical_output_and_state) {
  make(R"({"defaults": {"mazl": {"referral": "direct"}}})");
  EXPECT_TRUE(batch(sick({"2026-09-08", "2026-09-10"})).empty());
  const auto before = svc_.state;
  const auto signals = sick({"2026-09-15", "2026-09-17", "2026-09-22"});
  fake_context first;
  const auto out1 = batch(signals, &first);
  const auto after1 = svc_.state;
  ASSERT_EQ(out1.size(), 2u);

  svc_.state = before;  // the crash: the batch's writes were never committed
  make();
  make(R"({"defaults": {"mazl": {"referral": "direct"}}})");
  fake_context second;
  const auto out2 = batch(signals, &second);
  EXPECT_EQ(out1, out2);
  EXPECT_EQ(after1, svc_.state);
}

TEST_F(attendance_rules, bad_input_is_logged_without_content_and_skipped) {
  make();
  fake_context ctx;
  proc_->process("not json", ctx);
  proc_->process(R"({"type": "nl.schakel.attendance.absence.recorded", "subject": {"student_key": "S-SECRET"}})", ctx);
  proc_->flush(ctx);
  EXPECT_TRUE(ctx.emitted.empty());
  ASSERT_EQ(svc_.logs.size(), 2u);
  for (const auto& l : svc_.logs) EXPECT_EQ(l.find("S-SECRET"), std::string::npos);
}

TEST_F(attendance_rules, pruning_drops_old_records_without_retracting) {
  make();
  ASSERT_EQ(batch(sick({"2026-09-08", "2026-09-10", "2026-09-15", "2026-09-17"})).size(), 1u);
  // A record 500 days later pushes everything before the horizon: pruned, the alert is not retracted.
  EXPECT_TRUE(batch(sick({"2028-01-31"})).empty());
  const auto st = parse_student_state(svc_.state.at("stu:99XX:S-1"));
  EXPECT_EQ(st.records.size(), 1u);
  EXPECT_TRUE(st.alerts.empty());
}

}  // namespace
}  // namespace schakel::plugins::attendance_rules
