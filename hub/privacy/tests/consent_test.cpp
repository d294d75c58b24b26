#include "privacy/consent.hpp"

#include <algorithm>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace schakel::privacy {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------- records

consent_record make(consent_kind kind, consenter by, std::string given_on, std::int64_t recorded_ms,
                    std::string partner = "ggd", std::string expires_on = "", std::string birth_date = "2012-05-10") {
  consent_record r;
  r.id = recorded_ms;
  r.kind = kind;
  r.given_by = by;
  r.partner = std::move(partner);
  r.given_on = std::move(given_on);
  r.expires_on = std::move(expires_on);
  r.birth_date = std::move(birth_date);
  r.recorded_ms = recorded_ms;
  return r;
}

delivery_question ask(std::string date, legal_framework fw = legal_framework::avg, bool needs_consent = true,
                      bool objection_applies = true) {
  delivery_question q;
  q.partner = "ggd";
  q.purpose = "jgz-follow-up";
  q.framework = fw;
  q.needs_consent = needs_consent;
  q.objection_applies = objection_applies;
  q.date = std::move(date);
  return q;
}

TEST(consent_json, round_trip) {
  consent_record r = make(consent_kind::consent, consenter::student, "2026-01-02", 1700000000123, "", "2026-12-31");
  r.purpose = "M@ZL follow-up";
  r.id = 42;
  const auto back = consent_from_json(to_json(r));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->id, 42);
  EXPECT_EQ(back->kind, consent_kind::consent);
  EXPECT_EQ(back->given_by, consenter::student);
  EXPECT_EQ(back->partner, "");
  EXPECT_EQ(back->purpose, "M@ZL follow-up");
  EXPECT_EQ(back->given_on, "2026-01-02");
  EXPECT_EQ(back->expires_on, "2026-12-31");
  EXPECT_EQ(back->birth_date, "2012-05-10");
  EXPECT_EQ(back->recorded_ms, 1700000000123);
  EXPECT_EQ(to_json(*back), to_json(r));
}

TEST(consent_json, every_kind_round_trips) {
  for (const auto kind :
       {consent_kind::consent, consent_kind::withdrawal, consent_kind::objection, consent_kind::objection_withdrawal}) {
    const auto r = make(kind, consenter::parent, "2026-01-02", 5);
    const auto back = consent_from_json(to_json(r));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->kind, kind);
  }
}

TEST(consent_json, refuses_malformed) {
  const json good = to_json(make(consent_kind::consent, consenter::parent, "2026-01-02", 5));
  EXPECT_TRUE(consent_from_json(good).has_value());
  EXPECT_FALSE(consent_from_json(json::array()).has_value());
  for (const char* field : {"kind", "given_by", "given_on"}) {
    json j = good;
    j.erase(field);
    EXPECT_FALSE(consent_from_json(j).has_value()) << field;
  }
  json bad_kind = good;
  bad_kind["kind"] = "maybe";
  EXPECT_FALSE(consent_from_json(bad_kind).has_value());
  json both = good;
  both["purpose"] = "x";
  EXPECT_FALSE(consent_from_json(both).has_value());
  json wrong_type = good;
  wrong_type["recorded_ms"] = "5";
  EXPECT_FALSE(consent_from_json(wrong_type).has_value());
}

// --------------------------------------------------------------------------------------------- request

json valid_body() {
  return {{"school", "01AB"},         {"student_key", "S-4711"},   {"birth_date", "2012-05-10"},
          {"kind", "consent"},        {"given_by", "parent"},      {"partner", "ggd"},
          {"given_on", "2026-11-01"}, {"expires_on", "2027-07-31"}};
}

std::string parse_error(const json& body, const std::string& today = "2026-11-23") {
  std::string error;
  const auto req = parse_consent_request(body, today, error);
  EXPECT_FALSE(req.has_value());
  return error;
}

