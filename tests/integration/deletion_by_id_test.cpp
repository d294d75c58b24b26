// A source that knows only which registration it deleted sends its record id; the hub completes the
// deletion from the record it stored, so the attendance rules retract what no longer holds. An id the
// instance never stored, or one retention purged, is refused on its own record with a clear reason.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "hub_fixture.hpp"

namespace schakel::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string admin_token = "test-admin-token-0123456789abcdefghijkl";
const std::string threshold_type = "nl.schakel.attendance.leerplicht.threshold_reached";
const std::string retracted_type = "nl.schakel.attendance.alert.retracted";

/** 4 lessons unauthorised on four school days in November: the 16th lesson reaches the threshold. */
const std::string absences =
    "Stamnummer;Datum;Lesuur;Absentiecode;Registratie-id;Verwijderd\n"
    "2002;02-11-2026;1-4;O;R6;\n"
    "2002;03-11-2026;1-4;O;R7;\n"
    "2002;12-11-2026;1-4;O;R8;\n"
    "2002;23-11-2026;1-4;O;R9;\n";

nlohmann::json config(const fs::path& data_dir, const fs::path& drop_dir, const receiver_process& officer) {
  return {{"listen", {{"address", "127.0.0.1"}, {"port", 0}}},
          {"data_dir", data_dir.string()},
          {"admin_token", admin_token},
          {"schools", {{{"brin", "99XX"}, {"vestiging", "00"}}}},
          {"privacy", {{"retention", {{"signals", {{{"types", "nl.schakel.attendance.absence.*"}, {"days", 1}}}}}}}},
          {"connectors", {attendance_drop_connector("school", drop_dir)}},
          {"processors", {{{"name", "rules"}, {"plugin", "attendance-rules"}, {"inputs", {"school"}}}}},
          {"subscriptions",
           {{{"name", "officer"},
             {"partner", "Leerplichtambtenaar"},
             {"filter", {{"types", {threshold_type}}}},
             {"fields", {"type", "subject.student_key", "content.evidence"}},
             {"privacy",
              {{"identity", "identified"},
               {"purpose", "leerplicht: report unauthorised absence"},
               {"legal_basis", "legal_obligation"}}},
             {"delivery",
              {{"webhook", loopback_webhook(officer.url())},
               {"retry", {{"max_attempts", 12}, {"initial_backoff", "50ms"}, {"max_backoff", "200ms"}}}}}}}}};
}

struct deletion_by_id_test : ::testing::Test {
  temp_dir dir{"schakel-deletion"};
  fs::path drop_dir = dir / "drop";
  receiver_process officer{made(dir / "officer"), {}};
  hub_process hub{dir.path()};

  void start() { hub.start(config(hub.data_dir(), drop_dir, officer)); }

  http_reply post(const std::string& body, const std::string& content_type) {
    return send(hub.port(), http_call{"POST",
                                      "/v1/connectors/school/records",
                                      body,
                                      {{"Authorization", "Bearer " + ingest_token}, {"Content-Type", content_type}}});
  }

  /** The source's deletions, each naming only its registration id (the magister-like columns as JSON keys). */
  http_reply delete_by_id(const std::vector<std::string>& ids) {
    nlohmann::json records = nlohmann::json::array();
    for (const auto& id : ids) records.push_back({{"Registratie-id", id}, {"Verwijderd", "ja"}});
    return post(records.dump(), "application/json");
  }

  bool caught_up() { return processors_caught_up(hub.port(), admin_token); }
};

}  // namespace

