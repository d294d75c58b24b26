#include "fhir.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

namespace fhir = schakel::connectors::jgz_fhir::fhir;
using json = nlohmann::json;

constexpr const char* sdq_self = "http://example.org/fhir/Questionnaire/sdq-self-11-17";
constexpr const char* bsn_system = "http://fhir.nl/fhir/NamingSystem/bsn";

json patient() {
  return {{"resourceType", "Patient"},
          {"id", "p1"},
          {"identifier",
           {{{"system", bsn_system}, {"value", "999990019"}},
            {{"system", "https://jgz.example.org/client"}, {"value", "C-42"}}}},
          {"name", {{{"family", "Jansen"}, {"given", {"Eva"}}}}},
          {"birthDate", "2011-05-04"}};
}

// item[0]: answered; item[1]: a group with nested items; item[2]: an answer with answer.item.
json questionnaire_response() {
  return {{"resourceType", "QuestionnaireResponse"},
          {"id", "qr1"},
          {"status", "completed"},
          {"questionnaire", sdq_self},
          {"subject", {{"reference", "Patient/p1"}}},
          {"authored", "2024-03-12T10:15:00+01:00"},
          {"item",
           {{{"linkId", "1"}, {"answer", {{{"valueInteger", 2}}}}},
            {{"linkId", "group"},
             {"item",
              {{{"linkId", "2"}, {"answer", {{{"valueCoding", {{"system", "urn:x"}, {"code", "1"}}}}}}},
               {{"linkId", "3"}, {"answer", {{{"valueInteger", 0}}}}}}}},
            {{"linkId", "impact"},
             {"answer",
              {{{"valueBoolean", true},
                {"item", {{{"linkId", "impact.1"}, {"answer", {{{"valueString", "a bit"}}}}}}}}}}}}}};
}

json observation() {
  return {{"resourceType", "Observation"},
          {"id", "o1"},
          {"status", "final"},
          {"code", {{"coding", {{{"display", "no system"}}, {{"system", "urn:jgz"}, {"code", "conclusion"}}}}}},
          {"subject", {{"identifier", {{"system", bsn_system}, {"value", "999990019"}}}}},
          {"effectiveDateTime", "2024-03-12"},
          {"valueCodeableConcept", {{"text", "ok"}}}};
}

json bundle(const std::string& type, const std::vector<json>& resources) {
  json entries = json::array();
  int n = 0;
  for (const json& r : resources) {
    entries.push_back(
        {{"fullUrl", "urn:uuid:00000000-0000-0000-0000-00000000000" + std::to_string(n++)}, {"resource", r}});
  }
  return {{"resourceType", "Bundle"}, {"type", type}, {"entry", entries}};
}

fhir::document read(const json& j) {
  return fhir::read(j.dump());
}

std::vector<std::string> issue_paths(const fhir::document& doc) {
  std::vector<std::string> out;
  for (const auto& i : doc.issues) out.push_back(i.path);
  return out;
}

// The single issue of `doc`, which must be at `path`.
const fhir::issue& only_issue(const fhir::document& doc, const std::string& path) {
  static const fhir::issue none{"<none>", "<none>", -2};
  EXPECT_EQ(doc.issues.size(), 1u) << ::testing::PrintToString(issue_paths(doc));
  if (doc.issues.empty()) return none;
  EXPECT_EQ(doc.issues.front().path, path);
  return doc.issues.front();
}

// A single resource that must be refused with exactly one issue at `path`.
const fhir::issue& refused(const json& resource, const std::string& path) {
  static fhir::document doc;
  doc = read(resource);
  EXPECT_TRUE(doc.readable);
  EXPECT_TRUE(doc.entries.empty());
  return only_issue(doc, path);
}

// ---- valid resources -------------------------------------------------------------------------