TEST(parse_consent_request, valid) {
  std::string error = "stale";
  const auto req = parse_consent_request(valid_body(), "2026-11-23", error);
  ASSERT_TRUE(req.has_value()) << error;
  EXPECT_TRUE(error.empty());
  EXPECT_EQ(req->school, "01AB");
  EXPECT_EQ(req->student_key, "S-4711");
  EXPECT_EQ(req->record.kind, consent_kind::consent);
  EXPECT_EQ(req->record.given_by, consenter::parent);
  EXPECT_EQ(req->record.partner, "ggd");
  EXPECT_EQ(req->record.purpose, "");
  EXPECT_EQ(req->record.given_on, "2026-11-01");
  EXPECT_EQ(req->record.expires_on, "2027-07-31");
  EXPECT_EQ(req->record.birth_date, "2012-05-10");
}

TEST(parse_consent_request, purpose_scope_and_vestiging_brin) {
  json body = valid_body();
  body.erase("partner");
  body["purpose"] = "M@ZL follow-up";
  body["school"] = "01AB02";
  body["kind"] = "objection";
  body.erase("expires_on");
  std::string error;
  const auto req = parse_consent_request(body, "2026-11-23", error);
  ASSERT_TRUE(req.has_value()) << error;
  EXPECT_EQ(req->record.purpose, "M@ZL follow-up");
  EXPECT_EQ(req->record.kind, consent_kind::objection);
  EXPECT_EQ(req->school, "01AB02");
}

TEST(parse_consent_request, field_errors_never_echo_the_value) {
  struct bad_case {
    const char* field;
    json value;
    const char* expected_prefix;
  };
  const std::vector<bad_case> cases = {
      {"school", "01ab", "school: "},
      {"school", "01AB0X", "school: "},
      {"school", 1234, "school: "},
      {"student_key", "", "student_key: "},
      {"student_key", std::string(65, 'k'), "student_key: "},
      {"birth_date", "2012-02-30", "birth_date: "},
      {"birth_date", "2012-5-10", "birth_date: "},
      {"birth_date", "2026-11-24", "birth_date: "},
      {"birth_date", "1996-11-23", "birth_date: "},  // exactly 30 on today
      {"kind", "Consent", "kind: "},
      {"given_by", "guardian", "given_by: "},
      {"partner", "", "partner: "},
      {"partner", std::string(129, 'p'), "partner: "},
      {"given_on", "2026-11-24", "given_on: "},
      {"given_on", "2026-13-01", "given_on: "},
      {"expires_on", "2026-10-31", "expires_on: "},
      {"expires_on", "20270731", "expires_on: "},
  };
  for (const auto& c : cases) {
    json body = valid_body();
    body[c.field] = c.value;
    const std::string error = parse_error(body);
    EXPECT_EQ(error.rfind(c.expected_prefix, 0), 0u) << c.field << " -> " << error;
    if (c.value.is_string() && c.value.get<std::string>().size() >= 3) {
      EXPECT_EQ(error.find(c.value.get<std::string>()), std::string::npos) << error;
    }
  }
}

TEST(parse_consent_request, age_just_under_30_accepted) {
  json body = valid_body();
  body["birth_date"] = "1996-11-24";  // 29 until tomorrow
  std::string error;
  EXPECT_TRUE(parse_consent_request(body, "2026-11-23", error).has_value()) << error;
}

TEST(parse_consent_request, missing_and_structural_errors) {
  for (const char* field : {"school", "student_key", "birth_date", "kind", "given_by", "given_on"}) {
    json body = valid_body();
    body.erase(field);
    EXPECT_EQ(parse_error(body), std::string(field) + ": missing");
  }
  json neither = valid_body();
  neither.erase("partner");
  EXPECT_EQ(parse_error(neither).rfind("partner: ", 0), 0u);
  json both = valid_body();
  both["purpose"] = "x";
  EXPECT_EQ(parse_error(both).rfind("partner: ", 0), 0u);
  EXPECT_EQ(parse_error(json::array()), "body: must be a JSON object");
  json unknown = valid_body();
  unknown["expires"] = "2027-01-01";
  EXPECT_EQ(parse_error(unknown), "expires: unknown field");
  json odd_key = valid_body();
  odd_key["Jan Jansen"] = 1;  // a key is client data too: not echoed
  EXPECT_EQ(parse_error(odd_key), "body: unknown field");
  EXPECT_EQ(parse_error(valid_body(), "today"), "today: not a date (YYYY-MM-DD)");
}

