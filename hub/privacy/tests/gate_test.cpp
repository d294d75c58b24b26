#include "privacy/gate.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "privacy/bsn.hpp"
#include "privacy/tests/gate_fixture.hpp"
#include "routing/router.hpp"

namespace schakel::privacy {
namespace {

using namespace gate_testing;
using json = nlohmann::json;

TEST_F(gate_test, routes_to_each_matching_subscription_with_stable_lanes) {
  auto a = sub("a");
  auto b = sub("b");
  b.filter.domains = {"health"};
  auto c = sub("c");
  c.delivery.lanes = 8;
  make({a, b, c});
  const auto out = route(row_signal());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].subscription, "a");
  EXPECT_EQ(out[1].subscription, "c");
  EXPECT_EQ(out[1].lane, routing::lane_for(row_signal(), 8));
  EXPECT_EQ(out[0].signal_type, "nl.schakel.attendance.absence.recorded");
  EXPECT_EQ(out[0].data_category, "ordinary");
  // The hub's own pseudonym: stable, and not the key.
  EXPECT_EQ(out[0].subject_ref, gate_->subject_ref("12AB", "S-000123"));
  EXPECT_EQ(out[0].subject_ref.size(), 32u);
  EXPECT_EQ(out[0].subject_ref.find("S-000123"), std::string::npos);
}

TEST_F(gate_test, staff_free_text_reaches_only_the_schools_own_subscriptions) {
  json note_signal = row_signal();
  note_signal["content"]["note"] = "zat alleen in de kantine";
  auto mentor = sub("mentor");
  mentor.privacy.audience = "school";
  mentor.filter.schools = {"12AB"};
  mentor.fields = {"id", "type", "subject.student_key", "content"};
  // A partner listing all of content (or, past check-config, content.note itself) still gets no note.
  auto partner_all = sub("partner_all");
  partner_all.fields = {"id", "type", "content"};
  auto partner_note = sub("partner_note");
  partner_note.fields = {"id", "content.severity", "content.note"};
  auto pseudo = pseudonymous("pseudo", 'p');
  pseudo.fields.push_back("content");
  make({mentor, partner_all, partner_note, pseudo});
  const auto out = route(note_signal);
  ASSERT_EQ(out.size(), 4u);
  for (const auto& item : out) {
    const bool has_note = item.event_json.find("zat alleen in de kantine") != std::string::npos;
    EXPECT_EQ(has_note, item.subscription == "mentor") << item.subscription;
  }
  const json partner = json::parse(out[1].event_json)["data"];
  EXPECT_EQ(partner["content"]["severity"], "attention");  // the rest of content still arrives
  EXPECT_FALSE(partner["content"].contains("note"));
}

TEST_F(gate_test, denies_by_default_a_subscription_without_a_policy) {
  auto none = sub("none");
  none.privacy = {};
  make({none});
  EXPECT_TRUE(route(row_signal()).empty());
  EXPECT_EQ(gate_->policy_refusal(none, row_signal(), day_2026_11_28), "no_policy");
}

TEST_F(gate_test, an_aggregate_subscription_never_gets_a_row_about_one_student) {
  // Built by hand, past check-config (which would refuse it): the gate holds on its own.
  auto agg = sub("regional", "aggregate");
  agg.fields = {"type", "subject.school", "subject.student_key", "content.value"};
  make({agg});
  EXPECT_TRUE(route(row_signal()).empty());
  const auto class_level = route(row_signal(""));
  ASSERT_EQ(class_level.size(), 1u);
  EXPECT_TRUE(class_level[0].subject_ref.empty());
}

TEST_F(gate_test, health_data_needs_consent_or_an_art9_ground_at_run_time_too) {
  auto plain = sub("plain");
  auto grounded = sub("grounded");
  grounded.privacy.health_ground = "health_care";
  auto by_consent = sub("by-consent");
  by_consent.privacy.legal_basis = "consent";
  make({plain, grounded, by_consent});
  const auto out = route(row_signal("S-1", "health"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].subscription, "grounded");
  EXPECT_EQ(out[0].data_category, "health");
  EXPECT_EQ(out[1].subscription, "by-consent");
  EXPECT_EQ(route(row_signal("S-1", "ordinary")).size(), 3u);
}