TEST(FhirRead, SingleQuestionnaireResponseIsRead) {
  const auto doc = read(questionnaire_response());
  ASSERT_TRUE(doc.readable);
  EXPECT_TRUE(doc.issues.empty()) << ::testing::PrintToString(issue_paths(doc));
  ASSERT_EQ(doc.entries.size(), 1u);
  EXPECT_EQ(doc.entries[0].path, "QuestionnaireResponse");
  EXPECT_EQ(doc.entries[0].resource_type, "QuestionnaireResponse");
  EXPECT_EQ(doc.entries[0].index, 0);
  EXPECT_TRUE(doc.entries[0].full_url.empty());
  EXPECT_EQ(doc.entries[0].resource, questionnaire_response());
}

TEST(FhirRead, SingleObservationIsRead) {
  const auto doc = read(observation());
  ASSERT_TRUE(doc.readable);
  EXPECT_TRUE(doc.issues.empty()) << ::testing::PrintToString(issue_paths(doc));
  ASSERT_EQ(doc.entries.size(), 1u);
  EXPECT_EQ(doc.entries[0].resource_type, "Observation");
}

TEST(FhirRead, SinglePatientIsRead) {
  const auto doc = read(patient());
  ASSERT_TRUE(doc.readable);
  EXPECT_TRUE(doc.issues.empty()) << ::testing::PrintToString(issue_paths(doc));
  ASSERT_EQ(doc.entries.size(), 1u);
  EXPECT_EQ(doc.entries[0].path, "Patient");
}

// ---- QuestionnaireResponse rules --------------------------------------------------------------

TEST(FhirQuestionnaireResponse, StatusIsRequiredAndCoded) {
  json qr = questionnaire_response();
  qr.erase("status");
  EXPECT_EQ(refused(qr, "QuestionnaireResponse.status").reason, "is required");
  qr["status"] = "final";  // an Observation code, not a QuestionnaireResponse one
  EXPECT_NE(refused(qr, "QuestionnaireResponse.status").reason.find("in-progress"), std::string::npos);
  qr["status"] = 3;
  refused(qr, "QuestionnaireResponse.status");
  for (const char* ok : {"in-progress", "completed", "amended", "entered-in-error", "stopped"}) {
    qr["status"] = ok;
    EXPECT_EQ(read(qr).entries.size(), 1u) << ok;
  }
}

TEST(FhirQuestionnaireResponse, QuestionnaireCanonicalIsRequired) {
  json qr = questionnaire_response();
  qr.erase("questionnaire");
  EXPECT_NE(refused(qr, "QuestionnaireResponse.questionnaire").reason.find("required"), std::string::npos);
  qr["questionnaire"] = json::object();
  refused(qr, "QuestionnaireResponse.questionnaire");
}

TEST(FhirQuestionnaireResponse, SubjectNeedsReferenceOrIdentifier) {
  json qr = questionnaire_response();
  qr.erase("subject");
  refused(qr, "QuestionnaireResponse.subject");
  qr["subject"] = {{"display", "someone"}};
  EXPECT_NE(refused(qr, "QuestionnaireResponse.subject").reason.find("reference or an identifier"), std::string::npos);
  qr["subject"] = {{"reference", 12}};
  refused(qr, "QuestionnaireResponse.subject.reference");
  qr["subject"] = {{"identifier", {{"system", bsn_system}}}};
  refused(qr, "QuestionnaireResponse.subject.identifier.value");
  qr["subject"] = {{"identifier", {{"system", bsn_system}, {"value", "999990019"}}}};
  EXPECT_EQ(read(qr).entries.size(), 1u);
}

TEST(FhirQuestionnaireResponse, AuthoredMustBeARealDateTime) {
  json qr = questionnaire_response();
  qr["authored"] = "2023-02-29";  // 2023 is no leap year
  refused(qr, "QuestionnaireResponse.authored");
  qr["authored"] = "2024-03-12T10:15:00";  // a time without a zone
  refused(qr, "QuestionnaireResponse.authored");
  qr["authored"] = "2024-02-29";
  EXPECT_EQ(read(qr).entries.size(), 1u);
  qr.erase("authored");
  EXPECT_EQ(read(qr).entries.size(), 1u);
}

