// Issue 4 end to end: the real daemon, receivers and CLI over loopback. Identified, pseudonymous and
// consent-based partners, a match between two sources, BSN refusal, the audit trail, and the search
// of every log line and /metrics for the fixture students' keys and names.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "hub_fixture.hpp"

namespace schakel::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using json = nlohmann::json;

// Fixture students: keys and names that must never show up in a log, a metric or an error.
struct student {
  std::string key, first, last;
};
const student anna{"S-ANNA-0417", "Annabel", "Vreeswijk"};
const student bram{"S-BRAM-0988", "Brammetje", "Oosterhuizen"};
const std::string a_bsn = "111222333";

const std::string lvs_token = "tok_lvs_0123456789abcdef0123456789ab";

json mapping_with_name() {
  auto m = absence_mapping();
  // Names ride along in the source records (as real exports have them) but are not mapped.
  return m;
}

std::string records(const std::vector<std::pair<student, std::string>>& rows, int first_id) {
  json arr = json::array();
  int id = first_id;
  for (const auto& [s, severity] : rows)
    arr.push_back({{"id", "R-" + std::to_string(id++)},
                   {"leerling", s.key},
                   {"naam", s.first + " " + s.last},
                   {"brin", "12AB"},
                   {"klas", "2B"},
                   {"uren", 2},
                   {"ernst", severity}});
  return arr.dump();
}

json subscription(const std::string& name, const std::string& partner, const std::string& url, json filter, json fields,
                  json privacy) {
  return {{"name", name},
          {"partner", partner},
          {"filter", std::move(filter)},
          {"fields", std::move(fields)},
          {"privacy", std::move(privacy)},
          {"delivery",
           {{"webhook", loopback_webhook(url)},
            {"retry", {{"max_attempts", 5}, {"initial_backoff", "50ms"}, {"max_backoff", "200ms"}}}}}};
}

std::string key_file(const fs::path& path, char fill) {
  std::ofstream(path) << std::string(64, fill) << "\n";
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  return path.string();
}

std::string read_all(const fs::path& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), {}};
}

class privacy_fixture : public ::testing::Test {
 protected:
  temp_dir dir{"schakel-privacy-it"};
  receiver_process coordinator{made(dir / "coordinator"), {}};
  receiver_process zat{made(dir / "zat"), {}};
  receiver_process matches{made(dir / "matches"), {}};
  hub_process hub{dir.path() / "hub"};

  json config() {
    const auto zat_key = key_file(dir / "zat.key", 'a');
    const auto match_key = key_file(dir / "match.key", 'b');
    json connectors = json::array();
    connectors.push_back(
        {{"name", "src"}, {"plugin", "generic-json"}, {"token", ingest_token}, {"settings", mapping_with_name()}});
    connectors.push_back(
        {{"name", "lvs"}, {"plugin", "generic-json"}, {"token", lvs_token}, {"settings", mapping_with_name()}});
    json subs = json::array();
    subs.push_back(subscription(
        "coordinator", "Verzuimcoördinator", coordinator.url(),
        {{"types", {"nl.schakel.attendance.absence.recorded"}}, {"instances", {"src"}}},
        {"type", "subject.student_key", "content.severity"},
        {{"identity", "identified"}, {"purpose", "school attendance follow-up"}, {"legal_basis", "public_task"}}));
    subs.push_back(subscription("zat", "Zorg- en adviesteam", zat.url(),
                                {{"types", {"nl.schakel.attendance.absence.recorded"}}, {"instances", {"src"}}},
                                {"type", "subject.class", "content.severity"},
                                {{"identity", "pseudonymous"},
                                 {"purpose", "care team consultation"},
                                 {"legal_basis", "consent"},
                                 {"pseudonym_keys", {{{"id", "zat-1"}, {"file", zat_key}}}}}));
    subs.push_back(subscription("matches", "Zorgcoördinator (matches)", matches.url(),
                                {{"types", {"nl.schakel.match.detected"}}},
                                {"type", "content.evidence.roles", "content.evidence.role_count"},
                                {{"identity", "pseudonymous"},
                                 {"purpose", "matches: professionals contact each other"},
                                 {"legal_basis", "public_task"},
                                 {"health_ground", "health_care"},
                                 {"pseudonym_keys", {{{"id", "m-1"}, {"file", match_key}}}}}));
    json processors = json::array();
    processors.push_back({{"name", "match"},
                          {"plugin", "match-detection"},
                          {"settings", {{"roles", {{"src", "school-attendance"}, {"lvs", "school-care"}}}}}});
    return {{"listen", {{"address", "127.0.0.1"}, {"port", 0}}},
            {"access", access_section()},
            {"data_dir", hub.data_dir().string()},
            {"log_level", "debug"},
            {"connectors", connectors},
            {"processors", processors},
            {"subscriptions", subs}};
  }

