#include "privacy/gate.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "privacy/bsn.hpp"
#include "privacy/hub_ids.hpp"
#include "routing/router.hpp"

namespace schakel::privacy {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr std::int64_t day_2026_11_28 = 1795867200000;  // 2026-11-28T12:00:00Z
constexpr std::int64_t one_day = 24 * 3600 * 1000;

json row_signal(const std::string& key = "S-000123", const std::string& category = "ordinary") {
  json s = json::parse(R"({
    "id": "01JDZ3K7Q8M2X4V6N8P0R2T4W6", "schema_version": "1",
    "type": "nl.schakel.attendance.absence.recorded",
    "source": {"connector": "generic-json", "instance": "src", "record_id": "A-1"},
    "observed_at": "2026-11-23T08:30:00Z", "received_at": "2026-11-28T10:00:01.123Z",
    "subject": {"school": {"brin": "12AB", "vestiging": "01"}, "class": "2B"},
    "content": {"domain": "attendance", "indicator": "absence_hours", "value": 2, "severity": "attention"},
    "governance": {"data_category": "ordinary"},
    "derived_from": ["01JDZ3K7Q8M2X4V6N8P0R2T4W5"]
  })");
  if (!key.empty()) s["subject"]["student_key"] = key;
  s["governance"]["data_category"] = category;
  return s;
}

config::subscription sub(std::string name, std::string identity = "identified") {
  config::subscription s;
  s.name = std::move(name);
  s.partner = "partner of " + s.name;
  s.fields = {"id", "type", "subject.student_key", "subject.class", "content.severity", "derived_from"};
  s.privacy.identity = std::move(identity);
  s.privacy.purpose = "test purpose";
  s.privacy.legal_basis = "public_task";
  return s;
}

