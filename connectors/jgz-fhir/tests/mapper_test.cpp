#include "mapper.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "settings.hpp"
#include "testing/emits_check.hpp"
#include "testing/ingest_recorder.hpp"

namespace jgz = schakel::connectors::jgz_fhir;
using nlohmann::json;

namespace {

using recording_context = schakel::plugins::test_support::ingest_recorder;

constexpr std::string_view self_canonical = "http://schakel.example/fhir/Questionnaire/sdq-self-11-17";
constexpr std::string_view parent_canonical = "http://schakel.example/fhir/Questionnaire/sdq-parent-4-17";
constexpr std::string_view student_system = "https://schakel.example/id/leerlingnummer/99XX";
constexpr std::string_view bsn_system = "http://fhir.nl/fhir/NamingSystem/bsn";
constexpr std::string_view conclusion_system = "https://schakel.example/fhir/CodeSystem/jgz-conclusie";

// The test data's BSN (passes the 11-test), student number and name: none may ever appear in a
// rejection, a failure, or (the BSN) anywhere in a signal but subject.student_key.
constexpr std::string_view bsn = "111222333";
constexpr std::string_view personal_markers[] = {"111222333", "LL-4711", "Jansen", "Vertrouwelijk", "Pietersen"};

json load(std::string_view name) {
  std::ifstream in(std::string(JGZ_FHIR_TEST_DATA_DIR) + "/" + std::string(name));
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

json school_99xx() {
  return {{"brin", "99XX"}, {"vestiging", "01"}};
}

json rule_json() {
  return {
      {"system", conclusion_system}, {"code", "verwijzing-ggz"},        {"type", "nl.schakel.jgz.conclusion.referral"},
      {"domain", "emotional"},       {"indicator", "jgz.referral_ggz"}, {"severity", "concern"}};
}

/** Links by the school's student number; one observation rule. */
json student_settings() {
  return {{"link", {{"student_systems", {{std::string(student_system), school_99xx()}}}}},
          {"observations", json::array({rule_json()})}};
}

/** Links by BSN only. */
json bsn_settings() {
  return {{"link", {{"bsn", true}, {"bsn_school", {{"brin", "12AB"}}}}}, {"observations", json::array({rule_json()})}};
}

/** Every message the tests saw, so the last test can prove the privacy check ran over them. */
std::vector<std::string>& seen_messages() {
  static std::vector<std::string> all;
  return all;
}

void expect_no_personal_data(const recording_context& ctx) {
  std::vector<std::string> messages{ctx.failure};
  for (const auto& r : ctx.rejections) {
    messages.push_back(r.field);
    messages.push_back(r.reason);
  }
  for (const auto& m : messages) {
    for (auto marker : personal_markers) {
      EXPECT_EQ(m.find(marker), std::string::npos) << "personal data in a message: " << m;
    }
    if (!m.empty()) seen_messages().push_back(m);
  }
  // A BSN may be in subject.student_key (the hub hashes it there) and nowhere else.
  for (json signal : ctx.signals) {
    if (signal.contains("subject")) signal["subject"].erase("student_key");
    EXPECT_EQ(signal.dump().find(bsn), std::string::npos) << "BSN outside subject.student_key";
  }
}

recording_context run_text(const json& settings, std::string_view body,
                           std::string_view content_type = "application/fhir+json", bool schema_check = true) {
  const jgz::connector c(settings.dump());
  recording_context ctx("jgz-fhir");
  c.ingest(body, content_type, ctx);
  if (schema_check) {
    EXPECT_TRUE(ctx.schema_errors.empty()) << ::testing::PrintToString(ctx.schema_errors);
  }
  expect_no_personal_data(ctx);
  schakel::plugins::test_support::expect_declared(c.emits(), ctx.signals);
  return ctx;
}

recording_context run(const json& settings, const json& body) {
  return run_text(settings, body.dump());
}

std::string describe(const recording_context& ctx) {
  std::string out = "failure: " + ctx.failure + "\n";
  for (const auto& r : ctx.rejections) {
    out += "  reject " + std::to_string(r.index) + " [" + r.field + "] " + r.reason + "\n";
  }
  return out;
}

/**
 * A QuestionnaireResponse written as on paper (as in sdq_test.cpp): `items` 25 characters '0'–'2'
 * or '.' (spaces skipped), `difficulties` '0'–'3' or '.', `impact` five answers. Linked through
 * subject.identifier with the school's student number.
 */
json questionnaire_response(std::string_view canonical, std::string_view items, char difficulties = '.',
                            std::string_view impact = ".....") {
  json list = json::array();
  int n = 0;
  for (char c : items) {
    if (c == ' ') continue;
    json item = {{"linkId", std::to_string(++n)}};
    if (c != '.') item["answer"] = json::array({{{"valueInteger", c - '0'}}});
    list.push_back(item);
  }
  json imp = {{"linkId", "impact"}};
  if (difficulties != '.') {
    json answer = {{"valueInteger", difficulties - '0'}};
    const char* areas[] = {"distress", "home", "friendships", "classroom", "leisure"};
    answer["item"] = json::array();
    for (int i = 0; i < 5; ++i) {
      json area = {{"linkId", std::string("impact.") + areas[i]}};
      if (impact[static_cast<std::size_t>(i)] != '.') {
        area["answer"] = json::array({{{"valueInteger", impact[static_cast<std::size_t>(i)] - '0'}}});
      }
      answer["item"].push_back(area);
    }
    imp["answer"] = json::array({answer});
  }
  list.push_back(imp);
  return {{"resourceType", "QuestionnaireResponse"},
          {"id", "qr-test"},
          {"questionnaire", canonical},
          {"status", "completed"},
          {"subject", {{"identifier", {{"system", student_system}, {"value", "LL-4711"}}}}},
          {"authored", "2026-11-27"},
          {"item", list}};
}

// Q2 of sdq_test.cpp: all normal, total 4, difficulties "no" → impact 0.
constexpr std::string_view q2_items = "20020 02121 20021 12001 20002";

/** The one rejection of a one-resource body. */
void expect_one_rejection(const recording_context& ctx, std::string_view field, std::string_view reason_part) {
  EXPECT_TRUE(ctx.signals.empty());
  ASSERT_EQ(ctx.rejections.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.rejections[0].field, field);
  EXPECT_NE(ctx.rejections[0].reason.find(reason_part), std::string::npos) << ctx.rejections[0].reason;
}

std::string config_error_of(const json& settings) {
  try {
    jgz::connector c(settings.dump());
  } catch (const schakel::sdk::config_error& e) {
    return e.what();
  }
  return "(accepted)";
}

/** Expected score, band and prorating of one scale in the evidence; value -1 = missing. */
void expect_scale(const json& evidence, std::string_view scale, int value, std::string_view band,
                  bool prorated = false) {
  const std::string s(scale);
  SCOPED_TRACE(s);
  if (value < 0) {
    EXPECT_TRUE(evidence.at(s).is_null());
    EXPECT_TRUE(evidence.at(s + "_band").is_null());
    return;
  }
  EXPECT_EQ(evidence.at(s), value);
  EXPECT_EQ(evidence.at(s + "_band"), band);
  if (s != "impact") {
    EXPECT_EQ(evidence.at(s + "_prorated"), prorated);
  }
}

// ---------------------------------------------------------------------------------------------
// Bundles

void expect_collection_signals(const recording_context& ctx, std::int64_t offset) {
  ASSERT_EQ(ctx.signals.size(), 3u) << describe(ctx);
  EXPECT_EQ(ctx.indexes, (std::vector<std::int64_t>{1 + offset, 2 + offset, 3 + offset}));

  // Self-report: Q4 of sdq_test.cpp. E 6 B, C 4 B, H 3 N, Pe 3 N, P 5 B, total 16 B, impact 1 B → attention.
  const json& self = ctx.signals[0];
  EXPECT_EQ(self["type"], "nl.schakel.jgz.sdq.scored");
  EXPECT_EQ(self["source"]["record_id"], "qr-self");
  EXPECT_EQ(self["observed_at"], "2026-11-27T00:00:00Z");
  EXPECT_EQ(self["content"]["domain"], "health");
  EXPECT_EQ(self["content"]["indicator"], "sdq.total_difficulties");
  EXPECT_EQ(self["content"]["value"], 16);
  EXPECT_EQ(self["content"]["severity"], "attention");
  EXPECT_EQ(self["content"]["instrument"], "sdq-self_11_17");
  const json& se = self["content"]["evidence"];
  EXPECT_EQ(se["version"], "self_11_17");
  expect_scale(se, "emotional", 6, "borderline");
  expect_scale(se, "conduct", 4, "borderline");
  expect_scale(se, "hyperactivity", 3, "normal");
  expect_scale(se, "peer", 3, "normal");
  expect_scale(se, "prosocial", 5, "borderline");
  expect_scale(se, "total", 16, "borderline");
  expect_scale(se, "impact", 1, "borderline");
  EXPECT_EQ(self["governance"], (json{{"data_category", "health"}, {"legal_basis_hints", {"consent"}}}));

  // Parent: Q8 of sdq_test.cpp (answers as valueCoding inside a group). E 4 B, C 3 B, H 5 N, Pe 3 B,
  // P 9 N, total 15 B, impact 3 A → concern.
  const json& parent = ctx.signals[1];
  EXPECT_EQ(parent["source"]["record_id"], "qr-parent");
  EXPECT_EQ(parent["observed_at"], "2026-11-26T14:30:00+01:00");
  EXPECT_EQ(parent["content"]["value"], 15);
  EXPECT_EQ(parent["content"]["severity"], "concern");
  EXPECT_EQ(parent["content"]["instrument"], "sdq-parent");
  const json& pe = parent["content"]["evidence"];
  expect_scale(pe, "emotional", 4, "borderline");
  expect_scale(pe, "conduct", 3, "borderline");
  expect_scale(pe, "hyperactivity", 5, "normal");
  expect_scale(pe, "peer", 3, "borderline");
  expect_scale(pe, "prosocial", 9, "normal");
  expect_scale(pe, "total", 15, "borderline");
  expect_scale(pe, "impact", 3, "abnormal");

  const json& conclusion = ctx.signals[2];
  EXPECT_EQ(conclusion["type"], "nl.schakel.jgz.conclusion.referral");
  EXPECT_EQ(conclusion["observed_at"], "2026-11-27T10:15:00Z");
  EXPECT_EQ(conclusion["content"]["value"], true);
  EXPECT_EQ(conclusion["content"]["severity"], "concern");
  EXPECT_EQ(conclusion["content"]["evidence"], (json{{"code", "verwijzing-ggz"}, {"system", conclusion_system}}));
  EXPECT_EQ(conclusion["governance"]["data_category"], "health");

  // The Practitioner is reported, not dropped.
  ASSERT_EQ(ctx.rejections.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.rejections[0].index, 4 + offset);
  EXPECT_EQ(ctx.rejections[0].field, "Bundle.entry[" + std::to_string(4 + offset) + "].resource");
  EXPECT_NE(ctx.rejections[0].reason.find("Practitioner"), std::string::npos);
}

TEST(jgz_bundle, collection_gives_both_sdqs_and_the_conclusion_in_entry_order) {
  const auto ctx = run(student_settings(), load("bundle-collection.json"));
  expect_collection_signals(ctx, 0);
  for (const auto& s : ctx.signals) {
    EXPECT_EQ(s["subject"], (json{{"school", school_99xx()}, {"student_key", "LL-4711"}}));
  }
}

TEST(jgz_bundle, transaction_maps_the_same) {
  const auto ctx = run(student_settings(), load("bundle-transaction.json"));
  expect_collection_signals(ctx, 0);
}

TEST(jgz_bundle, message_skips_its_message_header) {
  const auto ctx = run(student_settings(), load("bundle-message.json"));
  expect_collection_signals(ctx, 1);
}

TEST(jgz_bundle, evidence_stays_within_the_schema_limit) {
  const auto ctx = run(student_settings(), load("bundle-collection.json"));
  ASSERT_FALSE(ctx.signals.empty());
  const json& evidence = ctx.signals[0]["content"]["evidence"];
  EXPECT_EQ(evidence.size(), 22u);
  EXPECT_LE(evidence.size(), 32u);
  for (const auto& [key, value] : evidence.items()) EXPECT_TRUE(value.is_primitive()) << key;
}

// ---------------------------------------------------------------------------------------------
// Linking

TEST(jgz_linking, by_bsn_puts_the_digits_in_student_key_and_the_configured_school) {
  const auto ctx = run(bsn_settings(), load("bundle-collection.json"));
  ASSERT_EQ(ctx.signals.size(), 3u) << describe(ctx);
  for (const auto& s : ctx.signals) {
    EXPECT_EQ(s["subject"], (json{{"school", {{"brin", "12AB"}}}, {"student_key", bsn}}));
  }
  for (const auto& raw : ctx.raw) {
    // Exactly once: in subject.student_key.
    const auto first = raw.find(bsn);
    ASSERT_NE(first, std::string::npos);
    EXPECT_EQ(raw.find(bsn, first + 1), std::string::npos);
  }
}

TEST(jgz_linking, the_student_number_wins_over_a_bsn) {
  json s = student_settings();
  s["link"]["bsn"] = true;
  s["link"]["bsn_school"] = {{"brin", "12AB"}};
  const auto ctx = run(s, load("bundle-collection.json"));
  ASSERT_EQ(ctx.signals.size(), 3u) << describe(ctx);
  for (const auto& raw : ctx.raw) EXPECT_EQ(raw.find(bsn), std::string::npos);
  EXPECT_EQ(ctx.signals[0]["subject"]["student_key"], "LL-4711");
}

TEST(jgz_linking, neither_configured_rejects_each_record_at_its_subject) {
  json s = {{"observations", json::array({rule_json()})}};
  const auto ctx = run(s, load("bundle-collection.json"));
  EXPECT_TRUE(ctx.signals.empty());
  ASSERT_EQ(ctx.rejections.size(), 4u) << describe(ctx);
  for (int i = 0; i < 3; ++i) {
    const auto& r = ctx.rejections[static_cast<std::size_t>(i + 1)];
    EXPECT_EQ(r.index, i + 1);
    EXPECT_EQ(r.field, "Bundle.entry[" + std::to_string(i + 1) + "].resource.subject");
    EXPECT_EQ(r.reason, "no identifier this instance can link (configure link.student_systems or link.bsn)");
  }
}

TEST(jgz_linking, a_bsn_is_not_used_unless_link_bsn_is_true) {
  json bundle = load("bundle-collection.json");
  bundle["entry"][0]["resource"]["identifier"].erase(1);  // only the BSN is left
  const auto ctx = run(student_settings(), bundle);
  EXPECT_TRUE(ctx.signals.empty());
  ASSERT_EQ(ctx.rejections.size(), 4u) << describe(ctx);
  EXPECT_EQ(ctx.rejections[1].field, "Bundle.entry[1].resource.subject");
}

TEST(jgz_linking, a_number_failing_the_11_test_is_refused_without_quoting_it) {
  json bundle = load("bundle-collection.json");
  bundle["entry"][0]["resource"]["identifier"] = {{{"system", bsn_system}, {"value", "111222334"}}};
  const auto ctx = run(bsn_settings(), bundle);
  EXPECT_TRUE(ctx.signals.empty());
  ASSERT_GE(ctx.rejections.size(), 2u) << describe(ctx);
  EXPECT_EQ(ctx.rejections[1].field, "Bundle.entry[1].resource.subject");
  EXPECT_NE(ctx.rejections[1].reason.find("11-test"), std::string::npos);
  for (const auto& r : ctx.rejections) EXPECT_EQ(r.reason.find("111222334"), std::string::npos);
}

TEST(jgz_linking, an_unresolvable_reference_is_rejected_at_the_subject) {
  json bundle = load("bundle-collection.json");
  bundle["entry"][1]["resource"]["subject"]["reference"] = "urn:uuid:00000000-0000-0000-0000-000000000000";
  bundle["entry"][2]["resource"]["subject"]["reference"] = "Practitioner/jgz-arts-1";
  const auto ctx = run(student_settings(), bundle);
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);  // the Observation
  ASSERT_EQ(ctx.rejections.size(), 3u) << describe(ctx);
  EXPECT_EQ(ctx.rejections[1].field, "Bundle.entry[1].resource.subject");
  EXPECT_NE(ctx.rejections[1].reason.find("does not resolve"), std::string::npos);
  // The Practitioner entry itself was refused, so the reference does not resolve either.
  EXPECT_EQ(ctx.rejections[2].field, "Bundle.entry[2].resource.subject");
}

TEST(jgz_linking, subject_identifier_links_a_single_questionnaire_response) {
  const auto ctx = run(student_settings(), load("qr-q3-self.json"));
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.indexes[0], 0);
  EXPECT_EQ(ctx.signals[0]["subject"]["student_key"], "LL-4711");
}

