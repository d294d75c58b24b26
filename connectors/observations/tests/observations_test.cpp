#include "mapper.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "settings.hpp"
#include "testing/emits_check.hpp"
#include "testing/ingest_recorder.hpp"

namespace obs = schakel::connectors::observations;
using nlohmann::json;

namespace {

using recording_context = schakel::plugins::test_support::ingest_recorder;

// Every student key, note and stray value in these tests carries one of these markers, so the
// privacy check below can look for personal data in every rejection and failure run() sees.
constexpr std::string_view personal_markers[] = {"4711", "Vertrouwelijk", "Jansen"};

json school() {
  return {{"brin", "99XX"}, {"vestiging", "00"}};
}

json base_settings() {
  return {{"school", school()}};
}

json good_record() {
  return {{"student_key", "LL-4711"},
          {"category", "withdrawn"},
          {"severity", "attention"},
          {"observer_role", "mentor"},
          {"observed_at", "2026-11-27"}};
}

json with(json record, std::string_view key, json value) {
  record[std::string(key)] = std::move(value);
  return record;
}

json without(json record, std::string_view key) {
  record.erase(std::string(key));
  return record;
}

/** Every reason, field and failure one test saw, for the personal-data check. */
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
    seen_messages().push_back(m);
  }
}

recording_context run_text(const json& settings, std::string_view body,
                           std::string_view content_type = "application/json") {
  const obs::connector c(settings.dump());
  recording_context ctx("observations");
  c.ingest(body, content_type, ctx);
  EXPECT_TRUE(ctx.schema_errors.empty()) << ::testing::PrintToString(ctx.schema_errors);
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

/** The one rejection of a one-record body, checked for its pointer. */
void expect_rejected_at(const json& settings, const json& record, std::string_view pointer) {
  const auto ctx = run(settings, record);
  EXPECT_TRUE(ctx.signals.empty()) << pointer;
  ASSERT_EQ(ctx.rejections.size(), 1u) << pointer << "\n" << describe(ctx);
  EXPECT_EQ(ctx.rejections[0].index, 0);
  EXPECT_EQ(ctx.rejections[0].field, pointer);
  EXPECT_FALSE(ctx.rejections[0].reason.empty());
}

std::string config_error_of(const json& settings) {
  try {
    obs::connector c(settings.dump());
  } catch (const schakel::sdk::config_error& e) {
    return e.what();
  }
  return "(accepted)";
}

// ---------------------------------------------------------------------------------------------
// Catalogue

TEST(observations_catalogue, every_category_maps_to_its_domain_and_data_category) {
  // Written out here, not read from the source: a change to the catalogue must change this table.
  const std::vector<std::tuple<std::string, std::string, std::string>> expected = {
      {"tired", "wellbeing", "ordinary"},
      {"withdrawn", "emotional", "ordinary"},
      {"low_mood", "emotional", "ordinary"},
      {"restless_or_aggressive", "behavioural", "ordinary"},
      {"results_dropping", "wellbeing", "ordinary"},
      {"peer_conflict", "social", "ordinary"},
      {"isolated", "social", "ordinary"},
      {"bullied", "social", "ordinary"},
      {"frequently_absent_from_class", "attendance", "ordinary"},
      {"long_sleeves_warm_weather", "health", "health"},
      {"suspected_substance_use", "health", "health"},
      {"self_harm_signs", "health", "health"},
      {"other", "wellbeing", "ordinary"},
  };
  ASSERT_EQ(obs::built_in_catalogue().size(), expected.size());
  json body = json::array();
  for (const auto& [id, domain, data_category] : expected) body.push_back(with(good_record(), "category", id));
  const auto ctx = run(base_settings(), body);
  ASSERT_EQ(ctx.signals.size(), expected.size()) << describe(ctx);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& [id, domain, data_category] = expected[i];
    const json& s = ctx.signals[i];
    EXPECT_EQ(s["content"]["domain"], domain) << id;
    EXPECT_EQ(s["content"]["indicator"], "observation." + id) << id;
    EXPECT_EQ(s["content"]["evidence"]["category"], id) << id;
    EXPECT_EQ(s["governance"]["data_category"], data_category) << id;
  }
}

