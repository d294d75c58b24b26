#include "pipeline/ingest_pipeline.hpp"

#include <gtest/gtest.h>

#include "schema/signal_validator.hpp"

namespace schakel::pipeline {
namespace {

std::string connector_signal(const std::string& severity = "attention") {
  return nlohmann::json{{"type", "nl.schakel.attendance.absence.recorded"},
                        {"subject", {{"school", {{"brin", "12AB"}}}, {"student_key", "S-1"}, {"class", "2B"}}},
                        {"content", {{"domain", "attendance"}, {"indicator", "absence_hours"}, {"severity", severity}}},
                        {"governance", {{"data_category", "ordinary"}}}}
      .dump();
}

config::subscription all_to(std::string name) {
  config::subscription s;
  s.name = std::move(name);
  s.fields = {"type", "content.severity"};
  s.privacy.identity = "identified";
  s.privacy.purpose = "test";
  s.privacy.legal_basis = "public_task";
  return s;
}

struct fixture : ::testing::Test {
  schema::signal_validator validator;
  privacy::consent_registry consents;
  std::unique_ptr<privacy::gate> gate;

  const privacy::gate& gate_for(std::vector<config::subscription> subs, config::bsn_settings bsn = {}) {
    config::hub_config cfg;
    cfg.subscriptions = std::move(subs);
    config::connector_instance c;
    c.name = "quickstart";
    c.bsn = std::move(bsn);
    cfg.connectors.push_back(c);
    gate = std::make_unique<privacy::gate>(cfg, std::string(32, 'k'), consents);
    return *gate;
  }
};

}  // namespace

TEST_F(fixture, normalises_validates_and_routes) {
  ingest_pipeline p(validator, gate_for({all_to("jgz")}));
  plugin_host::ingest_result r;
  r.signals = {connector_signal(), connector_signal("concern")};
  r.signal_record_index = {0, 2};
  r.rejections = {{1, "/leerling", "required value missing"}};
  auto b = p.process(r, "quickstart", "generic-json", 1795867200123);
  ASSERT_EQ(b.accepted.size(), 2u);
  EXPECT_EQ(b.accepted[1].index, 2);
  ASSERT_EQ(b.rows.size(), 2u);
  auto stored = nlohmann::json::parse(b.rows[0].json);
  EXPECT_EQ(stored["id"], b.accepted[0].id);
  EXPECT_EQ(stored["source"]["instance"], "quickstart");
  EXPECT_EQ(stored["source"]["connector"], "generic-json");
  EXPECT_EQ(stored["received_at"], "2026-11-28T12:00:00.123Z");
  EXPECT_EQ(stored["observed_at"], stored["received_at"]);
  ASSERT_EQ(b.items.size(), 2u);
  EXPECT_EQ(b.items[0].signal_id, b.accepted[0].id);
  EXPECT_EQ(b.touched_subscriptions, std::vector<std::string>{"jgz"});
  ASSERT_EQ(b.rejected.size(), 1u);
  EXPECT_EQ(b.rejected[0].field, "/leerling");
}

TEST_F(fixture, an_invalid_signal_is_rejected_with_its_record_and_path_and_never_stored) {
  ingest_pipeline p(validator, gate_for({all_to("jgz")}));
  plugin_host::ingest_result r;
  r.signals = {connector_signal("very-bad"), connector_signal()};
  r.signal_record_index = {0, 1};
  auto b = p.process(r, "quickstart", "generic-json", 0);
  ASSERT_EQ(b.accepted.size(), 1u);
  EXPECT_EQ(b.accepted[0].index, 1);
  ASSERT_FALSE(b.rejected.empty());
  EXPECT_EQ(b.rejected[0].index, 0);
  EXPECT_EQ(b.rejected[0].field, "content.severity");
  EXPECT_EQ(b.rejected[0].reason.find("very-bad"), std::string::npos) << "reasons must not echo values";
  EXPECT_EQ(b.rows.size(), 1u);
  EXPECT_EQ(b.items.size(), 1u);
}

TEST_F(fixture, connector_cannot_forge_id_or_provenance) {
  ingest_pipeline p(validator, gate_for({}));
  auto forged = nlohmann::json::parse(connector_signal());
  forged["id"] = "01AAAAAAAAAAAAAAAAAAAAAAAA";
  forged["source"] = {{"instance", "other"}, {"connector", "x"}, {"record_id", "R1"}};
  plugin_host::ingest_result r;
  r.signals = {forged.dump()};
  auto b = p.process(r, "quickstart", "generic-json", 0);
  ASSERT_EQ(b.rows.size(), 1u);
  auto stored = nlohmann::json::parse(b.rows[0].json);
  EXPECT_NE(stored["id"], "01AAAAAAAAAAAAAAAAAAAAAAAA");
  EXPECT_EQ(stored["source"]["instance"], "quickstart");
  EXPECT_EQ(stored["source"]["record_id"], "R1");
  EXPECT_TRUE(b.items.empty()) << "no subscription, no outbox item";
}

TEST_F(fixture, non_object_signal_text_is_a_rejection) {
  ingest_pipeline p(validator, gate_for({}));
  plugin_host::ingest_result r;
  r.signals = {"[1,2]"};
  auto b = p.process(r, "quickstart", "generic-json", 0);
  EXPECT_TRUE(b.accepted.empty());
  ASSERT_EQ(b.rejected.size(), 1u);
}

}  // namespace schakel::pipeline

