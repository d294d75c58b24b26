// No hub identifier reaches a pseudonymous partner. The real daemon, two pseudonymous partners and
// their receivers: every byte each receives (every header, every body, failed attempts included) is
// searched for the hub's signal ids, the students' keys and anything ULID-shaped, across retries, a
// batch, a dead-letter replay, a referral and two retractions.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "hub_fixture.hpp"

namespace schakel::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using json = nlohmann::json;

const std::string anna = "S-ANNA-0417";
const std::string bram = "S-BRAM-0988";
const std::string lvs_token = "tok_lvs_0123456789abcdef0123456789ab";
const std::string absence = "nl.schakel.attendance.absence.recorded";
const std::string absence_retracted = "nl.schakel.attendance.absence.retracted";
const std::string alert = "nl.schakel.attendance.alert.raised";
const std::string referral = "nl.schakel.alert.referral.recorded";
const std::string match = "nl.schakel.match.detected";
const std::string match_retracted = "nl.schakel.match.retracted";

/** Records carry their type, so one source can send absences, an alert and a retraction. */
json mapping() {
  auto m = absence_mapping();
  auto& rules = m["mapping"];
  // The map lists the types this source may send (the hub checks subscriptions against them).
  json types = json::object();
  for (const auto& t : {absence, absence_retracted, alert, referral}) types[t] = t;
  rules["type"] = {{"pointer", "/type"}, {"required", true}, {"map", types}};
  rules["content.evidence.referral"] = {{"pointer", "/referral"}};
  rules["content.evidence.retracts"] = {{"pointer", "/retracts"}};
  rules["content.evidence.retracts_type"] = {{"pointer", "/retracts_type"}};
  return m;
}

/**
 * Pseudonymous partners may not receive source.record_id (it would link them), so a record is told
 * apart at the partner by its hours: R-1 has 1, R-2 2, R-3 3, L-1 11, L-2 12.
 */
json record(const std::string& id, const std::string& type, const std::string& student, const std::string& severity) {
  const int hours = std::stoi(id.substr(2)) + (id[0] == 'L' ? 10 : 0);
  return {{"id", id},     {"type", type},  {"leerling", student}, {"brin", "12AB"},
          {"klas", "2B"}, {"uren", hours}, {"ernst", severity}};
}

std::string key_file(const fs::path& path, char fill) {
  std::ofstream(path) << std::string(64, fill) << "\n";
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  return path.string();
}

json partner(const std::string& name, const std::string& url, const std::string& key, bool batched, int max_attempts) {
  json delivery = {{"webhook", loopback_webhook(url)},
                   {"retry", {{"max_attempts", max_attempts}, {"initial_backoff", "20ms"}, {"max_backoff", "50ms"}}},
                   // One lane: the receiver's scripted answers then meet the units in a known order.
                   {"lanes", 1}};
  if (batched) delivery["batch"] = {{"max_events", 50}, {"linger", "300ms"}};
  return {{"name", name},
          {"partner", "partner " + name},
          {"filter", {{"types", {absence, alert, referral, match}}}},
          // Everything a pseudonymous partner may list, so every place an id could sit goes out.
          {"fields",
           {"id", "type", "source.instance", "source.connector", "observed_at", "subject.school", "subject.class",
            "content", "derived_from"}},
          {"privacy",
           {{"identity", "pseudonymous"},
            {"purpose", "care coordination"},
            {"legal_basis", "public_task"},
            {"health_ground", "health_care"},
            {"pseudonym_keys", {{{"id", name + "-1"}, {"file", key}}}}}},
          {"delivery", delivery}};
}

/** Every line the receiver's --raw-out wrote: one request each, whatever the answer. */
std::vector<json> raw_requests(const fs::path& file) {
  std::vector<json> out;
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The receiver may be writing a long line as we read (a batch body spans several writes): only
  // lines it has finished, those ending in a newline, are requests yet.
  std::size_t start = 0;
  for (auto end = text.find('\n'); end != std::string::npos; start = end + 1, end = text.find('\n', start))
    if (end > start) out.push_back(json::parse(text.substr(start, end - start)));
  return out;
}

