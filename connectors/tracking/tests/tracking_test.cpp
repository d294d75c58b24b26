#include "mapper.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "profile.hpp"
#include "testing/emits_check.hpp"
#include "testing/ingest_recorder.hpp"

namespace tr = schakel::connectors::tracking;
using nlohmann::json;

namespace {

using recording_context = schakel::plugins::test_support::ingest_recorder;

json school() {
  return {{"brin", "99XX"}, {"vestiging", "00"}};
}

recording_context run(const json& settings, std::string_view body, std::string_view content_type = "text/csv") {
  const tr::connector c(settings.dump());
  recording_context ctx("tracking");
  c.ingest(body, content_type, ctx);
  EXPECT_TRUE(ctx.schema_errors.empty()) << ::testing::PrintToString(ctx.schema_errors);
  schakel::plugins::test_support::expect_declared(c.emits(), ctx.signals);
  return ctx;
}

std::string describe(const recording_context& ctx) {
  std::string out = "failure: " + ctx.failure + "\n";
  for (const auto& r : ctx.rejections) {
    out += "  reject " + std::to_string(r.index) + " [" + r.field + "] " + r.reason + "\n";
  }
  return out;
}

std::string config_error_of(const json& settings) {
  try {
    tr::connector c(settings.dump());
  } catch (const schakel::sdk::config_error& e) {
    return e.what();
  }
  return "(accepted)";
}

const json& signal_for(const recording_context& ctx, std::string_view scale, std::size_t nth = 0) {
  for (const auto& s : ctx.signals) {
    if (s["content"]["evidence"]["scale"] == scale && nth-- == 0) return s;
  }
  static const json none;
  ADD_FAILURE() << "no signal for scale " << scale;
  return none;
}

const std::string zien_header =
    "Leerlingnummer;Klas;Leerjaar;Afnamedatum;Instrument;Invuller;Schaal;Ruwe score;Normscore;Niveau;Ronde;Regel-id\n";

// ---------------------------------------------------------------------------------------------
// Shipped profiles

TEST(tracking_profiles, shipped_names_are_the_yaml_files) {
  EXPECT_EQ(tr::profile_names(), (std::vector<std::string>{"kanvas-like", "zien-like"}));
}

TEST(tracking_profiles, embedded_profile_matches_the_file_in_the_source_tree) {
  for (const auto& name : tr::profile_names()) {
    std::ifstream in(std::string(SCHAKEL_TRACKING_PROFILES_DIR) + "/" + name + ".yaml");
    ASSERT_TRUE(in) << name;
    std::stringstream text;
    text << in.rdbuf();
    const json file = tr::yaml_to_json(text.str());
    EXPECT_EQ(tr::shipped_profile(name), file["connectors"][0]["settings"]["mapping"]) << name;
    // The file is also a working instance: its settings validate as they stand.
    EXPECT_EQ(config_error_of(file["connectors"][0]["settings"]), "(accepted)") << name;
  }
}

TEST(tracking_profiles, zien_like_long_rows_with_band_column) {
  const auto ctx = run({{"profile", "zien-like"}, {"school", school()}},
                       zien_header +
                           "1001;2B;2;05-10-2026;zien-vo-like;L;Welbevinden;14;38;Onder gemiddeld;2026-najaar;R-1\n"
                           "1001;2B;2;05-10-2026;zien-vo-like;D;Sociaal initiatief;22;51;gemiddeld;2026-najaar;\n");
  ASSERT_EQ(ctx.signals.size(), 2u) << describe(ctx);
  EXPECT_TRUE(ctx.rejections.empty()) << describe(ctx);
  const json expected = json::parse(R"({
    "type": "nl.schakel.tracking.measurement.recorded",
    "source": {"record_id": "R-1"},
    "observed_at": "2026-10-05T00:00:00Z",
    "subject": {"school": {"brin": "99XX", "vestiging": "00"}, "student_key": "1001", "class": "2B", "leerjaar": 2},
    "content": {
      "domain": "wellbeing", "indicator": "tracking.scale", "value": 14, "severity": "attention",
      "instrument": "zien-vo-like",
      "evidence": {"instrument": "zien-vo-like", "respondent": "student", "scale": "welbevinden",
                   "band": "below_average", "band_rank": 2, "norm_score": 38, "round": "2026-najaar"}},
    "governance": {"data_category": "ordinary"}})");
  EXPECT_EQ(ctx.signals[0], expected);
  EXPECT_EQ(ctx.indexes[0], 2);

