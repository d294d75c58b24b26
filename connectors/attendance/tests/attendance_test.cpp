#include "mapper.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/text.hpp"
#include "testing/emits_check.hpp"
#include "testing/ingest_recorder.hpp"

namespace at = schakel::connectors::attendance;
using nlohmann::json;

namespace {

using recording_context = schakel::plugins::test_support::ingest_recorder;

json codes() {
  return {{"Z", "sick"}, {"ZIEK", "sick"},    {"O", "unauthorised"},       {"ONG", "unauthorised"},
          {"L", "late"}, {"G", "authorised"}, {"V", "removed_from_class"}, {"S", "suspended"},
          {"X", "other"}};
}

json magister_settings() {
  return {{"profile", "magister-like"},
          {"school", {{"brin", "99XX"}, {"vestiging", "00"}}},
          {"school_year", "2026-2027"},
          {"codes", codes()}};
}

json somtoday_settings() {
  return {{"profile", "somtoday-like"}, {"codes", codes()}};
}

// A profile-free mapping: every column named inline.
json inline_settings(json mapping) {
  return {{"school", {{"brin", "12AB"}}}, {"codes", codes()}, {"mapping", std::move(mapping)}};
}

recording_context run(const json& settings, std::string_view body, std::string_view content_type = "text/csv") {
  const at::connector c(settings.dump());
  recording_context ctx("attendance");
  c.ingest(body, content_type, ctx);
  EXPECT_TRUE(ctx.schema_errors.empty()) << ::testing::PrintToString(ctx.schema_errors);
  schakel::plugins::test_support::expect_declared(c.emits(), ctx.signals);
  return ctx;
}

std::string config_error_of(const json& settings) {
  try {
    at::connector c(settings.dump());
  } catch (const schakel::sdk::config_error& e) {
    return e.what();
  }
  return "(accepted)";
}

std::string describe(const recording_context& ctx) {
  std::string out = "failure: " + ctx.failure + "\n";
  for (const auto& r : ctx.rejections) {
    out += "  reject " + std::to_string(r.index) + " [" + r.field + "] " + r.reason + "\n";
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Example profiles end to end

TEST(attendance_profiles, magister_like_semicolon_lessons) {
  const auto ctx = run(magister_settings(),
                       "Stamnummer;Datum;Lesuur;Absentiecode;Klas;Leerjaar\n"
                       "1001;23-11-2026;1-3;Z;2B;2\n"
                       "1002;2026-11-24;4;o;3A;3\n");
  ASSERT_EQ(ctx.signals.size(), 2u) << describe(ctx);
  EXPECT_TRUE(ctx.rejections.empty()) << describe(ctx);
  EXPECT_EQ(ctx.indexes, (std::vector<std::int64_t>{2, 3}));

  const json& a = ctx.signals[0];
  EXPECT_EQ(a["type"], "nl.schakel.attendance.absence.recorded");
  EXPECT_EQ(a["source"]["record_id"], "h:" + schakel::connectors::text::fnv1a64_hex("1001|2026-11-23|1"));
  EXPECT_EQ(a["observed_at"], "2026-11-23T00:00:00Z");
  EXPECT_EQ(a["subject"], json::parse(R"({"school": {"brin": "99XX", "vestiging": "00"}, "student_key": "1001",
                                          "class": "2B", "leerjaar": 2, "school_year": "2026-2027"})"));
  EXPECT_EQ(a["content"], json::parse(R"({"domain": "attendance", "indicator": "absence", "value": 3,
      "unit": "lessons", "severity": "info", "instrument": "absence-registration",
      "evidence": {"date": "2026-11-23", "category": "sick", "code": "Z", "lesson_from": 1, "lesson_to": 3,
                   "lessons": 3}})"));
  EXPECT_EQ(a["governance"], json::parse(R"({"data_category": "health", "legal_basis_hints": ["public_task"]})"));

  const json& b = ctx.signals[1];
  EXPECT_EQ(b["content"]["evidence"]["category"], "unauthorised");
  EXPECT_EQ(b["content"]["evidence"]["code"], "o");  // as exported; matched case-insensitively
  EXPECT_EQ(b["content"]["value"], 1);
  EXPECT_EQ(b["content"]["evidence"]["lesson_from"], 4);
  EXPECT_EQ(b["content"]["evidence"]["lesson_to"], 4);
  EXPECT_EQ(b["governance"]["data_category"], "ordinary");
  EXPECT_EQ(b["subject"]["leerjaar"], 3);
}

TEST(attendance_profiles, somtoday_like_comma_times_age_and_qualification) {
  const auto ctx = run(somtoday_settings(),
                       "leerlingnummer,datum,begintijd,eindtijd,absentiecategorie,klas,leerjaar,brin,vestiging,id,"
                       "geboortedatum,startkwalificatie\n"
                       "S-1,23-11-2026,8:30,10:10,ZIEK,2B,2,12ab,0,A-1,24-11-2008,nee\n"
                       "S-1,24-11-2026,08:30,09:20,ONG,2B,2,12AB,01,A-2,24-11-2008,ja\n");
  ASSERT_EQ(ctx.signals.size(), 2u) << describe(ctx);
  const json& a = ctx.signals[0];
  EXPECT_EQ(a["source"]["record_id"], "A-1");
  EXPECT_EQ(a["observed_at"], "2026-11-23T08:30:00Z");
  EXPECT_EQ(a["subject"]["school"], json::parse(R"({"brin": "12AB", "vestiging": "00"})"));
  EXPECT_EQ(a["content"]["value"], 100);
  EXPECT_EQ(a["content"]["unit"], "minutes");
  EXPECT_EQ(a["content"]["evidence"], json::parse(R"({"date": "2026-11-23", "category": "sick", "code": "ZIEK",
      "start": "08:30", "end": "10:10", "minutes": 100, "age": 17, "basic_qualification": false})"));
  EXPECT_EQ(a["governance"]["data_category"], "health");

  const json& b = ctx.signals[1];
  EXPECT_EQ(b["content"]["evidence"]["age"], 18);  // the day of the 18th birthday
  EXPECT_EQ(b["content"]["evidence"]["basic_qualification"], true);
  EXPECT_EQ(b["content"]["value"], 50);
  EXPECT_EQ(b["subject"]["school"]["vestiging"], "01");
  EXPECT_EQ(b["governance"]["data_category"], "ordinary");
  for (const auto& text : ctx.raw) {
    EXPECT_EQ(text.find("2008"), std::string::npos) << "the birth date must not leave the connector";
    EXPECT_EQ(text.find("geboortedatum"), std::string::npos);
  }
}

TEST(attendance_profiles, profile_optional_columns_may_be_missing) {
  // The magister-like profile maps Registratie-id, Verwijderd, Geboortedatum…: an export without them works.
  const auto ctx = run(magister_settings(), "Stamnummer;Datum;Absentiecode\n1001;23-11-2026;G\n");
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["content"]["evidence"]["whole_day"], true);
  EXPECT_FALSE(ctx.signals[0]["content"].contains("value"));
  EXPECT_FALSE(ctx.signals[0]["content"]["evidence"].contains("lessons"));
}

TEST(attendance_profiles, yaml_snippets_name_the_builtin_columns) {
  // The YAML examples document the compiled-in profiles: every column of the built-in must appear.
  for (const auto& [file, profile] :
       {std::pair{"magister-like.yaml", magister_settings()}, std::pair{"somtoday-like.yaml", somtoday_settings()}}) {
    std::ifstream in(std::string(SCHAKEL_ATTENDANCE_PROFILES_DIR) + "/" + file);
    ASSERT_TRUE(in) << file;
    std::stringstream text;
    text << in.rdbuf();
    const at::connector c(profile.dump());
    for (std::size_t f = 0; f < at::field_count; ++f) {
      const auto& col = c.config().columns[f];
      if (!col) continue;
      EXPECT_NE(text.str().find(std::string(at::field_name(static_cast<at::field>(f))) + ": " + col->name),
                std::string::npos)
          << file << " lacks " << at::field_name(static_cast<at::field>(f));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// CSV dialects and encodings

TEST(attendance_csv, detects_comma_and_semicolon) {
  const json s = inline_settings({{"student_key", "leerling"}, {"date", "datum"}, {"code", "code"}});
  for (const char* body : {"leerling;datum;code\nS-1;23-11-2026;Z\n", "leerling,datum,code\nS-1,23-11-2026,Z\n"}) {
    const auto ctx = run(s, body);
    ASSERT_EQ(ctx.signals.size(), 1u) << body << describe(ctx);
    EXPECT_EQ(ctx.signals[0]["subject"]["student_key"], "S-1");
  }
  // A fixed delimiter is used even when the header would suggest the other one.
  json fixed = s;
  fixed["delimiter"] = ",";
  const auto ctx = run(fixed, "leerling,datum,code;x\nS-1,23-11-2026,Z;y\n");
  EXPECT_TRUE(ctx.failed()) << "code;x is not the column 'code'";
}

TEST(attendance_csv, bom_crlf_and_quoted_fields) {
  const std::string body =
      "\xEF\xBB\xBF"
      "Stamnummer;Datum;Lesuur;Absentiecode;Klas\r\n"
      "\"1001\";\"23-11-2026\";1;Z;\"2;B \"\"x\"\"\"\r\n"
      "1002; 24-11-2026 ;2;G;\"3A\"\r\n";
  const auto ctx = run(magister_settings(), body);
  ASSERT_EQ(ctx.signals.size(), 2u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["subject"]["student_key"], "1001");
  EXPECT_EQ(ctx.signals[0]["subject"]["class"], "2;B \"x\"");
  EXPECT_EQ(ctx.signals[1]["subject"]["class"], "3A");
  EXPECT_EQ(ctx.signals[1]["content"]["evidence"]["date"], "2026-11-24");
  EXPECT_EQ(ctx.indexes, (std::vector<std::int64_t>{2, 3}));
}

TEST(attendance_csv, quote_left_open_rejects_only_that_line) {
  const auto ctx = run(magister_settings(),
                       "Stamnummer;Datum;Absentiecode;Klas\n"
                       "1001;23-11-2026;Z;\"2B\n"
                       "1002;23-11-2026;Z;2B\n");
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  ASSERT_EQ(ctx.rejections.size(), 1u);
  EXPECT_EQ(ctx.rejections[0].index, 2);
  EXPECT_NE(ctx.rejections[0].reason.find("not closed"), std::string::npos);
}

TEST(attendance_csv, windows_1252_header_and_values) {
  json s = inline_settings(
      {{"student_key", "Leerling"}, {"date", "Datum"}, {"code", "Code"}, {"class", "Offici\u00eble klas"}});
  const std::string body =
      "Leerling;Datum;Code;Offici\xEBle klas\r\n"
      "S-1;23-11-2026;Z;2\xE9\r\n"
      "S-2;23-11-2026;Z;\x80-groep\r\n";
  for (const char* enc : {"auto", "windows-1252"}) {
    s["encoding"] = enc;
    const auto ctx = run(s, body);
    ASSERT_EQ(ctx.signals.size(), 2u) << enc << describe(ctx);
    EXPECT_EQ(ctx.signals[0]["subject"]["class"], "2\u00e9") << enc;
    EXPECT_EQ(ctx.signals[1]["subject"]["class"], "\u20ac-groep") << enc;
  }
}

TEST(attendance_csv, utf8_body_is_not_converted_in_auto_mode) {
  const json s = inline_settings({{"student_key", "Leerling"}, {"date", "Datum"}, {"code", "Code"}, {"class", "Klas"}});
  const auto ctx = run(s, "Leerling;Datum;Code;Klas\nS-1;23-11-2026;Z;2\xC3\xA9\n");
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["subject"]["class"], "2\u00e9");
}

TEST(attendance_csv, invalid_utf8_with_encoding_utf8) {
  json s = inline_settings({{"student_key", "Leerling"}, {"date", "Datum"}, {"code", "Code"}, {"class", "Klas"}});
  s["encoding"] = "utf-8";
  // A bad data row is rejected with the byte offset; the good rows of the body still go out.
  const std::string body = "Leerling;Datum;Code;Klas\nS-1;23-11-2026;Z;2\xE9\nS-2;23-11-2026;Z;2B\n";
  const auto ctx = run(s, body);
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["subject"]["student_key"], "S-2");
  ASSERT_EQ(ctx.rejections.size(), 1u);
  EXPECT_EQ(ctx.rejections[0].index, 2);
  EXPECT_NE(ctx.rejections[0].reason.find("not valid UTF-8 at byte " + std::to_string(body.find('\xE9'))),
            std::string::npos)
      << ctx.rejections[0].reason;

  // In the header row it is a whole-body failure naming byte and line.
  const auto bad_header = run(s, "Leerling;Datum;Code;Kl\xEBs\nS-1;23-11-2026;Z;2B\n");
  EXPECT_TRUE(bad_header.failed());
  EXPECT_NE(bad_header.failure.find("byte 22"), std::string::npos) << bad_header.failure;
  EXPECT_NE(bad_header.failure.find("line 1"), std::string::npos) << bad_header.failure;
  EXPECT_TRUE(bad_header.signals.empty());
}

TEST(attendance_csv, date_formats) {
  const json s = inline_settings({{"student_key", "l"}, {"date", "d"}, {"code", "c"}});
  const auto ctx = run(s, "l;d;c\nA;1-9-2026;Z\nB;01/09/2026;Z\nC;1.9.2026;Z\nD;2026-09-01;Z\n");
  ASSERT_EQ(ctx.signals.size(), 4u) << describe(ctx);
  for (const auto& sig : ctx.signals) EXPECT_EQ(sig["content"]["evidence"]["date"], "2026-09-01");

  const auto bad = run(s, "l;d;c\nA;31-04-2026;Z\nB;2026-13-01;Z\nC;1-9/2026;Z\nD;23-11-26;Z\n");
  EXPECT_TRUE(bad.signals.empty());
  ASSERT_EQ(bad.rejections.size(), 4u) << describe(bad);
  for (const auto& r : bad.rejections) {
    EXPECT_EQ(r.field, "d");
    EXPECT_EQ(r.reason, "date is not a valid date (expected dd-mm-jjjj or YYYY-MM-DD)");
  }
}

TEST(attendance_csv, lesson_columns_and_explicit_counts) {
  const json s = inline_settings(
      {{"student_key", "l"}, {"date", "d"}, {"code", "c"}, {"lesson_from", "van"}, {"lesson_to", "tot"}});
  const auto ctx = run(s, "l;d;c;van;tot\nA;23-11-2026;O;2;5\nB;23-11-2026;O;3;\nC;23-11-2026;O;5;2\n");
  ASSERT_EQ(ctx.signals.size(), 2u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["content"]["value"], 4);
  EXPECT_EQ(ctx.signals[0]["content"]["evidence"]["lessons"], 4);
  EXPECT_EQ(ctx.signals[1]["content"]["value"], 1);
  EXPECT_EQ(ctx.signals[1]["content"]["evidence"]["lesson_to"], 3);
  ASSERT_EQ(ctx.rejections.size(), 1u);
  EXPECT_EQ(ctx.rejections[0].index, 4);
  EXPECT_EQ(ctx.rejections[0].field, "tot");

  const json counts = inline_settings(
      {{"student_key", "l"}, {"date", "d"}, {"code", "c"}, {"lessons", "uren"}, {"minutes", "minuten"}});
  const auto c2 = run(counts, "l;d;c;uren;minuten\nA;23-11-2026;O;2;90\nB;23-11-2026;O;;45\n");
  ASSERT_EQ(c2.signals.size(), 2u) << describe(c2);
  EXPECT_EQ(c2.signals[0]["content"]["unit"], "lessons");  // lessons win over minutes
  EXPECT_EQ(c2.signals[0]["content"]["evidence"]["minutes"], 90);
  EXPECT_EQ(c2.signals[1]["content"]["unit"], "minutes");
  EXPECT_EQ(c2.signals[1]["content"]["value"], 45);
}

TEST(attendance_csv, categories_and_data_category) {
  const json s = inline_settings({{"student_key", "l"}, {"date", "d"}, {"code", "c"}});
  const auto ctx = run(s,
                       "l;d;c\nA;23-11-2026;z\nA;23-11-2026; ziek \nA;23-11-2026;G\nA;23-11-2026;L\n"
                       "A;23-11-2026;V\nA;23-11-2026;S\nA;23-11-2026;X\nA;23-11-2026;O\n");
  ASSERT_EQ(ctx.signals.size(), 8u) << describe(ctx);
  const std::vector<std::string> want = {"sick",      "sick",  "authorised",  "late", "removed_from_class",
                                         "suspended", "other", "unauthorised"};
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(ctx.signals[i]["content"]["evidence"]["category"], want[i]);
    EXPECT_EQ(ctx.signals[i]["governance"]["data_category"], want[i] == "sick" ? "health" : "ordinary");
  }
  EXPECT_EQ(ctx.signals[1]["content"]["evidence"]["code"], "ziek");
}

TEST(attendance_csv, age_around_the_18th_birthday) {
  const json s = inline_settings({{"student_key", "l"}, {"date", "d"}, {"code", "c"}, {"birth_date", "geb"}});
  const auto ctx = run(s,
                       "l;d;c;geb\nA;14-03-2027;O;15-03-2009\nA;15-03-2027;O;15-03-2009\nA;1-3-2027;O;29-2-2008\n"
                       "A;28-2-2027;O;29-2-2008\nA;1-1-2026;O;2-1-2026\n");
  ASSERT_EQ(ctx.signals.size(), 4u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["content"]["evidence"]["age"], 17);  // day before the 18th birthday
  EXPECT_EQ(ctx.signals[1]["content"]["evidence"]["age"], 18);  // the birthday itself
  EXPECT_EQ(ctx.signals[2]["content"]["evidence"]["age"], 19);  // born 29 Feb: 1 March counts
  EXPECT_EQ(ctx.signals[3]["content"]["evidence"]["age"], 18);
  ASSERT_EQ(ctx.rejections.size(), 1u);
  EXPECT_EQ(ctx.rejections[0].field, "geb");
  for (const auto& text : ctx.raw) EXPECT_EQ(text.find("2009"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Snapshots, deletions, identity

TEST(attendance_snapshot, csv_directive_ids_and_completed_per_school) {
  const json s =
      inline_settings({{"student_key", "l"}, {"date", "d"}, {"code", "c"}, {"brin", "brin"}, {"lesson", "uur"}});
  const std::string body =
      "#snapshot from=2026-09-01 to=27-11-2026\n"
      "l;d;c;brin;uur\n"
      "A;23-11-2026;Z;12AB;1\n"
      "B;24-11-2026;O;34CD;2\n"
      "C;25-11-2026;O;12AB;3\n";
  const auto ctx = run(s, body);
  ASSERT_EQ(ctx.signals.size(), 5u) << describe(ctx);
  const std::string id = schakel::connectors::text::fnv1a64_hex(body);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ctx.signals[i]["content"]["evidence"]["snapshot"], id);
  EXPECT_EQ(ctx.indexes, (std::vector<std::int64_t>{3, 4, 5, 6, 6}));  // completions: one past the last line

  const json& first = ctx.signals[3];
  EXPECT_EQ(first["type"], "nl.schakel.attendance.snapshot.completed");
  EXPECT_EQ(first["subject"], json::parse(R"({"school": {"brin": "12AB"}})"));
  EXPECT_EQ(first["content"]["indicator"], "snapshot");
  EXPECT_EQ(first["content"]["value"], 2);
  EXPECT_EQ(first["content"]["evidence"], (json{{"snapshot", id}, {"from", "2026-09-01"}, {"to", "2026-11-27"}}));
  EXPECT_EQ(first["governance"]["data_category"], "ordinary");
  EXPECT_EQ(ctx.signals[4]["subject"]["school"]["brin"], "34CD");
  EXPECT_EQ(ctx.signals[4]["content"]["value"], 1);

  // The same export again: the same id.
  EXPECT_EQ(run(s, body).signals[0]["content"]["evidence"]["snapshot"], id);
}

TEST(attendance_snapshot, out_of_range_rejects_and_withholds_that_school) {
  const json s = inline_settings({{"student_key", "l"}, {"date", "d"}, {"code", "c"}, {"brin", "brin"}});
  const auto ctx = run(s,
                       "#snapshot from=01-09-2026 to=27-11-2026\n"
                       "l;d;c;brin\n"
                       "A;28-11-2026;Z;12AB\n"
                       "B;24-11-2026;O;34CD\n"
                       "C;25-11-2026;O;12AB\n");
  ASSERT_EQ(ctx.rejections.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.rejections[0].index, 3);
  EXPECT_EQ(ctx.rejections[0].field, "d");
  // 12AB lost a row, so its completion (which would delete the school's missing records) is withheld.
  ASSERT_EQ(ctx.signals.size(), 3u);
  EXPECT_EQ(ctx.signals[2]["type"], "nl.schakel.attendance.snapshot.completed");
  EXPECT_EQ(ctx.signals[2]["subject"]["school"]["brin"], "34CD");
}

TEST(attendance_snapshot, empty_export_for_the_default_school_is_complete) {
  const auto ctx = run(magister_settings(), "#snapshot from=2026-09-01 to=2026-11-27\nStamnummer;Datum;Absentiecode\n");
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["content"]["value"], 0);
  EXPECT_EQ(ctx.signals[0]["subject"]["school"], json::parse(R"({"brin": "99XX", "vestiging": "00"})"));
}

TEST(attendance_snapshot, bad_directives_fail_the_body) {
  for (const char* d : {"#snapshot from=2026-09-01", "#snapshot from=2026-09-01 to=2026-02-30",
                        "#snapshot from=2026-09-01 to=2026-08-01", "#snapshot from=2026-09-01 to=2026-11-27 x=1"}) {
    const auto ctx = run(magister_settings(), std::string(d) + "\nStamnummer;Datum;Absentiecode\n1;23-11-2026;Z\n");
    EXPECT_TRUE(ctx.failed()) << d;
    EXPECT_NE(ctx.failure.find("line 1"), std::string::npos) << ctx.failure;
    EXPECT_TRUE(ctx.signals.empty());
  }
}

TEST(attendance_snapshot, json_snapshot_object) {
  const json s = inline_settings({{"student_key", "leerling"}, {"date", "datum"}, {"code", "code"}});
  const std::string body = R"({"snapshot": {"from": "01-09-2026", "to": "2026-11-27"},
    "records": [{"leerling": "S-1", "datum": "2026-11-23", "code": "Z"}, {"leerling": 1002, "datum": "2026-11-24", "code": "G"}]})";
  const auto ctx = run(s, body, "application/json");
  ASSERT_EQ(ctx.signals.size(), 3u) << describe(ctx);
  EXPECT_EQ(ctx.signals[1]["subject"]["student_key"], "1002");
  EXPECT_EQ(ctx.signals[0]["content"]["evidence"]["snapshot"], schakel::connectors::text::fnv1a64_hex(body));
  EXPECT_EQ(ctx.signals[2]["content"]["value"], 2);
  EXPECT_EQ(ctx.signals[2]["subject"]["school"]["brin"], "12AB");
  EXPECT_EQ(ctx.indexes, (std::vector<std::int64_t>{0, 1, 2}));
}

TEST(attendance_identity, explicit_deletion_keeps_the_record_identity) {
  const std::string header = "Stamnummer;Datum;Lesuur;Absentiecode;Verwijderd\n";
  const auto recorded = run(magister_settings(), header + "1001;23-11-2026;2;Z;nee\n");
  const auto deleted = run(magister_settings(), header + "1001;23-11-2026;2;;Ja\n");
  ASSERT_EQ(recorded.signals.size(), 1u) << describe(recorded);
  ASSERT_EQ(deleted.signals.size(), 1u) << describe(deleted);
  const json& d = deleted.signals[0];
  EXPECT_EQ(d["type"], "nl.schakel.attendance.absence.deleted");
  EXPECT_EQ(d["source"]["record_id"], recorded.signals[0]["source"]["record_id"]);
  EXPECT_EQ(d["subject"], json::parse(R"({"school": {"brin": "99XX", "vestiging": "00"}, "student_key": "1001"})"));
  EXPECT_EQ(d["content"], json::parse(R"({"domain": "attendance", "indicator": "absence", "severity": "info",
      "instrument": "absence-registration", "evidence": {"date": "2026-11-23", "reason": "deleted_in_source"}})"));
  EXPECT_EQ(d["governance"]["data_category"], "ordinary");
}

TEST(attendance_identity, a_deletion_row_with_only_its_record_id_becomes_a_deletion_by_id) {
  // The export's usual columns; the source knows only which registration it deleted.
  const std::string header = "Stamnummer;Datum;Lesuur;Absentiecode;Registratie-id;Verwijderd\n";
  const auto ctx = run(magister_settings(), header +
                                                "1001;23-11-2026;2;Z;R-16;nee\n"
                                                ";;;;R-17;ja\n"
                                                "1002;;;;R-18;x\n");
  EXPECT_TRUE(ctx.rejections.empty()) << describe(ctx);
  ASSERT_EQ(ctx.signals.size(), 3u) << describe(ctx);
  EXPECT_EQ(ctx.indexes, (std::vector<std::int64_t>{2, 3, 4}));
  for (const std::size_t i : {1u, 2u}) {
    const json& d = ctx.signals[i];
    EXPECT_EQ(d["type"], "nl.schakel.attendance.absence.deleted");
    EXPECT_FALSE(d.contains("subject")) << "the hub takes the subject from the record it stored: " << d;
    EXPECT_FALSE(d.contains("observed_at")) << d;
    EXPECT_EQ(d["content"]["evidence"], json::parse(R"({"reason": "deleted_in_source"})"));
    EXPECT_EQ(d["governance"]["data_category"], "ordinary");
  }
  EXPECT_EQ(ctx.signals[1]["source"]["record_id"], "R-17");
  EXPECT_EQ(ctx.signals[2]["source"]["record_id"], "R-18") << "a student without a date is still id only";
}

TEST(attendance_identity, a_json_deletion_by_id_needs_no_school_student_or_date) {
  // A brin column but no default school: a full row without a brin is refused, a deletion by id is not.
  json settings = inline_settings({{"student_key", "leerling"},
                                   {"date", "datum"},
                                   {"code", "code"},
                                   {"brin", "brin"},
                                   {"record_id", "id"},
                                   {"deleted", "verwijderd"}});
  settings.erase("school");
  const auto ctx =
      run(settings, R"([{"id": "R-17", "verwijderd": true}, {"id": "R-18", "verwijderd": "nee"}])", "application/json");
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["source"]["record_id"], "R-17");
  EXPECT_EQ(ctx.indexes, (std::vector<std::int64_t>{0}));
  ASSERT_EQ(ctx.rejections.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.rejections[0].index, 1) << "not deleted, so an ordinary row: it needs its school";
}

