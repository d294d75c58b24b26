// End to end for issue 7: row-level signals from two schools become class trends for a regional
// partnership, over TLS to the real daemon, with disclosure control: small cells suppressed with a
// reason, complementary suppression, and a student who joins between two releases never derivable.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "hub_fixture.hpp"

namespace schakel::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string admin_token = "test-admin-token-0123456789abcdefghijkl";
const std::string school_a_token = "test-school-a-token-0123456789abcdefghij";
const std::string school_b_token = "test-school-b-token-0123456789abcdefghij";
const std::string pull_token = "test-regional-pull-token-0123456789abcdef";
constexpr int k = 10;

json mapping() {
  // The record names its type; the map lists the types this source may send (the hub checks
  // subscriptions against them).
  const json types = {{"nl.schakel.test.observed", "nl.schakel.test.observed"},
                      {"nl.schakel.attendance.absence.recorded", "nl.schakel.attendance.absence.recorded"},
                      {"nl.schakel.jgz.sdq.scored", "nl.schakel.jgz.sdq.scored"}};
  return {{"type", {{"pointer", "/type"}, {"required", true}, {"map", types}}},
          {"source.record_id", {{"pointer", "/id"}, {"as", "string"}, {"required", true}}},
          {"observed_at", {{"pointer", "/datum"}, {"as", "date"}, {"required", true}}},
          {"subject.student_key", {{"pointer", "/leerling"}, {"as", "string"}, {"required", true}}},
          {"subject.school.brin", {{"pointer", "/brin"}, {"required", true}}},
          {"subject.school.vestiging", {{"pointer", "/vestiging"}}},
          {"subject.class", {{"pointer", "/klas"}}},
          {"subject.leerjaar", {{"pointer", "/leerjaar"}, {"as", "integer"}}},
          {"content.domain", {{"pointer", "/domain"}, {"required", true}}},
          {"content.indicator", {{"pointer", "/indicator"}, {"required", true}}},
          {"content.severity", {{"pointer", "/severity"}, {"required", true}}},
          {"content.value", {{"pointer", "/value"}, {"as", "number"}}},
          {"content.unit", {{"pointer", "/unit"}}},
          {"content.evidence.total_band", {{"pointer", "/band"}}},
          {"governance.data_category", {{"pointer", "/category"}, {"required", true}}}};
}

json source(const std::string& name, const std::string& token) {
  return {{"name", name}, {"plugin", "generic-json"}, {"token", token}, {"settings", {{"mapping", mapping()}}}};
}

json trends_section() {
  return {{"k", k},
          {"release_delay_days", 0},
          {"schools", {"11AA00", "22BB00"}},
          {"first_week", "2026-09-07"},
          {"check_interval_seconds", 86400},
          {"measures",
           {{{"name", "students_concern"},
             {"kind", "students"},
             {"domain", "emotional"},
             {"types", {"nl.schakel.test.observed"}},
             {"min_severity", "concern"}},
            {{"name", "absence_hours"},
             {"kind", "hours"},
             {"domain", "attendance"},
             {"types", {"nl.schakel.attendance.absence.recorded"}}},
            {{"name", "sdq_total"},
             {"kind", "distribution"},
             {"domain", "health"},
             {"types", {"nl.schakel.jgz.sdq.scored"}},
             {"field", "content.evidence.total_band"},
             {"categories", {"normal", "borderline", "abnormal"}}}}}};
}