  const json& second = ctx.signals[1];
  EXPECT_EQ(second["content"]["domain"], "social");
  EXPECT_EQ(second["content"]["severity"], "info");
  EXPECT_EQ(second["content"]["evidence"]["respondent"], "teacher");
  EXPECT_EQ(second["content"]["evidence"]["competence"], "relationship_skills");
  EXPECT_EQ(second["content"]["evidence"]["band_rank"], 1);
  // No row id in the export: the derived id names the measurement, not the student.
  EXPECT_EQ(second["source"]["record_id"], "zien-vo-like:2026-10-05:teacher:sociaal_initiatief");
  EXPECT_EQ(ctx.indexes[1], 3);
}

TEST(tracking_profiles, kanvas_like_wide_rows_are_unpivoted_with_norm_bands) {
  const auto ctx = run({{"profile", "kanvas-like"}, {"school", {{"brin", "12AB"}}}},
                       "leerling_id,groep,leerjaar,datum,ronde,Welbevinden,Zelfbeeld,Sociale relaties,Zelfsturing\n"
                       "S-1,2B,2,2026-10-05,2026-najaar,55,34.5,45,\n"
                       "S-2,3A,3,06-10-2026,2026-najaar,44,60,,\n");
  EXPECT_TRUE(ctx.rejections.empty()) << describe(ctx);
  ASSERT_EQ(ctx.signals.size(), 5u) << describe(ctx);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(ctx.indexes[i], 2);
  EXPECT_EQ(ctx.indexes[3], 3);

  // Scales are emitted in scale-id order.
  const json& wb = signal_for(ctx, "welbevinden");
  EXPECT_EQ(wb["content"]["evidence"]["band"], "above_average");  // 55 is the inclusive lower bound
  EXPECT_EQ(wb["content"]["evidence"]["respondent"], "student");
  EXPECT_EQ(wb["content"]["instrument"], "kanvas-vo-like");
  EXPECT_EQ(wb["content"]["value"], 55);
  EXPECT_EQ(wb["content"]["evidence"]["value_kind"], "norm_score");
  EXPECT_EQ(wb["subject"]["school"], json({{"brin", "12AB"}}));

  const json& zb = signal_for(ctx, "zelfbeeld");
  EXPECT_EQ(zb["content"]["evidence"]["band"], "well_below_average");
  EXPECT_EQ(zb["content"]["severity"], "concern");
  EXPECT_EQ(zb["content"]["domain"], "emotional");
  EXPECT_EQ(zb["content"]["evidence"]["competence"], "self_awareness");
  EXPECT_DOUBLE_EQ(zb["content"]["evidence"]["norm_score"].get<double>(), 34.5);
  EXPECT_EQ(signal_for(ctx, "sociale_relaties")["content"]["evidence"]["band"], "average");
  const json& wb2 = signal_for(ctx, "welbevinden", 1);
  EXPECT_EQ(wb2["content"]["evidence"]["band"], "below_average");
  EXPECT_EQ(wb2["observed_at"], "2026-10-06T00:00:00Z");
  EXPECT_EQ(signal_for(ctx, "zelfbeeld", 1)["subject"]["student_key"], "S-2");
  // Wide rows have no row id: one derived id per scale keeps them distinct.
  EXPECT_NE(ctx.signals[0]["source"]["record_id"], ctx.signals[1]["source"]["record_id"]);
}

// ---------------------------------------------------------------------------------------------
// A third export shape is configuration only