TEST(attendance_identity, a_deletion_without_a_record_id_still_needs_the_student_and_date) {
  const std::string header = "Stamnummer;Datum;Lesuur;Absentiecode;Registratie-id;Verwijderd\n";
  const auto ctx = run(magister_settings(), header + ";;;;;ja\n" + ";;;;" + std::string(129, 'r') + ";ja\n");
  EXPECT_TRUE(ctx.signals.empty());
  ASSERT_EQ(ctx.rejections.size(), 2u) << describe(ctx);
  EXPECT_EQ(ctx.rejections[0].field, "Stamnummer");
  EXPECT_EQ(ctx.rejections[0].reason, "required value missing");
  EXPECT_EQ(ctx.rejections[1].field, "Registratie-id");
  EXPECT_EQ(ctx.rejections[1].reason, "record id is longer than 128 characters");
}

TEST(attendance_identity, derived_record_id_survives_a_code_correction) {
  const std::string header = "Stamnummer;Datum;Lesuur;Absentiecode\n";
  const auto sick = run(magister_settings(), header + "1001;23-11-2026;2;Z\n");
  const auto corrected = run(magister_settings(), header + "1001;2026-11-23;2;G\n");
  const auto other_lesson = run(magister_settings(), header + "1001;23-11-2026;3;Z\n");
  ASSERT_EQ(sick.signals.size(), 1u);
  ASSERT_EQ(corrected.signals.size(), 1u);
  ASSERT_EQ(other_lesson.signals.size(), 1u);
  const auto id = sick.signals[0]["source"]["record_id"].get<std::string>();
  EXPECT_EQ(id, "h:" + schakel::connectors::text::fnv1a64_hex("1001|2026-11-23|2"));
  EXPECT_EQ(corrected.signals[0]["source"]["record_id"], id);
  EXPECT_NE(other_lesson.signals[0]["source"]["record_id"], id);
  EXPECT_EQ(corrected.signals[0]["content"]["evidence"]["category"], "authorised");

  // With times instead of lessons the start time anchors the identity.
  const auto timed =
      run(somtoday_settings(), "leerlingnummer,datum,begintijd,absentiecategorie,brin\nS-1,23-11-2026,8:30,Z,12AB\n");
  ASSERT_EQ(timed.signals.size(), 1u) << describe(timed);
  EXPECT_EQ(timed.signals[0]["source"]["record_id"],
            "h:" + schakel::connectors::text::fnv1a64_hex("S-1|2026-11-23|08:30"));
}

