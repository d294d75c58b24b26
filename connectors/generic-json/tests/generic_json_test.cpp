#include "mapper.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>
#include "testing/emits_check.hpp"
#include "testing/ingest_recorder.hpp"

namespace gj = schakel::connectors::generic_json;
using nlohmann::json;

namespace {

using recording_context = schakel::plugins::test_support::ingest_recorder;

// The example mapping of the README, with the fields every signal needs.
json base_settings() {
  return json::parse(R"({
    "type": "nl.schakel.attendance.absence.recorded",
    "mapping": {
      "subject.student_key": {"pointer": "/leerling", "required": true},
      "subject.school.brin": {"pointer": "/school/brin", "required": true},
      "subject.class": {"pointer": "/klas", "default": "onbekend"},
      "content.severity": {"pointer": "/ernst", "map": {"laag": "info", "hoog": "concern"}, "default": "info"},
      "content.value": {"pointer": "/uren", "as": "number"},
      "content.domain": {"const": "attendance"},
      "content.indicator": {"const": "absence_hours"},
      "governance.data_category": {"const": "ordinary"},
      "source.record_id": {"pointer": "/id", "as": "string"},
      "observed_at": {"pointer": "/datum", "as": "date"}
    }
  })");
}

std::string config_error_of(const json& settings) {
  try {
    gj::connector c(settings.dump());
  } catch (const schakel::sdk::config_error& e) {
    return e.what();
  }
  return "(accepted)";
}

recording_context run(const json& settings, std::string_view body, std::string_view content_type = "application/json") {
  gj::connector c(settings.dump());
  recording_context ctx("generic-json");
  c.ingest(body, content_type, ctx);
  schakel::plugins::test_support::expect_declared(c.emits(), ctx.signals);
  return ctx;
}

const char* good_record =
    R"({"id": 1001, "leerling": "S-1", "school": {"brin": "12AB"}, "klas": "2B", "ernst": "hoog", "uren": "2,5", "datum": "23-11-2026"})";

}  // namespace

// ---- configuration errors ----

TEST(GenericJsonSettings, AcceptsTheReadmeExample) {
  EXPECT_EQ(config_error_of(base_settings()), "(accepted)");
}

TEST(GenericJsonSettings, UnknownTargetNamesThePath) {
  auto s = base_settings();
  s["mapping"]["subject.student_keyy"] = {{"pointer", "/x"}};
  EXPECT_EQ(config_error_of(s), "settings.mapping.subject.student_keyy: unknown field");
}

TEST(GenericJsonSettings, UnknownTopLevelAndRuleKeys) {
  auto s = base_settings();
  s["recordz"] = "/items";
  EXPECT_EQ(config_error_of(s), "settings.recordz: unknown field");
  s = base_settings();
  s["mapping"]["subject.class"]["defualt"] = "x";
  EXPECT_EQ(config_error_of(s), "settings.mapping.subject.class.defualt: unknown field");
}

TEST(GenericJsonSettings, RuleShapeErrors) {
  auto s = base_settings();
  s["mapping"]["subject.class"] = {{"pointer", "/klas"}, {"const", "x"}};
  EXPECT_EQ(config_error_of(s), "settings.mapping.subject.class: needs exactly one of 'pointer' and 'const'");
  s = base_settings();
  s["mapping"]["subject.class"] = json::object();
  EXPECT_EQ(config_error_of(s), "settings.mapping.subject.class: needs exactly one of 'pointer' and 'const'");
  s = base_settings();
  s["mapping"]["subject.class"] = "klas";
  EXPECT_EQ(config_error_of(s),
            "settings.mapping.subject.class: must be an object with 'pointer' or 'const' (got string)");
  s = base_settings();
  s["mapping"]["content.value"]["as"] = "float";
  EXPECT_EQ(config_error_of(s),
            "settings.mapping.content.value.as: must be one of string, number, integer, boolean, date");
  s = base_settings();
  s["mapping"]["subject.student_key"]["required"] = "yes";
  EXPECT_EQ(config_error_of(s), "settings.mapping.subject.student_key.required: must be true or false");
  s = base_settings();
  s["mapping"]["subject.class"]["pointer"] = "klas";
  EXPECT_NE(config_error_of(s).find("settings.mapping.subject.class.pointer: "), std::string::npos);
  s = base_settings();
  s["mapping"]["subject.class"]["pointer"] = "/a~2b";
  EXPECT_NE(config_error_of(s).find("settings.mapping.subject.class.pointer: not a valid JSON pointer"),
            std::string::npos);
  s = base_settings();
  s["mapping"]["content.domain"]["map"] = {{"a", "b"}};
  EXPECT_EQ(config_error_of(s), "settings.mapping.content.domain.map: not allowed with 'const'");
  s = base_settings();
  s["mapping"]["subject.class"]["map_default"] = "x";
  EXPECT_EQ(config_error_of(s), "settings.mapping.subject.class.map_default: only allowed together with 'map'");
  s = base_settings();
  s["mapping"]["subject.student_key"]["default"] = "x";
  EXPECT_EQ(config_error_of(s),
            "settings.mapping.subject.student_key: 'required: true' and 'default' exclude each other");
}