json config(const fs::path& data_dir, const tls_files& tls, const receiver_process& regional,
            const receiver_process& school_zat) {
  return {
      {"listen",
       {{"address", "127.0.0.1"},
        {"port", 0},
        {"tls", {{"cert_file", tls.server_cert.string()}, {"key_file", tls.server_key.string()}}}}},
      {"data_dir", data_dir.string()},
      {"admin_token", admin_token},
      {"connectors", {source("school-a", school_a_token), source("school-b", school_b_token)}},
      {"trends", trends_section()},
      {"subscriptions",
       {{{"name", "regional"},
         {"partner", "Regional partnership"},
         {"filter", {{"types", {"nl.schakel.trend.*"}}}},
         {"fields", {"type", "subject.school", "subject.school_year", "subject.leerjaar", "subject.class", "content"}},
         {"privacy", {{"identity", "aggregate"}, {"purpose", "regional trends for health promotion"}}},
         {"pull_token", pull_token},
         {"delivery",
          {{"webhook", loopback_webhook(regional.url())},
           {"retry", {{"max_attempts", 12}, {"initial_backoff", "50ms"}, {"max_backoff", "200ms"}}}}}},
        // A row-level partner next to it: it gets the students' signals, the regional one never does.
        {{"name", "zat"},
         {"partner", "Care team"},
         {"filter", {{"types", {"nl.schakel.test.observed"}}}},
         {"fields", {"type", "subject.student_key", "content.severity"}},
         {"privacy", {{"identity", "identified"}, {"purpose", "care team"}, {"legal_basis", "public_task"}}},
         {"delivery",
          {{"webhook", loopback_webhook(school_zat.url())},
           {"retry", {{"max_attempts", 12}, {"initial_backoff", "50ms"}, {"max_backoff", "200ms"}}}}}}}}};
}

struct record_maker {
  int next = 0;
  json concern(const std::string& student, const std::string& klass, int leerjaar, const std::string& date,
               const std::string& brin = "11AA") {
    return {{"type", "nl.schakel.test.observed"},
            {"id", "C-" + std::to_string(next++)},
            {"datum", date},
            {"leerling", student},
            {"brin", brin},
            {"vestiging", "00"},
            {"klas", klass},
            {"leerjaar", leerjaar},
            {"domain", "emotional"},
            {"indicator", "low_mood"},
            {"severity", "concern"},
            {"category", "ordinary"}};
  }
  json absence(const std::string& student, const std::string& klass, int leerjaar, const std::string& date,
               double hours) {
    return {{"type", "nl.schakel.attendance.absence.recorded"},
            {"id", "A-" + std::to_string(next++)},
            {"datum", date},
            {"leerling", student},
            {"brin", "22BB"},
            {"vestiging", "00"},
            {"klas", klass},
            {"leerjaar", leerjaar},
            {"domain", "attendance"},
            {"indicator", "absence"},
            {"severity", "info"},
            {"value", hours},
            {"unit", "hours"},
            {"category", "health"}};
  }
  json sdq(const std::string& student, const std::string& klass, int leerjaar, const std::string& date,
           const std::string& band) {
    return {{"type", "nl.schakel.jgz.sdq.scored"},
            {"id", "Q-" + std::to_string(next++)},
            {"datum", date},
            {"leerling", student},
            {"brin", "11AA"},
            {"vestiging", "00"},
            {"klas", klass},
            {"leerjaar", leerjaar},
            {"domain", "health"},
            {"indicator", "sdq_total"},
            {"severity", "info"},
            {"band", band},
            {"category", "health"}};
  }
};

std::string student(int i) {
  return "TR-" + std::to_string(40000 + i);
}

struct trends_fixture : ::testing::Test {
  temp_dir dir{"schakel-trends-it"};
  tls_files tls = make_test_tls(made(dir / "tls"), "hub");
  receiver_process regional{made(dir / "regional"), {}};
  receiver_process zat{made(dir / "zat"), {}};
  std::optional<hub_process> hub;
  record_maker records;
  std::set<std::string> students_used;

  void start() {
    if (!hub) hub.emplace(dir.path() / "hub");
    hub->start(config(hub->data_dir(), tls, regional, zat));
  }

  http_reply call(const std::string& method, const std::string& target, const std::string& body = {},
                  const std::string& token = admin_token) {
    std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/json"}};
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    try {
      return send(hub->port(), http_call{method, target, body, headers}, tls.ca_cert);
    } catch (const std::exception& e) {
      throw std::runtime_error(method + " " + target + ": " + e.what());
    }
  }

  void post(const json& recs, const std::string& instance, const std::string& token) {
    for (const auto& r : recs) students_used.insert(r["leerling"].get<std::string>());
    const auto reply = call("POST", "/v1/connectors/" + instance + "/records", recs.dump(), token);
    ASSERT_EQ(reply.status, 200u) << reply.body;
    ASSERT_EQ(json::parse(reply.body)["accepted"].size(), recs.size()) << reply.body;
  }