TEST(jgz_linking, bsn_helper_follows_the_11_test) {
  EXPECT_TRUE(jgz::is_bsn("111222333"));
  EXPECT_TRUE(jgz::is_bsn("11222335"));  // 8 digits, zero-padded
  EXPECT_FALSE(jgz::is_bsn("111222334"));
  EXPECT_FALSE(jgz::is_bsn("000000000"));
  EXPECT_FALSE(jgz::is_bsn("1112223330"));
  EXPECT_FALSE(jgz::is_bsn("11122233a"));
}

// ---------------------------------------------------------------------------------------------
// SDQ questionnaires

TEST(jgz_sdq, q3_end_to_end_every_score_abnormal) {
  // Q3 of sdq_test.cpp through FHIR: E 10, C 7, H 9, Pe 8, P 2, total 34, impact 5, all abnormal.
  const auto ctx = run(student_settings(), load("qr-q3-self.json"));
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  const json& c = ctx.signals[0]["content"];
  EXPECT_EQ(c["value"], 34);
  EXPECT_EQ(c["severity"], "concern");
  const json& e = c["evidence"];
  expect_scale(e, "emotional", 10, "abnormal");
  expect_scale(e, "conduct", 7, "abnormal");
  expect_scale(e, "hyperactivity", 9, "abnormal");
  expect_scale(e, "peer", 8, "abnormal");
  expect_scale(e, "prosocial", 2, "abnormal");
  expect_scale(e, "total", 34, "abnormal");
  expect_scale(e, "impact", 5, "abnormal");
  EXPECT_EQ(ctx.signals[0]["observed_at"], "2026-10-01T00:00:00Z");
  EXPECT_EQ(ctx.signals[0]["source"]["record_id"], "qr-q3");
}