TEST_F(gate_test, pseudonyms_are_stable_per_partner_and_differ_across_partners) {
  make({pseudonymous("jgz", 'a'), pseudonymous("wijkteam", 'b')});
  const auto first = route(row_signal());
  const auto again = route(row_signal());
  ASSERT_EQ(first.size(), 2u);
  const auto jgz = json::parse(first[0].event_json);
  const auto wijk = json::parse(first[1].event_json);
  EXPECT_EQ(first[0].event_json, again[0].event_json);
  for (const auto* ev : {&jgz, &wijk}) {
    EXPECT_FALSE((*ev)["data"]["subject"].contains("student_key"));
    EXPECT_EQ((*ev)["data"]["subject"]["pseudonym_key"], "k1");
    EXPECT_EQ((*ev)["data"]["subject"]["pseudonym"].get<std::string>().size(), 32u);
    EXPECT_EQ(ev->dump().find("S-000123"), std::string::npos);
    // Hub ids are shared by all partners; pseudonymous partners get their own stand-ins.
    EXPECT_NE((*ev)["id"], "01JDZ3K7Q8M2X4V6N8P0R2T4W6");
    EXPECT_EQ((*ev)["data"]["id"], (*ev)["id"]);
    EXPECT_EQ(ev->dump().find("01JDZ3K7Q8M2X4V6N8P0R2T4W5"), std::string::npos);
  }
  EXPECT_NE(jgz["data"]["subject"]["pseudonym"], wijk["data"]["subject"]["pseudonym"]);
  EXPECT_NE(jgz["id"], wijk["id"]);
  // Another student, another pseudonym for the same partner.
  const auto other = json::parse(route(row_signal("S-000124"))[0].event_json);
  EXPECT_NE(other["data"]["subject"]["pseudonym"], jgz["data"]["subject"]["pseudonym"]);
  // The same key in another school is another student.
  auto elsewhere = row_signal();
  elsewhere["subject"]["school"]["brin"] = "34CD";
  EXPECT_NE(json::parse(route(elsewhere)[0].event_json)["data"]["subject"]["pseudonym"],
            jgz["data"]["subject"]["pseudonym"]);
}

TEST_F(gate_test, during_key_rotation_the_partner_gets_both_pseudonyms) {
  auto s = pseudonymous("jgz", 'a');
  s.privacy.pseudonym_keys[0].retire_after = "2026-12-31";
  s.privacy.pseudonym_keys.push_back({"k2", key_file("jgz-2027.key", 'c'), "2026-12-01", ""});
  make({s});
  const auto before = json::parse(route(row_signal(), day_2026_11_28)[0].event_json)["data"]["subject"];
  EXPECT_EQ(before["pseudonym_key"], "k1");
  EXPECT_FALSE(before.contains("pseudonyms"));
  const auto overlap = json::parse(route(row_signal(), day_2026_11_28 + 10 * one_day)[0].event_json)["data"]["subject"];
  EXPECT_EQ(overlap["pseudonym_key"], "k2");
  ASSERT_EQ(overlap["pseudonyms"].size(), 2u);
  EXPECT_EQ(overlap["pseudonyms"][1]["key"], "k1");
  EXPECT_EQ(overlap["pseudonyms"][1]["value"], before["pseudonym"]);
  const auto after = json::parse(route(row_signal(), day_2026_11_28 + 40 * one_day)[0].event_json)["data"]["subject"];
  EXPECT_EQ(after["pseudonym"], overlap["pseudonym"]);
  EXPECT_FALSE(after.contains("pseudonyms"));
}

TEST_F(gate_test, a_pseudonymous_subscription_without_a_key_in_use_gets_nothing) {
  auto s = pseudonymous("jgz", 'a');
  s.privacy.pseudonym_keys[0].retire_after = "2026-01-31";
  make({s});
  EXPECT_TRUE(route(row_signal()).empty());
}