  json release(const std::string& until) {
    const auto reply = call("POST", "/v1/trends/release", json{{"until", until}}.dump());
    EXPECT_EQ(reply.status, 200u) << reply.body << hub->log();
    return json::parse(reply.body);
  }

  json trends(const std::string& query) {
    const auto reply = call("GET", "/v1/trends" + query);
    EXPECT_EQ(reply.status, 200u) << reply.body;
    return json::parse(reply.body);
  }

  /** The cell of one release (school, window kind, key) for measure/level/group, or null. */
  static json cell(const json& doc, const std::string& school, const std::string& kind, const std::string& key,
                   const std::string& measure, const std::string& level, const std::string& group = {},
                   const std::string& category = {}) {
    for (const auto& r : doc["releases"]) {
      if (r["school"] != school || r["window"]["kind"] != kind || r["window"]["key"] != key) continue;
      for (const auto& c : r["cells"]) {
        if (c["measure"] != measure || c["level"] != level) continue;
        if (level == "class" && c["class"] != group) continue;
        if (level == "leerjaar" && c["leerjaar"] != group) continue;
        if (!category.empty() && c.value("category", "") != category) continue;
        return c;
      }
    }
    return nullptr;
  }
};

/**
 * What an attacker who holds every released document can compute without noise: within a release,
 * a parent (school or leerjaar) minus its released children; across releases, one year-to-date
 * figure minus an earlier one of the same group. Each such number must be 0 or at least k, or it
 * tells something about fewer than k students.
 */
std::vector<std::string> derivable_small_numbers(const json& doc) {
  std::vector<std::string> found;
  std::map<std::string, std::vector<std::pair<std::string, json>>> ytd;  // group -> (week, value)
  for (const auto& r : doc["releases"]) {
    std::map<std::string, json> parents;                // "measure|level|group" -> cell
    std::map<std::string, std::vector<json>> children;  // parent key -> child cells
    for (const auto& c : r["cells"]) {
      if (c.contains("category")) continue;  // distributions: categories vs total handled by the unit tests
      const std::string m = c["measure"];
      const std::string lvl = c["level"];
      const std::string lj = c.value("leerjaar", "");
      if (lvl == "school") parents[m + "|school"] = c;
      if (lvl == "leerjaar") {
        parents[m + "|leerjaar|" + lj] = c;
        children[m + "|school"].push_back(c);
      }
      if (lvl == "class") children[m + "|leerjaar|" + lj].push_back(c);
      if (r["window"]["kind"] == "year_to_date" && c["status"] == "released")
        ytd[std::string(r["school"]) + "|" + m + "|" + lvl + "|" + lj + "|" + c.value("class", "")].emplace_back(
            r["window"]["key"], c["value"]);
    }
    for (const auto& [key, parent] : parents) {
      if (parent["status"] != "released") continue;
      double rest = parent["value"].get<double>();
      int hidden = 0;
      for (const auto& c : children[key]) {
        if (c["status"] == "released") {
          rest -= c["value"].get<double>();
        } else {
          ++hidden;
        }
      }
      // With no hidden child the rest is students without a class: also a cell an attacker derives.
      if (rest > 0.05 && rest < k && key.find("absence") == std::string::npos)
        found.push_back(std::string(r["window"]["key"]) + " " + key + " leaves " + std::to_string(rest) + " behind " +
                        std::to_string(hidden) + " hidden cell(s)");
    }
  }
  for (auto& [group, series] : ytd) {
    std::sort(series.begin(), series.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 1; i < series.size(); ++i) {
      const double diff = series[i].second.get<double>() - series[i - 1].second.get<double>();
      if (group.find("absence") == std::string::npos && diff != 0 && std::abs(diff) < k)
        found.push_back(group + " " + series[i].first + " minus " + series[i - 1].first + " = " + std::to_string(diff));
    }
  }
  return found;
}

}  // namespace