// ---------------------------------------------------------------------------------------------
// Bad input

TEST(attendance_errors, missing_required_column_fails_the_body) {
  const auto ctx = run(magister_settings(), "Stamnummer;Lesuur;Absentiecode\n1001;1;Z\n");
  EXPECT_TRUE(ctx.failed());
  EXPECT_NE(ctx.failure.find("missing required column 'Datum'"), std::string::npos) << ctx.failure;
  EXPECT_TRUE(ctx.signals.empty());

  // An optional column named inline (not by a profile) must be there too.
  const json s = inline_settings({{"student_key", "l"}, {"date", "d"}, {"code", "c"}, {"class", "Klas"}});
  const auto c2 = run(s, "l;d;c\nA;23-11-2026;Z\n");
  EXPECT_TRUE(c2.failed());
  EXPECT_NE(c2.failure.find("'Klas'"), std::string::npos) << c2.failure;

  EXPECT_TRUE(run(magister_settings(), "").failed());
  EXPECT_TRUE(run(magister_settings(), "Stamnummer;Datum;Datum;Absentiecode\n").failed());
}

TEST(attendance_errors, bad_lines_are_rejected_and_good_lines_still_emitted) {
  const auto ctx = run(magister_settings(),
                       "Stamnummer;Datum;Lesuur;Absentiecode;Klas\n"
                       "1001;23-11-2026;1;Z;2B\n"    // 2 good
                       "1002;32-11-2026;1;Z;2B\n"    // 3 bad date
                       "1003;23-11-2026;1;QQ;2B\n"   // 4 unknown code
                       "1004;23-11-2026;1;Z\n"       // 5 ragged
                       "\n"                          // 6 blank: skipped
                       "1005;23-11-2026;x;Z;2B\n"    // 7 bad lesson
                       ";23-11-2026;1;Z;2B\n"        // 8 missing student
                       "1006;24-11-2026;2;O;2B\n");  // 9 good
  ASSERT_EQ(ctx.signals.size(), 2u) << describe(ctx);
  EXPECT_EQ(ctx.indexes, (std::vector<std::int64_t>{2, 9}));
  ASSERT_EQ(ctx.rejections.size(), 5u) << describe(ctx);
  EXPECT_EQ(ctx.rejections[0].index, 3);
  EXPECT_EQ(ctx.rejections[0].field, "Datum");
  EXPECT_EQ(ctx.rejections[0].reason, "date is not a valid date (expected dd-mm-jjjj or YYYY-MM-DD)");
  EXPECT_EQ(ctx.rejections[1].index, 4);
  EXPECT_EQ(ctx.rejections[1].field, "Absentiecode");
  EXPECT_EQ(ctx.rejections[1].reason, "unknown absence code (not in settings.codes)");
  EXPECT_EQ(ctx.rejections[2].index, 5);
  EXPECT_EQ(ctx.rejections[2].reason, "row has 4 fields, header has 5");
  EXPECT_EQ(ctx.rejections[3].index, 7);
  EXPECT_EQ(ctx.rejections[3].field, "Lesuur");
  EXPECT_EQ(ctx.rejections[4].index, 8);
  EXPECT_EQ(ctx.rejections[4].field, "Stamnummer");
}

