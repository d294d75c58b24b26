// One report is one alert: evidence that arrives after the alert (lesson by lesson, late, or corrected
// while the alert still holds) updates it; only an alert that no longer holds is retracted.
#include <gtest/gtest.h>

#include "fixture.hpp"
#include "schakel/sdk/alert_lifecycle.hpp"

namespace schakel::plugins::attendance_rules::test {
namespace {

const std::string type_alert = "nl.schakel.attendance.leerplicht.threshold_reached";
const std::string type_mazl_alert = "nl.schakel.attendance.mazl.triggered";
const std::string type_referred_alert = "nl.schakel.attendance.mazl.referred";
const std::string type_update = "nl.schakel.attendance.alert.updated";
const std::string type_retraction = "nl.schakel.attendance.alert.retracted";

std::vector<json> of_type(const std::vector<json>& signals, const std::string& type) {
  std::vector<json> out;
  for (const auto& s : signals) {
    if (s["type"] == type) out.push_back(s);
  }
  return out;
}

/** What a partner holds for an alert after applying every update in order: evidence, value, records. */
struct told {
  json evidence;
  json value;
  std::set<std::string> derived_from;
};

/** Applies `signals` (alerts and updates of one processor) the way a partner does; by alert id. */
std::map<std::string, told> apply(const std::vector<json>& signals) {
  std::map<std::string, told> held;
  for (const auto& s : signals) {
    const json& e = s["content"]["evidence"];
    std::string id = s["id"];
    json evidence = e;
    if (s["type"] == type_update) {
      id = e["updates"];
      evidence.erase("updates");
      evidence.erase("updates_type");
    } else if (s["type"] == type_retraction) {
      held.erase(e["retracts"].get<std::string>());
      continue;
    }
    told& t = held[id];
    t.evidence = evidence;
    t.value = s["content"].value("value", json());
    t.derived_from.clear();
    if (s.contains("derived_from")) {
      for (const auto& d : s["derived_from"]) t.derived_from.insert(d.get<std::string>());
    }
  }
  return held;
}

class alert_updates : public attendance_rules {
 protected:
  /** 18 single-lesson unauthorised records: 6 on Mon Sep 7, 6 on Tue Sep 8, 6 on Wed Sep 9. */
  std::vector<std::string> eighteen_lessons() {
    std::vector<std::string> out;
    for (const std::string date : {"2026-09-07", "2026-09-08", "2026-09-09"}) {
      for (int lesson = 1; lesson <= 6; ++lesson) {
        out.push_back(
            recorded("l-" + date + "-" + std::to_string(lesson), date, rec{.cat = "unauthorised", .lessons = 1}));
      }
    }
    return out;
  }

  /** Every signal in one batch, to a processor with a state of its own (another hub); what it emitted. */
  static std::vector<json> in_one_batch_elsewhere(const std::vector<std::string>& signals) {
    fake_services fresh;
    attendance_rules_processor batched("", fresh);
    fake_context ctx;
    for (const auto& s : signals) batched.process(s, ctx);
    batched.flush(ctx);
    return ctx.emitted;
  }

  /** Every signal, each in a batch of its own; everything emitted, in order. */
  std::vector<json> one_at_a_time(const std::vector<std::string>& signals) {
    std::vector<json> all;
    for (const auto& s : signals) {
      for (auto& e : batch({s})) all.push_back(std::move(e));
    }
    return all;
  }
};

TEST_F(alert_updates, lessons_one_at_a_time_give_one_alert_and_end_with_the_evidence_of_one_batch) {
  const auto lessons = eighteen_lessons();

  make();
  const auto trickled = one_at_a_time(lessons);
  ASSERT_EQ(of_type(trickled, type_alert).size(), 1u);
  EXPECT_TRUE(of_type(trickled, type_retraction).empty());
  const auto updates = of_type(trickled, type_update);
  ASSERT_EQ(updates.size(), 2u);  // the 17th and the 18th lesson
  const json alert = of_type(trickled, type_alert)[0];
  EXPECT_EQ(ev(alert)["hours"], 16);
  for (const auto& u : updates) {
    EXPECT_EQ(ev(u)["updates"], alert["id"]);
    EXPECT_EQ(ev(u)["updates_type"], type_alert);
    EXPECT_EQ(u["source"]["record_id"], alert["source"]["record_id"]);
    EXPECT_EQ(u["observed_at"], alert["observed_at"]);
    EXPECT_EQ(u["content"]["severity"], "concern");
    EXPECT_EQ(u["governance"]["data_category"], "ordinary");
  }
  EXPECT_EQ(ev(updates[0])["hours"], 17);
  EXPECT_EQ(ev(updates[1])["hours"], 18);

  // The same lessons in one batch, on a fresh hub.
  const auto whole = in_one_batch_elsewhere(lessons);
  ASSERT_EQ(whole.size(), 1u);
  ASSERT_EQ(whole[0]["type"], type_alert);

  // Both partners end with one alert, and the same evidence, value and records.
  const auto a = apply(trickled);
  const auto b = apply(whole);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a.begin()->second.evidence, b.begin()->second.evidence);
  EXPECT_EQ(a.begin()->second.value, 18);
  EXPECT_EQ(a.begin()->second.value, b.begin()->second.value);
  EXPECT_EQ(a.begin()->second.derived_from, b.begin()->second.derived_from);
  EXPECT_EQ(a.begin()->second.derived_from.size(), 18u);
  EXPECT_EQ(a.begin()->second.evidence["days"], "2026-09-07:6,2026-09-08:6,2026-09-09:6");
}

TEST_F(alert_updates, the_alert_stays_one_across_a_restart_mid_period) {
  const auto lessons = eighteen_lessons();
  make();
  const auto first = one_at_a_time({lessons.begin(), lessons.begin() + 16});
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0]["type"], type_alert);
  make();  // the daemon restarted: a new processor over the persisted state
  const auto later = one_at_a_time({lessons.begin() + 16, lessons.end()});
  ASSERT_EQ(later.size(), 2u);
  for (const auto& u : later) {
    EXPECT_EQ(u["type"], type_update);
    EXPECT_EQ(ev(u)["updates"], first[0]["id"]);
  }
  EXPECT_EQ(ev(later[1])["hours"], 18);
}

