// End to end: a long drop-folder import with the real daemon. It says what it watches, when a file
// starts, how far it got and when it is in, naming the file only by its digest; it counts files and
// rows per connector; and a crash while the file is staged leaves nothing visible, after which the
// file is ingested exactly once.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>

#include "hub_fixture.hpp"

namespace schakel::test {
namespace {

namespace fs = std::filesystem;

const std::string admin_token = "test-admin-token-0123456789abcdefghijkl";
// Export names often carry a student's name; none of it may reach the log.
const std::string revealing_name = "verzuim-Jansen-Pieter.csv";

/** `rows` valid rows (unauthorised absence: ordinary data), each its own student and registration. */
std::string export_of(int rows, int first = 0) {
  std::string out = "Stamnummer;Datum;Lesuur;Absentiecode;Klas;Leerjaar;Registratie-id\n";
  for (int i = first; i < first + rows; ++i)
    out += std::to_string(100000 + i) + ";02-11-2026;1;O;3A;3;R" + std::to_string(i) + "\n";
  return out;
}

nlohmann::json drop_config(const fs::path& data_dir, const fs::path& drop_dir) {
  return {{"listen", {{"address", "127.0.0.1"}, {"port", 0}}},
          {"data_dir", data_dir.string()},
          {"admin_token", admin_token},
          {"connectors", {attendance_drop_connector("attendance", drop_dir)}},
          // Nobody listens on port 9: every event stays in the outbox, where the test can count it.
          {"subscriptions",
           {{{"name", "officer"},
             {"partner", "Leerplichtambtenaar"},
             {"filter", {{"types", {"nl.schakel.attendance.absence.recorded"}}}},
             {"fields", {"type", "subject.student_key"}},
             {"privacy",
              {{"identity", "identified"},
               {"purpose", "leerplicht: unauthorised absence"},
               {"legal_basis", "legal_obligation"}}},
             {"delivery",
              {{"webhook", loopback_webhook("http://127.0.0.1:9/webhook")},
               {"retry", {{"max_attempts", 100}, {"initial_backoff", "1h"}, {"max_backoff", "1h"}}}}}}}}};
}

void drop(const fs::path& dir, const std::string& name, const std::string& content) {
  const auto tmp = dir / ("." + name + ".tmp");
  std::ofstream(tmp, std::ios::binary) << content;
  fs::rename(tmp, dir / name);
}

/** One number from the daemon's database, read as another process would (read-only). */
std::int64_t count(const fs::path& db_file, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + db_file.string());
  }
  sqlite3_stmt* st = nullptr;
  std::int64_t n = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

struct drop_fixture : ::testing::Test {
  temp_dir dir{"schakel-drop"};
  fs::path drop_dir = dir / "drop";
  hub_process hub{dir.path()};

