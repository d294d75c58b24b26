// What the hub keeps of dropped exports: only its own user can read it (folders 0700, files 0600),
// a quarantined export is kept redacted (no refused BSN in the clear), and everything kept is
// removed after the retention period.
#include "ingress/drop_folder.hpp"

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace schakel::ingress {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::file_text;
using test::permission_bits;

constexpr const char* refused_bsn = "123456782";

/** A folder whose daemon stores every file and refuses line 2 of any file holding `refused_bsn`. */
class kept_exports : public testing::Test {
 protected:
  drop_folder& folder(drop_folder_settings settings = {}) {
    settings.dir = tmp_.path();
    settings.settle = 0ms;
    folder_.emplace(
        "lvs", std::move(settings),
        [](const std::string&, std::string body, const std::string&, const std::string&) {
          file_result r;
          r.accepted = 1;
          if (body.find(refused_bsn) != std::string::npos) r.rejected.push_back({2, "bsn", "holds a BSN"});
          return r;
        },
        [](const std::string&) { return false; });
    return *folder_;
  }

  void put(const std::string& name, const std::string& text) {
    std::ofstream(tmp_ / ("." + name)) << text;
    fs::rename(tmp_ / ("." + name), tmp_ / name);
  }

  test::temp_dir tmp_{"schakel-kept"};
  std::optional<drop_folder> folder_;
};

TEST_F(kept_exports, archive_and_quarantine_are_the_hub_users_alone) {
  // Left open by an older version: closed at start.
  fs::create_directory(tmp_ / "archive");
  ::chmod((tmp_ / "archive").c_str(), 0755);
  auto& f = folder();
  EXPECT_EQ(permission_bits(tmp_ / "archive"), 0700u);
  EXPECT_EQ(permission_bits(tmp_ / "quarantine"), 0700u);

  put("Jan Jansen verzuim.csv", "a;b\n1;2\n");
  ::chmod((tmp_ / "Jan Jansen verzuim.csv").c_str(), 0644);
  put("fout.csv", std::string("a;bsn\n1;") + refused_bsn + "\n");
  ASSERT_EQ(f.scan_once(), 2u);
  EXPECT_EQ(permission_bits(tmp_ / "archive/Jan Jansen verzuim.csv"), 0600u);
  EXPECT_EQ(permission_bits(tmp_ / "quarantine/fout.csv"), 0600u);
  EXPECT_EQ(permission_bits(tmp_ / "quarantine/fout.csv.error.json"), 0600u);
}

TEST_F(kept_exports, quarantine_keeps_the_report_and_a_redacted_copy) {
  drop_folder_settings settings;
  settings.redact = [](std::string text) {
    for (auto at = text.find(refused_bsn); at != std::string::npos; at = text.find(refused_bsn))
      text.replace(at, 9, "*********");
    return text;
  };
  auto& f = folder(settings);
  put("fout.csv", std::string("a;bsn\n1;") + refused_bsn + "\n");
  ASSERT_EQ(f.scan_once(), 1u);

  EXPECT_FALSE(fs::exists(tmp_ / "fout.csv"));
  EXPECT_EQ(file_text(tmp_ / "quarantine/fout.csv"), "a;bsn\n1;*********\n");
  const std::string report = file_text(tmp_ / "quarantine/fout.csv.error.json");
  EXPECT_NE(report.find("\"field\": \"bsn\""), std::string::npos) << report;
  EXPECT_NE(report.find("\"line\": 2"), std::string::npos) << report;
  EXPECT_EQ(report.find(refused_bsn), std::string::npos) << report;
}

TEST_F(kept_exports, purge_removes_what_was_kept_longer_than_the_retention) {
  drop_folder_settings settings;
  settings.retention = 24h * 14;
  auto& f = folder(settings);
  put("goed.csv", "a;b\n");
  put("fout.csv", std::string("a;bsn\n1;") + refused_bsn + "\n");
  ASSERT_EQ(f.scan_once(), 2u);
  put("later.csv", "c;d\n");  // not yet read: the watched folder itself is never purged

  const auto now = std::chrono::system_clock::now();
  auto removed = f.purge(now + 24h * 13);
  EXPECT_EQ(removed.archive, 0u);
  EXPECT_EQ(removed.quarantine, 0u);
  EXPECT_TRUE(fs::exists(tmp_ / "archive/goed.csv"));

  removed = f.purge(now + 24h * 15);
  EXPECT_EQ(removed.archive, 1u);
  EXPECT_EQ(removed.quarantine, 2u);  // the export and its report
  EXPECT_TRUE(fs::is_empty(tmp_ / "archive"));
  EXPECT_TRUE(fs::is_empty(tmp_ / "quarantine"));
  EXPECT_TRUE(fs::exists(tmp_ / "later.csv"));
}

}  // namespace
}  // namespace schakel::ingress