TEST(attendance_errors, reasons_never_contain_the_student_key) {
  json s = somtoday_settings();
  s["encoding"] = "utf-8";
  const std::vector<std::string> keys = {"KEY-7781", "KEY-7782", "KEY-7783", "KEY-7784", "KEY-7785",
                                         "KEY-7786", "KEY-7787", "KEY-7788", "KEY-7789"};
  std::string body = "leerlingnummer,datum,begintijd,eindtijd,absentiecategorie,klas,brin,geboortedatum\n";
  body += keys[0] + ",99-11-2026,8:30,9:20,Z,2B,12AB,1-1-2010\n";
  body += keys[1] + ",23-11-2026,8:30,9:20,NOPE,2B,12AB,1-1-2010\n";
  body += keys[2] + ",23-11-2026,8:30,9:20,Z,2B,12AB\n";
  body += keys[3] + ",23-11-2026,9:30,9:20,Z,2B,12AB,1-1-2010\n";
  body += keys[4] + ",23-11-2026,8:30,9:20,Z,2B,1,1-1-2010\n";
  body += keys[5] + ",23-11-2026,8:30,9:20,Z,2B,12AB,31-31-2010\n";
  body += keys[6] + ",23-11-2026,8:30,9:20,Z,\"" + std::string(40, 'k') + "\",12AB,1-1-2010\n";
  body += keys[7] + ",23-11-2026,8:30,9:20,Z,2\xFF,12AB,1-1-2010\n";
  body += keys[8] + ",23-11-2026,8:30,9:20,Z,\"2B,12AB,1-1-2010\n";
  const auto ctx = run(s, body);
  EXPECT_TRUE(ctx.signals.empty()) << describe(ctx);
  ASSERT_EQ(ctx.rejections.size(), keys.size()) << describe(ctx);
  for (const auto& r : ctx.rejections) {
    EXPECT_FALSE(r.reason.empty());
    for (const auto& k : keys) {
      EXPECT_EQ(r.reason.find(k), std::string::npos) << r.reason;
      EXPECT_EQ(r.field.find(k), std::string::npos) << r.field;
    }
    EXPECT_EQ(r.reason.find("kkkk"), std::string::npos) << r.reason;
  }
}