TEST(jgz_sdq, missing_answers_are_prorated_visibly) {
  // Q5 of sdq_test.cpp: E 3 (4 answered), C 7 (3 answered), H 6, Pe 2 (3 answered), P 9 (4 answered),
  // total 18 prorated; difficulties unanswered → impact missing. Self → concern.
  const auto ctx = run(student_settings(), questionnaire_response(self_canonical, "21122 0...1 .2121 02..1 10100"));
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  const json& e = ctx.signals[0]["content"]["evidence"];
  expect_scale(e, "emotional", 3, "normal", true);
  expect_scale(e, "conduct", 7, "abnormal", true);
  expect_scale(e, "hyperactivity", 6, "borderline", false);
  expect_scale(e, "peer", 2, "normal", true);
  expect_scale(e, "prosocial", 9, "normal", true);
  expect_scale(e, "total", 18, "borderline", true);
  expect_scale(e, "impact", -1, "");
  EXPECT_EQ(ctx.signals[0]["content"]["value"], 18);
  EXPECT_EQ(ctx.signals[0]["content"]["severity"], "concern");
}

TEST(jgz_sdq, an_empty_form_is_info_without_a_value) {
  const auto ctx = run(student_settings(), questionnaire_response(parent_canonical, "..... ..... ..... ..... ....."));
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_FALSE(ctx.signals[0]["content"].contains("value"));
  EXPECT_EQ(ctx.signals[0]["content"]["severity"], "info");
  EXPECT_TRUE(ctx.signals[0]["content"]["evidence"]["severity"].is_null());
}