TEST(observations_catalogue, the_three_health_categories_are_health_data_whatever_the_severity) {
  for (const char* id : {"long_sleeves_warm_weather", "suspected_substance_use", "self_harm_signs"}) {
    for (const char* severity : {"info", "urgent"}) {
      const auto ctx = run(base_settings(), with(with(good_record(), "category", id), "severity", severity));
      ASSERT_EQ(ctx.signals.size(), 1u) << id << describe(ctx);
      EXPECT_EQ(ctx.signals[0]["governance"]["data_category"], "health") << id;
      EXPECT_EQ(ctx.signals[0]["content"]["domain"], "health") << id;
    }
  }
  // Restricting the catalogue keeps them health data.
  json settings = base_settings();
  settings["categories"] = {"self_harm_signs"};
  const auto ctx = run(settings, with(good_record(), "category", "self_harm_signs"));
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["governance"]["data_category"], "health");
}

// ---------------------------------------------------------------------------------------------
// The emitted signal

TEST(observations_signal, carries_every_field_and_nothing_about_the_observer) {
  json record = good_record();
  record["class"] = " 2B ";
  record["leerjaar"] = 2;
  record["record_id"] = "obs-81";
  record["observer_role"] = "caretaker";
  const auto ctx = run(base_settings(), record);
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  const json expected = {{"type", "nl.schakel.observation.recorded"},
                         {"source", {{"record_id", "obs-81"}}},
                         {"observed_at", "2026-11-27T00:00:00Z"},
                         {"subject",
                          {{"school", {{"brin", "99XX"}, {"vestiging", "00"}}},
                           {"student_key", "LL-4711"},
                           {"class", "2B"},
                           {"leerjaar", 2}}},
                         {"content",
                          {{"domain", "emotional"},
                           {"indicator", "observation.withdrawn"},
                           {"severity", "attention"},
                           {"instrument", "staff-observation"},
                           {"evidence", {{"category", "withdrawn"}, {"observer_role", "caretaker"}}}}},
                         {"governance", {{"data_category", "ordinary"}}}};
  EXPECT_EQ(ctx.signals[0], expected);
  EXPECT_EQ(ctx.indexes, std::vector<std::int64_t>{0});
}

TEST(observations_signal, optional_fields_absent_or_null_are_left_out) {
  json record = good_record();
  record["class"] = nullptr;
  record["record_id"] = nullptr;
  record["note"] = nullptr;
  json settings = base_settings();
  settings["school"] = {{"brin", "12AB"}};
  const auto ctx = run(settings, record);
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  const json& s = ctx.signals[0];
  EXPECT_EQ(s["source"], json::object());
  EXPECT_EQ(s["subject"]["school"], (json{{"brin", "12AB"}}));
  EXPECT_FALSE(s["subject"].contains("class"));
  EXPECT_FALSE(s["subject"].contains("leerjaar"));
  EXPECT_FALSE(s["content"].contains("note"));
}

TEST(observations_signal, observed_at_date_becomes_midnight_utc_and_a_date_time_is_kept) {
  const auto ctx = run(base_settings(), json::array({with(good_record(), "observed_at", "2024-02-29"),
                                                     with(good_record(), "observed_at", "2026-11-27T14:05:00+01:00"),
                                                     with(good_record(), "observed_at", "2026-11-27T13:05:00.25Z")}));
  ASSERT_EQ(ctx.signals.size(), 3u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["observed_at"], "2024-02-29T00:00:00Z");
  EXPECT_EQ(ctx.signals[1]["observed_at"], "2026-11-27T14:05:00+01:00");
  EXPECT_EQ(ctx.signals[2]["observed_at"], "2026-11-27T13:05:00.25Z");
}

// ---------------------------------------------------------------------------------------------
// Bad records