// ---------------------------------------------------------------------------------------------
// JSON

TEST(attendance_json, array_records_pointers_and_ndjson) {
  const json s = inline_settings(
      {{"student_key", "leerling"}, {"date", "datum"}, {"code", "code"}, {"lesson", "les/uur"}, {"class", "klas"}});
  const auto ctx = run(s, R"([
      {"leerling": "S-1", "datum": "23-11-2026", "code": "Z", "les/uur": 2, "klas": "2B"},
      {"leerling": "S-2", "datum": "23-11-2026", "code": "Z", "les/uur": 2.5},
      "not a record",
      {"leerling": "S-4", "datum": "23-11-2026", "code": "Z", "klas": {"x": 1}},
      {"leerling": "S-5", "datum": null, "code": "Z"},
      {"leerling": "S-6", "datum": "2026-11-24", "code": "O", "les/uur": "1-2"}])",
                       "");
  ASSERT_EQ(ctx.signals.size(), 2u) << describe(ctx);
  EXPECT_EQ(ctx.indexes, (std::vector<std::int64_t>{0, 5}));
  EXPECT_EQ(ctx.signals[0]["subject"]["class"], "2B");
  EXPECT_EQ(ctx.signals[1]["content"]["value"], 2);
  ASSERT_EQ(ctx.rejections.size(), 4u) << describe(ctx);
  EXPECT_EQ(ctx.rejections[0].index, 1);
  EXPECT_EQ(ctx.rejections[0].field, "/les~1uur");
  EXPECT_EQ(ctx.rejections[1].index, 2);
  EXPECT_EQ(ctx.rejections[1].reason, "record is not a JSON object");
  EXPECT_EQ(ctx.rejections[2].field, "/klas");
  EXPECT_EQ(ctx.rejections[3].field, "/datum");
  EXPECT_EQ(ctx.rejections[3].reason, "required value missing");

  const auto nd = run(s,
                      "{\"snapshot\": {\"from\": \"2026-09-01\", \"to\": \"2026-11-27\"}}\n"
                      "{\"leerling\": \"S-1\", \"datum\": \"23-11-2026\", \"code\": \"Z\"}\n"
                      "{broken\n"
                      "{\"leerling\": \"S-2\", \"datum\": \"23-11-2026\", \"code\": \"O\"}\n",
                      "application/x-ndjson");
  ASSERT_EQ(nd.signals.size(), 2u) << describe(nd);  // a bad line withholds the (unattributable) completion
  EXPECT_EQ(nd.indexes, (std::vector<std::int64_t>{1, 3}));
  ASSERT_EQ(nd.rejections.size(), 1u);
  EXPECT_EQ(nd.rejections[0].index, 2);
  EXPECT_TRUE(nd.signals[0]["content"]["evidence"].contains("snapshot"));
}

