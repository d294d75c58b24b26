// End to end: a school system that pushes every lesson as it is registered gives the attendance
// officer one leerplicht alert and updates of it, never a retraction and a second alert; the same
// lessons in one export give the same final evidence. Across a restart of the daemon mid-period too.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "attendance_fixture.hpp"

namespace schakel::test {
namespace {

const std::string type_alert = "nl.schakel.attendance.leerplicht.threshold_reached";
const std::string type_update = "nl.schakel.attendance.alert.updated";
const std::string type_retraction = "nl.schakel.attendance.alert.retracted";

/** 18 single-lesson unauthorised registrations: 6 each on Mon 2, Tue 3 and Wed 4 Nov 2026. */
std::vector<std::string> lesson_lines(const std::string& student) {
  std::vector<std::string> out;
  for (const std::string date : {"02-11-2026", "03-11-2026", "04-11-2026"}) {
    for (int lesson = 1; lesson <= 6; ++lesson) {
      out.push_back(student + ";" + date + ";" + std::to_string(lesson) + ";O;3A;3;" + student + "-" +
                    date.substr(0, 2) + "-" + std::to_string(lesson) + "\n");
    }
  }
  return out;
}

std::vector<nlohmann::json> for_student(const std::vector<nlohmann::json>& events, const std::string& student) {
  std::vector<nlohmann::json> out;
  for (const auto& e : events) {
    if (e["data"]["subject"]["student_key"] == student) out.push_back(e);
  }
  return out;
}

struct attendance_updates : attendance_fixture {
  void push(const std::string& csv) {
    const auto reply =
        send(hub.port(), http_call{"POST",
                                   "/v1/connectors/attendance/records",
                                   header + csv,
                                   {{"Authorization", "Bearer " + ingest_token}, {"Content-Type", "text/csv"}}});
    ASSERT_EQ(reply.status, 200u) << reply.body;
    // One processor batch per lesson: the next lesson is pushed only after this one was processed.
    ASSERT_TRUE(wait_until([&] { return processors_caught_up(); })) << hub.log();
  }
};

}  // namespace

TEST_F(attendance_updates,
       lessons_pushed_one_at_a_time_reach_the_officer_as_one_alert_with_the_evidence_of_one_export) {
  start();
  const auto trickled = lesson_lines("4004");
  for (std::size_t i = 0; i < 16; ++i) push(trickled[i]);
  ASSERT_TRUE(wait_until([&] { return officer.of_type(type_alert).size() == 1; }, std::chrono::seconds(20)))
      << hub.log();
  const std::string alert_id = officer.of_type(type_alert)[0]["id"];
  EXPECT_EQ(officer.of_type(type_alert)[0]["data"]["content"]["evidence"]["hours"], 16);

  // The daemon restarts mid-period: the alert already told stays the one report.
  hub.process().terminate(SIGTERM, std::chrono::seconds(20));
  start();
  for (std::size_t i = 16; i < trickled.size(); ++i) push(trickled[i]);

  // Another student's same 18 lessons, in one export.
  std::string all;
  for (const auto& line : lesson_lines("5005")) all += line;
  push(all);

  ASSERT_TRUE(
      wait_until([&] { return officer.of_type(type_update).size() == 2 && officer.of_type(type_alert).size() == 2; },
                 std::chrono::seconds(20)))
      << hub.log();
  ASSERT_TRUE(wait_until([&] { return processors_caught_up(); }));

  const auto a = for_student(officer.of_type(type_alert), "4004");
  const auto b = for_student(officer.of_type(type_alert), "5005");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0]["id"], alert_id);
  EXPECT_TRUE(officer.of_type(type_retraction).empty());
  const auto updates = for_student(officer.of_type(type_update), "4004");
  ASSERT_EQ(updates.size(), 2u);
  for (const auto& u : updates) {
    EXPECT_EQ(u["data"]["content"]["evidence"]["updates"], alert_id);
    EXPECT_EQ(u["data"]["content"]["evidence"]["updates_type"], type_alert);
  }

  // What the officer ends with for 4004 (the last update, without its reference) is what it got for
  // 5005 at once.
  nlohmann::json final_a = updates.back()["data"]["content"]["evidence"];
  final_a.erase("updates");
  final_a.erase("updates_type");
  EXPECT_EQ(final_a, b[0]["data"]["content"]["evidence"]);
  EXPECT_EQ(final_a["hours"], 18);
  EXPECT_EQ(final_a["days"], "2026-11-02:6,2026-11-03:6,2026-11-04:6");

  // The coordinator, which takes the leerplicht alert too, hears the same; the JGZ hears nothing.
  EXPECT_EQ(coordinator.of_type(type_alert).size(), 2u);
  EXPECT_EQ(coordinator.of_type(type_update).size(), 2u);
  EXPECT_TRUE(coordinator.of_type(type_retraction).empty());
  EXPECT_TRUE(jgz.events().empty());
}

}  // namespace schakel::test