TEST(FhirQuestionnaireResponse, ItemNeedsLinkId) {
  json qr = questionnaire_response();
  qr["item"][1]["item"][1].erase("linkId");
  EXPECT_EQ(refused(qr, "QuestionnaireResponse.item[1].item[1].linkId").reason, "is required");
  qr["item"][1]["item"][1]["linkId"] = 3;
  refused(qr, "QuestionnaireResponse.item[1].item[1].linkId");
}

TEST(FhirQuestionnaireResponse, AnswerWithoutValueIsRefusedAtNestedPath) {
  json qr = questionnaire_response();
  qr["item"][1]["item"][0]["answer"][0] = json::object();
  EXPECT_NE(refused(qr, "QuestionnaireResponse.item[1].item[0].answer[0]").reason.find("no value[x]"),
            std::string::npos);
}

TEST(FhirQuestionnaireResponse, AnswerWithTwoValuesIsRefused) {
  json qr = questionnaire_response();
  qr["item"][0]["answer"][0]["valueString"] = "2";
  EXPECT_NE(refused(qr, "QuestionnaireResponse.item[0].answer[0]").reason.find("more than one"), std::string::npos);
}

TEST(FhirQuestionnaireResponse, AnswerValueMustHaveItsType) {
  json qr = questionnaire_response();
  qr["item"][0]["answer"][0] = {{"valueInteger", "2"}};
  refused(qr, "QuestionnaireResponse.item[0].answer[0].valueInteger");
  qr["item"][0]["answer"][0] = {{"valueInteger", 1.5}};
  refused(qr, "QuestionnaireResponse.item[0].answer[0].valueInteger");
  qr["item"][0]["answer"][0] = {{"valueInteger", 3000000000LL}};  // beyond FHIR's 32-bit integer
  refused(qr, "QuestionnaireResponse.item[0].answer[0].valueInteger");
  qr["item"][0]["answer"][0] = {{"valueCoding", "1"}};
  refused(qr, "QuestionnaireResponse.item[0].answer[0].valueCoding");
  qr["item"][0]["answer"][0] = {{"valueDate", "2024-13"}};
  refused(qr, "QuestionnaireResponse.item[0].answer[0].valueDate");
  qr["item"][0]["answer"][0] = {{"valueTime", "24:00:00"}};
  refused(qr, "QuestionnaireResponse.item[0].answer[0].valueTime");
  qr["item"][0]["answer"][0] = {{"valueDecimal", 1.5}};
  EXPECT_EQ(read(qr).entries.size(), 1u);
}

TEST(FhirQuestionnaireResponse, ValueTypeAnAnswerCannotHaveIsRefused) {
  json qr = questionnaire_response();
  qr["item"][0]["answer"][0] = {{"valueCodeableConcept", {{"text", "x"}}}};
  refused(qr, "QuestionnaireResponse.item[0].answer[0].value[x]");
}

TEST(FhirQuestionnaireResponse, AnswerItemsAreCheckedWithTheirPath) {
  json qr = questionnaire_response();
  qr["item"][2]["answer"][0]["item"][0]["answer"][0] = {{"valueBoolean", "yes"}};
  refused(qr, "QuestionnaireResponse.item[2].answer[0].item[0].answer[0].valueBoolean");
}

TEST(FhirQuestionnaireResponse, ItemWithBothAnswerAndItemIsRefused) {
  json qr = questionnaire_response();
  qr["item"][0]["item"] = {{{"linkId", "1.1"}}};
  EXPECT_NE(refused(qr, "QuestionnaireResponse.item[0]").reason.find("qrs-1"), std::string::npos);
}

TEST(FhirQuestionnaireResponse, ItemListsMustBeArraysOfObjects) {
  json qr = questionnaire_response();
  qr["item"][1]["item"] = {{"linkId", "2"}};
  refused(qr, "QuestionnaireResponse.item[1].item");
  qr = questionnaire_response();
  qr["item"][1]["item"][0] = "2";
  refused(qr, "QuestionnaireResponse.item[1].item[0]");
  qr = questionnaire_response();
  qr["item"][0]["answer"] = 2;
  refused(qr, "QuestionnaireResponse.item[0].answer");
}

