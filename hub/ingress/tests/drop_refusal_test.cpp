// What is not an export file is refused: a FIFO (which would block the watcher and the daemon's
// stop), a symlink and a hard link (which would let whoever writes the folder feed in a file from
// elsewhere on the file system) are quarantined unread with a clear reason.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ingress/drop_folder.hpp"
#include "support/temp_dir.hpp"

namespace schakel::ingress {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::temp_dir;
using test::wait_until;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/** Counts ingest calls; every file would be stored. */
struct counting_daemon {
  std::atomic<std::size_t> count{0};
  ingest_file_fn ingest() {
    return [this](const std::string&, std::string, const std::string&, const std::string&) {
      ++count;
      return file_result{file_result::outcome::stored, 1, {}, {}};
    };
  }
  std::size_t calls() const { return count.load(); }
};

drop_folder_settings settings_for(const fs::path& dir) {
  drop_folder_settings s;
  s.dir = dir;
  s.poll_interval = 10ms;
  s.settle = 0ms;
  return s;
}

std::string report_error(const fs::path& quarantine, const std::string& name) {
  const auto report = nlohmann::json::parse(read_text(quarantine / (name + ".error.json")), nullptr, false);
  return report.is_object() ? report.value("error", "") : "";
}

struct refused_entries {
  temp_dir tmp{"schakel-drop-refuse"};
  fs::path drop_dir = tmp / "drop";
  fs::path outside = tmp / "elsewhere.csv";

  /** A FIFO, a symlink and a hard link, all pointing at or standing for something outside. */
  void make() {
    fs::create_directories(drop_dir);
    std::ofstream(outside) << "not for the hub\n";
    fs::permissions(outside,
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    ASSERT_EQ(::mkfifo((drop_dir / "pipe.csv").c_str(), 0600), 0);
    fs::create_symlink(outside, drop_dir / "link.csv");
    fs::create_hard_link(outside, drop_dir / "hard.csv");
  }
  void expect_refused() {
    const fs::path q = drop_dir / "quarantine";
    EXPECT_TRUE(fs::is_fifo(fs::symlink_status(q / "pipe.csv")));
    EXPECT_TRUE(fs::is_symlink(fs::symlink_status(q / "link.csv")));
    EXPECT_TRUE(fs::exists(q / "hard.csv"));
    EXPECT_NE(report_error(q, "pipe.csv").find("FIFO"), std::string::npos) << report_error(q, "pipe.csv");
    EXPECT_NE(report_error(q, "link.csv").find("symbolic link"), std::string::npos) << report_error(q, "link.csv");
    EXPECT_NE(report_error(q, "hard.csv").find("2 hard links"), std::string::npos) << report_error(q, "hard.csv");
    // The file they stood for is untouched, its mode too: making kept files private must not reach
    // through a link.
    EXPECT_EQ(read_text(outside), "not for the hub\n");
    EXPECT_EQ(fs::status(outside).permissions() & fs::perms::mask,
              fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  }
};

TEST(drop_refusal, a_fifo_a_symlink_and_a_hard_link_are_quarantined_unread_with_a_logged_reason) {
  refused_entries e;
  e.make();
  counting_daemon daemon;
  drop_folder folder("lvs", settings_for(e.drop_dir), daemon.ingest(), [](const std::string&) { return false; });
  ::testing::internal::CaptureStderr();
  const auto moved = folder.scan_once();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(moved, 3u);
  EXPECT_EQ(daemon.calls(), 0u);
  e.expect_refused();
  std::vector<std::string> reasons;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("event", "") == "drop.refused") reasons.push_back(j.value("reason", ""));
    // Entries are never named in the log: their names may hold a student's name.
    EXPECT_EQ(line.find("pipe.csv"), std::string::npos) << line;
  }
  EXPECT_EQ(reasons.size(), 3u) << log;
}

TEST(drop_refusal, a_file_swapped_for_a_fifo_between_scans_does_not_block_and_stop_is_prompt) {
  temp_dir tmp("schakel-drop-swap");
  counting_daemon daemon;
  drop_folder_settings s = settings_for(tmp.path());
  s.settle = 1ms;  // seen twice unchanged: the second scan would read it
  drop_folder folder("lvs", s, daemon.ingest(), [](const std::string&) { return false; });
  std::ofstream(tmp / "export.csv") << "abc\n";
  fs::last_write_time(tmp / "export.csv", fs::file_time_type::clock::now() - 1h);
  EXPECT_EQ(folder.scan_once(), 0u);  // first sight: remembered, not read
  // Swapped between the scans: what the watcher opens is a FIFO nobody writes to.
  fs::remove(tmp / "export.csv");
  ASSERT_EQ(::mkfifo((tmp / "export.csv").c_str(), 0600), 0);
  folder.start();
  EXPECT_TRUE(wait_until([&] { return fs::is_fifo(fs::symlink_status(tmp / "quarantine/export.csv")); }, 10s));
  const auto before = std::chrono::steady_clock::now();
  folder.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
  EXPECT_EQ(daemon.calls(), 0u);
}

TEST(drop_refusal, the_watcher_thread_refuses_them_too_and_stops_promptly) {
  refused_entries e;
  e.make();
  counting_daemon daemon;
  drop_folder folder("lvs", settings_for(e.drop_dir), daemon.ingest(), [](const std::string&) { return false; });
  folder.start();
  EXPECT_TRUE(wait_until(
      [&] {
        for (const char* name : {"hard.csv", "link.csv", "pipe.csv"})
          if (!fs::exists(e.drop_dir / "quarantine" / (std::string(name) + ".error.json"))) return false;
        return true;
      },
      10s));
  const auto before = std::chrono::steady_clock::now();
  folder.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
  e.expect_refused();
}

}  // namespace
}  // namespace schakel::ingress