TEST(observations_records, unknown_fields_are_rejected_with_their_pointer_and_never_their_value) {
  for (const char* key : {"remark", "opmerking", "observer_name", "Remark"}) {
    const auto ctx = run(base_settings(), with(good_record(), key, "Vertrouwelijk: Jansen huilde in de pauze"));
    EXPECT_TRUE(ctx.signals.empty()) << key;
    ASSERT_EQ(ctx.rejections.size(), 1u) << key << describe(ctx);
    EXPECT_EQ(ctx.rejections[0].field, "/" + std::string(key));
    EXPECT_EQ(ctx.rejections[0].reason, "unknown field; free text is only accepted in `note`");
  }
  // A key that reads like text is not echoed even as a pointer.
  const auto ctx = run(base_settings(), with(good_record(), "Jansen zat alleen", true));
  ASSERT_EQ(ctx.rejections.size(), 1u) << describe(ctx);
  EXPECT_EQ(ctx.rejections[0].field, "");
  EXPECT_NE(ctx.rejections[0].reason.find("free text is only accepted in `note`"), std::string::npos);
}

TEST(observations_records, student_key_must_be_a_one_line_string_of_at_most_64_characters) {
  expect_rejected_at(base_settings(), without(good_record(), "student_key"), "/student_key");
  expect_rejected_at(base_settings(), with(good_record(), "student_key", 4711), "/student_key");
  expect_rejected_at(base_settings(), with(good_record(), "student_key", "   "), "/student_key");
  expect_rejected_at(base_settings(), with(good_record(), "student_key", "4711\n"), "/student_key");
  expect_rejected_at(base_settings(), with(good_record(), "student_key", "4711" + std::string(61, 'x')),
                     "/student_key");
  const auto ctx = run(base_settings(), with(good_record(), "student_key", "4711" + std::string(60, 'x')));
  EXPECT_EQ(ctx.signals.size(), 1u) << describe(ctx);
}

TEST(observations_records, bad_severity_date_and_leerjaar_name_their_pointer) {
  expect_rejected_at(base_settings(), with(good_record(), "severity", "high"), "/severity");
  expect_rejected_at(base_settings(), with(good_record(), "severity", "Urgent"), "/severity");
  expect_rejected_at(base_settings(), without(good_record(), "severity"), "/severity");
  for (const char* date : {"27-11-2026", "2026-02-30", "2026-11-27T10:00:00", "2026-11-27 10:00:00Z",
                           "2026-11-27T24:00:00Z", "yesterday", ""}) {
    expect_rejected_at(base_settings(), with(good_record(), "observed_at", date), "/observed_at");
  }
  for (const json& leerjaar : {json(0), json(7), json("2"), json(2.5), json(-1)}) {
    expect_rejected_at(base_settings(), with(good_record(), "leerjaar", leerjaar), "/leerjaar");
  }
  const auto ctx = run(base_settings(), with(good_record(), "severity", "high"));
  ASSERT_EQ(ctx.rejections.size(), 1u);
  EXPECT_EQ(ctx.rejections[0].reason, "must be one of info | attention | concern | urgent");
}

TEST(observations_records, class_record_id_and_category_are_checked) {
  expect_rejected_at(base_settings(), with(good_record(), "class", std::string(17, 'A')), "/class");
  expect_rejected_at(base_settings(), with(good_record(), "class", 2), "/class");
  expect_rejected_at(base_settings(), with(good_record(), "record_id", std::string(129, '1')), "/record_id");
  expect_rejected_at(base_settings(), with(good_record(), "record_id", ""), "/record_id");
  expect_rejected_at(base_settings(), with(good_record(), "category", "sad"), "/category");
  expect_rejected_at(base_settings(), without(good_record(), "category"), "/category");
  expect_rejected_at(base_settings(), with(good_record(), "observer_role", "principal"), "/observer_role");
  expect_rejected_at(base_settings(), without(good_record(), "observer_role"), "/observer_role");
  const auto ctx = run(base_settings(), json::array({json("not an object"), 4711}));
  ASSERT_EQ(ctx.rejections.size(), 2u);
  EXPECT_EQ(ctx.rejections[1].index, 1);
  EXPECT_EQ(ctx.rejections[1].reason, "record is not a JSON object");
}