TEST(GenericJsonSettings, TypeAndRequiredTargets) {
  auto s = base_settings();
  s["type"] = "Absence";
  EXPECT_NE(config_error_of(s).find("settings.type: must be a reverse-DNS"), std::string::npos);
  s = base_settings();
  s.erase("type");
  EXPECT_EQ(config_error_of(s), "settings.type: required (or map the target 'type' under settings.mapping)");
  s["mapping"]["type"] = {{"pointer", "/soort"}, {"map", {{"a", "nl.schakel.attendance.absence.recorded"}}}};
  EXPECT_EQ(config_error_of(s), "(accepted)");
  s["type"] = "nl.schakel.attendance.absence.recorded";
  EXPECT_EQ(config_error_of(s), "settings.mapping.type: 'type' is already fixed by settings.type");
  s = base_settings();
  s["mapping"].erase("content.indicator");
  EXPECT_EQ(config_error_of(s), "settings.mapping: target content.indicator must be mapped (every signal requires it)");
}

TEST(GenericJsonSettings, NotJsonOrWrongShape) {
  EXPECT_THROW(gj::connector("{"), schakel::sdk::config_error);
  EXPECT_EQ(config_error_of(json::array()), "settings: must be a JSON object (got array)");
  EXPECT_EQ(config_error_of(json::object()), "settings.mapping: required");
  auto s = base_settings();
  s["records"] = 3;
  EXPECT_EQ(config_error_of(s), "settings.records: must be a JSON pointer string such as \"/items\"");
}

TEST(GenericJsonSettings, EvidenceTargetsAndServerOwnedFields) {
  auto s = base_settings();
  s["mapping"]["content.evidence.code"] = {{"pointer", "/code"}};
  EXPECT_EQ(config_error_of(s), "(accepted)");
  s["mapping"]["content.evidence.bad-key"] = {{"pointer", "/code"}};
  EXPECT_EQ(config_error_of(s), "settings.mapping.content.evidence.bad-key: unknown field");
  for (const char* owned : {"id", "schema_version", "received_at", "source.connector", "source.instance"}) {
    s = base_settings();
    s["mapping"][owned] = {{"const", "x"}};
    EXPECT_EQ(config_error_of(s), std::string("settings.mapping.") + owned + ": unknown field");
  }
}

// ---- each rule kind ----

TEST(GenericJsonMapping, MapsEveryRuleKind) {
  auto ctx = run(base_settings(), std::string("[") + good_record + "]");
  ASSERT_TRUE(ctx.rejections.empty()) << ctx.rejections[0].reason;
  ASSERT_EQ(ctx.signals.size(), 1u);
  const json& s = ctx.signals[0];
  EXPECT_EQ(s["type"], "nl.schakel.attendance.absence.recorded");
  EXPECT_EQ(s["subject"]["student_key"], "S-1");      // pointer
  EXPECT_EQ(s["subject"]["school"]["brin"], "12AB");  // nested pointer
  EXPECT_EQ(s["subject"]["class"], "2B");
  EXPECT_EQ(s["content"]["severity"], "concern");              // map
  EXPECT_DOUBLE_EQ(s["content"]["value"].get<double>(), 2.5);  // as: number, decimal comma
  EXPECT_EQ(s["content"]["domain"], "attendance");             // const
  EXPECT_EQ(s["source"]["record_id"], "1001");                 // as: string from a number
  EXPECT_EQ(s["observed_at"], "2026-11-23T00:00:00Z");         // as: date from DD-MM-YYYY
  EXPECT_EQ(ctx.indexes[0], 0);
}

TEST(GenericJsonMapping, DefaultsApplyWhenMissingOrNullAndOptionalFieldsAreOmitted) {
  auto ctx = run(base_settings(), R"({"leerling": "S-2", "school": {"brin": "12AB"}, "klas": null})");
  ASSERT_EQ(ctx.signals.size(), 1u);
  const json& s = ctx.signals[0];
  EXPECT_EQ(s["subject"]["class"], "onbekend");
  EXPECT_EQ(s["content"]["severity"], "info");
  EXPECT_FALSE(s["content"].contains("value"));
  EXPECT_FALSE(s.contains("observed_at"));
  EXPECT_FALSE(s.contains("source"));
}