TEST_F(trends_fixture, regional_partner_gets_class_trends_with_small_cells_suppressed_and_no_student_derivable) {
  start();
  // Denominators: school A has 1A and 1B (leerjaar 1) and 2A (leerjaar 2); school B has 3C. A class
  // where nearly everyone counts is suppressed too (complement rule), so 2A is large enough for 22.
  const json enrolment = {
      {"valid_from", "2026-08-15"},
      {"classes",
       {{{"school", {{"brin", "11AA"}, {"vestiging", "00"}}}, {"class", "1A"}, {"leerjaar", "1"}, {"students", 28}},
        {{"school", {{"brin", "11AA"}, {"vestiging", "00"}}}, {"class", "1B"}, {"leerjaar", "1"}, {"students", 26}},
        {{"school", {{"brin", "11AA"}, {"vestiging", "00"}}}, {"class", "2A"}, {"leerjaar", "2"}, {"students", 33}},
        {{"school", {{"brin", "22BB"}, {"vestiging", "00"}}}, {"class", "3C"}, {"leerjaar", "3"}, {"students", 25}}}}};
  auto reply = call("POST", "/v1/enrolment", enrolment.dump());
  ASSERT_EQ(reply.status, 200u) << reply.body;
  // A bad line is named by its field and refused whole; nothing of it is recorded.
  reply =
      call("POST", "/v1/enrolment",
           json{{"classes", {{{"school", {{"brin", "11AA"}}}, {"class", "1A"}, {"leerjaar", "1"}, {"students", -3}}}}}
               .dump());
  EXPECT_EQ(reply.status, 422u) << reply.body;
  EXPECT_NE(reply.body.find("/classes/0/students"), std::string::npos) << reply.body;

  // Week 37 (7-13 Sep): 12 concerns in 1A, 3 in 1B, 11 in 2A; 10 students absent 2 h in 3C; 12 SDQs in 2A.
  json a = json::array(), b = json::array();
  for (int i = 0; i < 12; ++i) a.push_back(records.concern(student(i), "1A", 1, "2026-09-08"));
  for (int i = 12; i < 15; ++i) a.push_back(records.concern(student(i), "1B", 1, "2026-09-09"));
  for (int i = 15; i < 26; ++i) a.push_back(records.concern(student(i), "2A", 2, "2026-09-10"));
  for (int i = 15; i < 27; ++i)
    a.push_back(records.sdq(student(i), "2A", 2, "2026-09-10", i < 25 ? "normal" : "abnormal"));
  for (int i = 100; i < 110; ++i) b.push_back(records.absence(student(i), "3C", 3, "2026-09-08", 2));
  post(a, "school-a", school_a_token);
  post(b, "school-b", school_b_token);

  auto released = release("2026-09-13");
  EXPECT_EQ(released["releases"], 4) << released;  // week + year to date, two schools
  auto doc = trends("?window=week");
  // k-1, k+1 and above: 3 suppressed, 11 and 12 at class level decided by the hierarchy.
  auto c = cell(doc, "11AA00", "week", "2026-W37", "students_concern", "class", "1B");
  ASSERT_FALSE(c.is_null()) << doc;
  EXPECT_EQ(c["status"], "suppressed");
  EXPECT_EQ(c["hub_reason"], "below_k");
  EXPECT_FALSE(c.contains("value"));
  // 1A alone (12) would give 1B away as leerjaar 1 (15) minus 1A: complementary suppression.
  c = cell(doc, "11AA00", "week", "2026-W37", "students_concern", "class", "1A");
  EXPECT_EQ(c["status"], "suppressed") << c;
  EXPECT_EQ(c["hub_reason"], "secondary") << c;
  c = cell(doc, "11AA00", "week", "2026-W37", "students_concern", "leerjaar", "1");
  EXPECT_EQ(c["status"], "released") << c;
  EXPECT_EQ(c["value"], 15);
  EXPECT_EQ(c["denominator"], 54);
  c = cell(doc, "11AA00", "week", "2026-W37", "students_concern", "class", "2A");
  EXPECT_EQ(c["status"], "released") << c;
  EXPECT_EQ(c["value"], 11);
  EXPECT_DOUBLE_EQ(c["rate"].get<double>(), 0.3333);
  c = cell(doc, "11AA00", "week", "2026-W37", "students_concern", "school");
  EXPECT_EQ(c["value"], 26);
  // Hours: 10 students, 20 hours in 3C.
  c = cell(doc, "22BB00", "week", "2026-W37", "absence_hours", "class", "3C");
  EXPECT_EQ(c["status"], "released") << c;
  EXPECT_DOUBLE_EQ(c["value"].get<double>(), 20.0);
  // SDQ: 10 normal + 2 abnormal of 12: abnormal is below k, so normal would reveal it via the total.
  c = cell(doc, "11AA00", "week", "2026-W37", "sdq_total", "class", "2A", "abnormal");
  EXPECT_EQ(c["status"], "suppressed");
  EXPECT_EQ(c["hub_reason"], "below_k");
  c = cell(doc, "11AA00", "week", "2026-W37", "sdq_total", "class", "2A", "normal");
  EXPECT_EQ(c["status"], "suppressed") << c;
  EXPECT_EQ(c["hub_reason"], "secondary") << c;
  // The SDQ total (12) over nearly the same students as the concerns (11) would single out the one
  // student with an SDQ and no concern: measures over the same students are checked together.
  c = cell(doc, "11AA00", "week", "2026-W37", "sdq_total", "class", "2A", "total");
  EXPECT_EQ(c["status"], "suppressed") << c;
  EXPECT_EQ(c["reason"], "suppressed") << c;  // a partner never sees why: the why narrows the value
  EXPECT_EQ(c["hub_reason"], "secondary") << c;

  // The release survives kill -9: after a restart nothing of week 37 is released again.
  const auto delivered_before = regional.distinct_events();
  hub->process().terminate(SIGKILL);
  start();
  released = release("2026-09-13");
  EXPECT_EQ(released["releases"], 0) << released;

  // Week 38: one student joins 2A (enrolment 34) and is the only new concern; one student absent 5 h in 3C.
  reply = call("POST", "/v1/enrolment",
               json{{"valid_from", "2026-09-14"},
                    {"classes",
                     {{{"school", {{"brin", "11AA"}, {"vestiging", "00"}}},
                       {"class", "2A"},
                       {"leerjaar", "2"},
                       {"students", 34}}}}}
                   .dump());
  ASSERT_EQ(reply.status, 200u) << reply.body;
  const std::string joiner = student(50);
  post(json::array({records.concern(joiner, "2A", 2, "2026-09-15")}), "school-a", school_a_token);
  post(json::array({records.absence(student(110), "3C", 3, "2026-09-16", 5)}), "school-b", school_b_token);
  // A late record for the sealed week 37 is left out of every window.
  post(json::array({records.concern(student(60), "1A", 1, "2026-09-09")}), "school-a", school_a_token);
  released = release("2026-09-20");
  EXPECT_EQ(released["late_signals"], 1) << released;
  EXPECT_EQ(released["releases"], 4) << released;
  doc = trends("");
  c = cell(doc, "11AA00", "year_to_date", "2026-W38", "students_concern", "class", "2A");
  EXPECT_EQ(c["status"], "suppressed") << c;
  EXPECT_EQ(c["hub_reason"], "difference") << c;  // 12 now vs 11 before: the joiner
  c = cell(doc, "11AA00", "year_to_date", "2026-W38", "students_concern", "school");
  EXPECT_EQ(c["status"], "suppressed") << c;
  c = cell(doc, "22BB00", "year_to_date", "2026-W38", "absence_hours", "class", "3C");
  EXPECT_EQ(c["status"], "suppressed") << c;  // 25 h vs 20 h: one student's 5 hours
  EXPECT_EQ(c["hub_reason"], "difference") << c;

  // Week 39: ten more students in 2A: the year-to-date moves by 11 since its last release and is released.
  json more = json::array();
  for (int i = 70; i < 80; ++i) more.push_back(records.concern(student(i), "2A", 2, "2026-09-22"));
  post(more, "school-a", school_a_token);
  release("2026-09-27");
  doc = trends("");
  c = cell(doc, "11AA00", "year_to_date", "2026-W39", "students_concern", "class", "2A");
  EXPECT_EQ(c["status"], "released") << c;
  EXPECT_EQ(c["value"], 22);
  EXPECT_EQ(c["denominator"], 34);

  // Nothing below k can be computed from all that was released.
  const auto leaks = derivable_small_numbers(doc);
  EXPECT_TRUE(leaks.empty()) << ::testing::PrintToString(leaks);

  // Delivery: the regional partner receives the cells as trend events, and never a row about a student.
  // Every cell routed to the partner, in every release of both schools, is one event: wait for all.
  std::size_t routed_cells = 0;
  const json routed = trends("?subscription=regional");
  for (const auto& r : routed["releases"]) routed_cells += r["cells"].size();
  ASSERT_GT(routed_cells, delivered_before);
  ASSERT_TRUE(wait_until([&] { return regional.distinct_events() >= routed_cells && zat.events().size() >= 37; },
                         std::chrono::seconds(20)))
      << hub->log();
  EXPECT_EQ(regional.distinct_events(), routed_cells);
  std::size_t trend_events = 0;
  for (const auto& e : regional.events()) {
    const auto& ev = e["event"];
    EXPECT_TRUE(ev["type"].get<std::string>().starts_with("nl.schakel.trend.")) << ev;
    EXPECT_FALSE(ev["data"]["subject"].contains("student_key")) << ev;
    EXPECT_FALSE(ev["data"]["subject"].contains("pseudonym")) << ev;
    ++trend_events;
  }
  EXPECT_GT(trend_events, 30u);
  const std::string received = [&] {
    std::string all;
    for (const auto& e : regional.events()) all += e.dump();
    return all;
  }();
  for (const auto& s : students_used) {
    EXPECT_EQ(received.find(s), std::string::npos) << s;
    EXPECT_EQ(hub->log().find(s), std::string::npos) << s;
  }
  // The row-level partner did get the rows.
  EXPECT_GE(zat.of_type("nl.schakel.test.observed").size(), 37u);

  // CSV export and the plot, through the API.
  reply = call("GET", "/v1/trends?school=11AA00&window=week&format=csv");
  ASSERT_EQ(reply.status, 200u);
  EXPECT_NE(reply.body.find("11AA00,week,2026-W37"), std::string::npos) << reply.body.substr(0, 400);
  EXPECT_NE(reply.body.find("below_k"), std::string::npos);
  reply =
      call("GET", "/v1/trends/plot?school=11AA00&level=class&class=2A&measure=students_concern&window=year_to_date");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_EQ(reply.header("content-type"), "image/svg+xml");
  EXPECT_NE(reply.body.find("<svg"), std::string::npos);
  EXPECT_NE(reply.body.find("difference"), std::string::npos);  // the suppressed week says why
  // Without the admin token nothing is shown.
  EXPECT_EQ(call("GET", "/v1/trends", "", "").status, 401u);
  EXPECT_EQ(call("GET", "/v1/trends", "", "not-a-token-of-this-hub-at-all-0123456789").status, 401u);
  // The partner pulls with its own token: only what was routed to it, whatever it asks for.
  reply = call("GET", "/v1/trends?school=11AA00&window=week&subscription=zat", "", pull_token);
  ASSERT_EQ(reply.status, 200u) << reply.body;
  const auto pulled = json::parse(reply.body);
  EXPECT_EQ(pulled["releases"].size(), 3u) << reply.body;  // weeks 37, 38, 39 of school A
  EXPECT_FALSE(pulled["releases"][0].contains("routed_to"));
  // A partner sees one reason for every suppressed cell; the detailed one stays with the hub.
  std::size_t suppressed_seen = 0;
  for (const auto& r : pulled["releases"])
    for (const auto& cell : r["cells"]) {
      EXPECT_FALSE(cell.contains("hub_reason")) << cell;
      if (cell["status"] == "suppressed") {
        EXPECT_EQ(cell["reason"], "suppressed") << cell;
        ++suppressed_seen;
      }
    }
  EXPECT_GT(suppressed_seen, 0u);
  for (const auto& e : regional.events()) {
    const auto& ev = e["event"]["data"]["content"]["evidence"];
    if (ev.value("status", "") == "suppressed") {
      EXPECT_EQ(ev["reason"], "suppressed") << ev;
    }
    EXPECT_FALSE(ev.contains("hub_reason")) << ev;
  }
  EXPECT_EQ(call("GET", "/v1/trends/plot?school=11AA00&measure=students_concern", "", pull_token).status, 200u);
  EXPECT_EQ(call("POST", "/v1/trends/release", "{}", pull_token).status, 403u);
  EXPECT_EQ(call("POST", "/v1/enrolment", enrolment.dump(), pull_token).status, 403u);
}