TEST(observations_records, roles_can_be_restricted_per_instance) {
  json settings = base_settings();
  settings["roles"] = {"mentor", "care_coordinator"};
  const auto ctx = run(settings, json::array({with(good_record(), "observer_role", "care_coordinator"),
                                              with(good_record(), "observer_role", "canteen_staff"),
                                              with(good_record(), "observer_role", "mentor")}));
  ASSERT_EQ(ctx.signals.size(), 2u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["content"]["evidence"]["observer_role"], "care_coordinator");
  EXPECT_EQ(ctx.signals[1]["content"]["evidence"]["observer_role"], "mentor");
  ASSERT_EQ(ctx.rejections.size(), 1u);
  EXPECT_EQ(ctx.rejections[0].index, 1);
  EXPECT_EQ(ctx.rejections[0].field, "/observer_role");
  EXPECT_EQ(ctx.rejections[0].reason, "observer role not enabled for this instance (settings.roles)");
  // By default every role is accepted.
  json all = json::array();
  for (auto role : obs::all_roles) all.push_back(with(good_record(), "observer_role", role));
  EXPECT_EQ(run(base_settings(), all).signals.size(), obs::all_roles.size());
}

TEST(observations_records, categories_can_be_restricted_per_instance) {
  json settings = base_settings();
  settings["categories"] = {"tired", "bullied"};
  const auto ctx = run(settings, json::array({with(good_record(), "category", "bullied"),
                                              with(good_record(), "category", "self_harm_signs")}));
  ASSERT_EQ(ctx.signals.size(), 1u) << describe(ctx);
  ASSERT_EQ(ctx.rejections.size(), 1u);
  EXPECT_EQ(ctx.rejections[0].index, 1);
  EXPECT_EQ(ctx.rejections[0].field, "/category");
  EXPECT_EQ(ctx.rejections[0].reason, "category not enabled for this instance (settings.categories)");
}

// ---------------------------------------------------------------------------------------------
// The note

TEST(observations_note, refused_by_default) {
  const auto ctx = run(base_settings(), with(good_record(), "note", "Vertrouwelijk: zat alleen"));
  EXPECT_TRUE(ctx.signals.empty());
  ASSERT_EQ(ctx.rejections.size(), 1u);
  EXPECT_EQ(ctx.rejections[0].field, "/note");
  EXPECT_EQ(ctx.rejections[0].reason, "notes are not accepted by this instance (settings.note_max_length is 0)");
  // A blank note carries no text: it is no note, even where notes are off.
  const auto blank = run(base_settings(), with(good_record(), "note", "  "));
  ASSERT_EQ(blank.signals.size(), 1u) << describe(blank);
  EXPECT_FALSE(blank.signals[0]["content"].contains("note"));
}

TEST(observations_note, limit_counts_code_points_not_bytes) {
  json settings = base_settings();
  settings["note_max_length"] = 10;
  std::string ten;
  for (int i = 0; i < 10; ++i) ten += "\xC3\xA9";  // é: 2 bytes, 1 code point
  const auto ok = run(settings, with(good_record(), "note", ten));
  ASSERT_EQ(ok.signals.size(), 1u) << describe(ok);
  EXPECT_EQ(ok.signals[0]["content"]["note"], ten);

  const auto too_long = run(settings, with(good_record(), "note", ten + "\xC3\xA9"));
  EXPECT_TRUE(too_long.signals.empty());
  ASSERT_EQ(too_long.rejections.size(), 1u);
  EXPECT_EQ(too_long.rejections[0].field, "/note");
  EXPECT_EQ(too_long.rejections[0].reason, "longer than 10 characters");
}