TEST(GenericJsonMapping, MapDefaultAndNonStringKeys) {
  auto s = base_settings();
  s["mapping"]["content.severity"] = {
      {"pointer", "/ernst"}, {"map", {{"1", "info"}, {"3", "urgent"}}}, {"map_default", "attention"}};
  auto ctx = run(s, R"([{"leerling":"a","school":{"brin":"12AB"},"ernst":3},
                        {"leerling":"b","school":{"brin":"12AB"},"ernst":2}])");
  ASSERT_EQ(ctx.signals.size(), 2u);
  EXPECT_EQ(ctx.signals[0]["content"]["severity"], "urgent");
  EXPECT_EQ(ctx.signals[1]["content"]["severity"], "attention");
}

TEST(GenericJsonMapping, Conversions) {
  auto s = base_settings();
  s["mapping"]["subject.leerjaar"] = {{"pointer", "/jaar"}, {"as", "integer"}};
  s["mapping"]["content.evidence.gemeld"] = {{"pointer", "/gemeld"}, {"as", "boolean"}};
  auto ctx = run(
      s, R"({"leerling":"a","school":{"brin":"12AB"},"jaar":"2","gemeld":"ja","datum":"2026-11-23T08:30:00+01:00"})");
  ASSERT_EQ(ctx.signals.size(), 1u) << ctx.rejections.at(0).reason;
  EXPECT_EQ(ctx.signals[0]["subject"]["leerjaar"], 2);
  EXPECT_EQ(ctx.signals[0]["content"]["evidence"]["gemeld"], true);
  EXPECT_EQ(ctx.signals[0]["observed_at"], "2026-11-23T08:30:00+01:00");
}

TEST(GenericJsonMapping, DateFormats) {
  EXPECT_EQ(gj::normalise_date("2026-11-23"), "2026-11-23T00:00:00Z");
  EXPECT_EQ(gj::normalise_date("23-11-2026"), "2026-11-23T00:00:00Z");
  EXPECT_EQ(gj::normalise_date("2026-11-23t08:30:00.123z"), "2026-11-23T08:30:00.123Z");
  EXPECT_EQ(gj::normalise_date("2024-02-29"), "2024-02-29T00:00:00Z");
  EXPECT_EQ(gj::normalise_date("2026-02-29"), std::nullopt);
  EXPECT_EQ(gj::normalise_date("31-04-2026"), std::nullopt);
  EXPECT_EQ(gj::normalise_date("2026-11-23T24:00:00Z"), std::nullopt);
  EXPECT_EQ(gj::normalise_date("2026-11-23T08:30:00"), std::nullopt);  // no offset: ambiguous
  EXPECT_EQ(gj::normalise_date("gisteren"), std::nullopt);
}

// ---- each error kind: a rejection with index, pointer and reason; the others go on ----

TEST(GenericJsonMapping, RequiredMissingRejectsOnlyThatRecord) {
  auto ctx = run(base_settings(), R"([{"leerling":"a","school":{"brin":"12AB"}},
                                      {"school":{"brin":"12AB"}},
                                      {"leerling":"c","school":{"brin":"12AB"}}])");
  ASSERT_EQ(ctx.signals.size(), 2u);
  EXPECT_EQ(ctx.indexes, (std::vector<std::int64_t>{0, 2}));
  ASSERT_EQ(ctx.rejections.size(), 1u);
  EXPECT_EQ(ctx.rejections[0].index, 1);
  EXPECT_EQ(ctx.rejections[0].field, "/leerling");
  EXPECT_EQ(ctx.rejections[0].reason, "required value missing");
}

TEST(GenericJsonMapping, ConversionErrorsNameTheExpectedType) {
  auto ctx = run(base_settings(), R"([{"leerling":"a","school":{"brin":"12AB"},"uren":"veel"},
                                      {"leerling":"b","school":{"brin":"12AB"},"datum":"morgen"},
                                      {"leerling":"c","school":{"brin":"12AB"},"id":{"x":1}}])");
  EXPECT_TRUE(ctx.signals.empty());
  ASSERT_EQ(ctx.rejections.size(), 3u);
  EXPECT_EQ(ctx.rejections[0].field, "/uren");
  EXPECT_EQ(ctx.rejections[0].reason, "expected a number, got string");
  EXPECT_EQ(ctx.rejections[1].field, "/datum");
  EXPECT_EQ(ctx.rejections[1].reason,
            "expected a date (YYYY-MM-DD, DD-MM-YYYY or RFC 3339), got an unrecognised string");
  EXPECT_EQ(ctx.rejections[2].field, "/id");
  EXPECT_EQ(ctx.rejections[2].reason, "expected a string, got object");
}

