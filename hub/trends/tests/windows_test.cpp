#include "trends/windows.hpp"

#include <gtest/gtest.h>

namespace schakel::trends {
namespace {

days day(const std::string& text) {
  days d{};
  EXPECT_TRUE(parse_day(text, d)) << text;
  return d;
}

TEST(trend_windows, week_keys_follow_iso_including_the_year_boundary) {
  EXPECT_EQ(week_key(week_monday(day("2026-09-10"))), "2026-W37");
  EXPECT_EQ(format_day(week_monday(day("2026-09-13"))), "2026-09-07");  // a Sunday belongs to the week before
  EXPECT_EQ(format_day(week_monday(day("2026-09-07"))), "2026-09-07");
  EXPECT_EQ(week_key(week_monday(day("2027-01-01"))), "2026-W53");  // 2026 has 53 ISO weeks
  EXPECT_EQ(week_key(week_monday(day("2027-01-04"))), "2027-W01");
  EXPECT_EQ(week_key(week_monday(day("2025-12-29"))), "2026-W01");  // its Thursday is in 2026
}

TEST(trend_windows, a_month_is_the_weeks_whose_thursday_falls_in_it) {
  // 28 Sep - 4 Oct 2026: Thursday 1 Oct, so the week is October's.
  EXPECT_EQ(month_key(day("2026-09-28")), "2026-10");
  const auto october = month_weeks(day("2026-10-12"));
  ASSERT_EQ(october.size(), 5u);
  EXPECT_EQ(format_day(october.front()), "2026-09-28");
  EXPECT_EQ(format_day(october.back()), "2026-10-26");
  EXPECT_TRUE(last_week_of_month(day("2026-10-26")));
  EXPECT_FALSE(last_week_of_month(day("2026-10-19")));
  EXPECT_EQ(month_weeks(day("2026-11-02")).size(), 4u);
}

TEST(trend_windows, the_school_year_follows_the_thursday_and_its_start_day) {
  EXPECT_EQ(school_year_of(day("2026-07-27"), "08-01"), "2025-2026");  // Thursday 30 July
  EXPECT_EQ(school_year_of(day("2026-08-03"), "08-01"), "2026-2027");
  EXPECT_EQ(format_day(school_year_first_week("2026-2027", "08-01")), "2026-08-03");
  // 1 Aug 2024 is a Thursday: that week is the school year's first.
  EXPECT_EQ(format_day(school_year_first_week("2024-2025", "08-01")), "2024-07-29");
  EXPECT_EQ(school_year_of(day("2024-07-29"), "08-01"), "2024-2025");
  EXPECT_EQ(school_year_of(day("2026-08-31"), "09-01"), "2026-2027");  // Thursday 3 Sep
}

TEST(trend_windows, windows_closing_with_a_week) {
  auto w =
      windows_closing(day("2026-10-19"), {window_kind::week, window_kind::month, window_kind::year_to_date}, "08-01");
  ASSERT_EQ(w.size(), 2u);  // not October's last week: no month
  EXPECT_EQ(w[0].key, "2026-W43");
  EXPECT_EQ(format_day(w[0].first), "2026-10-19");
  EXPECT_EQ(format_day(w[0].last), "2026-10-25");
  EXPECT_EQ(w[1].kind, window_kind::year_to_date);
  EXPECT_EQ(format_day(w[1].first), "2026-08-03");
  EXPECT_EQ(format_day(w[1].last), "2026-10-25");
  w = windows_closing(day("2026-10-26"), {window_kind::month}, "08-01");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].key, "2026-10");
  EXPECT_EQ(format_day(w[0].first), "2026-09-28");
  EXPECT_EQ(format_day(w[0].last), "2026-11-01");
}

TEST(trend_windows, parse_day_refuses_impossible_dates) {
  days d{};
  EXPECT_FALSE(parse_day("2026-02-29", d));
  EXPECT_TRUE(parse_day("2028-02-29", d));
  EXPECT_FALSE(parse_day("2026-13-01", d));
  EXPECT_FALSE(parse_day("26-09-2026", d));
  EXPECT_FALSE(parse_day("2026-9-1", d));
}

}  // namespace
}  // namespace schakel::trends
