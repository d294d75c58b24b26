// End to end for issue 5: tracking-system exports through the tracking connector and the
// tracking-trends processor, and staff observations through POST /v1/observations, over TLS to the
// real daemon, delivered to the school's own mentor/ZAT coordinator and to an outside partner.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "hub_fixture.hpp"

namespace schakel::test {
namespace {

namespace fs = std::filesystem;

const std::string admin_token = "test-admin-token-0123456789abcdefghijkl";
const std::string lvs_token = "test-lvs-token-0123456789abcdefghijklmnop";
const std::string staff_token = "test-staff-token-0123456789abcdefghijklmn";
const std::string caretaker_token = "test-caretaker-token-0123456789abcdefghij";

// Student keys that occur nowhere else in a log (ports, times), so a search for them means something.
const std::string quiet = "LL-77310";    // the quietly withdrawn student
const std::string sliding = "LL-77320";  // a band crossing without a large drop
const std::string at_risk = "LL-77330";  // in the worst band from the first round
const std::string note_text = "Eet alleen in de pauze, zegt weinig";

const std::string header =
    "Leerlingnummer;Klas;Leerjaar;Afnamedatum;Instrument;Invuller;Schaal;Ruwe score;"
    "Normscore;Niveau;Ronde;Regel-id\n";

std::string row(const std::string& student, const std::string& date, const std::string& scale, int raw,
                const std::string& band, const std::string& round, const std::string& id) {
  return student + ";2B;2;" + date + ";zien-vo-like;L;" + scale + ";" + std::to_string(raw) + ";;" + band + ";" +
         round + ";" + id + "\n";
}

/** Autumn round; line 6 has an impossible date and must be refused on its own. */
std::string autumn() {
  return header + row(quiet, "05-10-2026", "Sociale autonomie", 30, "Gemiddeld", "2026-najaar", "A1") +
         row(quiet, "05-10-2026", "Sociaal initiatief", 30, "Gemiddeld", "2026-najaar", "A2") +
         row(quiet, "05-10-2026", "Impulsbeheersing", 30, "Gemiddeld", "2026-najaar", "A3") +
         row(sliding, "05-10-2026", "Welbevinden", 32, "Gemiddeld", "2026-najaar", "A4") +
         row("LL-77340", "31-09-2026", "Welbevinden", 32, "Gemiddeld", "2026-najaar", "A5") +
         row(at_risk, "05-10-2026", "Welbevinden", 12, "Ver onder gemiddeld", "2026-najaar", "A6");
}

/**
 * Spring round. `quiet`: the internalising scale drops 5 points into "below average" (a decline), the
 * social scale moves into "below average" at an equal score (a norm change, not a decline) and
 * behaviour stays average: the quiet-withdrawal pattern. `sliding` drops 2 points (below decline_by
 * 4) but crosses into "below average": a decline by band.
 */
std::string spring() {
  return header + row(quiet, "08-03-2027", "Sociale autonomie", 25, "Onder gemiddeld", "2027-voorjaar", "B1") +
         row(quiet, "08-03-2027", "Sociaal initiatief", 30, "Onder gemiddeld", "2027-voorjaar", "B2") +
         row(quiet, "08-03-2027", "Impulsbeheersing", 31, "Gemiddeld", "2027-voorjaar", "B3") +
         row(sliding, "08-03-2027", "Welbevinden", 30, "Onder gemiddeld", "2027-voorjaar", "B4");
}

nlohmann::json delivery_to(const receiver_process& r) {
  return {{"webhook", loopback_webhook(r.url())},
          {"retry", {{"max_attempts", 12}, {"initial_backoff", "50ms"}, {"max_backoff", "200ms"}}}};
}

nlohmann::json observations_instance(const std::string& name, const std::string& token, const nlohmann::json& roles,
                                     int note_max_length) {
  return {
      {"name", name},
      {"plugin", "observations"},
      {"token", token},
      {"settings",
       {{"school", {{"brin", "99XX"}, {"vestiging", "00"}}}, {"roles", roles}, {"note_max_length", note_max_length}}}};
}

nlohmann::json tracking_config(const fs::path& data_dir, const tls_files& tls, const receiver_process& mentor,
                               const receiver_process& jgz) {
  const nlohmann::json observation_type = {"nl.schakel.observation.recorded"};
  return {{"listen",
           {{"address", "127.0.0.1"},
            {"port", 0},
            {"tls", {{"cert_file", tls.server_cert.string()}, {"key_file", tls.server_key.string()}}}}},
          {"data_dir", data_dir.string()},
          {"admin_token", admin_token},
          {"connectors",
           {{{"name", "tracking"},
             {"plugin", "tracking"},
             {"token", lvs_token},
             {"settings", {{"profile", "zien-like"}, {"school", {{"brin", "99XX"}, {"vestiging", "00"}}}}}},
            observations_instance("staff-portal", staff_token, {"mentor", "teacher", "youth_worker"}, 140),
            observations_instance("caretaker-app", caretaker_token, {"caretaker", "canteen_staff"}, 0)}},
          {"processors",
           {{{"name", "tracking-trends"},
             {"plugin", "tracking-trends"},
             {"inputs", {"tracking"}},
             {"settings",
              {{"instruments",
                {{"zien-vo-like",
                  {{"bands", {"above_average", "average", "below_average", "well_below_average"}},
                   {"decline_by", 4}}}}}}}}}},
          {"subscriptions",
           {{{"name", "mentor-zat"},
             {"partner", "Zorgcoördinator"},
             {"filter",
              {{"types",
                {"nl.schakel.tracking.score.at_risk", "nl.schakel.tracking.score.declined",
                 "nl.schakel.tracking.pattern.withdrawn", "nl.schakel.observation.recorded"}},
               {"schools", {"99XX"}}}},
             {"fields", {"type", "subject.student_key", "content", "governance.data_category", "derived_from"}},
             {"privacy",
              {{"identity", "identified"},
               {"audience", "school"},
               {"purpose", "student guidance by mentor and care coordinator"},
               {"legal_basis", "public_task"},
               {"health_ground", "substantial_public_interest"}}},
             {"delivery", delivery_to(mentor)}},
            // An outside partner that lists all of content: it must still never see the staff's note.
            {{"name", "jgz"},
             {"partner", "JGZ"},
             {"filter", {{"types", observation_type}, {"min_severity", "attention"}}},
             {"fields", {"type", "subject.student_key", "content", "governance.data_category"}},
             {"privacy",
              {{"identity", "identified"},
               {"purpose", "youth health care follow-up"},
               {"legal_basis", "public_task"},
               {"health_ground", "health_care"}}},
             {"delivery", delivery_to(jgz)}}}}};
}

struct tracking_fixture : ::testing::Test {
  temp_dir dir{"schakel-tracking-it"};
  tls_files tls = make_test_tls(made(dir / "tls"), "hub");
  receiver_process mentor{made(dir / "mentor"), {}};
  receiver_process jgz{made(dir / "jgz"), {}};
  hub_process hub{dir.path() / "hub"};