TEST(GenericJsonMapping, MapMissDoesNotEchoTheValue) {
  auto s = base_settings();
  s["mapping"]["content.severity"].erase("default");
  auto ctx = run(s, R"({"leerling":"S-000123","school":{"brin":"12AB"},"ernst":"Jansen"})");
  ASSERT_EQ(ctx.rejections.size(), 1u);
  EXPECT_EQ(ctx.rejections[0].field, "/ernst");
  EXPECT_EQ(ctx.rejections[0].reason, "value not in map");
  EXPECT_EQ(ctx.rejections[0].reason.find("Jansen"), std::string::npos);
}

TEST(GenericJsonMapping, NonObjectRecordIsRejected) {
  auto ctx = run(base_settings(), R"([1, {"leerling":"a","school":{"brin":"12AB"}}])");
  ASSERT_EQ(ctx.rejections.size(), 1u);
  EXPECT_EQ(ctx.rejections[0].index, 0);
  EXPECT_EQ(ctx.rejections[0].reason, "record is not a JSON object (got number)");
  EXPECT_EQ(ctx.signals.size(), 1u);
}

TEST(GenericJsonMapping, UnparseableBodyFailsWithByteOffsetAndNoContent) {
  auto ctx = run(base_settings(), R"([{"leerling": "S-000123", "school": })");
  EXPECT_TRUE(ctx.failed());
  EXPECT_EQ(ctx.failure, "invalid JSON at byte 37");
  EXPECT_TRUE(ctx.signals.empty());
  auto scalar = run(base_settings(), "42");
  EXPECT_EQ(scalar.failure, "body must be a JSON array of records or one record object (got number)");
  // Found by the fuzzer: a number literal beyond double range is not a parse_error in nlohmann.
  EXPECT_EQ(run(base_settings(), "[1E4444444]").failure, "invalid JSON: a number is out of range");
  auto lines = run(base_settings(), "1E4444444\n", "application/x-ndjson");
  ASSERT_EQ(lines.rejections.size(), 1u);
  EXPECT_EQ(lines.rejections[0].reason, "invalid JSON: a number is out of range");
  auto deep = run(base_settings(), std::string(10000, '['));
  EXPECT_EQ(deep.failure, "JSON nested deeper than 64 levels at byte 65");
}

// ---- body shapes ----

TEST(GenericJsonMapping, NdjsonOneRecordPerLineIndexedByLine) {
  const std::string body = std::string(good_record) + "\r\n\n{not json}\n" + good_record + "\n";
  auto ctx = run(base_settings(), body, "application/x-ndjson; charset=utf-8");
  EXPECT_FALSE(ctx.failed());
  ASSERT_EQ(ctx.signals.size(), 2u);
  EXPECT_EQ(ctx.indexes, (std::vector<std::int64_t>{0, 3}));
  ASSERT_EQ(ctx.rejections.size(), 1u);
  EXPECT_EQ(ctx.rejections[0].index, 2);
  EXPECT_EQ(ctx.rejections[0].reason, "invalid JSON at byte 3 of the line");
}

TEST(GenericJsonMapping, RecordsPointer) {
  auto s = base_settings();
  s["records"] = "/data/items";
  auto ctx = run(s, std::string(R"({"data": {"items": [)") + good_record + "," + good_record + "]}}");
  EXPECT_EQ(ctx.signals.size(), 2u);
  EXPECT_EQ(run(s, R"({"data": {}})").failure, "records pointer /data/items not found in the body");
  EXPECT_EQ(run(s, R"({"data": {"items": {}}})").failure,
            "records pointer /data/items does not point at an array (got object)");
}

TEST(GenericJsonMapping, ThousandRecords) {
  std::string body = "[";
  for (int i = 0; i < 1000; ++i) {
    if (i != 0) body += ",";
    const bool bad = i % 100 == 7;  // every 100th record lacks its student key
    body += R"({"id":)" + std::to_string(i) + (bad ? "" : R"(,"leerling":"S-)" + std::to_string(i) + "\"") +
            R"(,"school":{"brin":"12AB"},"uren":)" + std::to_string(i % 8) + "}";
  }
  body += "]";
  auto ctx = run(base_settings(), body);
  EXPECT_EQ(ctx.signals.size(), 990u);
  ASSERT_EQ(ctx.rejections.size(), 10u);
  EXPECT_EQ(ctx.rejections[9].index, 907);
  EXPECT_EQ(ctx.signals[999 - 10]["source"]["record_id"], "999");
  EXPECT_EQ(ctx.indexes.back(), 999);
}