TEST_F(trends_fixture, with_noise_every_value_is_noisy_and_a_spent_budget_withholds_further_releases) {
  hub.emplace(dir.path() / "hub");
  auto cfg = config(hub->data_dir(), tls, regional, zat);
  cfg["trends"]["noise"] = {{"epsilon_per_release", 1.0}, {"budget_per_school_year", 2.0}};
  cfg["trends"]["windows"] = {"week", "year_to_date"};
  hub->start(cfg);
  const json enrolment = {
      {"valid_from", "2026-08-15"},
      {"classes",
       {{{"school", {{"brin", "11AA"}, {"vestiging", "00"}}}, {"class", "1A"}, {"leerjaar", "1"}, {"students", 30}}}}};
  ASSERT_EQ(call("POST", "/v1/enrolment", enrolment.dump()).status, 200u);
  json a = json::array();
  for (int week = 0; week < 3; ++week)
    for (int i = 0; i < 3; ++i)  // 3 new students a week: without noise every year to date would be a difference
      a.push_back(records.concern(student(week * 3 + i), "1A", 1,
                                  week == 0   ? "2026-09-08"
                                  : week == 1 ? "2026-09-15"
                                              : "2026-09-22"));
  for (int i = 20; i < 32; ++i) a.push_back(records.concern(student(i), "1A", 1, "2026-09-08"));
  post(a, "school-a", school_a_token);
  const auto released = release("2026-09-27");
  EXPECT_EQ(released["releases"], 6) << released;  // 3 weeks x (week + year to date)

  const auto all = trends("?school=11AA00");
  ASSERT_EQ(all["releases"].size(), 6u) << all;
  std::size_t noisy = 0, withheld = 0;
  for (const auto& r : all["releases"]) {
    EXPECT_EQ(r["disclosure"]["noise"]["epsilon"], 1.0);
    for (const auto& c : r["cells"]) {
      if (c["status"] != "released") continue;
      EXPECT_EQ(c["noisy"], true) << c;
      EXPECT_GE(c["value"].get<double>(), 0.0) << c;
      ++noisy;
    }
    if (r["window"]["key"] == "2026-W39") {
      EXPECT_EQ(r["withheld_from"], json::array({"regional"})) << r;
      ++withheld;
    } else {
      EXPECT_EQ(r["routed_to"], json::array({"regional"})) << r;
    }
  }
  EXPECT_GT(noisy, 0u);
  EXPECT_EQ(withheld, 2u);  // the third week's two windows: the budget of 2 holds two releases
  // The partner's own view holds only what reached it; week 39 never does.
  const auto mine = trends("?school=11AA00&subscription=regional");
  EXPECT_EQ(mine["releases"].size(), 4u) << mine;
  std::size_t routed_cells = 0;
  for (const auto& r : mine["releases"]) routed_cells += r["cells"].size();
  ASSERT_TRUE(wait_until([&] { return regional.distinct_events() >= routed_cells; }, std::chrono::seconds(20)))
      << hub->log();
  EXPECT_EQ(regional.distinct_events(), routed_cells);
  for (const auto& e : regional.events()) {
    EXPECT_NE(e["event"]["data"]["content"]["evidence"]["window_key"], "2026-W39") << e;
    EXPECT_FALSE(e["event"]["data"]["subject"].contains("student_key"));
  }
  EXPECT_NE(hub->log().find("trends.budget_spent"), std::string::npos);
}