TEST(parse_consent_request, expiry_only_for_consent) {
  json body = valid_body();
  body["kind"] = "withdrawal";
  EXPECT_EQ(parse_error(body), "expires_on: only for kind consent");
  body["expires_on"] = nullptr;  // null means absent
  std::string error;
  EXPECT_TRUE(parse_consent_request(body, "2026-11-23", error).has_value()) << error;
}

TEST(parse_consent_request, expiry_same_day_as_given_on) {
  json body = valid_body();
  body["expires_on"] = "2026-11-01";
  std::string error;
  EXPECT_TRUE(parse_consent_request(body, "2026-11-23", error).has_value()) << error;
}

// ---------------------------------------------------------------------------------------------- age_on

TEST(age_on, whole_years) {
  EXPECT_EQ(age_on("2010-05-10", "2026-05-09"), 15);
  EXPECT_EQ(age_on("2010-05-10", "2026-05-10"), 16);
  EXPECT_EQ(age_on("2010-05-10", "2010-05-10"), 0);
  EXPECT_EQ(age_on("2010-12-31", "2011-01-01"), 0);
}

TEST(age_on, leap_day_birthday_turns_older_on_1_march) {
  EXPECT_EQ(age_on("2012-02-29", "2028-02-28"), 15);
  EXPECT_EQ(age_on("2012-02-29", "2028-02-29"), 16);  // leap year: the birthday itself
  EXPECT_EQ(age_on("2012-02-29", "2027-02-28"), 14);
  EXPECT_EQ(age_on("2012-02-29", "2027-03-01"), 15);
}

TEST(age_on, malformed_or_unborn) {
  EXPECT_EQ(age_on("", "2026-01-01"), -1);
  EXPECT_EQ(age_on("2010-02-30", "2026-01-01"), -1);
  EXPECT_EQ(age_on("2010-01-01", "2026/01/01"), -1);
  EXPECT_EQ(age_on("2026-01-02", "2026-01-01"), -1);
}

// ------------------------------------------------------------------------------------ who must consent

TEST(required_consenters, avg) {
  using v = std::vector<consenter>;
  EXPECT_EQ(required_consenters(legal_framework::avg, 0), v{consenter::parent});
  EXPECT_EQ(required_consenters(legal_framework::avg, 15), v{consenter::parent});
  EXPECT_EQ(required_consenters(legal_framework::avg, 16), v{consenter::student});
}

TEST(required_consenters, wgbo) {
  using v = std::vector<consenter>;
  EXPECT_EQ(required_consenters(legal_framework::wgbo, 11), v{consenter::parent});
  EXPECT_EQ(required_consenters(legal_framework::wgbo, 12), (v{consenter::parent, consenter::student}));
  EXPECT_EQ(required_consenters(legal_framework::wgbo, 15), (v{consenter::parent, consenter::student}));
  EXPECT_EQ(required_consenters(legal_framework::wgbo, 16), v{consenter::student});
}

// -------------------------------------------------------------------------------------------- evaluate

constexpr auto P = consenter::parent;
constexpr auto S = consenter::student;
constexpr auto C = consent_kind::consent;

TEST(evaluate, no_records_consent_needed_birth_unknown) {
  const auto v = evaluate({}, ask("2026-11-23"));
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reason, "birth date unknown");
}

TEST(evaluate, no_consent_needed) {
  const auto v = evaluate({}, ask("2026-11-23", legal_framework::avg, false));
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.reason, "no consent needed");
}

TEST(evaluate, birth_date_from_latest_record_having_one) {
  // A record without a birth date does not erase the known one.
  auto consent = make(C, P, "2026-01-01", 1);
  auto later = make(consent_kind::objection_withdrawal, P, "2026-02-01", 2, "ggd", "", "");
  EXPECT_TRUE(evaluate({consent, later}, ask("2026-11-23")).allowed);
  consent.birth_date = "";
  EXPECT_EQ(evaluate({consent, later}, ask("2026-11-23")).reason, "birth date unknown");
}

