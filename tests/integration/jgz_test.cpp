// End to end for issue 6: a JGZ FHIR Bundle through the real jgz-fhir connector and daemon (TLS). The
// young person is named only by BSN: the SDQ is scored, parked until the link is recorded, then
// delivered once to the care team, which the WGBO lets see it only with the young person's consent.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "hub_fixture.hpp"

namespace schakel::test {
namespace {

namespace fs = std::filesystem;

const std::string admin_token = "test-admin-token-0123456789abcdefghijkl";
const std::string jgz_token = "test-jgz-token-0123456789abcdefghijklmnop";
const std::string bsn = "111222333";  // passes the 11-test
const std::string patient_name = "Jolien Testpersoon";

/**
 * A collection Bundle: the Patient (BSN only, a name the hub must never pass on), the hand-scored
 * self-report Q3 of connectors/jgz-fhir/tests (total 34, every band abnormal) referring to it, and a
 * Practitioner the connector does not read.
 */
std::string jgz_bundle() {
  std::ifstream in(fs::path(SCHAKEL_SOURCE_DIR) / "connectors/jgz-fhir/tests/data/qr-q3-self.json");
  nlohmann::json qr = nlohmann::json::parse(in);
  qr["subject"] = {{"reference", "urn:uuid:6f1c2d3e-0000-4000-8000-000000000001"}};
  nlohmann::json patient = {{"resourceType", "Patient"},
                            {"identifier", {{{"system", "http://fhir.nl/fhir/NamingSystem/bsn"}, {"value", bsn}}}},
                            {"name", {{{"text", patient_name}}}},
                            {"birthDate", "2010-03-01"}};
  nlohmann::json practitioner = {{"resourceType", "Practitioner"}, {"name", {{{"text", "J. Verpleegkundige"}}}}};
  nlohmann::json bundle = {{"resourceType", "Bundle"}, {"type", "collection"}, {"entry", nlohmann::json::array()}};
  bundle["entry"].push_back({{"fullUrl", "urn:uuid:6f1c2d3e-0000-4000-8000-000000000001"}, {"resource", patient}});
  bundle["entry"].push_back({{"fullUrl", "urn:uuid:6f1c2d3e-0000-4000-8000-000000000002"}, {"resource", qr}});
  bundle["entry"].push_back({{"fullUrl", "urn:uuid:6f1c2d3e-0000-4000-8000-000000000003"}, {"resource", practitioner}});
  return bundle.dump();
}

nlohmann::json jgz_config(const fs::path& data_dir, const tls_files& tls, const receiver_process& care) {
  const nlohmann::json school = {{"brin", "99XX"}, {"vestiging", "00"}};
  return {{"listen",
           {{"address", "127.0.0.1"},
            {"port", 0},
            {"tls", {{"cert_file", tls.server_cert.string()}, {"key_file", tls.server_key.string()}}}}},
          {"data_dir", data_dir.string()},
          {"admin_token", admin_token},
          {"connectors",
           {{{"name", "jgz-fhir"},
             {"plugin", "jgz-fhir"},
             {"token", jgz_token},
             {"bsn", {{"keys", {{"subject.student_key", "link"}}}}},
             {"settings", {{"link", {{"bsn", true}, {"bsn_school", school}}}}}}}},
          {"subscriptions",
           {{{"name", "care-team"},
             {"partner", "ZAT"},
             {"filter", {{"types", {"nl.schakel.jgz.sdq.scored"}}, {"schools", {"99XX"}}}},
             {"fields",
              {"type", "subject.student_key", "subject.school", "content.value", "content.severity", "content.evidence",
               "governance.data_category"}},
             {"privacy",
              {{"identity", "identified"},
               {"purpose", "care team support after JGZ screening"},
               {"legal_basis", "consent"},
               {"health_ground", "explicit_consent"},
               {"consent_framework", "wgbo"}}},
             {"delivery",
              {{"webhook", loopback_webhook(care.url())},
               {"retry", {{"max_attempts", 12}, {"initial_backoff", "50ms"}, {"max_backoff", "200ms"}}}}}}}}};
}

struct jgz_fixture : ::testing::Test {
  temp_dir dir{"schakel-jgz-it"};
  tls_files tls = make_test_tls(made(dir / "tls"), "hub");
  receiver_process care{made(dir / "care"), {}};
  hub_process hub{dir.path() / "hub"};

  http_reply call(const std::string& method, const std::string& target, const std::string& token,
                  const std::string& body, const std::string& content_type = "application/json") {
    return send(hub.port(),
                http_call{method, target, body, {{"Authorization", "Bearer " + token}, {"Content-Type", content_type}}},
                tls.ca_cert);
  }
};

}  // namespace

TEST_F(jgz_fixture, an_sdq_by_bsn_is_scored_parked_linked_and_reaches_the_care_team_with_consent_only) {
  hub.start(jgz_config(hub.data_dir(), tls, care));

  auto reply = call("POST", "/v1/connectors/jgz-fhir/records", jgz_token, jgz_bundle(), "application/fhir+json");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  auto body = nlohmann::json::parse(reply.body);
  ASSERT_EQ(body["accepted"].size(), 1u);
  EXPECT_EQ(body["accepted"][0]["index"], 1);
  EXPECT_EQ(body["accepted"][0]["parked"], true);
  ASSERT_EQ(body["rejected"].size(), 1u);  // the Practitioner: reported, not silently dropped
  EXPECT_EQ(body["rejected"][0]["index"], 2);
  EXPECT_EQ(body["rejected"][0]["field"], "Bundle.entry[2].resource");

  auto parked = nlohmann::json::parse(call("GET", "/v1/parked", admin_token, "").body)["parked"];
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(parked[0]["type"], "nl.schakel.jgz.sdq.scored");

  // The young person (16 on the day of delivery) consents to the care team seeing it (WGBO: 16+ alone).
  const nlohmann::json consent = {{"school", "99XX"},        {"student_key", "1001"}, {"birth_date", "2010-03-01"},
                                  {"kind", "consent"},       {"given_by", "student"}, {"partner", "ZAT"},
                                  {"given_on", "2026-10-01"}};
  ASSERT_EQ(call("POST", "/v1/consents", admin_token, consent.dump()).status, 201u);

  auto linked =
      call("POST", "/v1/links", admin_token,
           R"({"bsn": ")" + bsn + R"(", "school": {"brin": "99XX", "vestiging": "00"}, "student_key": "1001"})");
  ASSERT_EQ(linked.status, 201u) << linked.body;
  EXPECT_EQ(nlohmann::json::parse(linked.body)["unparked"], 1);
  ASSERT_TRUE(wait_until([&] { return care.events().size() == 1; })) << hub.log();
  const auto data = care.events()[0]["event"]["data"];
  EXPECT_EQ(data["subject"]["student_key"], "1001");
  EXPECT_EQ(data["governance"]["data_category"], "health");
  EXPECT_EQ(data["content"]["value"], 34);  // hand-scored Q3
  EXPECT_EQ(data["content"]["severity"], "concern");
  EXPECT_EQ(data["content"]["evidence"]["total_band"], "abnormal");
  EXPECT_EQ(data["content"]["evidence"]["version"], "self_11_17");

  // The BSN and the name never leave the JGZ's document: not in the log, the answers, the event, the metrics.
  const std::string metrics = metrics_text(hub.port(), tls.ca_cert, admin_token);
  for (const auto& text : {hub.log(), metrics, reply.body, care.events()[0].dump()}) {
    EXPECT_EQ(text.find(bsn), std::string::npos);
    EXPECT_EQ(text.find(patient_name), std::string::npos);
  }
}

}  // namespace schakel::test
