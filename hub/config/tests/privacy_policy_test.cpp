// check-config's privacy refusals: each unsafe combination the issue names, with its reason.
#include "config/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace schakel::config {
namespace {

const std::string token = "tok_0123456789abcdef0123456789abcdef";
const std::string hook = "{ url: \"https://partner.example/hook\", secret: \"0123456789abcdef0123456789abcdef\" }";

std::string config_with(const std::string& filter, const std::string& fields, const std::string& privacy) {
  return "data_dir: /d\nconnectors:\n  - { name: src, plugin: generic-json, token: " + token +
         " }\nsubscriptions:\n  - name: s1\n    partner: P\n" + (filter.empty() ? "" : "    filter: " + filter + "\n") +
         "    fields: " + fields + "\n    privacy: " + privacy + "\n    delivery: { webhook: " + hook + " }\n";
}

std::string error_of(const std::string& text) {
  try {
    (void)load_config_text(text, "p.yaml");
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

struct key_file {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("schakel-policy-key-" + std::to_string(::getpid()));
  key_file() { std::ofstream(path) << std::string(64, 'a') << "\n"; }
  ~key_file() { std::filesystem::remove(path); }
};

TEST(privacy_policy, every_subscription_must_state_a_policy) {
  const std::string text =
      "data_dir: /d\nsubscriptions:\n  - name: s1\n    partner: P\n    fields: [type]\n"
      "    delivery: { webhook: " +
      hook + " }\n";
  EXPECT_EQ(error_of(text), "p.yaml: subscriptions[0]: missing required key \"privacy\"");
}

TEST(privacy_policy, identified_needs_a_legal_basis) {
  const auto e = error_of(config_with("{ types: [nl.schakel.attendance.leerplicht.threshold_reached] }",
                                      "[type, subject.student_key]", "{ identity: identified, purpose: leerplicht }"));
  EXPECT_NE(e.find("subscriptions[0].privacy.legal_basis: an identified subscription needs a legal basis"),
            std::string::npos)
      << e;
}

TEST(privacy_policy, health_types_need_consent_or_an_art9_ground) {
  // Sick-leave alerts without any ground: refused, naming the type.
  const auto e = error_of(config_with("{ types: [nl.schakel.attendance.mazl.triggered] }", "[type]",
                                      "{ identity: identified, purpose: x-purpose, legal_basis: public_task }"));
  EXPECT_NE(e.find("privacy.health_ground: this subscription may receive health-category signals"), std::string::npos)
      << e;
  EXPECT_NE(e.find("nl.schakel.attendance.mazl.triggered"), std::string::npos) << e;
  // No type filter matches everything, health data included.
  EXPECT_NE(
      error_of(config_with("", "[type]", "{ identity: identified, purpose: x-purpose, legal_basis: public_task }"))
          .find("no filter.types, so every type"),
      std::string::npos);
  // A prefix that covers a health type counts too.
  EXPECT_NE(error_of(config_with("{ types: [\"nl.schakel.attendance.*\"] }", "[type]",
                                 "{ identity: identified, purpose: x-purpose, legal_basis: public_task }")),
            "");
  // Either consent or a ground makes it acceptable; ordinary types need neither.
  EXPECT_EQ(error_of(config_with("{ types: [nl.schakel.attendance.mazl.triggered] }", "[type]",
                                 "{ identity: identified, purpose: x-purpose, legal_basis: consent }")),
            "");
  EXPECT_EQ(error_of(config_with("{ types: [nl.schakel.attendance.mazl.triggered] }", "[type]",
                                 "{ identity: identified, purpose: x-purpose, legal_basis: public_task, health_ground: "
                                 "health_care }")),
            "");
  EXPECT_EQ(error_of(config_with("{ types: [nl.schakel.attendance.leerplicht.threshold_reached] }", "[type]",
                                 "{ identity: identified, purpose: x-purpose, legal_basis: legal_obligation }")),
            "");
}

TEST(privacy_policy, aggregate_subscriptions_take_only_aggregate_types) {
  const auto row = error_of(config_with("{ types: [nl.schakel.attendance.absence.recorded] }", "[type]",
                                        "{ identity: aggregate, purpose: regional trends }"));
  EXPECT_NE(row.find("filter.types[0]: type \"nl.schakel.attendance.absence.recorded\" is row-level"),
            std::string::npos)
      << row;
  const auto all = error_of(config_with("", "[type]", "{ identity: aggregate, purpose: regional trends }"));
  EXPECT_NE(all.find("an aggregate subscription must name its types"), std::string::npos) << all;
  const auto key = error_of(config_with("{ types: [\"nl.schakel.trend.*\"] }", "[type, subject.student_key]",
                                        "{ identity: aggregate, purpose: regional trends }"));
  EXPECT_NE(key.find("subscriptions[0].fields: an aggregate subscription may not list subject.student_key"),
            std::string::npos)
      << key;
  EXPECT_EQ(error_of(config_with("{ types: [\"nl.schakel.trend.*\"] }", "[type, subject.school, content.value]",
                                 "{ identity: aggregate, purpose: regional trends }")),
            "");
}

TEST(privacy_policy, pseudonymous_needs_keys_and_never_lists_the_student_key) {
  const auto no_key = error_of(config_with("{ types: [nl.schakel.match.detected] }", "[type]",
                                           "{ identity: pseudonymous, purpose: matches, legal_basis: public_task, "
                                           "health_ground: health_care }"));
  EXPECT_NE(no_key.find("privacy.pseudonym_keys: a pseudonymous subscription needs at least one key"),
            std::string::npos)
      << no_key;
  key_file k;
  const std::string keys = "pseudonym_keys: [{ id: k1, file: " + k.path.string() + " }]";
  const auto listed = error_of(config_with("{ types: [nl.schakel.match.detected] }", "[type, subject.student_key]",
                                           "{ identity: pseudonymous, purpose: matches, legal_basis: public_task, "
                                           "health_ground: health_care, " +
                                               keys + " }"));
  EXPECT_NE(listed.find("may not list subject.student_key"), std::string::npos) << listed;
  const auto record = error_of(config_with("{ types: [nl.schakel.match.detected] }", "[type, source.record_id]",
                                           "{ identity: pseudonymous, purpose: matches, legal_basis: public_task, "
                                           "health_ground: health_care, " +
                                               keys + " }"));
  EXPECT_NE(record.find("may not list source.record_id"), std::string::npos) << record;
  EXPECT_EQ(error_of(config_with("{ types: [nl.schakel.match.detected] }", "[type, subject.school]",
                                 "{ identity: pseudonymous, purpose: matches, legal_basis: public_task, "
                                 "health_ground: health_care, " +
                                     keys + " }")),
            "");
  const auto identified_with_keys =
      error_of(config_with("{ types: [nl.schakel.match.detected] }", "[type]",
                           "{ identity: identified, purpose: matches, legal_basis: public_task, "
                           "health_ground: health_care, " +
                               keys + " }"));
  EXPECT_NE(identified_with_keys.find("only pseudonymous subscriptions use pseudonym keys"), std::string::npos);
}

TEST(privacy_policy, staff_free_text_may_be_listed_only_by_the_schools_own_subscription) {
  const std::string types = "{ types: [nl.schakel.tracking.score.at_risk], schools: [\"99XX\"] }";
  const std::string basis = "purpose: mentoring, legal_basis: public_task";
  // A partner listing content.note: refused, naming the entry.
  auto e = error_of(config_with(types, "[type, content.note]", "{ identity: identified, " + basis + " }"));
  EXPECT_NE(e.find("subscriptions[0].fields[1]: content.note is school-internal free text"), std::string::npos) << e;
  // The school's own system may.
  EXPECT_EQ(
      error_of(config_with(types, "[type, content.note]", "{ identity: identified, audience: school, " + basis + " }")),
      "");
  // ...but only tied to its schools, and identified.
  e = error_of(config_with("{ types: [nl.schakel.tracking.score.at_risk] }", "[type, content.note]",
                           "{ identity: identified, audience: school, " + basis + " }"));
  EXPECT_NE(e.find("privacy.audience: an audience school subscription must name its schools in filter.schools"),
            std::string::npos)
      << e;
  e = error_of(config_with(types, "[type]", "{ identity: aggregate, audience: school, purpose: trends }"));
  EXPECT_NE(e.find("privacy.audience: audience school is the school's own staff: its identity must be identified"),
            std::string::npos)
      << e;
  e = error_of(config_with(types, "[type]", "{ identity: identified, audience: everyone, " + basis + " }"));
  EXPECT_NE(e.find("privacy.audience"), std::string::npos) << e;
}

TEST(privacy_policy, key_rotation_dates_are_checked) {
  key_file k;
  const auto bad = error_of(
      config_with("{ types: [nl.schakel.match.detected] }", "[type]",
                  "{ identity: pseudonymous, purpose: matches, legal_basis: public_task, health_ground: health_care, "
                  "pseudonym_keys: [{ id: k1, file: " +
                      k.path.string() +
                      ", active_from: 2027-08-01, retire_after: 2027-07-31 }, "
                      "{ id: k1, file: " +
                      k.path.string() + ", active_from: 2027-02-30 }] }"));
  EXPECT_NE(bad.find("pseudonym_keys[0].retire_after: is before active_from"), std::string::npos) << bad;
  EXPECT_NE(bad.find("pseudonym_keys[1].active_from: is not a calendar date"), std::string::npos) << bad;
  EXPECT_NE(bad.find("pseudonym_keys[1].id: key id \"k1\" used twice"), std::string::npos) << bad;
}

TEST(privacy_policy, bsn_settings_name_known_fields) {
  const std::string text = "data_dir: /d\nconnectors:\n  - { name: src, plugin: generic-json, token: " + token +
                           ", bsn: { keys: { subject.student_key: pseudonymise, subject.bsn: link }, exempt: "
                           "[source.record_id] } }\n";
  const auto e = error_of(text);
  EXPECT_NE(e.find("connectors[0].bsn.keys: unknown signal field \"subject.bsn\""), std::string::npos) << e;
  const auto cfg =
      load_config_text("data_dir: /d\nconnectors:\n  - { name: src, plugin: generic-json, token: " + token +
                           ", bsn: { keys: { subject.student_key: link }, exempt: [source.record_id] } }\n",
                       "ok.yaml");
  ASSERT_EQ(cfg.connectors[0].bsn.keys.size(), 1u);
  EXPECT_EQ(cfg.connectors[0].bsn.keys[0].second, "link");
  EXPECT_EQ(cfg.connectors[0].bsn.exempt, std::vector<std::string>{"source.record_id"});
}

TEST(privacy_policy, retention_settings_are_read_and_audit_keeps_five_years_at_least) {
  const auto cfg = load_config_text(
      "data_dir: /d\nprivacy:\n  retention:\n    signals: [{ types: \"nl.schakel.attendance.*\", days: 400 }]\n"
      "    default_signal_days: 730\n",
      "r.yaml");
  ASSERT_EQ(cfg.privacy.retention.signal_days.size(), 1u);
  EXPECT_EQ(cfg.privacy.retention.signal_days[0].second, 400);
  EXPECT_EQ(cfg.privacy.retention.default_signal_days, 730);
  EXPECT_EQ(cfg.privacy.retention.audit_days, 1826);
  EXPECT_NE(error_of("data_dir: /d\nprivacy: { retention: { audit_days: 365 } }\n").find("audit_days"),
            std::string::npos);
}

TEST(privacy_policy, health_type_catalogue_overlaps_prefixes_both_ways) {
  subscription_filter f;
  f.types = {"nl.schakel.attendance.*"};
  EXPECT_TRUE(may_carry_health_data(f));
  f.types = {"nl.schakel.attendance.sick.recorded"};
  EXPECT_TRUE(may_carry_health_data(f));
  f.types = {"nl.schakel.attendance.leerplicht.threshold_reached", "nl.schakel.trend.*"};
  EXPECT_FALSE(may_carry_health_data(f));
  f.types = {"nl.*"};
  EXPECT_TRUE(may_carry_health_data(f));
}

}  // namespace
}  // namespace schakel::config