/** Events a partner accepted (2xx), from the raw requests: single events and batch members. */
std::vector<json> accepted_events(const std::vector<json>& requests) {
  std::vector<json> out;
  for (const auto& r : requests) {
    if (r["status"].get<unsigned>() / 100 != 2) continue;
    const auto body = json::parse(r["body"].get<std::string>());
    if (body.is_array())
      for (const auto& e : body) out.push_back(e);
    else
      out.push_back(body);
  }
  return out;
}

std::string header(const json& request, const std::string& name) {
  for (const auto& h : request["headers"])
    if (h[0] == name) return h[1];
  return {};
}

/** Every hub signal id, read from the hub's own database (the log and the parked reports). */
std::set<std::string> hub_ids(const fs::path& db) {
  std::set<std::string> ids;
  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    for (const char* sql : {"SELECT id FROM signals", "SELECT id FROM parked_signals"}) {
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(handle, sql, -1, &st, nullptr) != SQLITE_OK) continue;
      while (sqlite3_step(st) == SQLITE_ROW) ids.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
      sqlite3_finalize(st);
    }
  }
  sqlite3_close(handle);
  return ids;
}

bool crockford_upper(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U');
}

/** Any 26 consecutive upper-case Crockford characters starting with 0-7: a ULID, so a time. */
std::string ulid_shaped(const std::string& text) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    run = crockford_upper(text[i]) ? run + 1 : 0;
    if (run >= 26 && text[i - 25] >= '0' && text[i - 25] <= '7') return text.substr(i - 25, 26);
  }
  return {};
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/** A partner's view: its id for each source record, for each type, and every id it was given. */
struct partner_view {
  std::map<std::string, std::string> id_of_record;
  std::map<std::string, std::vector<json>> of_type;
  std::set<std::string> event_ids, webhook_ids;
};

partner_view view_of(const std::vector<json>& requests) {
  partner_view v;
  for (const auto& r : requests) v.webhook_ids.insert(header(r, "webhook-id"));
  for (const auto& e : accepted_events(requests)) {
    v.event_ids.insert(e["id"].get<std::string>());
    v.of_type[e["type"].get<std::string>()].push_back(e);
    const auto& data = e["data"];
    // Records the sources sent, told apart by their hours (see record()).
    const auto instance = data.value("source", json::object()).value("instance", "");
    const auto content = data.value("content", json::object());
    if ((instance == "src" || instance == "lvs") && content.contains("value")) {
      const int hours = content["value"].get<int>();
      v.id_of_record[std::string(hours > 10 ? "L-" : "R-") + std::to_string(hours % 10)] = e["id"].get<std::string>();
    }
  }
  return v;
}

class partner_ids_test : public ::testing::Test {
 protected:
  temp_dir dir{"schakel-partner-ids-it"};
  // jgz: batched, and its first attempt fails (a batch is retried). wijk: one event at a time; its
  // first unit fails twice and dies (then is replayed), its second fails once and is retried.
  receiver_process jgz{made(dir / "jgz"), {"--fail-first", "1", "--raw-out", (dir / "jgz" / "raw.jsonl").string()}};
  receiver_process wijk{made(dir / "wijk"),
                        {"--status-sequence", "500,500,500,200", "--raw-out", (dir / "wijk" / "raw.jsonl").string()}};
  hub_process hub{dir.path() / "hub"};

  json config() {
    json connectors = json::array();
    connectors.push_back(
        {{"name", "src"}, {"plugin", "generic-json"}, {"token", ingest_token}, {"settings", mapping()}});
    connectors.push_back({{"name", "lvs"}, {"plugin", "generic-json"}, {"token", lvs_token}, {"settings", mapping()}});
    json subs = json::array();
    subs.push_back(partner("jgz", jgz.url(), key_file(dir / "jgz.key", 'a'), true, 5));
    subs.push_back(partner("wijk", wijk.url(), key_file(dir / "wijk.key", 'b'), false, 2));
    json processors = json::array();
    processors.push_back(
        {{"name", "match"},
         {"plugin", "match-detection"},
         {"settings",
          {{"roles", {{"src", "school-attendance"}, {"lvs", "school-care"}}}, {"retract_on_withdrawal", true}}}});
    return {{"listen", {{"address", "127.0.0.1"}, {"port", 0}}},
            {"access", access_section()},
            {"data_dir", hub.data_dir().string()},
            {"connectors", connectors},
            {"processors", processors},
            {"subscriptions", subs}};
  }