TEST(jgz_sdq, an_unknown_canonical_is_not_configured) {
  const auto ctx =
      run(student_settings(), questionnaire_response("http://example.org/Questionnaire/phq-9", q2_items, '0'));
  expect_one_rejection(ctx, "QuestionnaireResponse.questionnaire", "questionnaire not configured");
}

TEST(jgz_sdq, a_bad_answer_type_is_rejected_at_its_answer_path) {
  json qr = questionnaire_response(self_canonical, q2_items, '0');
  qr["item"][6]["answer"][0] = {{"valueString", "Vertrouwelijk"}};
  const auto ctx = run(student_settings(), qr);
  expect_one_rejection(ctx, "QuestionnaireResponse.item[6].answer[0]", "valueInteger");
}

TEST(jgz_sdq, an_out_of_range_answer_gets_the_scorers_message_at_its_path) {
  json qr = questionnaire_response(self_canonical, q2_items, '1', "00000");
  qr["item"][25]["answer"][0]["item"][1]["answer"][0] = {{"valueInteger", 4}};  // impact: home
  auto ctx = run(student_settings(), qr);
  expect_one_rejection(ctx, "QuestionnaireResponse.item[25].answer[0].item[1].answer[0]", "impact 2 (home)");

  qr = questionnaire_response(self_canonical, q2_items, '0');
  qr["item"][6]["answer"][0] = {{"valueCoding", {{"code", "3"}}}};
  ctx = run(student_settings(), qr);
  expect_one_rejection(ctx, "QuestionnaireResponse.item[6].answer[0]", "item 7");
}