TEST(observations_note, one_line_only_trimmed_and_blank_is_absent) {
  json settings = base_settings();
  settings["note_max_length"] = 280;
  for (const char* note : {"Vertrouwelijk\nzat alleen", "Vertrouwelijk\tzat alleen", "Vertrouwelijk\r",
                           "Vertrouwelijk\xE2\x80\xA8zat alleen", "Vertrouwelijk\xC2\x85"}) {
    expect_rejected_at(settings, with(good_record(), "note", note), "/note");
  }
  expect_rejected_at(settings, with(good_record(), "note", 42), "/note");
  const auto ctx = run(settings, json::array({with(good_record(), "note", "  zat alleen bij de lunch  "),
                                              with(good_record(), "note", ""), with(good_record(), "note", "   ")}));
  ASSERT_EQ(ctx.signals.size(), 3u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["content"]["note"], "zat alleen bij de lunch");
  EXPECT_FALSE(ctx.signals[1]["content"].contains("note"));
  EXPECT_FALSE(ctx.signals[2]["content"].contains("note"));
  // The schema's limit is the settings' ceiling: 280 code points are accepted, 281 are not.
  EXPECT_EQ(run(settings, with(good_record(), "note", std::string(280, 'a'))).signals.size(), 1u);
  expect_rejected_at(settings, with(good_record(), "note", std::string(281, 'a')), "/note");
}

// ---------------------------------------------------------------------------------------------
// Body shapes