  /** Posts records and returns the hub ids it accepted them under, in order. */
  std::vector<std::string> post(const json& records, const std::string& token, const std::string& instance) {
    const auto reply = hub.post_records(records.dump(), token, instance);
    EXPECT_EQ(reply.status, 200u) << reply.body;
    std::vector<std::string> ids;
    const auto answer = json::parse(reply.body);
    for (const auto& a : answer["accepted"]) ids.push_back(a["id"]);
    EXPECT_EQ(ids.size(), records.size()) << reply.body;
    return ids;
  }
};

TEST_F(partner_ids_test, a_pseudonymous_partner_receives_no_hub_id_student_key_or_time_derived_id) {
  fs::create_directories(dir / "hub");
  hub.start(config());

  // Anna: a concern from the school and one from the care system (a match), and an alert waiting
  // for a referral. Bram: one concern.
  const auto school = post(json::array({record("R-1", absence, anna, "hoog"), record("R-2", absence, bram, "hoog")}),
                           ingest_token, "src");
  auto alert_record = record("R-3", alert, anna, "laag");
  alert_record["referral"] = "pending";
  const auto alert_id = post(json::array({alert_record}), ingest_token, "src").at(0);
  const auto care_id = post(json::array({record("L-1", absence, anna, "hoog")}), lvs_token, "lvs").at(0);

  // wijk's first unit dies after two 500s; replay it once the receiver answers 200 again.
  json dead;
  ASSERT_TRUE(wait_until(
      [&] {
        dead = json::parse(send(hub.port(), as_role("operator", "GET", "/v1/deadletters")).body)["dead_letters"];
        return dead.size() == 1;
      },
      20s))
      << hub.log();
  EXPECT_EQ(dead[0]["subscription"], "wijk");
  const std::string dead_webhook_id = dead[0]["webhook_id"];
  ASSERT_EQ(send(hub.port(), as_role("operator", "POST",
                                     "/v1/deadletters/" + std::to_string(dead[0]["id"].get<long long>()) + "/replay"))
                    .status /
                100,
            2u);

  // The school informs the parents: the referral names the alert. The care system withdraws its
  // concern: the match no longer holds and is retracted.
  const auto referred =
      send(hub.port(), as_role("privacy_officer", "POST", "/v1/alerts/" + alert_id + "/referral",
                               json{{"parents_informed_on", "2024-01-08"}, {"informed_by", "mentor"}}.dump()));
  ASSERT_EQ(referred.status, 202u) << referred.body;
  auto withdrawal = record("L-2", absence_retracted, anna, "laag");
  withdrawal["retracts"] = care_id;
  withdrawal["retracts_type"] = absence;
  post(json::array({withdrawal}), lvs_token, "lvs");

  const auto jgz_raw = dir / "jgz" / "raw.jsonl";
  const auto wijk_raw = dir / "wijk" / "raw.jsonl";
  const auto complete = [&](const fs::path& raw) {
    const auto v = view_of(raw_requests(raw));
    for (const auto& t : {absence, alert, referral, match, match_retracted, absence_retracted})
      if (!v.of_type.contains(t)) return false;
    return v.of_type.at(absence).size() >= 3;
  };
  ASSERT_TRUE(wait_until([&] { return complete(jgz_raw) && complete(wijk_raw); }, 30s)) << hub.log();

  // The search: every header and body byte each partner received, failed attempts included.
  auto ids = hub_ids(hub.data_dir() / "schakel.db");
  ASSERT_GE(ids.size(), 8u) << "the hub's signal ids must be there to search for";
  ASSERT_TRUE(ids.contains(alert_id) && ids.contains(care_id) && ids.contains(school[0]));
  std::map<std::string, partner_view> views;
  for (const auto& [name, raw] : {std::pair{"jgz", jgz_raw}, std::pair{"wijk", wijk_raw}}) {
    const auto requests = raw_requests(raw);
    ASSERT_GE(requests.size(), 2u) << "a failed attempt and its retry at least";
    for (const auto& r : requests) {
      const std::string bytes = r.dump();
      const std::string folded = lower(bytes);
      for (const auto& id : ids)
        EXPECT_EQ(folded.find(lower(id)), std::string::npos) << name << " received hub id " << id << " in " << bytes;
      for (const auto& key : {anna, bram})
        EXPECT_EQ(folded.find(lower(key)), std::string::npos) << name << " received a student key in " << bytes;
      EXPECT_EQ(ulid_shaped(bytes), "") << name << " received a time-derived id in " << bytes;
    }
    views[name] = view_of(requests);
  }

  // Retries and the replay carry the same webhook id and the same bytes.
  for (const auto& raw : {jgz_raw, wijk_raw}) {
    std::map<std::string, std::string> body_of;
    std::map<std::string, int> attempts;
    for (const auto& r : raw_requests(raw)) {
      const auto id = header(r, "webhook-id");
      ++attempts[id];
      auto [it, fresh] = body_of.emplace(id, r["body"].get<std::string>());
      EXPECT_EQ(it->second, r["body"].get<std::string>()) << "webhook id " << id << " carried two bodies";
    }
    EXPECT_TRUE(std::any_of(attempts.begin(), attempts.end(), [](const auto& a) { return a.second > 1; }))
        << raw << ": no unit was retried";
  }
  EXPECT_TRUE(views["wijk"].webhook_ids.contains(dead_webhook_id));
  bool batch_seen = false;
  for (const auto& r : raw_requests(jgz_raw))
    batch_seen = batch_seen || header(r, "content-type").find("batch") != std::string::npos;
  EXPECT_TRUE(batch_seen) << "jgz must have received a batch";

  // Two partners cannot link what they received: no id in common, for the same signal.
  const auto& a = views["jgz"];
  const auto& b = views["wijk"];
  for (const auto& id : a.webhook_ids) EXPECT_FALSE(b.webhook_ids.contains(id)) << "shared webhook id " << id;
  for (const auto& id : a.event_ids) EXPECT_FALSE(b.event_ids.contains(id)) << "shared event id " << id;
  for (const auto& rec : {"R-1", "R-2", "R-3", "L-1"}) {
    ASSERT_TRUE(a.id_of_record.contains(rec) && b.id_of_record.contains(rec)) << rec;
    EXPECT_NE(a.id_of_record.at(rec), b.id_of_record.at(rec)) << rec;
  }
  ASSERT_EQ(a.of_type.at(match).size(), 1u);
  ASSERT_EQ(b.of_type.at(match).size(), 1u);
  EXPECT_NE(a.of_type.at(match)[0]["id"], b.of_type.at(match)[0]["id"]);

  // Yet each partner can match what refers back to what it received, under its own ids.
  for (const auto* v : {&a, &b}) {
    const auto& retraction = v->of_type.at(match_retracted).at(0)["data"];
    EXPECT_EQ(retraction["content"]["evidence"]["retracts"], v->of_type.at(match)[0]["id"]) << retraction;
    EXPECT_EQ(retraction["derived_from"][0], v->of_type.at(match)[0]["id"]) << retraction;
    const auto& withdrawn = v->of_type.at(absence_retracted).at(0)["data"];
    EXPECT_EQ(withdrawn["content"]["evidence"]["retracts"], v->id_of_record.at("L-1")) << withdrawn;
    const auto& referral_data = v->of_type.at(referral).at(0)["data"];
    EXPECT_EQ(referral_data["content"]["evidence"]["alert"], v->id_of_record.at("R-3")) << referral_data;
    EXPECT_EQ(referral_data["derived_from"][0], v->id_of_record.at("R-3")) << referral_data;
    // The match names the two concerns it rests on, as this partner knows them.
    const auto& from = v->of_type.at(match)[0]["data"]["derived_from"];
    EXPECT_EQ(std::set<std::string>(from.begin(), from.end()),
              (std::set<std::string>{v->id_of_record.at("R-1"), v->id_of_record.at("L-1")}));
  }
}

}  // namespace
}  // namespace schakel::test