TEST(FhirQuestionnaireResponse, InvalidIdIsRefused) {
  json qr = questionnaire_response();
  qr["id"] = "has space";
  refused(qr, "QuestionnaireResponse.id");
}

// ---- Observation rules ------------------------------------------------------------------------

TEST(FhirObservation, StatusIsRequiredAndCoded) {
  json o = observation();
  o["status"] = "completed";
  refused(o, "Observation.status");
  o.erase("status");
  refused(o, "Observation.status");
}

TEST(FhirObservation, CodeNeedsACodingWithSystemAndCode) {
  json o = observation();
  o["code"]["coding"][1].erase("system");
  EXPECT_NE(refused(o, "Observation.code.coding").reason.find("system and code"), std::string::npos);
  o["code"] = {{"text", "only text"}};
  refused(o, "Observation.code.coding");
  o.erase("code");
  refused(o, "Observation.code");
  o = observation();
  o["code"]["coding"][1]["code"] = 5;
  const fhir::document doc = read(o);
  EXPECT_EQ(issue_paths(doc), (std::vector<std::string>{"Observation.code.coding[1].code", "Observation.code.coding"}));
}

TEST(FhirObservation, SubjectIsRequired) {
  json o = observation();
  o.erase("subject");
  refused(o, "Observation.subject");
}

TEST(FhirObservation, AtMostOneValue) {
  json o = observation();
  o["valueString"] = "also";
  EXPECT_NE(refused(o, "Observation.value[x]").reason.find("more than one"), std::string::npos);
  o = observation();
  o.erase("valueCodeableConcept");
  EXPECT_EQ(read(o).entries.size(), 1u);  // no value at all is allowed
  o["valueInteger"] = "3";
  refused(o, "Observation.valueInteger");
}

TEST(FhirObservation, EffectiveDateTimeFormat) {
  json o = observation();
  o["effectiveDateTime"] = "2024-03-12T10:15";  // seconds are required
  refused(o, "Observation.effectiveDateTime");
  o["effectiveDateTime"] = "2024-03-12T10:15:00.123Z";
  EXPECT_EQ(read(o).entries.size(), 1u);
  o["effectivePeriod"] = {{"start", "2024"}};
  refused(o, "Observation.effective[x]");
}

// ---- Patient rules ----------------------------------------------------------------------------

TEST(FhirPatient, NeedsAnIdentifier) {
  json p = patient();
  p.erase("identifier");
  refused(p, "Patient.identifier");
  p["identifier"] = json::array();
  refused(p, "Patient.identifier");
  p["identifier"] = {{"system", bsn_system}, {"value", "1"}};
  refused(p, "Patient.identifier");
}

TEST(FhirPatient, IdentifierNeedsSystemAndValue) {
  json p = patient();
  p["identifier"][1].erase("system");
  EXPECT_EQ(refused(p, "Patient.identifier[1].system").reason, "is required");
  p = patient();
  p["identifier"][0]["value"] = 999990019;
  refused(p, "Patient.identifier[0].value");
}

TEST(FhirPatient, BirthDateFormats) {
  json p = patient();
  for (const char* ok : {"2011", "2011-05", "2011-05-04", "2012-02-29"}) {
    p["birthDate"] = ok;
    EXPECT_EQ(read(p).entries.size(), 1u) << ok;
  }
  for (const char* bad : {"2011-13", "2011-02-29", "2011-04-31", "0000", "11-05-04", "2011-05-04T00:00:00Z", ""}) {
    p["birthDate"] = bad;
    refused(p, "Patient.birthDate");
  }
}