TEST(observations_body, single_object_array_and_wrapper_are_accepted) {
  const auto single = run(base_settings(), good_record());
  ASSERT_EQ(single.signals.size(), 1u) << describe(single);
  EXPECT_EQ(single.indexes, std::vector<std::int64_t>{0});

  const auto array = run(base_settings(), json::array({good_record(), good_record()}));
  EXPECT_EQ(array.signals.size(), 2u);
  EXPECT_EQ(array.indexes, (std::vector<std::int64_t>{0, 1}));

  const auto wrapped = run(base_settings(), json{{"observations", {good_record(), good_record(), good_record()}}});
  EXPECT_EQ(wrapped.indexes, (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_TRUE(wrapped.failure.empty());

  const auto empty = run(base_settings(), json{{"observations", json::array()}});
  EXPECT_TRUE(empty.signals.empty());
  EXPECT_TRUE(empty.rejections.empty());
  EXPECT_FALSE(empty.failed());
}

TEST(observations_body, batch_keeps_the_good_records_in_order_with_their_indexes) {
  const json body = {{"observations",
                      {with(good_record(), "category", "tired"), with(good_record(), "severity", "extreme"),
                       with(good_record(), "category", "isolated"), with(good_record(), "opmerking", "Jansen"),
                       with(good_record(), "category", "bullied")}}};
  const auto ctx = run(base_settings(), body);
  ASSERT_EQ(ctx.signals.size(), 3u) << describe(ctx);
  EXPECT_EQ(ctx.indexes, (std::vector<std::int64_t>{0, 2, 4}));
  EXPECT_EQ(ctx.signals[0]["content"]["evidence"]["category"], "tired");
  EXPECT_EQ(ctx.signals[1]["content"]["evidence"]["category"], "isolated");
  EXPECT_EQ(ctx.signals[2]["content"]["evidence"]["category"], "bullied");
  ASSERT_EQ(ctx.rejections.size(), 2u);
  EXPECT_EQ(ctx.rejections[0].index, 1);
  EXPECT_EQ(ctx.rejections[0].field, "/severity");
  EXPECT_EQ(ctx.rejections[1].index, 3);
  EXPECT_EQ(ctx.rejections[1].field, "/opmerking");
}

TEST(observations_body, non_json_content_types_fail_naming_the_accepted_type) {
  for (const char* type : {"text/csv", "application/x-ndjson", "text/plain", ""}) {
    const auto ctx = run_text(base_settings(), good_record().dump(), type);
    EXPECT_TRUE(ctx.failed()) << type;
    EXPECT_NE(ctx.failure.find("application/json"), std::string::npos) << ctx.failure;
    EXPECT_TRUE(ctx.signals.empty());
  }
  for (const char* type : {"application/json; charset=utf-8", "Application/JSON", "application/vnd.school+json"}) {
    EXPECT_EQ(run_text(base_settings(), good_record().dump(), type).signals.size(), 1u) << type;
  }
}

TEST(observations_body, unreadable_bodies_fail_without_quoting_content) {
  const auto broken =
      run_text(base_settings(), std::string_view(R"({"student_key": "LL-4711", "note": "Vertrouwelijk)"));
  EXPECT_TRUE(broken.failed());
  EXPECT_EQ(broken.failure.rfind("invalid JSON at byte ", 0), 0u) << broken.failure;

  const auto deep = run_text(base_settings(), std::string(40, '[') + std::string(40, ']'));
  EXPECT_TRUE(deep.failed());
  EXPECT_NE(deep.failure.find("deeper than 32"), std::string::npos) << deep.failure;

  const auto scalar = run_text(base_settings(), std::string_view("\"LL-4711\""));
  EXPECT_TRUE(scalar.failed());
  EXPECT_TRUE(scalar.signals.empty());

  const auto not_array = run(base_settings(), json{{"observations", good_record()}});
  EXPECT_TRUE(not_array.failed());
  EXPECT_NE(not_array.failure.find("/observations"), std::string::npos);

  const auto extra = run(base_settings(), json{{"observations", json::array()}, {"remark", "Jansen"}});
  EXPECT_TRUE(extra.failed());
}

// ---------------------------------------------------------------------------------------------
// Settings

TEST(observations_settings, extra_categories_are_added_with_their_domain_and_category) {
  json settings = base_settings();
  settings["extra_categories"] = {{"hungry_at_school", {{"domain", "wellbeing"}, {"health", false}}},
                                  {"eating_disorder_signs", {{"domain", "health"}, {"health", true}}}};
  const auto ctx = run(settings, json::array({with(good_record(), "category", "hungry_at_school"),
                                              with(good_record(), "category", "eating_disorder_signs"),
                                              with(good_record(), "category", "tired")}));
  ASSERT_EQ(ctx.signals.size(), 3u) << describe(ctx);
  EXPECT_EQ(ctx.signals[0]["content"]["indicator"], "observation.hungry_at_school");
  EXPECT_EQ(ctx.signals[0]["content"]["domain"], "wellbeing");
  EXPECT_EQ(ctx.signals[0]["governance"]["data_category"], "ordinary");
  EXPECT_EQ(ctx.signals[1]["content"]["domain"], "health");
  EXPECT_EQ(ctx.signals[1]["governance"]["data_category"], "health");
}

TEST(observations_settings, an_extra_category_cannot_override_a_built_in_one) {
  json settings = base_settings();
  settings["extra_categories"] = {{"self_harm_signs", {{"domain", "wellbeing"}, {"health", false}}}};
  EXPECT_EQ(config_error_of(settings),
            "settings.extra_categories.self_harm_signs: collides with a built-in category (built-in categories "
            "cannot be redefined)");
  settings["extra_categories"] = {{"tired", {{"domain", "wellbeing"}, {"health", false}}}};
  EXPECT_EQ(config_error_of(settings).rfind("settings.extra_categories.tired: collides", 0), 0u);
}

TEST(observations_settings, errors_name_their_path) {
  const auto error_at = [](json settings, std::string_view path) {
    const std::string e = config_error_of(settings);
    EXPECT_EQ(e.rfind(std::string(path) + ": ", 0), 0u) << "expected " << path << ", got " << e;
  };
  error_at(json::object(), "settings.school");
  error_at({{"school", {{"brin", "99xx"}}}}, "settings.school.brin");
  error_at({{"school", {{"brin", "99XX"}, {"vestiging", "1"}}}}, "settings.school.vestiging");
  error_at({{"school", {{"brin", "99XX"}, {"name", "x"}}}}, "settings.school.name");
  error_at(with(base_settings(), "notes", true), "settings.notes");
  error_at(with(base_settings(), "roles", {"mentor", "principal"}), "settings.roles[1]");
  error_at(with(base_settings(), "roles", {"mentor", "mentor"}), "settings.roles[1]");
  error_at(with(base_settings(), "roles", json::array()), "settings.roles");
  error_at(with(base_settings(), "categories", {"tired", "sad"}), "settings.categories[1]");
  error_at(with(base_settings(), "note_max_length", 281), "settings.note_max_length");
  error_at(with(base_settings(), "note_max_length", -1), "settings.note_max_length");
  error_at(with(base_settings(), "note_max_length", "10"), "settings.note_max_length");
  error_at(with(base_settings(), "extra_categories", {{"Bad-Id", {{"domain", "social"}, {"health", false}}}}),
           "settings.extra_categories.Bad-Id");
  error_at(with(base_settings(), "extra_categories", {{"x", {{"domain", "school"}, {"health", false}}}}),
           "settings.extra_categories.x.domain");
  error_at(with(base_settings(), "extra_categories", {{"x", {{"domain", "social"}}}}),
           "settings.extra_categories.x.health");
  error_at(with(base_settings(), "extra_categories", {{"x", {{"domain", "social"}, {"health", false}, {"y", 1}}}}),
           "settings.extra_categories.x.y");
  // Restricting the catalogue must not silently leave a school-defined category unusable.
  json restricted = with(base_settings(), "categories", {"tired"});
  restricted["extra_categories"] = {{"hungry_at_school", {{"domain", "wellbeing"}, {"health", false}}}};
  error_at(restricted, "settings.extra_categories.hungry_at_school");
  restricted["categories"] = {"tired", "hungry_at_school"};
  EXPECT_EQ(config_error_of(restricted), "(accepted)");
  EXPECT_EQ(config_error_of(with(base_settings(), "note_max_length", 280)), "(accepted)");
}

TEST(observations_settings, defaults_enable_the_whole_catalogue_every_role_and_no_note) {
  const auto s = obs::parse_settings(base_settings().dump());
  EXPECT_EQ(s.categories.size(), obs::built_in_catalogue().size());
  EXPECT_EQ(s.roles.size(), obs::all_roles.size());
  EXPECT_EQ(s.note_max_length, 0);
  EXPECT_EQ(s.school_of_signals.brin, "99XX");
  EXPECT_EQ(s.school_of_signals.vestiging, "00");
}

// ---------------------------------------------------------------------------------------------
// Privacy over all of the above

TEST(observations_privacy, no_rejection_or_failure_ever_contains_a_student_key_or_note_text) {
  // Every run() in this file already checks its own messages (ctest runs each case in its own
  // process); this case sends every kind of bad record once, in one batch, with personal markers.
  seen_messages().clear();
  json settings = base_settings();
  settings["note_max_length"] = 5;
  const json body =
      json::array({with(good_record(), "note", "Vertrouwelijk"), with(good_record(), "opmerking", "Jansen"),
                   with(good_record(), "student_key", "4711\t"), with(good_record(), "severity", "Vertrouwelijk"),
                   with(good_record(), "category", "Jansen"), with(good_record(), "observer_role", "Jansen"),
                   with(good_record(), "observed_at", "4711"), with(good_record(), "class", "Vertrouwelijk-4711"),
                   with(good_record(), "leerjaar", "4711"), with(good_record(), "record_id", std::string(130, '4'))});
  const auto ctx = run(settings, body);
  EXPECT_TRUE(ctx.signals.empty());
  EXPECT_EQ(ctx.rejections.size(), body.size()) << describe(ctx);
  // The check looked at every rejection's field and reason, and the (empty) failure.
  EXPECT_EQ(seen_messages().size(), 2 * body.size() + 1);
  for (const auto& m : seen_messages()) {
    for (auto marker : personal_markers) EXPECT_EQ(m.find(marker), std::string::npos) << m;
  }
}

}  // namespace