TEST(tracking_third_shape, inline_profile_for_a_wide_band_export_per_respondent) {
  // One row per student x respondent, a column per scale holding a band letter (or word), an
  // instrument column with mixed case, English headers: neither shipped profile fits.
  const json mapping = json::parse(R"({
    "delimiter": ",",
    "columns": {"student_key": "pupil", "date": "taken", "respondent": "rater", "instrument": "tool"},
    "respondents": {"self": "student", "mentor": "teacher", "carer": "parent"},
    "scale_columns_hold": "band",
    "scales": {
      "mood": {"domain": "emotional", "column": "Mood"},
      "peers": {"domain": "social", "competence": "relationship_skills", "column": "Peers"},
      "conduct": {"domain": "behavioural", "competence": "self_management", "column": "Conduct"}},
    "bands": [
      {"name": "green", "severity": "info", "values": ["G", "groen"]},
      {"name": "orange", "severity": "attention", "values": ["O", "oranje"]},
      {"name": "red", "severity": "urgent", "values": ["R", "rood"]}]})");
  const auto ctx = run({{"mapping", mapping}, {"school", school()}},
                       "pupil,taken,rater,tool,Mood,Peers,Conduct\n"
                       "P7,01-03-2027,Mentor,SDQ-like,R,g,oranje\n"
                       "P7,01-03-2027,carer,sdq-like,,O,\n");
  EXPECT_TRUE(ctx.rejections.empty()) << describe(ctx);
  ASSERT_EQ(ctx.signals.size(), 4u) << describe(ctx);
  const json& mood = signal_for(ctx, "mood");
  EXPECT_EQ(mood["content"]["severity"], "urgent");
  EXPECT_EQ(mood["content"]["evidence"]["band_rank"], 2);
  EXPECT_EQ(mood["content"]["evidence"]["respondent"], "teacher");
  EXPECT_EQ(mood["content"]["instrument"], "sdq-like");
  EXPECT_FALSE(mood["content"].contains("value"));  // a band-only export has no score
  const json& peers_by_parent = signal_for(ctx, "peers", 1);
  EXPECT_EQ(peers_by_parent["content"]["evidence"]["respondent"], "parent");
  EXPECT_EQ(peers_by_parent["content"]["evidence"]["band"], "orange");
  EXPECT_EQ(signal_for(ctx, "conduct")["content"]["evidence"]["competence"], "self_management");
}

TEST(tracking_third_shape, inline_profile_for_ndjson_with_lower_is_worse_thresholds) {
  // A JSON-lines export, one object per measurement, problem scores where higher is worse.
  const json mapping = json::parse(R"({
    "instrument": "sdq-like",
    "columns": {"student_key": "student", "date": "date", "respondent": "by", "scale": "scale",
                "raw_score": "score", "norm_score": "percentile"},
    "respondents": {"student": "student", "teacher": "teacher", "parent": "parent"},
    "scales": {"emotional_problems": {"domain": "emotional", "values": ["emotional"]},
               "peer_problems": {"domain": "social", "values": ["peer"]}},
    "bands": [{"name": "normal", "severity": "info"}, {"name": "borderline", "severity": "attention"},
              {"name": "abnormal", "severity": "concern"}],
    "norm_bands": [{"band": "normal", "max": 80}, {"band": "borderline", "min": 80, "max": 90},
                   {"band": "abnormal", "min": 90}]})");
  const auto ctx = run({{"mapping", mapping}, {"school", school()}},
                       "{\"student\": \"K1\", \"date\": \"2027-02-01\", \"by\": \"parent\", \"scale\": \"emotional\", "
                       "\"score\": 7, \"percentile\": 92}\n"
                       "\n"
                       "{\"student\": \"K2\", \"date\": \"2027-02-01\", \"by\": \"teacher\", \"scale\": \"peer\", "
                       "\"score\": \"2\", \"percentile\": 40}\n",
                       "application/x-ndjson");
  EXPECT_TRUE(ctx.rejections.empty()) << describe(ctx);
  ASSERT_EQ(ctx.signals.size(), 2u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["content"]["evidence"]["band"], "abnormal");
  EXPECT_EQ(ctx.signals[0]["content"]["value"], 7);
  EXPECT_FALSE(ctx.signals[0]["content"]["evidence"].contains("value_kind"));
  EXPECT_EQ(ctx.signals[1]["content"]["evidence"]["band"], "normal");
  EXPECT_EQ(ctx.indexes[0], 0);
  EXPECT_EQ(ctx.indexes[1], 2);  // NDJSON index = 0-based line number, blank lines count
}

// ---------------------------------------------------------------------------------------------
// Bad input: line-specific rejections, good lines kept, values never quoted