TEST(jgz_sdq, whole_decimals_count_and_fractions_do_not) {
  json qr = questionnaire_response(self_canonical, q2_items, '0');
  qr["item"][0]["answer"][0] = {{"valueDecimal", 2.0}};
  auto ctx = run(student_settings(), qr);
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["content"]["evidence"]["prosocial"], 9);  // as Q2

  qr["item"][0]["answer"][0] = {{"valueDecimal", 1.5}};
  ctx = run(student_settings(), qr);
  expect_one_rejection(ctx, "QuestionnaireResponse.item[0].answer[0]", "whole valueDecimal");
}

TEST(jgz_sdq, a_second_answer_to_one_question_is_refused) {
  json qr = questionnaire_response(self_canonical, q2_items, '0');
  qr["item"][2]["answer"].push_back({{"valueInteger", 1}});
  const auto ctx = run(student_settings(), qr);
  expect_one_rejection(ctx, "QuestionnaireResponse.item[2].answer[1]", "second answer");
}

TEST(jgz_sdq, entered_in_error_emits_nothing_and_counts_as_a_rejection) {
  json qr = questionnaire_response(self_canonical, q2_items, '0');
  qr["status"] = "entered-in-error";
  const auto ctx = run(student_settings(), qr);
  expect_one_rejection(ctx, "QuestionnaireResponse.status", "entered in error");
}

TEST(jgz_sdq, in_progress_and_stopped_are_not_completed) {
  for (const char* status : {"in-progress", "stopped"}) {
    json qr = questionnaire_response(self_canonical, q2_items, '0');
    qr["status"] = status;
    const auto ctx = run(student_settings(), qr);
    expect_one_rejection(ctx, "QuestionnaireResponse.status", "not completed");
  }
}

TEST(jgz_sdq, settings_add_a_canonical_and_replace_an_item_map) {
  json s = student_settings();
  json items = json::object();
  for (int i = 1; i <= 25; ++i) items["q" + std::to_string(i)] = "item:" + std::to_string(i);
  items["q-impact"] = "difficulties";
  s["sdq"] = {{"questionnaires",
               {{"https://jgz.example/Questionnaire/sdq-ouder", {{"version", "parent"}}},
                {std::string(self_canonical), {{"items", items}}}}}};
  // A new canonical takes the default linkIds.
  auto ctx = run(s, questionnaire_response("https://jgz.example/Questionnaire/sdq-ouder|2", q2_items, '0'));
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["content"]["instrument"], "sdq-parent");
  EXPECT_EQ(ctx.signals[0]["content"]["value"], 4);

  // The default self canonical now reads q1…q25: its "1"…"25" are no SDQ items any more.
  json qr = questionnaire_response(self_canonical, q2_items, '0');
  ctx = run(s, qr);
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_FALSE(ctx.signals[0]["content"].contains("value"));
  for (auto& item : qr["item"]) item["linkId"] = "q" + item["linkId"].get<std::string>();
  qr["item"][25]["linkId"] = "q-impact";
  ctx = run(s, qr);
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["content"]["value"], 4);
  EXPECT_EQ(ctx.signals[0]["content"]["evidence"]["impact"], 0);
}