TEST(attendance_json, unreadable_bodies_fail) {
  const json s = inline_settings({{"student_key", "l"}, {"date", "d"}, {"code", "c"}});
  for (const char* body : {"[{\"l\": 1,", "{\"items\": []}", "\"text\"", "{\"records\": {}}"}) {
    const auto ctx = run(s, body, "application/json");
    EXPECT_TRUE(ctx.failed()) << body;
  }
  const auto deep = run(s, std::string(100, '[') + std::string(100, ']'), "application/json");
  EXPECT_TRUE(deep.failed());
  EXPECT_NE(deep.failure.find("nested"), std::string::npos);

  json utf8 = s;
  utf8["encoding"] = "utf-8";
  const auto bad = run(utf8, "[{\"l\": \"A\xE9\", \"d\": \"23-11-2026\", \"c\": \"Z\"}]", "application/json");
  EXPECT_TRUE(bad.failed());
  EXPECT_NE(bad.failure.find("byte 9"), std::string::npos) << bad.failure;
  // Auto: the same bytes are Windows-1252.
  const auto cp = run(s, "[{\"l\": \"A\xE9\", \"d\": \"23-11-2026\", \"c\": \"Z\"}]", "application/json");
  ASSERT_EQ(cp.signals.size(), 1u) << describe(cp);
  EXPECT_EQ(cp.signals[0]["subject"]["student_key"], "A\u00e9");
}