TEST_F(gate_test, a_bsn_is_refused_at_ingest_unless_its_field_is_a_declared_key) {
  config::connector_instance declared;
  declared.name = "jgz-fhir";
  declared.bsn.keys = {{"subject.student_key", "link"}};
  declared.bsn.exempt = {"source.record_id"};
  config::connector_instance plain;
  plain.name = "src";
  make({}, {declared, plain});

  auto s = row_signal("111222333");
  auto r = gate_->screen(s, "src");
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.field, "subject.student_key");
  EXPECT_EQ(r.reason.find("111222333"), std::string::npos);

  auto linked = row_signal("111222333");
  linked["source"]["record_id"] = "123456782";  // looks like a BSN, exempted as a record number
  ASSERT_TRUE(gate_->screen(linked, "jgz-fhir").accepted);
  const std::string hashed = linked["subject"]["student_key"];
  EXPECT_EQ(hashed.size(), 32u);
  EXPECT_FALSE(is_bsn(hashed));
  EXPECT_EQ(linked.dump().find("111222333"), std::string::npos);
  // Eight digits are the same BSN zero-padded: the same hash.
  auto eight = row_signal("11222335");
  ASSERT_TRUE(is_bsn("11222335"));
  ASSERT_TRUE(gate_->screen(eight, "jgz-fhir").accepted);
  auto nine = row_signal("011222335");
  ASSERT_TRUE(gate_->screen(nine, "jgz-fhir").accepted);
  EXPECT_EQ(eight["subject"]["student_key"], nine["subject"]["student_key"]);

  // Declared keys don't license a BSN elsewhere in the record.
  auto evidence = row_signal("S-1");
  evidence["content"]["evidence"] = {{"note", "lln 111222333 ziek"}};
  r = gate_->screen(evidence, "jgz-fhir");
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.field, "content.evidence.note");
  // A key that is not a BSN stays as it is.
  auto normal = row_signal("S-000123");
  ASSERT_TRUE(gate_->screen(normal, "jgz-fhir").accepted);
  EXPECT_EQ(normal["subject"]["student_key"], "S-000123");
}

TEST_F(gate_test, delivery_check_asks_for_consent_only_where_the_policy_rests_on_it) {
  auto duty = sub("duty");
  duty.privacy.legal_basis = "legal_obligation";
  auto consent = sub("consent");
  consent.privacy.legal_basis = "consent";
  auto health = sub("health");
  health.privacy.health_ground = "explicit_consent";
  make({duty, consent, health});
  storage::unit_member m;
  m.subject_ref = gate_->subject_ref("12AB", "S-1");
  m.data_category = "ordinary";
  EXPECT_TRUE(gate_->check_delivery("duty", m, day_2026_11_28).allowed);
  EXPECT_FALSE(gate_->check_delivery("consent", m, day_2026_11_28).allowed);
  // Explicit consent as the art. 9 ground binds health data only.
  EXPECT_TRUE(gate_->check_delivery("health", m, day_2026_11_28).allowed);
  m.data_category = "health";
  EXPECT_FALSE(gate_->check_delivery("health", m, day_2026_11_28).allowed);
  consent_record r;
  r.kind = consent_kind::consent;
  r.given_by = consenter::parent;
  r.partner = "partner of health";
  r.given_on = "2026-09-01";
  r.birth_date = "2014-03-01";  // 12: AVG asks the parent
  r.recorded_ms = 1;
  consents_.add(m.subject_ref, r);
  EXPECT_TRUE(gate_->check_delivery("health", m, day_2026_11_28).allowed);
  // A class-level event has no subject to ask about.
  storage::unit_member class_level;
  EXPECT_TRUE(gate_->check_delivery("consent", class_level, day_2026_11_28).allowed);
  EXPECT_FALSE(gate_->check_delivery("unknown", m, day_2026_11_28).allowed);
}

TEST_F(gate_test, audit_records_name_partner_purpose_basis_and_subject_pseudonym) {
  auto s = sub("jgz");
  s.privacy.health_ground = "health_care";
  make({s});
  storage::unit_member m;
  m.signal_id = "01JDZ3K7Q8M2X4V6N8P0R2T4W6";
  m.signal_type = "nl.schakel.attendance.mazl.referred";
  m.subject_ref = gate_->subject_ref("12AB", "S-1");
  m.data_category = "health";
  const auto e = gate_->delivery_audit("jgz", m, "delivery.delivered", "success", "HTTP 200", day_2026_11_28);
  EXPECT_EQ(e.actor, "partner of jgz");
  EXPECT_EQ(e.actor_role, "partner");
  EXPECT_EQ(e.purpose, "test purpose");
  EXPECT_EQ(e.legal_basis, "public_task+art9:health_care");
  EXPECT_EQ(e.subject, m.subject_ref);
  EXPECT_EQ(e.object_id, m.signal_id);
  EXPECT_EQ(e.sensitivity, "health");
  EXPECT_EQ(audit::to_json(e).dump().find("S-1"), std::string::npos);
}

}  // namespace
}  // namespace schakel::privacy