  /** Whom a consent command is about, in a file: never on the command line. */
  std::string subject_file(const student& s, const std::string& birth = "") {
    const auto path = dir / ("subject-" + s.first + ".txt");
    std::ofstream(path) << "student_key=" << s.key << "\n" << (birth.empty() ? "" : "birth_date=" + birth + "\n");
    return path.string();
  }

  cli_result consent(const std::string& verb, const student& s, const std::string& birth) {
    return run_schakel(dir.path(),
                       {"consent", verb, "--config", hub.config_file().string(), "--token-file",
                        token_file(dir.path(), "privacy_officer").string(), "--school", "12AB", "--subject-file",
                        subject_file(s, birth), "--given-by", "student", "--partner", "Zorg- en adviesteam"},
                       "consent-" + verb + "-" + s.first);
  }
};

TEST_F(privacy_fixture, consent_pseudonyms_matches_audit_and_no_personal_data_in_logs_or_metrics) {
  fs::create_directories(dir / "hub");
  hub.start(config());

  // Anna (17) consents to the care team; Bram never does.
  auto c = consent("record", anna, "2009-03-02");
  ASSERT_EQ(c.exit, 0) << c.output;
  EXPECT_NE(c.output.find("recorded consent"), std::string::npos) << c.output;

  ASSERT_EQ(hub.post_records(records({{anna, "hoog"}, {bram, "hoog"}}, 1)).status, 200u);
  ASSERT_TRUE(wait_until([&] { return coordinator.distinct_events() == 2 && zat.distinct_events() == 1; }, 20s))
      << hub.log();
  // The coordinator is identified; the care team gets Anna's pseudonym only, Bram's event was dropped.
  std::set<std::string> keys;
  for (const auto& e : coordinator.events()) keys.insert(e["event"]["data"]["subject"]["student_key"]);
  EXPECT_EQ(keys, (std::set<std::string>{anna.key, bram.key}));
  const auto zat_event = zat.events()[0]["event"];
  EXPECT_FALSE(zat_event["data"]["subject"].contains("student_key"));
  const std::string anna_for_zat = zat_event["data"]["subject"]["pseudonym"];
  EXPECT_EQ(anna_for_zat.size(), 32u);
  EXPECT_EQ(zat_event.dump().find(anna.key), std::string::npos);

  // The LVS raises a concern about Anna too: two roles, one match, pseudonymous, roles only.
  ASSERT_EQ(hub.post_records(records({{anna, "hoog"}}, 10), lvs_token, "lvs").status, 200u);
  ASSERT_TRUE(wait_until([&] { return matches.distinct_events() == 1; }, 20s)) << hub.log();
  const auto match = matches.events()[0]["event"];
  EXPECT_EQ(match["type"], "nl.schakel.match.detected");
  EXPECT_EQ(match["data"]["content"]["evidence"]["roles"], "school-attendance,school-care");
  const std::string anna_for_matches = match["data"]["subject"]["pseudonym"];
  EXPECT_NE(anna_for_matches, anna_for_zat) << "pseudonyms must differ across partners";
  EXPECT_EQ(match.dump().find(anna.key), std::string::npos);

  // Anna withdraws; the next events for the care team are dropped at delivery time and audited.
  c = consent("withdraw", anna, "2009-03-02");
  ASSERT_EQ(c.exit, 0) << c.output;
  ASSERT_EQ(hub.post_records(records({{anna, "hoog"}}, 20)).status, 200u);
  ASSERT_TRUE(wait_until([&] { return coordinator.distinct_events() == 3; }, 20s)) << hub.log();
  std::string metrics;
  ASSERT_TRUE(wait_until(
      [&] {
        metrics = metrics_text(hub.port());
        return metrics.find(
                   "schakel_deliveries_total{subscription=\"zat\",outcome=\"dropped\",node=\"test-node\"} 2") !=
               std::string::npos;
      },
      20s))
      << metrics;
  EXPECT_EQ(zat.distinct_events(), 1u);

  // A BSN as the student key is refused, naming the field and never the number.
  const auto refused = hub.post_records(records({{{a_bsn, anna.first, anna.last}, "hoog"}}, 30));
  ASSERT_EQ(refused.status, 422u) << refused.body;
  EXPECT_NE(refused.body.find("subject.student_key"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.body.find(a_bsn), std::string::npos) << refused.body;
  // A bad record (unknown severity code is fine; a missing hours field is not) is refused by index.
  auto bad = json::parse(records({{bram, "hoog"}}, 40));
  bad[0].erase("uren");
  const auto bad_reply = hub.post_records(bad.dump());
  EXPECT_EQ(bad_reply.body.find(bram.key), std::string::npos) << bad_reply.body;
  // The consent list and dead-letter view are audited admin reads.
  c = run_schakel(
      dir.path(),
      {"consent", "list", "--config", hub.config_file().string(), "--token-file",
       token_file(dir.path(), "privacy_officer").string(), "--school", "12AB", "--subject-file", subject_file(anna)},
      "consent-list");
  ASSERT_EQ(c.exit, 0) << c.output;
  EXPECT_NE(c.output.find("2 record(s)"), std::string::npos) << c.output;
  ASSERT_EQ(send(hub.port(), as_role("operator", "GET", "/v1/deadletters")).status, 200u);

  // The audit trail: intact, and it says who got what about whom (by pseudonym), and what was dropped.
  auto verify = run_schakel(dir.path(), {"audit", "verify", "--config", hub.config_file().string()}, "verify");
  ASSERT_EQ(verify.exit, 0) << verify.output;
  EXPECT_NE(verify.output.find("intact"), std::string::npos) << verify.output;
  auto exported = run_schakel(dir.path(), {"audit", "export", "--config", hub.config_file().string()}, "export");
  ASSERT_EQ(exported.exit, 0) << exported.output;
  std::map<std::string, int> actions;
  std::istringstream lines(exported.output);
  for (std::string line; std::getline(lines, line);) {
    const auto j = json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    ++actions[j.value("action", "")];
    if (j.value("action", "") == "delivery.dropped") {
      EXPECT_EQ(j.value("actor", ""), "Zorg- en adviesteam");
      EXPECT_EQ(j.value("purpose", ""), "care team consultation");
    }
  }
  EXPECT_EQ(actions["delivery.dropped"], 2) << exported.output;
  EXPECT_GE(actions["delivery.delivered"], 5) << exported.output;
  EXPECT_EQ(actions["consent.recorded"], 2) << exported.output;
  EXPECT_EQ(actions["consent.viewed"], 1) << exported.output;
  EXPECT_EQ(actions["deadletter.viewed"], 1) << exported.output;

  // Now the search: no key, name or BSN in any log line, metric, CLI output or audit record.
  metrics = metrics_text(hub.port());
  hub.process().terminate(SIGTERM, 10s);
  std::string everything = hub.log() + metrics + verify.output + exported.output;
  for (const auto& entry : fs::recursive_directory_iterator(dir.path()))
    if (entry.path().extension() == ".out" || entry.path().extension() == ".log") everything += read_all(entry.path());
  ASSERT_GT(hub.log().size(), 1000u) << "the log must have something to search";
  for (const auto& needle : {anna.key, anna.first, anna.last, bram.key, bram.first, bram.last, a_bsn})
    EXPECT_EQ(everything.find(needle), std::string::npos) << "found " << needle;
}

}  // namespace
}  // namespace schakel::test