TEST(FhirFormats, DateTimeAndTime) {
  EXPECT_TRUE(fhir::is_date_time("2024"));
  EXPECT_TRUE(fhir::is_date_time("2024-03-12T23:59:60Z"));  // leap second, as the R4 regex allows
  EXPECT_TRUE(fhir::is_date_time("2024-03-12T10:15:00.5-14:00"));
  EXPECT_TRUE(fhir::is_date_time("2024-03-12T10:15:00+13:59"));
  EXPECT_FALSE(fhir::is_date_time("2024-03-12T10:15:00+14:30"));
  EXPECT_FALSE(fhir::is_date_time("2024-03T10:15:00Z"));
  EXPECT_FALSE(fhir::is_date_time("2024-03-12T10:15:00."));
  EXPECT_FALSE(fhir::is_date_time("2024-03-12T10:15:00Zjunk"));
  EXPECT_FALSE(fhir::is_date_time("2024-03-12 10:15:00Z"));
  EXPECT_FALSE(fhir::is_date_time("2100-02-29"));
  EXPECT_TRUE(fhir::is_date_time("2000-02-29"));
  EXPECT_TRUE(fhir::is_time("08:30:00"));
  EXPECT_TRUE(fhir::is_time("08:30:00.25"));
  EXPECT_FALSE(fhir::is_time("8:30:00"));
  EXPECT_FALSE(fhir::is_time("08:60:00"));
  EXPECT_FALSE(fhir::is_time("08:30:00Z"));
  EXPECT_FALSE(fhir::is_date("2024-1-01"));
}

// ---- Bundles ----------------------------------------------------------------------------------

TEST(FhirBundle, MixedResourcesKeepTheValidOnes) {
  json second = questionnaire_response();
  second["id"] = "qr2";
  json broken = questionnaire_response();
  broken["id"] = "qr3";
  broken["item"][0]["answer"][0] = json::object();
  const json practitioner = {{"resourceType", "Practitioner"}, {"id", "dr"}};
  const auto doc =
      read(bundle("collection", {questionnaire_response(), observation(), practitioner, patient(), broken, second}));
  ASSERT_TRUE(doc.readable);
  ASSERT_EQ(doc.entries.size(), 4u);
  EXPECT_EQ(doc.entries[0].path, "Bundle.entry[0].resource");
  EXPECT_EQ(doc.entries[1].resource_type, "Observation");
  EXPECT_EQ(doc.entries[2].resource_type, "Patient");
  EXPECT_EQ(doc.entries[2].index, 3);
  EXPECT_EQ(doc.entries[2].full_url, "urn:uuid:00000000-0000-0000-0000-000000000003");
  EXPECT_EQ(doc.entries[3].path, "Bundle.entry[5].resource");
  ASSERT_EQ(doc.issues.size(), 2u);
  EXPECT_EQ(doc.issues[0].path, "Bundle.entry[2].resource");
  EXPECT_EQ(doc.issues[0].reason, "resource type Practitioner is not read by this connector");
  EXPECT_EQ(doc.issues[0].index, 2);
  EXPECT_EQ(doc.issues[1].path, "Bundle.entry[4].resource.item[0].answer[0]");
  EXPECT_EQ(doc.issues[1].index, 4);
}

TEST(FhirBundle, TransactionIsReadAndOtherTypesAreNot) {
  EXPECT_EQ(read(bundle("transaction", {patient()})).entries.size(), 1u);
  for (const char* type : {"searchset", "document", "history", "batch"}) {
    const auto doc = read(bundle(type, {patient()}));
    EXPECT_FALSE(doc.readable) << type;
    EXPECT_TRUE(doc.entries.empty());
    only_issue(doc, "Bundle.type");
  }
  json no_type = bundle("collection", {patient()});
  no_type.erase("type");
  EXPECT_FALSE(read(no_type).readable);
  only_issue(read(no_type), "Bundle.type");
}