TEST(attendance_json, format_choice) {
  EXPECT_EQ(at::choose_format("text/csv; charset=utf-8", "[1]"), at::body_format::csv);
  EXPECT_EQ(at::choose_format("Application/CSV", ""), at::body_format::csv);
  EXPECT_EQ(at::choose_format("application/json", "a;b"), at::body_format::json);
  EXPECT_EQ(at::choose_format("application/vnd.x+json", ""), at::body_format::json);
  EXPECT_EQ(at::choose_format("application/x-ndjson", ""), at::body_format::ndjson);
  EXPECT_EQ(at::choose_format("", " \n[{}]"), at::body_format::json);
  EXPECT_EQ(at::choose_format("text/plain", "\xEF\xBB\xBF{\"records\": []}"), at::body_format::json);
  EXPECT_EQ(at::choose_format("", "{\n  \"records\": []\n}"), at::body_format::json);  // pretty-printed
  // A first line that is a whole object of its own is NDJSON (e.g. the snapshot header line).
  EXPECT_EQ(at::choose_format("", "{\"snapshot\": {}}\n{\"leerling\": 1}\n"), at::body_format::ndjson);
  EXPECT_EQ(at::choose_format("", "#snapshot from=1-1-2026 to=2-1-2026\n"), at::body_format::csv);
  EXPECT_EQ(at::choose_format("", ""), at::body_format::csv);
}