/** Key files in a private folder, as the hub demands them (0600). */
class gate_test : public ::testing::Test {
 protected:
  gate_test() : dir_(fs::temp_directory_path() / ("schakel-gate-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
  }
  ~gate_test() override { fs::remove_all(dir_); }

  std::string key_file(const std::string& name, char fill) {
    const auto path = dir_ / name;
    std::ofstream(path) << std::string(64, fill) << "\n";
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
    return path.string();
  }

  config::subscription pseudonymous(std::string name, char key_fill) {
    auto s = sub(std::move(name), "pseudonymous");
    s.fields = {"id", "type", "subject.class", "content.severity", "derived_from"};
    s.privacy.pseudonym_keys.push_back({"k1", key_file(s.name + ".key", key_fill), "", ""});
    return s;
  }

  gate& make(std::vector<config::subscription> subs, std::vector<config::connector_instance> connectors = {}) {
    config::hub_config cfg;
    cfg.subscriptions = std::move(subs);
    cfg.connectors = std::move(connectors);
    gate_ = std::make_unique<gate>(cfg, std::string(32, 'h'), consents_);
    return *gate_;
  }

  std::vector<storage::outbox_item> route(const json& signal, std::int64_t now = day_2026_11_28) {
    std::vector<storage::outbox_item> out;
    gate_->route(signal, signal["id"], now, out);
    return out;
  }

  fs::path dir_;
  consent_registry consents_;
  std::unique_ptr<gate> gate_;
};

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

/** An alert, and the retraction and referral that name it in their evidence, as processors write them. */
json alert_signal() {
  json s = row_signal();
  s["id"] = "01JDZ3K7Q8M2X4V6N8P0R2T4A1";
  s["type"] = "nl.schakel.attendance.alert.raised";
  s["content"]["evidence"] = {{"count", 4}};
  return s;
}
json naming(const std::string& type, const std::string& id, json evidence) {
  json s = row_signal();
  s["id"] = id;
  s["type"] = type;
  s["content"]["evidence"] = std::move(evidence);
  s["derived_from"] = json::array({alert_signal()["id"]});
  return s;
}

TEST_F(gate_test, a_pseudonymous_partner_gets_its_own_stand_in_for_every_hub_id_anywhere_in_the_event) {
  auto jgz = pseudonymous("jgz", 'a');
  auto wijk = pseudonymous("wijkteam", 'b');
  for (auto* s : {&jgz, &wijk}) {
    s->fields = {"id", "type", "source", "subject.class", "content", "derived_from"};
    s->filter.types = {"nl.schakel.attendance.alert.raised", "nl.schakel.alert.referral.recorded"};
  }
  make({jgz, wijk});
  const std::string alert_id = alert_signal()["id"];
  const auto alert = route(alert_signal());
  const auto retraction =
      route(naming("nl.schakel.attendance.alert.retracted", "01JDZ3K7Q8M2X4V6N8P0R2T4B2",
                   {{"retracts", alert_id}, {"retracts_type", "nl.schakel.attendance.alert.raised"}}));
  auto referral_signal = naming("nl.schakel.alert.referral.recorded", "01JDZ3K7Q8M2X4V6N8P0R2T4C3",
                                {{"alert", alert_id}, {"note_for", {{"alerts", {alert_id}}}}});
  // A source's own ULID is a time to the millisecond too.
  referral_signal["source"]["record_id"] = "01JDZ3K7Q8M2X4V6N8P0R2T4D4";
  const auto referral = route(referral_signal);
  ASSERT_EQ(alert.size(), 2u);
  ASSERT_EQ(retraction.size(), 2u);
  ASSERT_EQ(referral.size(), 2u);
  std::set<std::string> all_ids;
  for (std::size_t p = 0; p < 2; ++p) {
    const auto a = json::parse(alert[p].event_json);
    const auto r = json::parse(retraction[p].event_json);
    const auto f = json::parse(referral[p].event_json);
    for (const auto* item : {&alert[p], &retraction[p], &referral[p]}) {
      // No ULID-shaped token in the event or its webhook id, the stand-ins are what is left.
      const std::string text = item->event_json + " " + item->webhook_id;
      for (std::size_t i = 0; i + 26 <= text.size(); ++i) EXPECT_FALSE(is_hub_id(text.substr(i, 26))) << text;
      EXPECT_EQ(item->webhook_id, "msg_" + json::parse(item->event_json)["id"].get<std::string>());
    }
    all_ids.insert(a["id"].get<std::string>());
    // The partner can still tell what a retraction or a referral is about: its own id for the alert.
    EXPECT_EQ(r["data"]["content"]["evidence"]["retracts"], a["id"]);
    EXPECT_EQ(r["data"]["derived_from"][0], a["id"]);
    EXPECT_EQ(f["data"]["content"]["evidence"]["alert"], a["id"]);
    EXPECT_EQ(f["data"]["content"]["evidence"]["note_for"]["alerts"][0], a["id"]);
    EXPECT_EQ(f["data"]["source"]["record_id"].get<std::string>().size(), 32u);
    EXPECT_NE(r["id"], a["id"]);
  }
  EXPECT_EQ(all_ids.size(), 2u) << "two partners, two ids for one alert";
  EXPECT_NE(alert[0].webhook_id, alert[1].webhook_id);
  // Stable: routing the same signal again gives the same ids (a replayed log, a restart).
  EXPECT_EQ(route(alert_signal())[0].event_json, alert[0].event_json);
  EXPECT_EQ(route(alert_signal())[0].webhook_id, alert[0].webhook_id);
}

TEST_F(gate_test, an_aggregate_partner_gets_stand_ins_and_an_identified_one_the_hub_ids) {
  auto agg = sub("regional", "aggregate");
  agg.fields = {"id", "type", "subject.class", "content", "derived_from"};
  auto school = sub("coordinator");
  school.fields = agg.fields;
  make({agg, school});
  auto cell = naming("nl.schakel.trend.cell.released", "01JDZ3K7Q8M2X4V6N8P0R2T4E5", {{"window", "2026-W47"}});
  cell["subject"].erase("student_key");
  const auto out = route(cell);
  ASSERT_EQ(out.size(), 2u);
  const auto regional = json::parse(out[0].event_json);
  EXPECT_NE(regional["id"], "01JDZ3K7Q8M2X4V6N8P0R2T4E5");
  EXPECT_EQ(regional["id"].get<std::string>().size(), 32u);
  EXPECT_EQ(out[0].event_json.find("01JDZ3K7Q8M2X4V6N8P0R2T4A1"), std::string::npos);
  EXPECT_EQ(out[0].webhook_id, "msg_" + regional["id"].get<std::string>());
  // The school's own people quote the hub's id back to it (a referral); they know the student anyway.
  const auto coordinator = json::parse(out[1].event_json);
  EXPECT_EQ(coordinator["id"], "01JDZ3K7Q8M2X4V6N8P0R2T4E5");
  EXPECT_EQ(coordinator["data"]["derived_from"][0], "01JDZ3K7Q8M2X4V6N8P0R2T4A1");
  EXPECT_EQ(out[1].webhook_id, "") << "the store's msg_<signal id>_<tag>";
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