TEST(FhirBundle, EntryShapeProblems) {
  json b = bundle("collection", {patient()});
  b["entry"] = {{"resource", patient()}};
  EXPECT_FALSE(read(b).readable);
  only_issue(read(b), "Bundle.entry");

  b = bundle("collection", {patient(), patient()});
  b["entry"][0].erase("resource");
  b["entry"][1]["fullUrl"] = 7;
  b["entry"].push_back(42);
  const auto doc = read(b);
  EXPECT_TRUE(doc.readable);
  EXPECT_TRUE(doc.entries.empty());
  EXPECT_EQ(issue_paths(doc),
            (std::vector<std::string>{"Bundle.entry[0].resource", "Bundle.entry[1].fullUrl", "Bundle.entry[2]"}));

  b = bundle("collection", {});
  b.erase("entry");
  const auto empty = read(b);
  EXPECT_TRUE(empty.readable);
  EXPECT_TRUE(empty.entries.empty());
  EXPECT_TRUE(empty.issues.empty());
}

TEST(FhirBundle, MessageHeaderFirstIsSkipped) {
  const json header = {{"resourceType", "MessageHeader"}, {"eventCoding", {{"code", "jgz-report"}}}};
  const auto doc = read(bundle("message", {header, questionnaire_response(), patient()}));
  ASSERT_TRUE(doc.readable);
  EXPECT_TRUE(doc.issues.empty()) << ::testing::PrintToString(issue_paths(doc));
  ASSERT_EQ(doc.entries.size(), 2u);
  EXPECT_EQ(doc.entries[0].index, 1);
}

TEST(FhirBundle, MessageHeaderElsewhereIsReported) {
  const json header = {{"resourceType", "MessageHeader"}};
  const auto late = read(bundle("message", {questionnaire_response(), header}));
  EXPECT_TRUE(late.readable);
  EXPECT_EQ(late.entries.size(), 1u);
  EXPECT_EQ(issue_paths(late), (std::vector<std::string>{"Bundle.entry[0]", "Bundle.entry[1].resource"}));
  EXPECT_EQ(late.issues[0].index, -1);
  EXPECT_NE(late.issues[1].reason.find("first entry of a message Bundle"), std::string::npos);

  const auto collection = read(bundle("collection", {header, patient()}));
  EXPECT_EQ(collection.entries.size(), 1u);
  only_issue(collection, "Bundle.entry[0].resource");

  const auto single = read(header);
  EXPECT_TRUE(single.entries.empty());
  only_issue(single, "MessageHeader");
}

TEST(FhirBundle, NestedBundleIsReportedNotRead) {
  const auto doc = read(bundle("collection", {bundle("collection", {patient()})}));
  EXPECT_TRUE(doc.entries.empty());
  EXPECT_EQ(only_issue(doc, "Bundle.entry[0].resource").reason, "resource type Bundle is not read by this connector");
}

// ---- document level ---------------------------------------------------------------------------

TEST(FhirDocument, BrokenJsonNamesTheByte) {
  const auto doc = fhir::read(R"({"resourceType": "Patient", "id": })");
  EXPECT_FALSE(doc.readable);
  EXPECT_TRUE(doc.entries.empty());
  EXPECT_EQ(only_issue(doc, "").reason, "invalid JSON at byte 35");
  EXPECT_EQ(only_issue(fhir::read(""), "").reason.rfind("invalid JSON at byte", 0), 0u);
}

TEST(FhirDocument, DepthBombIsRefusedBeforeParsing) {
  std::string bomb = R"({"resourceType": "QuestionnaireResponse", "item": )";
  for (int i = 0; i < 100000; ++i) bomb += "[";
  const auto doc = fhir::read(bomb);
  EXPECT_FALSE(doc.readable);
  EXPECT_EQ(only_issue(doc, "").reason, "JSON nested deeper than 32 levels at byte 82");
}

TEST(FhirDocument, NotAResource) {
  EXPECT_EQ(only_issue(fhir::read("[1, 2]"), "").reason, "a FHIR resource must be a JSON object");
  EXPECT_FALSE(fhir::read(R"({"id": "x"})").readable);
  only_issue(fhir::read(R"({"id": "x"})"), "resourceType");
  const auto unknown = fhir::read(R"({"resourceType": "Leerling"})");
  EXPECT_FALSE(unknown.readable);
  EXPECT_EQ(only_issue(unknown, "resourceType").reason, "is not a FHIR R4 resource type");
}