TEST(tracking_bad_input, each_bad_line_is_rejected_with_its_column_and_good_lines_are_kept) {
  const auto ctx = run({{"profile", "zien-like"}, {"school", school()}},
                       zien_header +
                           "1001;2B;2;05-10-2026;zien-vo-like;L;Welbevinden;14;38;Gemiddeld;;\n"      // 2 ok
                           "1002;2B;2;05-10-2026;zien-vo-like;L;Welbevinden;Jansen;38;Gemiddeld;;\n"  // 3 score
                           "1003;2B;2;31-04-2026;zien-vo-like;L;Welbevinden;14;38;Gemiddeld;;\n"      // 4 date
                           "1004;2B;2;05-10-2026;zien-vo-like;X;Welbevinden;14;38;Gemiddeld;;\n"      // 5 respondent
                           "1005;2B;2;05-10-2026;zien-vo-like;L;Geluk;14;38;Gemiddeld;;\n"            // 6 scale
                           "1006;2B;2;05-10-2026;zien-vo-like;L;Welbevinden;14;38;Prima;;\n"          // 7 band
                           "1007;2B;9;05-10-2026;zien-vo-like;L;Welbevinden;14;38;Gemiddeld;;\n"      // 8 leerjaar
                           ";2B;2;05-10-2026;zien-vo-like;L;Welbevinden;14;38;Gemiddeld;;\n"          // 9 student
                           "1009;2B;2;05-10-2026;zien-vo-like;L;Welbevinden;14;38;;;\n"               // 10 no band
                           "1010;\"2B;2;05-10-2026\n"                                                 // 11 quote
                           "1011;2B;2;2026-10-05;zien-vo-like;O;Impulsbeheersing;3,5;61;A;;\n");      // 12 ok
  EXPECT_FALSE(ctx.failed()) << describe(ctx);
  ASSERT_EQ(ctx.signals.size(), 2u) << describe(ctx);
  EXPECT_EQ(ctx.indexes, (std::vector<std::int64_t>{2, 12}));
  EXPECT_DOUBLE_EQ(ctx.signals[1]["content"]["value"].get<double>(), 3.5);  // decimal comma

  const std::vector<std::pair<std::int64_t, std::string>> expected = {
      {3, "Ruwe score"}, {4, "Afnamedatum"},    {5, "Invuller"}, {6, "Schaal"}, {7, "Niveau"},
      {8, "Leerjaar"},   {9, "Leerlingnummer"}, {10, "Niveau"},  {11, ""}};
  ASSERT_EQ(ctx.rejections.size(), expected.size()) << describe(ctx);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(ctx.rejections[i].index, expected[i].first) << describe(ctx);
    EXPECT_EQ(ctx.rejections[i].field, expected[i].second) << describe(ctx);
  }
  EXPECT_EQ(ctx.rejections[0].reason, "not a number");
  for (const auto& r : ctx.rejections) {
    for (const char* value : {"Jansen", "Geluk", "Prima", "31-04", "1002", "1003"}) {
      EXPECT_EQ(r.reason.find(value), std::string::npos) << r.reason;
    }
  }
}

TEST(tracking_bad_input, a_bad_cell_in_a_wide_row_refuses_only_that_scale) {
  const auto ctx = run({{"profile", "kanvas-like"}, {"school", school()}},
                       "leerling_id,groep,leerjaar,datum,ronde,Welbevinden,Zelfbeeld,Sociale relaties,Zelfsturing\n"
                       "S-1,2B,2,2026-10-05,r1,52,veel,47,50\n");
  ASSERT_EQ(ctx.rejections.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.rejections[0].index, 2);
  EXPECT_EQ(ctx.rejections[0].field, "Zelfbeeld");
  EXPECT_EQ(ctx.rejections[0].reason, "not a number");
  EXPECT_EQ(ctx.signals.size(), 3u);
}

TEST(tracking_bad_input, missing_header_column_fails_the_body_naming_it) {
  const auto ctx = run({{"profile", "zien-like"}, {"school", school()}},
                       "\n\nLeerlingnummer;Afnamedatum;Instrument;Invuller;Ruwe score;Niveau\n1;05-10-2026;x;L;1;A\n");
  EXPECT_TRUE(ctx.failed());
  EXPECT_EQ(ctx.failure, "line 3 (header row): missing column 'Schaal' (scale)");
  EXPECT_TRUE(ctx.signals.empty());
}