TEST(jgz_sdq, scoring_settings_change_the_bands) {
  // Q2 self: total 4. With total normal_max 3 it is borderline → attention.
  json s = student_settings();
  s["sdq"] = {{"scoring", {{"cutoffs", {{"self_11_17", {{"total", {{"normal_max", 3}, {"borderline_max", 5}}}}}}}}}};
  const auto ctx = run(s, questionnaire_response(self_canonical, q2_items, '0'));
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["content"]["evidence"]["total_band"], "borderline");
  EXPECT_EQ(ctx.signals[0]["content"]["severity"], "attention");
}

TEST(jgz_sdq, without_authored_observed_at_is_left_to_the_core) {
  json qr = questionnaire_response(self_canonical, q2_items, '0');
  qr.erase("authored");
  auto ctx = run_text(student_settings(), qr.dump(), "application/fhir+json", false);
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_FALSE(ctx.signals[0].contains("observed_at"));
  // The recorder does not add observed_at: that is the only schema complaint.
  ASSERT_EQ(ctx.schema_errors.size(), 1u) << ::testing::PrintToString(ctx.schema_errors);
  EXPECT_NE(ctx.schema_errors[0].find("observed_at"), std::string::npos);

  qr["authored"] = "2026-11";  // too vague for an observation time
  ctx = run_text(student_settings(), qr.dump(), "application/fhir+json", false);
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_FALSE(ctx.signals[0].contains("observed_at"));
}

TEST(jgz_sdq, observed_at_conversion) {
  EXPECT_EQ(jgz::observed_at_of("2026-11-27"), "2026-11-27T00:00:00Z");
  EXPECT_EQ(jgz::observed_at_of("2026-11-27T08:00:00+01:00"), "2026-11-27T08:00:00+01:00");
  EXPECT_EQ(jgz::observed_at_of("2026-11-27T08:00:00.123456789012Z"), "2026-11-27T08:00:00.123456789Z");
  EXPECT_EQ(jgz::observed_at_of("2026"), std::nullopt);
  EXPECT_EQ(jgz::observed_at_of("2026-02-30"), std::nullopt);
  EXPECT_EQ(jgz::observed_at_of(""), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// Observations

json observation(json coding) {
  return {{"resourceType", "Observation"},
          {"id", "obs-t"},
          {"status", "final"},
          {"code", {{"coding", json::array({std::move(coding)})}}},
          {"subject", {{"identifier", {{"system", student_system}, {"value", "LL-4711"}}}}},
          {"effectiveDateTime", "2026-11-27"}};
}

TEST(jgz_observations, values_of_each_kind_are_carried) {
  json s = student_settings();
  json bmi = {{"system", "http://loinc.org"}, {"code", "39156-5"},      {"type", "nl.schakel.jgz.conclusion.bmi"},
              {"domain", "health"},           {"indicator", "jgz.bmi"}, {"severity", "info"}};
  s["observations"].push_back(bmi);
  json obs = observation({{"system", "http://loinc.org"}, {"code", "39156-5"}});
  obs["valueQuantity"] = {{"value", 17.5}, {"unit", "kg/m2"}};
  auto ctx = run(s, obs);
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["type"], "nl.schakel.jgz.conclusion.bmi");
  EXPECT_EQ(ctx.signals[0]["content"]["value"], 17.5);
  EXPECT_EQ(ctx.signals[0]["content"]["unit"], "kg/m2");
  EXPECT_EQ(ctx.signals[0]["content"]["indicator"], "jgz.bmi");
  EXPECT_EQ(ctx.signals[0]["observed_at"], "2026-11-27T00:00:00Z");

  obs.erase("valueQuantity");
  obs["valueCodeableConcept"] = {{"coding", {{{"system", "x"}, {"code", "overgewicht"}}}}};
  ctx = run(s, obs);
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["content"]["value"], "overgewicht");

  obs.erase("valueCodeableConcept");
  obs["valueInteger"] = 3;
  ctx = run(s, obs);
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["content"]["value"], 3);

  obs.erase("valueInteger");
  obs["valueString"] = "Vertrouwelijk";  // free text is never carried
  ctx = run(s, obs);
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_FALSE(ctx.signals[0]["content"].contains("value"));
}

TEST(jgz_observations, no_matching_rule_is_rejected_without_quoting_the_code) {
  const auto ctx = run(student_settings(), observation({{"system", conclusion_system}, {"code", "geheim-9876"}}));
  expect_one_rejection(ctx, "Observation.code", "no observation rule for this code");
  EXPECT_EQ(ctx.rejections[0].reason.find("geheim-9876"), std::string::npos);
}

TEST(jgz_observations, status_decides_whether_it_is_mapped) {
  json obs = observation({{"system", conclusion_system}, {"code", "verwijzing-ggz"}});
  obs["status"] = "entered-in-error";
  auto ctx = run(student_settings(), obs);
  expect_one_rejection(ctx, "Observation.status", "entered in error");
  obs["status"] = "preliminary";
  ctx = run(student_settings(), obs);
  expect_one_rejection(ctx, "Observation.status", "not final");
  obs["status"] = "amended";
  ctx = run(student_settings(), obs);
  EXPECT_EQ(ctx.signals.size(), 1u) << describe(ctx);
}

// ---------------------------------------------------------------------------------------------
// Documents and content types