TEST(FhirDocument, SingleUnsupportedResourceIsReported) {
  const auto doc = fhir::read(R"({"resourceType": "Practitioner", "id": "dr"})");
  EXPECT_TRUE(doc.readable);
  EXPECT_TRUE(doc.entries.empty());
  const auto& i = only_issue(doc, "Practitioner");
  EXPECT_EQ(i.reason, "resource type Practitioner is not read by this connector");
  EXPECT_EQ(i.index, 0);
}

// No issue ever carries a value from the input: every field that can go wrong holds a marker.
TEST(FhirDocument, IssuesNeverQuoteInputValues) {
  const std::string marker = "ZZMARKERZZ";
  const std::string bsn = "123456782";
  const json bad_patient = {{"resourceType", "Patient"},
                            {"id", marker + " " + bsn},
                            {"identifier", {{{"system", marker}, {"value", 123456782}}, {{"value", bsn}}}},
                            {"name", {{{"family", marker}}}},
                            {"birthDate", marker}};
  const json bad_qr = {
      {"resourceType", "QuestionnaireResponse"},
      {"status", marker},
      {"questionnaire", 123456782},
      {"subject", {{"reference", 123456782}, {"identifier", {{"value", 123456782}}}}},
      {"authored", bsn},
      {"item",
       {{{"linkId", 123456782},
         {"answer",
          {{{"valueString", marker}, {"valueInteger", bsn}}, {{"value" + marker, bsn}}, {{"valueDate", bsn}}}}}}}};
  const json bad_observation = {{"resourceType", "Observation"},
                                {"status", bsn},
                                {"code", {{"coding", {{{"system", 123456782}, {"code", marker}}}}}},
                                {"subject", marker},
                                {"effectiveDateTime", bsn},
                                {"effective" + marker, 1},
                                {"valueString", marker},
                                {"valueInteger", bsn}};
  const json odd_type = {{"resourceType", marker + bsn}};
  json b = bundle("message", {bad_patient, bad_qr, bad_observation, odd_type, 123456782});
  b["entry"][1]["fullUrl"] = 123456782;
  std::vector<std::string> texts;
  for (const json& body : {b, bad_patient, bad_qr, bad_observation, odd_type}) {
    for (const auto& i : read(body).issues) {
      texts.push_back(i.path);
      texts.push_back(i.reason);
    }
  }
  // Broken JSON and a bad Bundle type with markers around the error position.
  for (const std::string& body :
       {R"({"resourceType": "Patient", "name": ")" + marker + bsn + R"(" ,, })",
        R"({"resourceType": "Bundle", "type": ")" + marker + R"("})", R"({"resourceType": ")" + marker + R"("})"}) {
    for (const auto& i : fhir::read(body).issues) {
      texts.push_back(i.path);
      texts.push_back(i.reason);
    }
  }
  EXPECT_GE(texts.size(), 40u);  // the inputs really are wrong in many places
  for (const std::string& t : texts) {
    EXPECT_EQ(t.find("MARKER"), std::string::npos) << t;
    EXPECT_EQ(t.find("3456"), std::string::npos) << t;
  }
}

// ---- helpers ----------------------------------------------------------------------------------

TEST(FhirResolve, ByIdByFullUrlAndNeverByGuess) {
  json other = patient();
  other["id"] = "p2";
  const auto doc = read(bundle("collection", {questionnaire_response(), patient(), other}));
  ASSERT_EQ(doc.entries.size(), 3u);
  EXPECT_EQ(fhir::resolve(doc, {{"reference", "Patient/p1"}}), &doc.entries[1]);
  EXPECT_EQ(fhir::resolve(doc, {{"reference", "Patient/p2/_history/3"}}), &doc.entries[2]);
  EXPECT_EQ(fhir::resolve(doc, {{"reference", "urn:uuid:00000000-0000-0000-0000-000000000002"}}), &doc.entries[2]);
  EXPECT_EQ(fhir::resolve(doc, {{"reference", "QuestionnaireResponse/qr1"}}), &doc.entries[0]);
  EXPECT_EQ(fhir::resolve(doc, {{"reference", "Observation/p1"}}), nullptr);  // type must match
  EXPECT_EQ(fhir::resolve(doc, {{"reference", "Patient/p9"}}), nullptr);
  EXPECT_EQ(fhir::resolve(doc, {{"reference", "urn:uuid:ffffffff-0000-0000-0000-000000000002"}}), nullptr);
  EXPECT_EQ(fhir::resolve(doc, {{"reference", "https://other.example/fhir/Patient/p1"}}), nullptr);
  EXPECT_EQ(fhir::resolve(doc, {{"reference", "#p1"}}), nullptr);
  EXPECT_EQ(fhir::resolve(doc, {{"identifier", {{"value", "1"}}}}), nullptr);
  EXPECT_EQ(fhir::resolve(doc, "Patient/p1"), nullptr);
}