TEST(tracking_bad_input, json_records_reject_with_pointers_and_broken_json_fails) {
  const json settings = {{"profile", "zien-like"}, {"school", school()}};
  const auto ctx = run(settings,
                       R"({"records": [
                         {"Leerlingnummer": 1001, "Afnamedatum": "05-10-2026", "Instrument": "zien-vo-like",
                          "Invuller": "L", "Schaal": "Welbevinden", "Ruwe score": 14, "Niveau": "A"},
                         {"Leerlingnummer": {"name": "x"}, "Afnamedatum": "05-10-2026"},
                         {"Leerlingnummer": "1003", "Afnamedatum": "05-10-2026", "Instrument": "zien-vo-like",
                          "Invuller": "L", "Schaal": "Welbevinden", "Ruwe score": "veel", "Niveau": "A"},
                         7]})",
                       "application/json");
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["subject"]["student_key"], "1001");
  ASSERT_EQ(ctx.rejections.size(), 3u) << describe(ctx);
  EXPECT_EQ(ctx.rejections[0].index, 1);
  EXPECT_EQ(ctx.rejections[0].field, "/Leerlingnummer");
  EXPECT_EQ(ctx.rejections[1].field, "/Ruwe score");
  EXPECT_EQ(ctx.rejections[2].index, 3);

  const auto broken = run(settings, "[{\"Leerlingnummer\": ", "application/json");
  EXPECT_TRUE(broken.failed());
  EXPECT_NE(broken.failure.find("invalid JSON at byte"), std::string::npos) << broken.failure;
}