TEST(jgz_document, content_types) {
  const std::string body = load("qr-q3-self.json").dump();
  for (const char* type : {"application/fhir+json", "Application/FHIR+JSON; charset=utf-8", "application/json",
                           "application/json;fhirVersion=4.0"}) {
    const auto ctx = run_text(student_settings(), body, type);
    EXPECT_EQ(ctx.signals.size(), 1u) << type;
  }
  for (const char* type : {"application/fhir+xml", "text/csv", ""}) {
    const auto ctx = run_text(student_settings(), body, type);
    EXPECT_TRUE(ctx.failed()) << type;
    EXPECT_NE(ctx.failure.find("application/fhir+json"), std::string::npos);
    EXPECT_TRUE(ctx.signals.empty());
  }
}

TEST(jgz_document, an_unreadable_document_fails_saying_where) {
  auto ctx = run_text(student_settings(), R"({"resourceType": "Bundle", "type": "collection", "entry": [ {"LL-4711")");
  EXPECT_TRUE(ctx.failed());
  EXPECT_NE(ctx.failure.find("byte"), std::string::npos) << ctx.failure;

  ctx = run(student_settings(), {{"resourceType", "Bundle"}, {"type", "searchset"}, {"entry", json::array()}});
  EXPECT_TRUE(ctx.failed());
  EXPECT_NE(ctx.failure.find("Bundle.type"), std::string::npos) << ctx.failure;
}

TEST(jgz_document, structural_issues_are_rejected_with_their_fhir_path) {
  json bundle = load("bundle-collection.json");
  bundle["entry"][1]["resource"]["item"][2]["answer"][0] = {{"valueInteger", "Jansen"}};
  const auto ctx = run(student_settings(), bundle);
  ASSERT_EQ(ctx.signals.size(), 2u) << describe(ctx);
  EXPECT_EQ(ctx.indexes, (std::vector<std::int64_t>{2, 3}));
  ASSERT_EQ(ctx.rejections.size(), 2u) << describe(ctx);
  EXPECT_EQ(ctx.rejections[0].index, 1);
  EXPECT_EQ(ctx.rejections[0].field, "Bundle.entry[1].resource.item[2].answer[0].valueInteger");
}

TEST(jgz_document, a_message_without_its_header_is_reported_for_the_document_and_still_mapped) {
  json bundle = load("bundle-collection.json");
  bundle["type"] = "message";
  const auto ctx = run(student_settings(), bundle);
  EXPECT_EQ(ctx.signals.size(), 3u) << describe(ctx);
  ASSERT_FALSE(ctx.rejections.empty());
  EXPECT_EQ(ctx.rejections[0].index, -1);
  EXPECT_EQ(ctx.rejections[0].field, "Bundle.entry[0]");
  EXPECT_NE(ctx.rejections[0].reason.find("MessageHeader"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Settings

TEST(jgz_settings, defaults_know_the_two_sdq_canonicals) {
  const jgz::settings s = jgz::parse_settings("");
  ASSERT_NE(s.find_questionnaire(self_canonical), nullptr);
  EXPECT_EQ(s.find_questionnaire(self_canonical)->version, schakel::connectors::jgz_fhir::sdq::version::self_11_17);
  ASSERT_NE(s.find_questionnaire(std::string(parent_canonical) + "|3.1"), nullptr);
  EXPECT_EQ(s.find_questionnaire(parent_canonical)->version, schakel::connectors::jgz_fhir::sdq::version::parent);
  EXPECT_EQ(jgz::default_item_map().size(), 31u);
  EXPECT_EQ(jgz::sdq_target_name(jgz::default_item_map().at("impact.classroom")), "impact:classroom");
  EXPECT_FALSE(s.link_bsn);
  EXPECT_TRUE(s.student_systems.empty());
}

TEST(jgz_settings, errors_name_their_path) {
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"colour", 1}}, "settings.colour: unknown field"},
      {{{"link", {{"bsn", true}}}}, "settings.link.bsn_school: required"},
      {{{"link", {{"bsn", "yes"}}}}, "settings.link.bsn: must be true or false"},
      {{{"link", {{"bsn_school", {{"brin", "12AB"}}}}}}, "settings.link.bsn_school: only used"},
      {{{"link", {{"student_systems", {{"urn:x", {{"brin", "12ab"}}}}}}}},
       "settings.link.student_systems.urn:x.brin: must be 4"},
      {{{"link", {{"student_systems", {{std::string(bsn_system), {{"brin", "12AB"}}}}}}}}, "is a BSN system"},
      {{{"sdq", {{"questionnaires", {{"urn:q", {{"items", {{"1", "item:1"}}}}}}}}}},
       "settings.sdq.questionnaires.urn:q.version: required"},
      {{{"sdq", {{"questionnaires", {{"urn:q|1", {{"version", "parent"}}}}}}}}, "without |version"},
      {{{"sdq", {{"questionnaires", {{"urn:q", {{"version", "teacher"}}}}}}}},
       "settings.sdq.questionnaires.urn:q.version: must be one of"},
      {{{"sdq", {{"questionnaires", {{"urn:q", {{"version", "parent"}, {"items", {{"a", "item:26"}}}}}}}}}},
       "settings.sdq.questionnaires.urn:q.items.a: must be item:1"},
      {{{"sdq",
         {{"questionnaires", {{"urn:q", {{"version", "parent"}, {"items", {{"a", "item:1"}, {"b", "item:1"}}}}}}}}}},
       "settings.sdq.questionnaires.urn:q.items.b: maps the same question"},
      {{{"sdq", {{"scoring", {{"cutoffs", {{"teacher", json::object()}}}}}}}},
       "settings.sdq.scoring.cutoffs.teacher: unknown field"},
      {{{"sdq", {{"extra", 1}}}}, "settings.sdq.extra: unknown field"},
      {{{"observations", {{{"system", "s"}, {"code", "c"}}}}}, "settings.observations[0].type: required"},
      {{{"observations", json::array({[] {
           json r = rule_json();
           r["type"] = "nl.schakel.other.x";
           return r;
         }()})}},
       "settings.observations[0].type: must be nl.schakel.jgz.conclusion."},
      {{{"observations", json::array({[] {
           json r = rule_json();
           r["severity"] = "high";
           return r;
         }()})}},
       "settings.observations[0].severity: must be one of"},
      {{{"observations", json::array({[] {
           json r = rule_json();
           r["domain"] = "medical";
           return r;
         }()})}},
       "settings.observations[0].domain: must be one of"},
      {{{"observations", json::array({[] {
           json r = rule_json();
           r["indicator"] = "Bad Name";
           return r;
         }()})}},
       "settings.observations[0].indicator"},
      {{{"observations", json::array({rule_json(), rule_json()})}},
       "settings.observations[1]: system and code listed twice"},
      {{{"observations", json::array({[] {
           json r = rule_json();
           r["note"] = "x";
           return r;
         }()})}},
       "settings.observations[0].note: unknown field"},
  };
  for (const auto& [settings, expected] : cases) {
    const std::string error = config_error_of(settings);
    EXPECT_NE(error.find(expected), std::string::npos) << settings.dump() << "\n  got: " << error;
  }
  EXPECT_EQ(config_error_of(student_settings()), "(accepted)");
  EXPECT_EQ(config_error_of(bsn_settings()), "(accepted)");
}