TEST(FhirResolve, AmbiguousReferenceResolvesToNothing) {
  json b = bundle("collection", {patient(), patient()});
  const auto same_id = read(b);
  ASSERT_EQ(same_id.entries.size(), 2u);
  EXPECT_EQ(fhir::resolve(same_id, {{"reference", "Patient/p1"}}), nullptr);
  b["entry"][1]["fullUrl"] = b["entry"][0]["fullUrl"];
  b["entry"][1]["resource"]["id"] = "p2";
  const auto same_url = read(b);
  EXPECT_EQ(fhir::resolve(same_url, {{"reference", b["entry"][0]["fullUrl"]}}), nullptr);
}

TEST(FhirHelpers, PatientIdentifiersAndBsnSystems) {
  const auto doc = read(patient());
  ASSERT_EQ(doc.entries.size(), 1u);
  const auto ids = fhir::identifiers(doc.entries[0]);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0].system, bsn_system);
  EXPECT_EQ(ids[0].value, "999990019");
  EXPECT_EQ(ids[1].value, "C-42");
  EXPECT_TRUE(fhir::is_bsn_system(ids[0].system));
  EXPECT_FALSE(fhir::is_bsn_system(ids[1].system));
  EXPECT_TRUE(fhir::is_bsn_system("urn:oid:2.16.840.1.113883.2.4.6.3"));
  EXPECT_TRUE(fhir::is_bsn_system("2.16.840.1.113883.2.4.6.3"));
  EXPECT_FALSE(fhir::is_bsn_system("urn:oid:2.16.840.1.113883.2.4.6.31"));
  EXPECT_FALSE(fhir::is_bsn_system("http://fhir.nl/fhir/NamingSystem/BSN"));
  EXPECT_TRUE(fhir::identifiers(read(observation()).entries.at(0)).empty());
}

TEST(FhirHelpers, AnswersAreFlattenedInDocumentOrder) {
  const auto doc = read(bundle("collection", {patient(), questionnaire_response()}));
  ASSERT_EQ(doc.entries.size(), 2u);
  const auto list = fhir::answers(doc.entries[1]);
  ASSERT_EQ(list.size(), 5u);
  const std::string base = "Bundle.entry[1].resource";
  EXPECT_EQ(list[0].link_id, "1");
  EXPECT_EQ(list[0].path, base + ".item[0].answer[0]");
  EXPECT_EQ(list[0].value_type, "valueInteger");
  EXPECT_EQ(list[0].value, 2);
  EXPECT_EQ(list[1].link_id, "2");
  EXPECT_EQ(list[1].path, base + ".item[1].item[0].answer[0]");
  EXPECT_EQ(list[1].value_type, "valueCoding");
  EXPECT_EQ(list[1].value["code"], "1");
  EXPECT_EQ(list[2].link_id, "3");
  EXPECT_EQ(list[3].link_id, "impact");
  EXPECT_EQ(list[3].value, true);
  EXPECT_EQ(list[4].link_id, "impact.1");
  EXPECT_EQ(list[4].path, base + ".item[2].answer[0].item[0].answer[0]");
  EXPECT_TRUE(fhir::answers(doc.entries[0]).empty());
}

}  // namespace