TEST(evaluate, avg_parent_consent_stops_counting_at_16) {
  const std::string born = "2010-05-10";
  const auto parent = make(C, P, "2020-01-01", 1, "ggd", "", born);
  EXPECT_TRUE(evaluate({parent}, ask("2026-05-09")).allowed);  // 15
  const auto at16 = evaluate({parent}, ask("2026-05-10"));     // 16th birthday
  EXPECT_FALSE(at16.allowed);
  EXPECT_EQ(at16.reason, "no consent from student");
  const auto student = make(C, S, "2026-05-10", 2, "ggd", "", born);
  EXPECT_TRUE(evaluate({parent, student}, ask("2026-05-10")).allowed);
  // A 15-year-old's own consent is not enough under the AVG.
  EXPECT_EQ(evaluate({student}, ask("2026-05-09")).reason, "no consent from parent");
}

TEST(evaluate, wgbo_boundaries_11_12_15_16) {
  const std::string born = "2010-05-10";
  const auto parent = make(C, P, "2015-01-01", 1, "ggd", "", born);
  const auto child = make(C, S, "2022-05-10", 2, "ggd", "", born);
  const auto wgbo = [](const char* date) { return ask(date, legal_framework::wgbo); };
  // 11: parents alone.
  EXPECT_TRUE(evaluate({parent}, wgbo("2022-05-09")).allowed);
  // 12 on the birthday: both needed.
  EXPECT_EQ(evaluate({parent}, wgbo("2022-05-10")).reason, "no consent from student");
  EXPECT_EQ(evaluate({child}, wgbo("2022-05-10")).reason, "no consent from parent");
  EXPECT_TRUE(evaluate({parent, child}, wgbo("2022-05-10")).allowed);
  // 15: still both.
  EXPECT_EQ(evaluate({child}, wgbo("2026-05-09")).reason, "no consent from parent");
  EXPECT_TRUE(evaluate({parent, child}, wgbo("2026-05-09")).allowed);
  // 16 on the birthday: the young person alone.
  EXPECT_TRUE(evaluate({child}, wgbo("2026-05-10")).allowed);
  EXPECT_EQ(evaluate({parent}, wgbo("2026-05-10")).reason, "no consent from student");
}

TEST(evaluate, avg_boundary_11_12_is_parent_only) {
  const std::string born = "2010-05-10";
  const auto parent = make(C, P, "2015-01-01", 1, "ggd", "", born);
  EXPECT_TRUE(evaluate({parent}, ask("2022-05-09")).allowed);
  EXPECT_TRUE(evaluate({parent}, ask("2022-05-10")).allowed);
}

TEST(evaluate, expiry_day_inclusive) {
  const auto r = make(C, P, "2026-01-01", 1, "ggd", "2026-07-31");
  EXPECT_TRUE(evaluate({r}, ask("2026-07-31")).allowed);
  const auto v = evaluate({r}, ask("2026-08-01"));
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reason, "consent expired");
}

TEST(evaluate, not_yet_in_effect) {
  const auto r = make(C, P, "2026-12-01", 1);
  EXPECT_EQ(evaluate({r}, ask("2026-11-30")).reason, "consent not yet in effect");
  EXPECT_TRUE(evaluate({r}, ask("2026-12-01")).allowed);
}

TEST(evaluate, withdrawal_then_new_consent_any_order) {
  const auto first = make(C, P, "2026-01-01", 1);
  const auto withdrawn = make(consent_kind::withdrawal, P, "2026-03-01", 2);
  const auto again = make(C, P, "2026-06-01", 3);
  const auto v = evaluate({first, withdrawn}, ask("2026-04-01"));
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reason, "consent withdrawn by parent");
  EXPECT_TRUE(evaluate({again, withdrawn, first}, ask("2026-07-01")).allowed);
  // Order by recorded time, not by the given_on the caller typed: a backdated withdrawal still wins.
  const auto backdated = make(consent_kind::withdrawal, P, "2026-05-01", 4);
  EXPECT_EQ(evaluate({again, backdated, first}, ask("2026-07-01")).reason, "consent withdrawn by parent");
}

TEST(evaluate, same_recorded_ms_tie_broken_by_id) {
  auto consent = make(C, P, "2026-01-01", 7);
  auto withdrawal = make(consent_kind::withdrawal, P, "2026-01-01", 7);
  consent.id = 2;
  withdrawal.id = 1;
  EXPECT_TRUE(evaluate({consent, withdrawal}, ask("2026-02-01")).allowed);
  EXPECT_TRUE(evaluate({withdrawal, consent}, ask("2026-02-01")).allowed);
  consent.id = 1;
  withdrawal.id = 2;
  EXPECT_FALSE(evaluate({consent, withdrawal}, ask("2026-02-01")).allowed);
}