TEST(jgz_privacy, no_bad_input_puts_a_bsn_or_a_name_in_a_rejection) {
  // One bundle with the BSN-carrying Patient and every kind of bad record, some holding the BSN
  // where it does not belong; run with BSN linking on, the case where the BSN is in play.
  seen_messages().clear();
  json bundle = load("bundle-collection.json");
  const json patient_entry = bundle["entry"][0];
  const json good = bundle["entry"][1];
  const auto variant = [&](auto change) {
    json e = good;
    change(e["resource"]);
    return e;
  };
  json entries = json::array({patient_entry});
  entries.push_back(variant([](json& r) { r["status"] = "in-progress"; }));
  entries.push_back(variant([](json& r) { r["status"] = "entered-in-error"; }));
  entries.push_back(variant([](json& r) { r["questionnaire"] = "urn:x:111222333"; }));
  entries.push_back(variant([](json& r) { r["item"][0]["answer"][0] = {{"valueString", bsn}}; }));
  entries.push_back(variant([](json& r) { r["item"][0]["answer"][0] = {{"valueInteger", 111222333}}; }));
  entries.push_back(variant([](json& r) { r["item"][0]["answer"][0] = {{"valueCoding", {{"code", bsn}}}}; }));
  entries.push_back(variant([](json& r) { r["item"][0]["answer"].push_back({{"valueInteger", 1}}); }));
  entries.push_back(variant([](json& r) { r["subject"] = {{"reference", "Patient/111222333"}}; }));
  entries.push_back(variant([](json& r) {
    r["subject"] = {{"identifier", {{"system", bsn_system}, {"value", "111222334"}}}};
  }));
  entries.push_back(variant([](json& r) {
    r["subject"] = {{"identifier", {{"system", "urn:other"}, {"value", bsn}}}};
  }));
  entries.push_back(variant([](json& r) { r["authored"] = bsn; }));
  entries.push_back(variant([](json& r) { r["id"] = "Jansen 111222333"; }));
  json obs = bundle["entry"][3];
  obs["resource"]["code"]["coding"][0]["code"] = bsn;
  entries.push_back(obs);
  json wrong_patient = patient_entry;
  wrong_patient["resource"]["identifier"].push_back({{"value", bsn}});  // no system
  entries.push_back(wrong_patient);
  bundle["entry"] = entries;

  const auto ctx = run(bsn_settings(), bundle);
  EXPECT_TRUE(ctx.signals.empty()) << ctx.signals.size();
  EXPECT_EQ(ctx.rejections.size(), entries.size() - 1) << describe(ctx);
  // The check above looked at every rejection's field and reason (the failure is empty).
  EXPECT_EQ(seen_messages().size(), 2 * ctx.rejections.size()) << describe(ctx);
  for (const auto& m : seen_messages()) {
    for (auto marker : personal_markers) EXPECT_EQ(m.find(marker), std::string::npos) << m;
  }
}

}  // namespace