TEST(tracking_bad_input, a_broken_ndjson_line_is_rejected_and_the_others_kept) {
  const json settings = {{"profile", "zien-like"}, {"school", school()}};
  const std::string good =
      R"({"Leerlingnummer": "1", "Afnamedatum": "05-10-2026", "Instrument": "zien-vo-like", "Invuller": "O",)"
      R"( "Schaal": "Keuzes maken", "Niveau": "Ver onder gemiddeld"})";
  const auto ctx = run(settings, good + "\n{\"Leerlingnummer\": \n" + good + "\n", "application/x-ndjson");
  ASSERT_EQ(ctx.signals.size(), 2u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["content"]["evidence"]["competence"], "responsible_decision_making");
  EXPECT_EQ(ctx.signals[0]["content"]["severity"], "concern");
  EXPECT_EQ(ctx.signals[0]["content"]["evidence"]["respondent"], "parent");
  ASSERT_EQ(ctx.rejections.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.rejections[0].index, 1);
  EXPECT_NE(ctx.rejections[0].reason.find("invalid JSON"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Encodings, delimiters, determinism

TEST(tracking_text, windows1252_and_bom_and_delimiter_detection) {
  json mapping = tr::shipped_profile("zien-like").value();
  mapping.erase("delimiter");  // detect from the header row
  const json settings = {{"mapping", mapping}, {"school", school()}};
  const std::string comma_header =
      "Leerlingnummer,Klas,Leerjaar,Afnamedatum,Instrument,Invuller,Schaal,Ruwe "
      "score,Normscore,Niveau,Ronde,Regel-id\n";
  // "Zoë" in Windows-1252 (0xEB) as the class name.
  const auto cp = run(settings, comma_header + "1,Zo\xeb,1,05-10-2026,zien-vo-like,L,Welbevinden,1,,A,,\n");
  ASSERT_EQ(cp.signals.size(), 1u) << describe(cp);
  EXPECT_EQ(cp.signals[0]["subject"]["class"], "Zo\xc3\xab");

  const auto bom =
      run(settings, "\xEF\xBB\xBF" + zien_header + "1;Zo\xc3\xab;1;05-10-2026;zien-vo-like;L;Welbevinden;1;;A;;\r\n");
  ASSERT_EQ(bom.signals.size(), 1u) << describe(bom);
  EXPECT_EQ(bom.signals[0]["subject"]["class"], "Zo\xc3\xab");

  json strict = settings;
  strict["mapping"]["encoding"] = "utf-8";
  const auto bad = run(strict, zien_header + "1;Zo\xeb;1;05-10-2026;zien-vo-like;L;Welbevinden;1;;A;;\n");
  EXPECT_TRUE(bad.failed());
  EXPECT_NE(bad.failure.find("not valid UTF-8 at byte"), std::string::npos) << bad.failure;
}

TEST(tracking_text, reimport_of_the_same_export_emits_identical_signals) {
  const json settings = {{"profile", "kanvas-like"}, {"school", school()}};
  const std::string body =
      "leerling_id,groep,leerjaar,datum,ronde,Welbevinden,Zelfbeeld,Sociale relaties,Zelfsturing\n"
      "S-1,2B,2,2026-10-05,r1,52,40,47,50\n";
  EXPECT_EQ(run(settings, body).raw, run(settings, body).raw);
}

TEST(tracking_text, format_is_chosen_from_content_type_or_sniffed) {
  EXPECT_EQ(tr::choose_format("text/csv; charset=utf-8", "[1]"), tr::body_format::csv);
  EXPECT_EQ(tr::choose_format("application/vnd.x+json", "a;b"), tr::body_format::json);
  EXPECT_EQ(tr::choose_format("", "  [ {} ]"), tr::body_format::json);
  EXPECT_EQ(tr::choose_format("", "{\"a\": 1}\n{\"a\": 2}"), tr::body_format::ndjson);
  EXPECT_EQ(tr::choose_format("", "{\"records\": []}"), tr::body_format::json);
  EXPECT_EQ(tr::choose_format("", "{\n \"records\": []}"), tr::body_format::json);
  EXPECT_EQ(tr::choose_format("", "a;b\n1;2"), tr::body_format::csv);
}

// ---------------------------------------------------------------------------------------------
// Settings validation

TEST(tracking_settings, errors_name_the_path_and_the_reason) {
  EXPECT_EQ(config_error_of({{"profile", "nope"}, {"school", school()}}),
            "settings.profile: unknown profile 'nope' (known: kanvas-like, zien-like)");
  EXPECT_EQ(config_error_of({{"profile", "zien-like"}}), "settings.school: required ({brin, vestiging})");
  EXPECT_EQ(config_error_of({{"profile", "zien-like"}, {"school", {{"brin", "99xx"}}}}),
            "settings.school.brin: must be 4 digits or capital letters");
  EXPECT_EQ(config_error_of({{"school", school()}}), "settings: needs a profile or a mapping");

  json bad_severity = {{"profile", "zien-like"},
                       {"school", school()},
                       {"mapping", {{"bands", {{{"name", "ok"}, {"severity", "red"}}}}}}};
  EXPECT_EQ(config_error_of(bad_severity),
            "settings.mapping.bands[0].severity: expected one of info, attention, concern, urgent");

  json bad_norm = {{"profile", "kanvas-like"},
                   {"school", school()},
                   {"mapping", {{"norm_bands", {{{"band", "amazing"}, {"min", 1}}}}}}};
  EXPECT_EQ(config_error_of(bad_norm), "settings.mapping.norm_bands[0].band: not one of the bands listed");

  json bad_domain = {
      {"profile", "zien-like"}, {"school", school()}, {"mapping", {{"scales", {{"x", {{"domain", "attendance"}}}}}}}};
  EXPECT_EQ(config_error_of(bad_domain),
            "settings.mapping.scales.x.domain: expected one of emotional, behavioural, social, wellbeing");

  json twice = {
      {"profile", "zien-like"},
      {"school", school()},
      {"mapping",
       {{"scales",
         {{"a", {{"domain", "social"}, {"values", {"X", "Y"}}}}, {"b", {{"domain", "social"}, {"values", {"y"}}}}}}}}};
  EXPECT_EQ(config_error_of(twice), "settings.mapping.scales.b.values: a value is also listed for scale 'a'");

  json band_twice = {{"profile", "zien-like"},
                     {"school", school()},
                     {"mapping",
                      {{"bands",
                        {{{"name", "ok"}, {"severity", "info"}, {"values", {"A"}}},
                         {{"name", "low"}, {"severity", "concern"}, {"values", {"a"}}}}}}}};
  EXPECT_EQ(config_error_of(band_twice), "settings.mapping.bands[1].values: a value is also listed for band 'ok'");

  json no_thresholds = {{"profile", "kanvas-like"}, {"school", school()}, {"mapping", {{"norm_bands", nullptr}}}};
  EXPECT_EQ(config_error_of(no_thresholds),
            "settings.mapping.norm_bands: required: the scale columns hold norm scores, and bands come from them");
}

TEST(tracking_settings, inline_mapping_is_merged_over_the_profile) {
  const json settings = {{"profile", "zien-like"},
                         {"school", school()},
                         {"mapping", {{"columns", {{"student_key", "Stamnummer"}, {"record_id", nullptr}}}}}};
  const tr::connector c(settings.dump());
  EXPECT_EQ(c.config().col(tr::field::student_key), "Stamnummer");
  EXPECT_FALSE(c.config().col(tr::field::record_id).has_value());
  EXPECT_EQ(c.config().col(tr::field::scale), "Schaal");  // untouched profile keys stay
  EXPECT_EQ(c.config().bands.size(), 4u);
}

}  // namespace
