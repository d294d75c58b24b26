#pragma once
/**
 * The attendance end-to-end fixture: the real daemon with the attendance connector (drop folder and
 * HTTP), the attendance-rules processor, and three partners' receivers (coordinator, JGZ, officer).
 */
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "hub_fixture.hpp"

namespace schakel::test {

inline const std::string admin_token = "test-admin-token-0123456789abcdefghijkl";
inline const std::string header = "Stamnummer;Datum;Lesuur;Absentiecode;Klas;Leerjaar;Registratie-id\n";

inline nlohmann::json delivery_to(const receiver_process& r) {
  return {{"webhook", loopback_webhook(r.url())},
          {"retry", {{"max_attempts", 12}, {"initial_backoff", "50ms"}, {"max_backoff", "200ms"}}}};
}

inline nlohmann::json attendance_config(const std::filesystem::path& data_dir, const std::filesystem::path& drop_dir,
                                        const receiver_process& coordinator, const receiver_process& jgz,
                                        const receiver_process& officer) {
  return {
      {"listen", {{"address", "127.0.0.1"}, {"port", 0}}},
      {"data_dir", data_dir.string()},
      {"admin_token", admin_token},
      {"schools",
       {{{"brin", "99XX"},
         {"vestiging", "00"},
         {"holidays",
          {{{"name", "zomervakantie"}, {"from", "2026-07-18"}, {"to", "2026-08-30"}},
           {{"name", "herfstvakantie"}, {"from", "2026-10-19"}, {"to", "2026-10-23"}}}},
         {"study_days", {"2026-11-20"}}}}},
      {"connectors",
       {attendance_drop_connector("attendance", drop_dir,
                                  {{"Z", "sick"}, {"G", "authorised"}, {"O", "unauthorised"}, {"TL", "late"}})}},
      {"processors",
       {{{"name", "attendance-rules"},
         {"plugin", "attendance-rules"},
         {"inputs", {"attendance"}},
         {"settings", {{"defaults", {{"mazl", {{"referral", "on_request"}}}}}}}}}},
      {"subscriptions",
       {{{"name", "coordinator"},
         {"partner", "Verzuimcoördinator"},
         {"filter",
          {{"types", {"nl.schakel.attendance.mazl.triggered", "nl.schakel.attendance.leerplicht.threshold_reached"}}}},
         {"fields", {"type", "subject.student_key", "content.evidence", "derived_from"}},
         {"privacy",
          {{"identity", "identified"},
           {"purpose", "school attendance follow-up"},
           {"legal_basis", "public_task"},
           {"health_ground", "substantial_public_interest"}}},
         {"delivery", delivery_to(coordinator)}},
        {{"name", "jgz"},
         {"partner", "JGZ"},
         {"filter", {{"types", {"nl.schakel.attendance.mazl.referred"}}}},
         {"fields",
          {"type", "subject.student_key", "content.evidence.parents_informed_on", "content.evidence.informed_by"}},
         {"privacy",
          {{"identity", "identified"},
           {"purpose", "M@ZL: sick-leave follow-up by the JGZ doctor"},
           {"legal_basis", "public_task"},
           {"health_ground", "health_care"}}},
         {"delivery", delivery_to(jgz)}},
        {{"name", "officer"},
         {"partner", "Leerplichtambtenaar"},
         {"filter", {{"types", {"nl.schakel.attendance.leerplicht.threshold_reached"}}}},
         {"fields", {"type", "subject.student_key", "content.evidence"}},
         {"privacy",
          {{"identity", "identified"},
           {"purpose", "leerplicht: report unauthorised absence"},
           {"legal_basis", "legal_obligation"}}},
         {"delivery", delivery_to(officer)}}}}};
}

/** Write-then-rename, as docs/drop-folder.md asks of writers. */
inline void drop(const std::filesystem::path& dir, const std::string& name, const std::string& content) {
  const auto tmp = dir / ("." + name + ".tmp");
  std::ofstream(tmp, std::ios::binary) << content;
  std::filesystem::rename(tmp, dir / name);
}

struct attendance_fixture : ::testing::Test {
  temp_dir dir{"schakel-attendance"};
  std::filesystem::path drop_dir = dir / "drop";
  receiver_process coordinator{made(dir / "coordinator"), {}};
  receiver_process jgz{made(dir / "jgz"), {}};
  receiver_process officer{made(dir / "officer"), {}};
  hub_process hub{dir.path()};

  void start() { hub.start(attendance_config(hub.data_dir(), drop_dir, coordinator, jgz, officer)); }

  http_reply admin(const std::string& method, const std::string& target, const std::string& body = {}) {
    return send(
        hub.port(),
        http_call{
            method, target, body, {{"Authorization", "Bearer " + admin_token}, {"Content-Type", "application/json"}}});
  }

  bool processors_caught_up() { return test::processors_caught_up(hub.port(), admin_token); }

  bool archived(const std::string& name) { return std::filesystem::exists(drop_dir / "archive" / name); }
};

}  // namespace schakel::test