  void start() { hub.start(tracking_config(hub.data_dir(), tls, mentor, jgz)); }

  http_reply post(const std::string& target, const std::string& token, const std::string& body,
                  const std::string& content_type) {
    std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", content_type}};
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return send(hub.port(), http_call{"POST", target, body, headers}, tls.ca_cert);
  }

  bool caught_up() { return processors_caught_up(hub.port(), admin_token, tls.ca_cert); }

  std::vector<nlohmann::json> alerts_about(const std::string& type, const std::string& student) const {
    std::vector<nlohmann::json> out;
    for (const auto& e : mentor.of_type(type))
      if (e["data"]["subject"]["student_key"] == student) out.push_back(e);
    return out;
  }
};

}  // namespace

TEST_F(tracking_fixture, measurement_rounds_become_alerts_and_staff_observations_reach_the_mentor_with_their_note) {
  start();
  // --- Measurements: a bad line is refused on its own, by line and column; the rest is kept.
  auto reply = post("/v1/connectors/tracking/records", lvs_token, autumn(), "text/csv");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  auto body = nlohmann::json::parse(reply.body);
  EXPECT_EQ(body["accepted"].size(), 5u);
  ASSERT_EQ(body["rejected"].size(), 1u);
  EXPECT_EQ(body["rejected"][0]["index"], 6);
  EXPECT_EQ(body["rejected"][0]["field"], "Afnamedatum");
  EXPECT_EQ(reply.body.find("LL-77340"), std::string::npos);

  reply = post("/v1/connectors/tracking/records", lvs_token, spring(), "text/csv");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_EQ(nlohmann::json::parse(reply.body)["accepted"].size(), 4u);
  ASSERT_TRUE(wait_until([&] { return caught_up() && mentor.events().size() >= 4; }, std::chrono::seconds(20)))
      << hub.log();

  const auto risk = alerts_about("nl.schakel.tracking.score.at_risk", at_risk);
  ASSERT_EQ(risk.size(), 1u);
  EXPECT_EQ(risk[0]["data"]["content"]["evidence"]["band"], "well_below_average");
  const auto withdrawn = alerts_about("nl.schakel.tracking.pattern.withdrawn", quiet);
  ASSERT_EQ(withdrawn.size(), 1u);
  EXPECT_EQ(withdrawn[0]["data"]["content"]["domain"], "emotional");
  const auto quiet_declines = alerts_about("nl.schakel.tracking.score.declined", quiet);
  ASSERT_EQ(quiet_declines.size(), 1u);  // the social scale's worse band at an equal score is no decline
  EXPECT_EQ(quiet_declines[0]["data"]["content"]["evidence"]["scale"], "sociale_autonomie");
  EXPECT_EQ(quiet_declines[0]["data"]["content"]["evidence"]["reason"], "drop_and_band");
  const auto slide = alerts_about("nl.schakel.tracking.score.declined", sliding);
  ASSERT_EQ(slide.size(), 1u);
  EXPECT_EQ(slide[0]["data"]["content"]["evidence"]["reason"], "band");
  EXPECT_EQ(mentor.events().size(), 4u);
  EXPECT_TRUE(jgz.events().empty());  // tracking alerts are not the JGZ's

  // The same export again: nothing new.
  reply = post("/v1/connectors/tracking/records", lvs_token, spring(), "text/csv");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  ASSERT_TRUE(wait_until([&] { return caught_up(); }));
  EXPECT_EQ(mentor.events().size(), 4u);

  // --- Staff observations: the token picks the staff system.
  const std::string from_portal =
      nlohmann::json::array({
                                {{"student_key", quiet},
                                 {"category", "withdrawn"},
                                 {"severity", "attention"},
                                 {"observer_role", "mentor"},
                                 {"observed_at", "2027-03-10"},
                                 {"class", "2B"},
                                 {"leerjaar", 2},
                                 {"record_id", "obs-1"},
                                 {"note", note_text}},
                                {{"student_key", sliding},
                                 {"category", "self_harm_signs"},
                                 {"severity", "concern"},
                                 {"observer_role", "youth_worker"},
                                 {"observed_at", "2027-03-11T10:15:00+01:00"}},
                                // Not a role of this staff system, and an unknown field: each refused on its own.
                                {{"student_key", sliding},
                                 {"category", "tired"},
                                 {"severity", "info"},
                                 {"observer_role", "caretaker"},
                                 {"observed_at", "2027-03-11"}},
                                {{"student_key", sliding},
                                 {"category", "tired"},
                                 {"severity", "info"},
                                 {"observer_role", "teacher"},
                                 {"observed_at", "2027-03-11"},
                                 {"opmerking", "vrije tekst"}},
                            })
          .dump();
  reply = post("/v1/observations", staff_token, from_portal, "application/json");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  body = nlohmann::json::parse(reply.body);
  EXPECT_EQ(body["accepted"].size(), 2u);
  ASSERT_EQ(body["rejected"].size(), 2u);
  EXPECT_EQ(body["rejected"][0]["index"], 2);
  EXPECT_EQ(body["rejected"][0]["field"], "/observer_role");
  EXPECT_EQ(body["rejected"][1]["index"], 3);
  EXPECT_EQ(body["rejected"][1]["field"], "/opmerking");
  EXPECT_EQ(reply.body.find("vrije tekst"), std::string::npos);

  // The caretaker app allows no free text: a note refuses the record, and without it the record is kept.
  nlohmann::json sleeves = {{"student_key", sliding},      {"category", "long_sleeves_warm_weather"},
                            {"severity", "attention"},     {"observer_role", "caretaker"},
                            {"observed_at", "2027-06-15"}, {"note", "trui aan bij 28 graden"}};
  reply = post("/v1/observations", caretaker_token, sleeves.dump(), "application/json");
  EXPECT_EQ(reply.status, 422u) << reply.body;
  EXPECT_EQ(reply.body.find("28 graden"), std::string::npos);
  sleeves.erase("note");
  reply = post("/v1/observations", caretaker_token, sleeves.dump(), "application/json");
  ASSERT_EQ(reply.status, 200u) << reply.body;

  // Only a staff system's token opens /v1/observations; the tracking system's does not.
  EXPECT_EQ(post("/v1/observations", lvs_token, sleeves.dump(), "application/json").status, 401u);
  EXPECT_EQ(post("/v1/observations", "", sleeves.dump(), "application/json").status, 401u);
  EXPECT_EQ(send(hub.port(), http_call{"GET", "/v1/observations"}, tls.ca_cert).status, 401u);

  ASSERT_TRUE(wait_until([&] {
    return mentor.of_type("nl.schakel.observation.recorded").size() == 3 &&
           jgz.of_type("nl.schakel.observation.recorded").size() == 3;
  })) << hub.log();

  // The mentor (audience school) gets the note; the JGZ, though it lists all of content, does not.
  const auto noted = alerts_about("nl.schakel.observation.recorded", quiet);
  ASSERT_EQ(noted.size(), 1u);
  EXPECT_EQ(noted[0]["data"]["content"]["note"], note_text);
  EXPECT_EQ(noted[0]["data"]["content"]["evidence"]["observer_role"], "mentor");
  EXPECT_EQ(noted[0]["data"]["governance"]["data_category"], "ordinary");
  for (const auto& e : jgz.events()) {
    EXPECT_FALSE(e["event"]["data"]["content"].contains("note")) << e.dump();
    EXPECT_EQ(e["event"].dump().find("Eet alleen"), std::string::npos);
  }
  // Self-harm signs and long sleeves in warm weather are health data (AVG art. 9).
  int health = 0;
  for (const auto& e : jgz.of_type("nl.schakel.observation.recorded")) {
    const std::string category = e["data"]["content"]["evidence"]["category"];
    const bool is_health = e["data"]["governance"]["data_category"] == "health";
    EXPECT_EQ(is_health, category == "self_harm_signs" || category == "long_sleeves_warm_weather") << category;
    health += is_health ? 1 : 0;
  }
  EXPECT_EQ(health, 2);

  // No student key, note or refused free text in the daemon's log or metrics.
  const std::string log = hub.log();
  const std::string metrics = metrics_text(hub.port(), tls.ca_cert, admin_token);
  for (const std::string& secret : {quiet, sliding, at_risk, std::string("LL-77340"), std::string("Eet alleen"),
                                    std::string("vrije tekst"), std::string("28 graden")}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret;
    EXPECT_EQ(metrics.find(secret), std::string::npos) << secret;
  }
}

}  // namespace schakel::test
