#include "calendar/calendar_cli.hpp"

#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace schakel::calendar {
namespace {

namespace chr = std::chrono;
namespace fs = std::filesystem;

chr::sys_days day(int y, unsigned m, unsigned d) {
  return chr::sys_days{chr::year{y} / m / d};
}

class calendar_cli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "schakel-calendar-cli-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& content) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  fs::path dir_;
};

TEST_F(calendar_cli, check_good_files_exit_zero_with_counts) {
  const auto csv = write("own.csv",
                         "from;to;kind;name\n2026-11-20;;studiedag;a\n2027-02-01;2027-02-02;study_day;b\n"
                         "2027-03-26;;vakantie;Goede Vrijdag\n");
  const auto ics = (fs::path(SCHAKEL_EXAMPLE_CALENDARS) / "2026-2027-midden.ics").string();
  std::ostringstream out, err;
  EXPECT_EQ(calendar_check({csv, ics}, out, err), 0);
  EXPECT_EQ(out.str(), csv + ": ok, 1 holiday, 2 study days\n" + ics + ": ok, 9 holidays, 0 study days\n");
  EXPECT_EQ(err.str(), "");
}

TEST_F(calendar_cli, check_bad_file_exit_one_and_other_files_still_checked) {
  const auto bad = write("bad.csv", "from;to;kind;name\n2026-11-20;;studiedag;a\n2026-11-31;;studiedag;b\n");
  const auto good = write("good.csv", "from,to,kind,name\n2026-11-20,,studiedag,a\n");
  std::ostringstream out, err;
  EXPECT_EQ(calendar_check({bad, good}, out, err), 1);
  EXPECT_EQ(err.str(), bad + ":3: from is not a date (YYYY-MM-DD or dd-mm-jjjj)\n");
  EXPECT_EQ(out.str(), good + ": ok, 0 holidays, 1 study day\n");
}

TEST_F(calendar_cli, check_missing_file_and_no_files_exit_one) {
  std::ostringstream out, err;
  const auto missing = (dir_ / "nope.ics").string();
  EXPECT_EQ(calendar_check({missing}, out, err), 1);
  EXPECT_NE(err.str().find(missing + ": cannot open"), std::string::npos) << err.str();
  std::ostringstream out2, err2;
  EXPECT_EQ(calendar_check({}, out2, err2), 1);
  EXPECT_FALSE(err2.str().empty());
}

TEST_F(calendar_cli, show_lists_school_weeks_and_skips_weeks_without_school_days) {
  calendar_registry reg;
  school_calendar c;
  c.add({day(2026, 10, 19), day(2026, 10, 23), "herfstvakantie", false});
  c.add({day(2026, 10, 30), day(2026, 10, 30), "studiedag", true});
  reg.set("99XX", c);
  std::ostringstream out;
  // From a Wednesday: widened to the whole week starting Monday 12 Oct.
  EXPECT_EQ(calendar_show(reg, "99XX", "00", day(2026, 10, 14), day(2026, 11, 2), out), 0);
  EXPECT_EQ(out.str(),
            "school 99XX00 (calendar of 99XX): school weeks 2026-10-14 .. 2026-11-02\n"
            "2026-10-12  W42  5 school days\n"
            "2026-10-19  W43  skipped (no school days)  off: herfstvakantie 2026-10-19..2026-10-23\n"
            "2026-10-26  W44  4 school days  off: studiedag 2026-10-30 (study day)\n"
            "2026-11-02  W45  5 school days\n");
}

TEST_F(calendar_cli, show_iso_week_at_year_boundary_and_partial_overlap) {
  calendar_registry reg;
  school_calendar c;
  c.add({day(2026, 12, 21), day(2027, 1, 1), "kerstvakantie", false});
  reg.set("99XX00", c);
  std::ostringstream out;
  EXPECT_EQ(calendar_show(reg, "99XX", "00", day(2026, 12, 28), day(2027, 1, 4), out), 0);
  EXPECT_EQ(out.str(),
            "school 99XX00: school weeks 2026-12-28 .. 2027-01-04\n"
            "2026-12-28  W53  skipped (no school days)  off: kerstvakantie 2026-12-28..2027-01-01\n"
            "2027-01-04  W01  5 school days\n");
}

TEST_F(calendar_cli, show_unknown_school_and_reversed_range_exit_one) {
  calendar_registry reg;
  reg.set("99XX", school_calendar{});
  std::ostringstream out;
  EXPECT_EQ(calendar_show(reg, "12AB", "00", day(2026, 10, 1), day(2026, 10, 31), out), 1);
  EXPECT_EQ(out.str(), "school 12AB00: no calendar configured (looked up 12AB00, then 12AB)\n");
  std::ostringstream out2;
  EXPECT_EQ(calendar_show(reg, "99XX", "", day(2026, 10, 31), day(2026, 10, 1), out2), 1);
  EXPECT_NE(out2.str().find("before"), std::string::npos);
}

}  // namespace
}  // namespace schakel::calendar