TEST_F(alert_updates, a_correction_that_stays_over_the_threshold_updates_and_one_below_it_retracts) {
  make();
  const auto told = one_at_a_time(eighteen_lessons());
  const std::string alert_id = of_type(told, type_alert).at(0)["id"];
  const rec authorised{.cat = "authorised", .lessons = 1};

  // 18 → 16: still a report, so an update, not a retraction.
  const auto down = batch(
      {recorded("l-2026-09-09-6", "2026-09-09", authorised), recorded("l-2026-09-09-5", "2026-09-09", authorised)});
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0]["type"], type_update);
  EXPECT_EQ(ev(down[0])["hours"], 16);

  // 16 → 15: no report any more. The officer hears it is retracted, whatever updates came before.
  const auto below = batch({recorded("l-2026-09-07-1", "2026-09-07", authorised)});
  ASSERT_EQ(below.size(), 1u);
  EXPECT_EQ(below[0]["type"], type_retraction);
  EXPECT_EQ(ev(below[0])["retracts"], alert_id);
  EXPECT_EQ(ev(below[0])["retracts_type"], type_alert);
}

// Mon 6, Tue 6, Wed 4: 16 on Wed. A teacher registers 4 more Tuesday lessons late: the period now
// reaches 16 on Tue, and Wed's 4 start the next period. Same period, same report: an update.
TEST_F(alert_updates, a_late_lesson_inside_the_period_updates_the_alert_even_when_it_moves_the_reached_day) {
  make();
  const rec u{.cat = "unauthorised", .lessons = 6};
  const auto out = batch({recorded("mon", "2026-09-07", u), recorded("tue", "2026-09-08", u),
                          recorded("wed", "2026-09-09", rec{.cat = "unauthorised", .lessons = 4})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ev(out[0])["reached_on"], "2026-09-09");
  const auto late = batch({recorded("tue-late", "2026-09-08", rec{.cat = "unauthorised", .lessons = 4})});
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0]["type"], type_update);
  EXPECT_EQ(ev(late[0])["updates"], out[0]["id"]);
  EXPECT_EQ(ev(late[0])["reached_on"], "2026-09-08");
  EXPECT_EQ(ev(late[0])["hours"], 16);
  EXPECT_EQ(ev(late[0])["days"], "2026-09-07:6,2026-09-08:10");
  EXPECT_EQ(late[0]["observed_at"], "2026-09-08T00:00:00Z");
}

// States written before alerts were keyed by period keep their alert: no retraction, no second alert.
TEST_F(alert_updates, an_alert_stored_under_the_old_period_and_day_key_is_the_same_report) {
  const auto lessons = eighteen_lessons();
  make();
  const auto first = one_at_a_time({lessons.begin(), lessons.begin() + 16});
  ASSERT_EQ(first.size(), 1u);
  // Rewrite the stored key the way the previous version stored it.
  json st = json::parse(svc_.state.at("stu:99XX:S-1"));
  st["alerts"]["leerplicht:2026-09-07:2026-09-09"] = st["alerts"]["leerplicht:2026-09-07"];
  st["alerts"].erase("leerplicht:2026-09-07");
  svc_.state["stu:99XX:S-1"] = st.dump();
  make();
  const auto later = one_at_a_time({lessons.begin() + 16, lessons.end()});
  ASSERT_EQ(later.size(), 2u);
  EXPECT_EQ(later[0]["type"], type_update);
  EXPECT_EQ(ev(later[0])["updates"], first[0]["id"]);
}