TEST_F(deletion_by_id_test, a_deletion_by_record_id_alone_retracts_the_alert_that_no_longer_holds) {
  start();
  ASSERT_EQ(post(absences, "text/csv").status, 200u);
  ASSERT_TRUE(wait_until([&] { return officer.of_type(threshold_type).size() == 1; }, 20s)) << hub.log();
  const std::string alert_id = officer.of_type(threshold_type)[0]["id"];

  // The source deleted registration R9 and knows nothing else of it; R-404 it never sent.
  const auto reply = delete_by_id({"R9", "R-404"});
  ASSERT_EQ(reply.status, 200u) << reply.body;
  const auto body = nlohmann::json::parse(reply.body);
  ASSERT_EQ(body["accepted"].size(), 1u) << body;
  EXPECT_EQ(body["accepted"][0]["index"], 0);
  ASSERT_EQ(body["rejected"].size(), 1u) << body;
  EXPECT_EQ(body["rejected"][0]["index"], 1);
  EXPECT_EQ(body["rejected"][0]["field"], "source.record_id");
  EXPECT_NE(body["rejected"][0]["reason"].get<std::string>().find("never stored a record with this id"),
            std::string::npos)
      << body;

  // 12 of 16 lessons left: the officer hears that the alert is retracted, and nothing else.
  ASSERT_TRUE(wait_until([&] { return officer.of_type(retracted_type).size() == 1; }, 20s)) << hub.log();
  EXPECT_EQ(officer.of_type(retracted_type)[0]["data"]["content"]["evidence"]["retracts"], alert_id);
  ASSERT_TRUE(wait_until([&] { return caught_up(); }));
  EXPECT_EQ(officer.of_type(threshold_type).size(), 1u);
  EXPECT_EQ(hub.log().find("2002"), std::string::npos) << "no student number in the log";
}

TEST_F(deletion_by_id_test, only_unknown_ids_is_a_422_problem_and_a_dropped_file_is_quarantined_with_the_line) {
  start();
  ASSERT_EQ(post(absences, "text/csv").status, 200u);
  const auto reply = delete_by_id({"R-404"});
  ASSERT_EQ(reply.status, 422u) << reply.body;
  const auto problem = nlohmann::json::parse(reply.body);
  ASSERT_EQ(problem["rejected"].size(), 1u) << problem;
  EXPECT_EQ(problem["rejected"][0]["index"], 0);
  EXPECT_EQ(problem["rejected"][0]["field"], "source.record_id");

  // The same in a dropped export: the known deletion is kept, the unknown one reported by its line.
  fs::create_directories(drop_dir);
  std::ofstream(drop_dir / ".x.tmp") << "Stamnummer;Datum;Lesuur;Absentiecode;Registratie-id;Verwijderd\n"
                                        ";;;;R8;ja\n"
                                        ";;;;R-405;ja\n";
  fs::rename(drop_dir / ".x.tmp", drop_dir / "deletions.csv");
  const fs::path report_file = drop_dir / "quarantine" / "deletions.csv.error.json";
  ASSERT_TRUE(
      wait_until([&] { return fs::exists(report_file) && fs::exists(drop_dir / "quarantine" / "deletions.csv"); }, 20s))
      << hub.log();
  std::ifstream in(report_file);
  const auto report = nlohmann::json::parse(in);
  EXPECT_EQ(report["accepted"], 1);
  ASSERT_EQ(report["rejected"].size(), 1u) << report;
  EXPECT_EQ(report["rejected"][0]["line"], 3);
  EXPECT_EQ(report["rejected"][0]["field"], "source.record_id");
  EXPECT_EQ(report.dump().find("R-405"), std::string::npos) << "the id is not echoed";
}

TEST_F(deletion_by_id_test, a_deletion_of_a_record_retention_purged_says_so) {
  start();
  ASSERT_EQ(post(absences, "text/csv").status, 200u);
  ASSERT_TRUE(wait_until([&] { return caught_up(); }));
  ASSERT_EQ(hub.process().terminate(), 0);

  // R6 is made three days old; the retention of absences is one day, and the hub purges at start.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((hub.data_dir() / "schakel.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "UPDATE signals SET stored_ms = stored_ms - 3 * 86400000 "
                           "WHERE json_extract(json, '$.source.record_id') = 'R6'",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    EXPECT_EQ(sqlite3_changes(db), 1);
    sqlite3_close(db);
  }
  start();
  ASSERT_TRUE(wait_until([&] { return hub.log().find("retention.purged") != std::string::npos; }, 20s)) << hub.log();

  const auto reply = delete_by_id({"R6", "R7"});
  ASSERT_EQ(reply.status, 200u) << reply.body;
  const auto body = nlohmann::json::parse(reply.body);
  ASSERT_EQ(body["accepted"].size(), 1u) << body;
  EXPECT_EQ(body["accepted"][0]["index"], 1) << "R7 is still stored";
  ASSERT_EQ(body["rejected"].size(), 1u) << body;
  EXPECT_EQ(body["rejected"][0]["index"], 0);
  EXPECT_EQ(body["rejected"][0]["field"], "source.record_id");
  EXPECT_NE(body["rejected"][0]["reason"].get<std::string>().find("removed by retention"), std::string::npos) << body;
}

}  // namespace schakel::test