// ---------------------------------------------------------------------------------------------
// Settings

TEST(attendance_settings, errors_name_the_path) {
  auto with = [](const char* key, json value) {
    json s = magister_settings();
    s[key] = std::move(value);
    return s;
  };
  json bad_code = magister_settings();
  bad_code["codes"]["X"] = "y";
  EXPECT_EQ(config_error_of(bad_code).rfind("settings.codes.X: unknown category 'y'", 0), 0u)
      << config_error_of(bad_code);

  json no_codes = magister_settings();
  no_codes.erase("codes");
  EXPECT_EQ(config_error_of(no_codes).rfind("settings.codes:", 0), 0u);
  EXPECT_EQ(config_error_of(with("codes", json::object())).rfind("settings.codes:", 0), 0u);
  // Object keys iterate sorted, so " z " comes first and "Z" is the duplicate.
  EXPECT_EQ(
      config_error_of(with("codes", {{"Z", "sick"}, {" z ", "late"}})).rfind("settings.codes.Z: the same code", 0), 0u);
  EXPECT_EQ(config_error_of(with("profile", "parnassys")).rfind("settings.profile: unknown profile", 0), 0u);
  EXPECT_EQ(config_error_of(with("mapping", {{"leerling", "x"}})), "settings.mapping.leerling: unknown field");
  EXPECT_EQ(config_error_of(with("mapping", {{"date", 3}})), "settings.mapping.date: must be a string");
  EXPECT_EQ(config_error_of(with("mapping", {{"lesson_from", "Van"}})).rfind("settings.mapping.lesson:", 0), 0u);
  EXPECT_EQ(config_error_of(with("delimiter", "|")).rfind("settings.delimiter:", 0), 0u);
  EXPECT_EQ(config_error_of(with("encoding", "latin-1")).rfind("settings.encoding:", 0), 0u);
  EXPECT_EQ(config_error_of(with("school", {{"brin", "12ab"}})).rfind("settings.school.brin:", 0), 0u);
  EXPECT_EQ(
      config_error_of(with("school", {{"brin", "12AB"}, {"vestiging", "1"}})).rfind("settings.school.vestiging:", 0),
      0u);
  EXPECT_EQ(config_error_of(with("school_year", "2026-2028")).rfind("settings.school_year:", 0), 0u);
  EXPECT_EQ(config_error_of(with("deleted_values", json::array())).rfind("settings.deleted_values:", 0), 0u);
  EXPECT_EQ(config_error_of(with("colums", json::object())), "settings.colums: unknown setting");
  EXPECT_EQ(config_error_of(json::array()), "settings: must be an object");

  json no_school = magister_settings();
  no_school.erase("school");
  EXPECT_EQ(config_error_of(no_school).rfind("settings.school: required", 0), 0u);
  json unmapped = magister_settings();
  unmapped["mapping"] = {{"date", nullptr}};
  EXPECT_EQ(config_error_of(unmapped).rfind("settings.mapping.date: required", 0), 0u);
  EXPECT_EQ(config_error_of(magister_settings()), "(accepted)");
  EXPECT_EQ(config_error_of(somtoday_settings()), "(accepted)");
}

TEST(attendance_settings, inline_mapping_overrides_the_profile) {
  json s = magister_settings();
  s["mapping"] = {{"student_key", "Leerlingnummer"}, {"lesson", nullptr}};
  s["deleted_values"] = {"WEG"};
  const auto ctx =
      run(s, "Leerlingnummer;Datum;Lesuur;Absentiecode;Verwijderd\n1;23-11-2026;3;Z;ja\n2;23-11-2026;3;Z;weg\n");
  ASSERT_EQ(ctx.signals.size(), 2u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["type"], "nl.schakel.attendance.absence.recorded");
  EXPECT_FALSE(ctx.signals[0]["content"]["evidence"].contains("lesson_from"));
  EXPECT_EQ(ctx.signals[1]["type"], "nl.schakel.attendance.absence.deleted");
}

}  // namespace
