// End to end for issue 3: absence exports through the drop folder, the attendance connector, the
// attendance-rules processor and three partners, with the real daemon and real receivers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "attendance_fixture.hpp"

namespace schakel::test {
namespace {

namespace fs = std::filesystem;

/**
 * Hand-computed: S-1001 has four sick reports (the third spans the autumn break, so it stays one
 * report) within 12 school weeks -> M@ZL on Wed 4 Nov 2026. S-2002 misses 4 lessons unauthorised on
 * four days; the 16th lesson falls on Mon 23 Nov, inside the 4 school weeks from Mon 2 Nov.
 */
std::string base_export() {
  return header +
         "1001;07-09-2026;1-7;Z;2B;2;R1\n"
         "1001;28-09-2026;1-7;Z;2B;2;R2\n"
         "1001;16-10-2026;1-7;Z;2B;2;R3\n"
         "1001;26-10-2026;1-7;Z;2B;2;R4\n"
         "1001;04-11-2026;1-7;Z;2B;2;R5\n"
         "2002;02-11-2026;1-4;O;3A;3;R6\n"
         "2002;03-11-2026;1-4;O;3A;3;R7\n"
         "2002;12-11-2026;1-4;O;3A;3;R8\n"
         "2002;23-11-2026;1-4;O;3A;3;R9\n";
}

}  // namespace

TEST_F(attendance_fixture, an_export_becomes_mazl_and_leerplicht_alerts_and_a_referral_reaches_jgz_only_when_recorded) {
  start();
  drop(drop_dir, "export-1.csv", base_export());
  ASSERT_TRUE(wait_until([&] { return archived("export-1.csv"); })) << hub.log();
  ASSERT_TRUE(wait_until([&] { return coordinator.events().size() >= 2 && officer.events().size() >= 1; },
                         std::chrono::seconds(20)))
      << hub.log();
  ASSERT_TRUE(wait_until([&] { return processors_caught_up(); }));

  const auto mazl = coordinator.of_type("nl.schakel.attendance.mazl.triggered");
  ASSERT_EQ(mazl.size(), 1u);
  EXPECT_EQ(mazl[0]["data"]["subject"]["student_key"], "1001");
  EXPECT_EQ(mazl[0]["data"]["content"]["evidence"]["referral"], "pending");
  EXPECT_EQ(mazl[0]["data"]["derived_from"].size(), 5u);  // the five record signals of the four reports
  const auto leerplicht = officer.of_type("nl.schakel.attendance.leerplicht.threshold_reached");
  ASSERT_EQ(leerplicht.size(), 1u);
  EXPECT_EQ(leerplicht[0]["data"]["subject"]["student_key"], "2002");
  EXPECT_EQ(leerplicht[0]["data"]["content"]["evidence"]["reached_on"], "2026-11-23");
  EXPECT_EQ(coordinator.of_type("nl.schakel.attendance.leerplicht.threshold_reached").size(), 1u);
  // Parents not yet informed: nothing has left the school for the JGZ.
  EXPECT_TRUE(jgz.events().empty());
  EXPECT_EQ(officer.of_type("nl.schakel.attendance.mazl.triggered").size(), 0u);

  // Refused referrals: each with a specific reason, none reaching the JGZ.
  const std::string mazl_id = mazl[0]["id"];
  EXPECT_EQ(admin("POST", "/v1/alerts/" + mazl_id + "/referral",
                  R"({"parents_informed_on":"23-11-2026","informed_by":"mentor"})")
                .status,
            422u);
  EXPECT_EQ(admin("POST", "/v1/alerts/" + mazl_id + "/referral", R"({"parents_informed_on":"2026-11-23"})").status,
            422u);
  EXPECT_EQ(admin("POST", "/v1/alerts/01JDZ3K7Q8M2X4V6N8P0R2T4W6/referral",
                  R"({"parents_informed_on":"2026-11-23","informed_by":"mentor"})")
                .status,
            404u);
  const std::string leerplicht_id = leerplicht[0]["id"];
  EXPECT_EQ(admin("POST", "/v1/alerts/" + leerplicht_id + "/referral",
                  R"({"parents_informed_on":"2026-11-23","informed_by":"mentor"})")
                .status,
            409u);
  EXPECT_EQ(send(hub.port(), http_call{"POST", "/v1/alerts/" + mazl_id + "/referral",
                                       R"({"parents_informed_on":"2026-11-23","informed_by":"mentor"})"})
                .status,
            401u);

  const auto ok = admin("POST", "/v1/alerts/" + mazl_id + "/referral",
                        R"({"parents_informed_on":"2026-11-23","informed_by":"mentor"})");
  ASSERT_EQ(ok.status, 202u) << ok.body;
  ASSERT_TRUE(wait_until([&] { return jgz.events().size() >= 1; })) << hub.log();
  const auto referred = jgz.of_type("nl.schakel.attendance.mazl.referred");
  ASSERT_EQ(referred.size(), 1u);
  const auto& data = referred[0]["data"];
  EXPECT_EQ(data["subject"]["student_key"], "1001");
  EXPECT_EQ(data["content"]["evidence"]["parents_informed_on"], "2026-11-23");
  EXPECT_EQ(data["content"]["evidence"]["informed_by"], "mentor");
  EXPECT_EQ(data["content"]["evidence"].size(), 2u);  // only the allowlisted evidence keys
  EXPECT_FALSE(data.contains("derived_from"));
  EXPECT_EQ(admin("POST", "/v1/alerts/" + mazl_id + "/referral",
                  R"({"parents_informed_on":"2026-11-23","informed_by":"mentor"})")
                .status,
            409u);

  // The same export again, and an overlapping one with one more unrelated record: no second alert.
  drop(drop_dir, "export-2.csv", base_export());
  drop(drop_dir, "export-3.csv", base_export() + "3003;05-11-2026;1;TL;1C;1;R10\n");
  ASSERT_TRUE(wait_until([&] { return archived("export-2.csv") && archived("export-3.csv"); })) << hub.log();
  ASSERT_TRUE(wait_until([&] { return processors_caught_up(); }));
  EXPECT_EQ(coordinator.events().size(), 2u);
  EXPECT_EQ(officer.events().size(), 1u);
  EXPECT_EQ(jgz.events().size(), 1u);

  // Corrected in the source: the fourth report was an authorised absence after all. The M@ZL alert no
  // longer holds: the coordinator and the JGZ (which had the referral) each hear that it is retracted.
  std::string corrected = base_export();
  corrected.replace(corrected.find("1001;04-11-2026;1-7;Z"), 21, "1001;04-11-2026;1-7;G");
  drop(drop_dir, "export-4.csv", corrected);
  ASSERT_TRUE(wait_until(
      [&] {
        return coordinator.of_type("nl.schakel.attendance.alert.retracted").size() == 1 &&
               jgz.of_type("nl.schakel.attendance.alert.retracted").size() == 1;
      },
      std::chrono::seconds(20)))
      << hub.log();
  EXPECT_EQ(coordinator.of_type("nl.schakel.attendance.alert.retracted")[0]["data"]["content"]["evidence"]["retracts"],
            mazl_id);
  EXPECT_EQ(officer.of_type("nl.schakel.attendance.alert.retracted").size(), 0u);
}

TEST_F(attendance_fixture, bad_lines_are_quarantined_with_their_line_numbers_and_the_good_lines_are_kept) {
  start();
  drop(drop_dir, "bad.csv",
       header +
           "1001;07-09-2026;1-7;Z;2B;2;R1\n"
           "1001;31-09-2026;1-7;Z;2B;2;R2\n"   // line 3: no such date
           "1001;28-09-2026;1-7;QQ;2B;2;R3\n"  // line 4: unknown code
           "2002;02-11-2026;1-4;O;3A;3;R6\n");
  // The report is written before the file is moved: wait for both, not for the first.
  ASSERT_TRUE(wait_until([&] {
    return fs::exists(drop_dir / "quarantine" / "bad.csv.error.json") &&
           fs::exists(drop_dir / "quarantine" / "bad.csv");
  })) << hub.log();
  EXPECT_FALSE(fs::exists(drop_dir / "bad.csv"));
  std::ifstream in(drop_dir / "quarantine" / "bad.csv.error.json");
  const auto report = nlohmann::json::parse(in);
  EXPECT_EQ(report["accepted"], 2);
  ASSERT_EQ(report["rejected"].size(), 2u);
  EXPECT_EQ(report["rejected"][0]["line"], 3);
  EXPECT_EQ(report["rejected"][0]["field"], "Datum");
  EXPECT_EQ(report["rejected"][1]["line"], 4);
  EXPECT_EQ(report["rejected"][1]["field"], "Absentiecode");
  // Neither the report nor the log quotes a student number.
  EXPECT_EQ(report.dump().find("1001"), std::string::npos);
  EXPECT_EQ(hub.log().find("1001"), std::string::npos);
  const auto metrics = metrics_text(hub.port(), {}, admin_token);
  EXPECT_NE(metrics.find("schakel_signals_stored_total{connector=\"attendance\",node=\"test-node\"} 2"),
            std::string::npos)
      << metrics;
}

TEST_F(attendance_fixture, a_file_committed_just_before_a_crash_is_not_ingested_twice_after_restart) {
  start();
  drop(drop_dir, "export-1.csv", base_export());
  ASSERT_TRUE(wait_until([&] { return archived("export-1.csv"); })) << hub.log();
  ASSERT_TRUE(wait_until([&] { return processors_caught_up(); }));
  ASSERT_TRUE(wait_until([&] { return coordinator.events().size() >= 2; })) << hub.log();
  hub.process().terminate(SIGKILL);
  // As if the crash came between the commit and the move: the file is back in the drop folder.
  fs::rename(drop_dir / "archive" / "export-1.csv", drop_dir / "export-1.csv");
  start();
  ASSERT_TRUE(wait_until([&] { return archived("export-1.csv"); })) << hub.log();
  EXPECT_NE(hub.log().find("drop.already_ingested"), std::string::npos);
  ASSERT_TRUE(wait_until([&] { return processors_caught_up(); }));
  const auto metrics = metrics_text(hub.port(), {}, admin_token);
  EXPECT_NE(metrics.find("schakel_signals_stored_total{connector=\"attendance\",node=\"test-node\"} 0\n"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(coordinator.distinct_events(), 2u);
}

TEST_F(attendance_fixture, exports_pushed_over_http_take_the_same_path) {
  start();
  const auto reply =
      send(hub.port(), http_call{"POST",
                                 "/v1/connectors/attendance/records",
                                 base_export(),
                                 {{"Authorization", "Bearer " + ingest_token}, {"Content-Type", "text/csv"}}});
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_EQ(nlohmann::json::parse(reply.body)["accepted"].size(), 9u);
  ASSERT_TRUE(wait_until([&] { return officer.events().size() == 1; }, std::chrono::seconds(20))) << hub.log();
}

}  // namespace schakel::test