TEST(evaluate, withdrawal_by_other_person_does_not_cancel) {
  // The 16+ student decides alone under the AVG: a parent's withdrawal is not theirs to give.
  const std::string born = "2008-01-01";
  const auto student = make(C, S, "2025-01-01", 1, "ggd", "", born);
  const auto parent_withdraws = make(consent_kind::withdrawal, P, "2025-06-01", 2, "ggd", "", born);
  EXPECT_TRUE(evaluate({student, parent_withdraws}, ask("2026-01-01")).allowed);
}

TEST(evaluate, other_partner_does_not_count_purpose_does) {
  const auto other = make(C, P, "2026-01-01", 1, "leerplicht");
  EXPECT_EQ(evaluate({other}, ask("2026-02-01")).reason, "no consent from parent");
  auto by_purpose = make(C, P, "2026-01-01", 2, "");
  by_purpose.purpose = "jgz-follow-up";
  EXPECT_TRUE(evaluate({other, by_purpose}, ask("2026-02-01")).allowed);
  by_purpose.purpose = "something else";
  EXPECT_FALSE(evaluate({other, by_purpose}, ask("2026-02-01")).allowed);
}

TEST(evaluate, objection_denies_unless_legal_obligation) {
  const auto objection = make(consent_kind::objection, S, "2026-03-01", 1);
  // Public task, no consent needed: the objection stops it.
  const auto public_task = ask("2026-04-01", legal_framework::avg, false, true);
  const auto v = evaluate({objection}, public_task);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reason, "objection");
  // Legal obligation: art. 21 does not apply.
  EXPECT_TRUE(evaluate({objection}, ask("2026-04-01", legal_framework::avg, false, false)).allowed);
  // Not yet effective on the delivery day.
  EXPECT_TRUE(evaluate({objection}, ask("2026-02-28", legal_framework::avg, false, true)).allowed);
}

TEST(evaluate, objection_beats_consent_from_either_party) {
  const auto consent = make(C, P, "2026-01-01", 1);
  // The 13-year-old objects while the parent consented: we do not disclose.
  const auto child_objects = make(consent_kind::objection, S, "2026-02-01", 2);
  EXPECT_EQ(evaluate({consent, child_objects}, ask("2026-03-01")).reason, "objection");
  const auto parent_objects = make(consent_kind::objection, P, "2026-02-01", 2);
  EXPECT_EQ(evaluate({consent, parent_objects}, ask("2026-03-01")).reason, "objection");
}

TEST(evaluate, objection_withdrawal_lifts_it) {
  const auto consent = make(C, P, "2026-01-01", 1);
  const auto objection = make(consent_kind::objection, P, "2026-02-01", 2);
  const auto lifted = make(consent_kind::objection_withdrawal, P, "2026-02-15", 3);
  EXPECT_FALSE(evaluate({consent, objection}, ask("2026-03-01")).allowed);
  EXPECT_TRUE(evaluate({lifted, consent, objection}, ask("2026-03-01")).allowed);
  // An objection for another partner does not apply.
  const auto elsewhere = make(consent_kind::objection, P, "2026-02-01", 4, "leerplicht");
  EXPECT_TRUE(evaluate({consent, elsewhere}, ask("2026-03-01")).allowed);
}

TEST(evaluate, invalid_delivery_date_denied) {
  EXPECT_FALSE(evaluate({}, ask("soon", legal_framework::avg, false)).allowed);
}

// ------------------------------------------------------------------------------------------- registry

TEST(consent_registry, per_subject_and_thread_safe) {
  consent_registry reg;
  EXPECT_EQ(reg.size(), 0u);
  EXPECT_TRUE(reg.records("nobody").empty());
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&reg, t] {
      for (int i = 0; i < 250; ++i) reg.add("subject-" + std::to_string(t % 2), make(C, P, "2026-01-01", i));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(reg.size(), 1000u);
  EXPECT_EQ(reg.records("subject-0").size(), 500u);
  EXPECT_EQ(reg.records("subject-1").size(), 500u);
}

}  // namespace
}  // namespace schakel::privacy