/** The value of one key of the releaser's state, read from the hub's SQLite file. */
std::string trend_state(const fs::path& db, const std::string& key) {
  sqlite3* handle = nullptr;
  std::string out;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(handle, "SELECT value FROM state WHERE ns = 'schakel.trends' AND key = ?1", -1, &st,
                           nullptr) == SQLITE_OK) {
      sqlite3_bind_text(st, 1, key.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(st) == SQLITE_ROW)
        out.assign(static_cast<const char*>(sqlite3_column_blob(st, 0)),
                   static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
      sqlite3_finalize(st);
    }
  }
  sqlite3_close(handle);
  return out;
}

TEST_F(trends_fixture, pseudonyms_of_weeks_two_school_years_back_are_forgotten_and_their_releases_kept) {
  hub.emplace(dir.path() / "hub");
  auto cfg = config(hub->data_dir(), tls, regional, zat);
  cfg["trends"].erase("first_week");  // releases start at the first signal, two school years back
  hub->start(cfg);
  const json enrolment = {
      {"valid_from", "2024-08-01"},
      {"classes",
       {{{"school", {{"brin", "11AA"}, {"vestiging", "00"}}}, {"class", "1A"}, {"leerjaar", "1"}, {"students", 30}}}}};
  ASSERT_EQ(call("POST", "/v1/enrolment", enrolment.dump()).status, 200u);
  json a = json::array();
  for (int i = 0; i < 12; ++i) a.push_back(records.concern(student(i), "1A", 1, "2024-09-10"));
  for (int i = 0; i < 12; ++i) a.push_back(records.concern(student(i), "1A", 1, "2026-09-08"));
  post(a, "school-a", school_a_token);
  const auto released = release("2026-09-13");
  EXPECT_GT(released["releases"].get<int>(), 100) << released;  // every week since September 2024

  const fs::path db = hub->data_dir() / "schakel.db";
  const json old_week = json::parse(trend_state(db, "sealed/11AA00/2024-09-09"));
  EXPECT_EQ(old_week["forgotten"], true) << old_week;
  EXPECT_FALSE(old_week.contains("m"));
  // Last school year's weeks and this year's keep what the year-to-date checks need.
  EXPECT_TRUE(json::parse(trend_state(db, "sealed/11AA00/2025-09-08")).contains("m"));
  const json this_week = json::parse(trend_state(db, "sealed/11AA00/2026-09-07"));
  ASSERT_TRUE(this_week.contains("m"));
  EXPECT_EQ(this_week["m"]["students_concern"].size(), 12u);
  // What was released about 2024 stays released.
  const auto doc = trends("?school=11AA00&window=week&from=2024-09-15&to=2024-09-15");
  const auto c = cell(doc, "11AA00", "week", "2024-W37", "students_concern", "class", "1A");
  EXPECT_EQ(c["status"], "released") << doc;
  EXPECT_EQ(c["value"], 12);
}

