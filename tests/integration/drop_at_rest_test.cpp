// End to end: what the real daemon keeps of dropped exports is its own user's alone, and a refused
// BSN is not kept in the clear. archive/ and quarantine/ are 0700 (also when they already existed
// open), every file in them 0600, and the quarantined export has its BSNs masked while its report
// still points at the refused line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "hub_fixture.hpp"
#include "support/temp_dir.hpp"

namespace schakel::test {
namespace {

namespace fs = std::filesystem;

// Passes the 11-test: the gate refuses it as a student key.
const std::string a_bsn = "123456782";
const std::string header = "Stamnummer;Datum;Lesuur;Absentiecode;Klas;Leerjaar;Registratie-id\n";

TEST(drop_at_rest, kept_exports_are_private_and_a_refused_bsn_is_masked_in_quarantine) {
  temp_dir dir{"schakel-drop-at-rest"};
  const fs::path drop_dir = dir / "drop";
  // As an older version left them: open to everyone.
  fs::create_directories(drop_dir / "archive");
  fs::create_directories(drop_dir / "quarantine");
  fs::permissions(drop_dir / "archive", fs::perms::all);
  fs::permissions(drop_dir / "quarantine", fs::perms::all);

  hub_process hub{dir.path()};
  hub.start({{"listen", {{"address", "127.0.0.1"}, {"port", 0}}},
             {"data_dir", hub.data_dir().string()},
             {"connectors", {[&] {
                auto c = attendance_drop_connector("attendance", drop_dir);
                c["drop_folder"]["retention_days"] = 30;
                return c;
              }()}}});

  const auto put = [&](const std::string& name, const std::string& content) {
    std::ofstream(drop_dir / ("." + name), std::ios::binary) << content;
    fs::permissions(drop_dir / ("." + name),
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    fs::rename(drop_dir / ("." + name), drop_dir / name);
  };
  const std::string refused = header + "100001;02-11-2026;1;O;3A;3;R1\n" + a_bsn + ";02-11-2026;1;O;3A;3;R2\n";
  put("verzuim-Jansen-Pieter.csv", header + "100000;02-11-2026;1;O;3A;3;R0\n");
  put("fout-Jansen-Pieter.csv", refused);
  const fs::path archived = drop_dir / "archive/verzuim-Jansen-Pieter.csv";
  const fs::path quarantined = drop_dir / "quarantine/fout-Jansen-Pieter.csv";
  ASSERT_TRUE(wait_until([&] { return fs::exists(archived) && fs::exists(quarantined); })) << hub.log();

  EXPECT_EQ(permission_bits(drop_dir / "archive"), 0700u);
  EXPECT_EQ(permission_bits(drop_dir / "quarantine"), 0700u);
  EXPECT_EQ(permission_bits(archived), 0600u);
  EXPECT_EQ(permission_bits(quarantined), 0600u);
  const fs::path report = drop_dir / "quarantine/fout-Jansen-Pieter.csv.error.json";
  ASSERT_TRUE(fs::exists(report));
  EXPECT_EQ(permission_bits(report), 0600u);

  // The same bytes, the BSN masked digit for digit: line 3 is still line 3.
  std::string expected = refused;
  expected.replace(expected.find(a_bsn), a_bsn.size(), std::string(a_bsn.size(), '*'));
  EXPECT_EQ(file_text(quarantined), expected);
  const auto parsed = nlohmann::json::parse(file_text(report));
  ASSERT_EQ(parsed["rejected"].size(), 1u) << parsed;
  EXPECT_EQ(parsed["rejected"][0]["line"], 3) << parsed;
  EXPECT_EQ(parsed["rejected"][0]["field"], "subject.student_key") << parsed;
  EXPECT_EQ(parsed.dump().find(a_bsn), std::string::npos);
  EXPECT_EQ(hub.log().find(a_bsn), std::string::npos);
}

}  // namespace
}  // namespace schakel::test