namespace schakel::pipeline {
namespace {

// A JGZ report that names the student by BSN (111222333 passes the 11-test).
std::string jgz_signal(const std::string& bsn = "111222333") {
  return nlohmann::json{
      {"type", "nl.schakel.jgz.sdq.scored"},
      {"subject", {{"school", {{"brin", "00JG"}}}, {"student_key", bsn}}},
      {"content", {{"domain", "health"}, {"indicator", "sdq.total_difficulties"}, {"severity", "concern"}}},
      {"governance", {{"data_category", "health"}}}}
      .dump();
}

config::subscription care_team() {
  auto s = all_to("care");
  s.fields = {"type", "subject.student_key", "subject.school"};
  s.privacy.health_ground = "health_care";
  return s;
}

}  // namespace

TEST_F(fixture, a_report_linked_by_bsn_takes_the_schools_student_and_never_keeps_the_bsn) {
  config::bsn_settings bsn;
  bsn.keys = {{"subject.student_key", "link"}};
  const auto& g = gate_for({care_team()}, bsn);
  privacy::link_registry links;
  // What the hub stores for that BSN: its keyed hash (the same the gate computes).
  nlohmann::json probe = nlohmann::json::parse(jgz_signal());
  const std::string hash = g.screen(probe, "quickstart").link_hash;
  ASSERT_FALSE(hash.empty());
  EXPECT_EQ(hash.find("111222333"), std::string::npos);
  links.put(hash, {"99XX", "00", "1001"});

  ingest_pipeline p(validator, g, &links);
  plugin_host::ingest_result r;
  r.signals = {jgz_signal(), jgz_signal("123456782")};  // the second BSN has no link
  r.signal_record_index = {0, 1};
  auto b = p.process(r, "quickstart", "jgz-fhir", 1795867200123);
  ASSERT_EQ(b.accepted.size(), 2u);
  EXPECT_FALSE(b.accepted[0].parked);
  EXPECT_TRUE(b.accepted[1].parked);
  ASSERT_EQ(b.rows.size(), 1u);
  const auto linked = nlohmann::json::parse(b.rows[0].json);
  EXPECT_EQ(linked["subject"]["student_key"], "1001");
  EXPECT_EQ(linked["subject"]["school"], (nlohmann::json{{"brin", "99XX"}, {"vestiging", "00"}}));
  ASSERT_EQ(b.items.size(), 1u);  // only the linked report is routed
  EXPECT_NE(b.items[0].event_json.find("1001"), std::string::npos);

  ASSERT_EQ(b.parked.size(), 1u);
  EXPECT_EQ(b.parked[0].id, b.accepted[1].id);
  EXPECT_EQ(b.parked[0].instance, "quickstart");
  EXPECT_FALSE(b.parked[0].link_hash.empty());
  for (const auto& text : {b.rows[0].json, b.parked[0].json, b.parked[0].link_hash, b.items[0].event_json}) {
    EXPECT_EQ(text.find("111222333"), std::string::npos);
    EXPECT_EQ(text.find("123456782"), std::string::npos);
  }

  // The link appears: the parked report takes the student and is routed now.
  batch later;
  std::string error;
  ASSERT_TRUE(p.unpark(b.parked[0], {"99XX", "", "2002"}, 1795867300000, later, error)) << error;
  ASSERT_EQ(later.rows.size(), 1u);
  EXPECT_EQ(later.rows[0].id, b.parked[0].id);
  EXPECT_EQ(nlohmann::json::parse(later.rows[0].json)["subject"]["student_key"], "2002");
  EXPECT_EQ(later.items.size(), 1u);
  EXPECT_EQ(later.touched_subscriptions, std::vector<std::string>{"care"});
}

TEST_F(fixture, without_a_link_field_or_registry_nothing_parks) {
  // A BSN in a field declared pseudonymise is hashed but never a link: the signal is stored as it is.
  config::bsn_settings bsn;
  bsn.keys = {{"subject.student_key", "pseudonymise"}};
  const auto& g = gate_for({care_team()}, bsn);
  privacy::link_registry links;
  ingest_pipeline p(validator, g, &links);
  plugin_host::ingest_result r;
  r.signals = {jgz_signal()};
  r.signal_record_index = {0};
  auto b = p.process(r, "quickstart", "jgz-fhir", 1795867200123);
  EXPECT_TRUE(b.parked.empty());
  ASSERT_EQ(b.rows.size(), 1u);
  // And a pipeline without a registry never parks a link field either (the daemon always gives one).
  config::bsn_settings link;
  link.keys = {{"subject.student_key", "link"}};
  ingest_pipeline q(validator, gate_for({care_team()}, link));
  EXPECT_TRUE(q.process(r, "quickstart", "jgz-fhir", 1795867200123).parked.empty());
}

}  // namespace schakel::pipeline