  void start(const std::vector<std::pair<std::string, std::string>>& env = {}) {
    hub.start(drop_config(hub.data_dir(), drop_dir), env);
  }
  fs::path db() const { return hub.data_dir() / "schakel.db"; }
  std::string metrics() { return metrics_text(hub.port(), {}, admin_token); }
  bool has_metric(const std::string& line) { return metrics().find(line + "\n") != std::string::npos; }
};

TEST_F(drop_fixture, a_long_import_logs_start_progress_and_end_by_digest_and_counts_files_and_rows) {
  // Progress after every part, so a file of three parts (2000 signals each) shows it.
  start({{"SCHAKEL_TEST_DROP_PROGRESS_MS", "0"}});
  const std::string good = export_of(5000);
  drop(drop_dir, revealing_name, good);
  ASSERT_TRUE(wait_until([&] { return fs::exists(drop_dir / "archive" / revealing_name); })) << hub.log();
  // One bad row (an unknown code): the rest is stored, the file quarantined.
  drop(drop_dir, "fout-de-Vries-Anna.csv", export_of(3, 10000) + "109999;02-11-2026;1;XX;3A;3;R9999\n");
  ASSERT_TRUE(wait_until([&] { return fs::exists(drop_dir / "quarantine" / "fout-de-Vries-Anna.csv"); })) << hub.log();
  // The first export again under another name: recognised by its digest.
  drop(drop_dir, "opnieuw-Jansen-Pieter.csv", good);
  ASSERT_TRUE(wait_until([&] { return fs::exists(drop_dir / "archive" / "opnieuw-Jansen-Pieter.csv"); })) << hub.log();

  // The counters move just after the move: wait for the last file's.
  ASSERT_TRUE(wait_until([&] {
    return has_metric("schakel_drop_files_total{connector=\"attendance\",outcome=\"duplicate\",node=\"test-node\"} 1");
  })) << metrics();
  const std::string log = hub.log();
  const auto watching = log_events(log, "drop.watching");
  ASSERT_EQ(watching.size(), 1u) << log;
  EXPECT_EQ(watching[0].value("dir", ""), drop_dir.string());
  EXPECT_EQ(watching[0].value("connector", ""), "attendance");

  const auto started = log_events(log, "drop.started");
  ASSERT_EQ(started.size(), 2u) << log;  // the duplicate is recognised before it starts
  EXPECT_TRUE(std::regex_match(started[0].value("sha256", ""), std::regex("[0-9a-f]{64}"))) << started[0];
  EXPECT_EQ(started[0].value("bytes", std::uint64_t{0}), good.size());

  const auto progress = log_events(log, "drop.progress");
  ASSERT_GE(progress.size(), 2u) << log;
  EXPECT_EQ(progress[0].value("sha256", ""), started[0].value("sha256", ""));
  EXPECT_EQ(progress[0].value("rows", 0), 2000);
  EXPECT_EQ(progress[1].value("rows", 0), 4000);

  const auto ingested = log_events(log, "drop.ingested");
  ASSERT_EQ(ingested.size(), 2u) << log;
  EXPECT_EQ(ingested[0].value("sha256", ""), started[0].value("sha256", ""));
  EXPECT_EQ(ingested[0].value("accepted", 0), 5000);
  EXPECT_TRUE(ingested[0].contains("seconds")) << ingested[0];
  EXPECT_EQ(log_events(log, "drop.already_ingested").size(), 1u);

  // No file name, nor any part of one, anywhere in the log.
  for (const char* part : {"Jansen", "Pieter", "Vries", "Anna", ".csv"})
    EXPECT_EQ(log.find(part), std::string::npos) << part << " in the log:\n" << log;

  EXPECT_TRUE(
      has_metric("schakel_drop_files_total{connector=\"attendance\",outcome=\"ingested\",node=\"test-node\"} 1"))
      << metrics();
  EXPECT_TRUE(
      has_metric("schakel_drop_files_total{connector=\"attendance\",outcome=\"quarantined\",node=\"test-node\"} 1"));
  EXPECT_TRUE(
      has_metric("schakel_drop_files_total{connector=\"attendance\",outcome=\"duplicate\",node=\"test-node\"} 1"));
  EXPECT_TRUE(
      has_metric("schakel_drop_rows_total{connector=\"attendance\",outcome=\"accepted\",node=\"test-node\"} 5003"));
  EXPECT_TRUE(
      has_metric("schakel_drop_rows_total{connector=\"attendance\",outcome=\"quarantined\",node=\"test-node\"} 1"));
  const std::string m = metrics();
  std::smatch when;
  ASSERT_TRUE(std::regex_search(
      m, when,
      std::regex(
          "schakel_drop_last_success_timestamp_seconds\\{connector=\"attendance\",node=\"test-node\"\\} ([0-9.e+]+)")))
      << m;
  const double at = std::stod(when[1].str());
  const double now = static_cast<double>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  EXPECT_GT(at, now - 120);
  EXPECT_LE(at, now + 1);
}

TEST_F(drop_fixture, a_crash_while_a_file_is_staged_leaves_nothing_visible_and_the_restart_ingests_it_once) {
  // The daemon kills itself (SIGKILL, as kill -9) after the second of three parts is staged.
  start({{"SCHAKEL_TEST_DROP_KILL_AFTER_PARTS", "2"}, {"SCHAKEL_TEST_DROP_PROGRESS_MS", "0"}});
  drop(drop_dir, "export.csv", export_of(5000));
  const auto status = hub.process().wait_for_exit(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value()) << "the daemon did not crash mid-file:\n" << hub.log();
  EXPECT_EQ(*status, 128 + SIGKILL);
  ASSERT_NE(hub.log().find("drop.progress"), std::string::npos) << "no part was staged:\n" << hub.log();

  // Nothing of the file is where a processor, a partner or a link could see it; the file waits.
  EXPECT_EQ(count(db(), "SELECT count(*) FROM signals"), 0);
  EXPECT_EQ(count(db(), "SELECT count(*) FROM outbox"), 0);
  EXPECT_EQ(count(db(), "SELECT count(*) FROM parked_signals"), 0);
  EXPECT_EQ(count(db(), "SELECT count(*) FROM state WHERE ns = 'schakel.drop:attendance'"), 0);
  EXPECT_TRUE(fs::exists(drop_dir / "export.csv"));

  start();
  ASSERT_TRUE(wait_until([&] { return fs::exists(drop_dir / "archive" / "export.csv"); })) << hub.log();
  EXPECT_EQ(count(db(), "SELECT count(*) FROM signals WHERE type = 'nl.schakel.attendance.absence.recorded'"), 5000);
  EXPECT_EQ(count(db(), "SELECT count(DISTINCT json_extract(json, '$.source.record_id')) FROM signals"), 5000);
  EXPECT_EQ(count(db(), "SELECT count(*) FROM outbox WHERE subscription = 'officer'"), 5000);
  EXPECT_EQ(count(db(), "SELECT count(*) FROM state WHERE ns = 'schakel.drop:attendance'"), 1);
  EXPECT_TRUE(
      has_metric("schakel_drop_rows_total{connector=\"attendance\",outcome=\"accepted\",node=\"test-node\"} 5000"))
      << metrics();
}

}  // namespace
}  // namespace schakel::test