// M@ZL: the fourth report's sick lessons arrive one by one (three a day, the report goes on for three
// days). The alert fires at the first of them and is one alert, as in one batch.
TEST_F(alert_updates, mazl_sick_lessons_one_at_a_time_give_one_alert_and_the_evidence_of_one_batch) {
  std::vector<std::string> signals;
  for (const std::string date : {"2026-09-08", "2026-09-10", "2026-09-15", "2026-09-17", "2026-09-18"}) {
    for (int lesson = 1; lesson <= 3; ++lesson) {
      signals.push_back(recorded("s-" + date + "-" + std::to_string(lesson), date, rec{.lessons = 1}));
    }
  }
  make();
  const auto trickled = one_at_a_time(signals);
  ASSERT_EQ(of_type(trickled, type_mazl_alert).size(), 1u);
  EXPECT_TRUE(of_type(trickled, type_retraction).empty());

  const auto whole = in_one_batch_elsewhere(signals);
  ASSERT_EQ(whole.size(), 1u);
  const auto a = apply(trickled);
  const auto b = apply(whole);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a.begin()->second.evidence, b.begin()->second.evidence);
  EXPECT_EQ(a.begin()->second.evidence["report_starts"], "2026-09-08,2026-09-10,2026-09-15,2026-09-17");
}

// A correction changes which day a report started, while the M@ZL alert still holds: the coordinator
// gets an update of the alert and the JGZ, which has the referral, an update of the referral, with the
// parents' consent kept. No retraction, and no new referral to ask the parents for again.
TEST_F(alert_updates, mazl_evidence_corrected_while_it_holds_updates_the_alert_and_its_referral) {
  make();
  const auto out = batch(sick({"2026-09-08", "2026-09-10", "2026-09-15", "2026-09-17"}));
  ASSERT_EQ(out.size(), 1u);
  const std::string alert_id = out[0]["id"];
  const auto referred = batch({referral(alert_id)});
  ASSERT_EQ(referred.size(), 1u);
  const std::string referred_id = referred[0]["id"];

  // Mon Sep 14 sick too: the third report starts on Sep 14, not Sep 15.
  const auto corrected = batch(sick({"2026-09-14"}));
  ASSERT_EQ(corrected.size(), 2u);
  EXPECT_TRUE(of_type(corrected, type_retraction).empty());
  EXPECT_EQ(corrected[0]["type"], type_update);
  EXPECT_EQ(ev(corrected[0])["updates"], alert_id);
  EXPECT_EQ(ev(corrected[0])["updates_type"], type_mazl_alert);
  EXPECT_EQ(ev(corrected[0])["report_starts"], "2026-09-08,2026-09-10,2026-09-14,2026-09-17");
  EXPECT_EQ(corrected[0]["governance"]["data_category"], "health");
  EXPECT_EQ(corrected[1]["type"], type_update);
  EXPECT_EQ(ev(corrected[1])["updates"], referred_id);
  EXPECT_EQ(ev(corrected[1])["updates_type"], type_referred_alert);
  EXPECT_EQ(ev(corrected[1])["report_starts"], "2026-09-08,2026-09-10,2026-09-14,2026-09-17");
  EXPECT_EQ(ev(corrected[1])["parents_informed_on"], "2026-11-20");
  EXPECT_EQ(ev(corrected[1])["informed_by"], "mentor");
  EXPECT_EQ(ev(corrected[1])["alert"], alert_id);
  EXPECT_EQ(corrected[1]["observed_at"], "2026-11-20T00:00:00Z");

  // The referral stays recorded across the update: a second one is still refused, and a correction
  // that undoes the alert retracts both.
  EXPECT_TRUE(batch({referral(alert_id)}).empty());
  const auto gone = batch({deleted("r-S-1-2026-09-08", "2026-09-08")});
  ASSERT_EQ(gone.size(), 2u);
  EXPECT_EQ(of_type(gone, type_retraction).size(), 2u);
}

// The update mechanism is the SDK's one rule; the processor only feeds it.
TEST(alert_lifecycle, next_step_sends_updates_and_retracts) {
  using sdk::alert_step;
  EXPECT_EQ(sdk::next_step("", ""), alert_step::none);
  EXPECT_EQ(sdk::next_step("", "a"), alert_step::send);
  EXPECT_EQ(sdk::next_step("a", "a"), alert_step::none);
  EXPECT_EQ(sdk::next_step("a", "b"), alert_step::update);
  EXPECT_EQ(sdk::next_step("a", ""), alert_step::retract);
  const auto e = sdk::update_evidence("01H00000000000000000000001", type_alert, {{"hours", 18}, {"updates", "x"}});
  EXPECT_EQ(e.dump(), R"({"updates":"01H00000000000000000000001","updates_type":")" + type_alert + R"(","hours":18})");
}

}  // namespace
}  // namespace schakel::plugins::attendance_rules::test