TEST_F(trends_fixture, check_config_refuses_a_row_level_type_for_an_aggregate_subscription_and_k_below_five) {
  hub.emplace(dir.path() / "hub");
  const auto check = [&](const json& cfg, const std::string& expected) {
    const fs::path file = dir.path() / "bad.json";
    std::ofstream(file) << cfg.dump();
    auto proc = child_process::spawn({SCHAKEL_BIN, "check-config", file.string()}, {}, dir.path() / "out.log");
    EXPECT_EQ(proc.wait_for_exit(std::chrono::seconds(20)), 1);
    std::ifstream in(dir.path() / "out.log");
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(text.find(expected), std::string::npos) << text;
  };
  auto cfg = config(hub->data_dir(), tls, regional, zat);
  cfg["subscriptions"][0]["filter"]["types"] = {"nl.schakel.trend.*", "nl.schakel.test.observed"};
  check(cfg, "subscriptions[0].filter.types[1]");
  cfg = config(hub->data_dir(), tls, regional, zat);
  cfg["subscriptions"][1]["pull_token"] = pull_token;  // row-level data is never pulled
  check(cfg, "subscriptions[1].pull_token: only an aggregate subscription may pull");
  cfg = config(hub->data_dir(), tls, regional, zat);
  cfg["trends"]["k"] = 4;
  check(cfg, "trends.k");
  cfg = config(hub->data_dir(), tls, regional, zat);
  cfg["trends"]["measures"][2]["categories"] = {"normal", "total"};
  check(cfg, "trends.measures[2].categories[1]: total is reserved");
}

}  // namespace schakel::test
