#include "attendance/generator.hpp"

#include <set>
#include <string>
#include <tuple>

#include <gtest/gtest.h>

namespace schakel::attendance_bench {
namespace {

calendar::school_calendar midden() {
  calendar::school_calendar c;
  calendar::load_calendar_file(SCHAKEL_EXAMPLE_CALENDAR, c);
  return c;
}

TEST(attendance_bench_generator, same_seed_gives_the_same_files_and_another_seed_does_not) {
  const auto cal = midden();
  year_options o;
  const auto a = weekly_exports(generate_year(o, cal));
  const auto b = weekly_exports(generate_year(o, cal));
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].body, b[i].body) << a[i].name;
  }
  o.seed += 1;
  const auto c = weekly_exports(generate_year(o, cal));
  EXPECT_NE(a[3].body, c[3].body);
}

TEST(attendance_bench_generator, a_year_has_realistic_volume_on_school_days_only_with_unique_ids) {
  const auto cal = midden();
  const year y = generate_year({}, cal);
  EXPECT_EQ(y.students.size(), 1500u);
  EXPECT_GE(y.rows.size(), 40000u);
  EXPECT_LE(y.rows.size(), 60000u);
  std::set<std::uint32_t> ids;
  for (const auto& r : y.rows) {
    ASSERT_TRUE(cal.is_school_day(y.school_days.at(static_cast<std::size_t>(r.day))));
    ASSERT_LE(r.lesson_from, r.lesson_to);
    ASSERT_LE(r.lesson_to, 7);
    ids.insert(r.record_id);
  }
  EXPECT_EQ(ids.size(), y.rows.size());
  // No student is absent twice in the same lesson of the same day.
  std::set<std::tuple<int, int, int>> lessons;
  for (const auto& r : y.rows)
    for (int l = r.lesson_from; l <= r.lesson_to; ++l) ASSERT_TRUE(lessons.insert({r.day, r.student, l}).second);
}

TEST(attendance_bench_generator, weekly_files_are_named_by_monday_and_hold_every_row_once) {
  const year y = generate_year({}, midden());
  const auto weeks = weekly_exports(y);
  EXPECT_GE(weeks.size(), 36u);
  EXPECT_LE(weeks.size(), 42u);
  EXPECT_EQ(weeks.front().name, "week-2026-08-31.csv");
  std::size_t lines = 0;
  for (const auto& f : weeks) {
    ASSERT_TRUE(f.body.starts_with(csv_header())) << f.name;
    for (char ch : f.body) lines += ch == '\n';
    --lines;  // the header
  }
  EXPECT_EQ(lines, y.rows.size());
  const auto one = single_export(y);
  EXPECT_EQ(one.body.size(), [&] {
    std::size_t n = csv_header().size();
    for (const auto& f : weeks) n += f.body.size() - csv_header().size();
    return n;
  }());
  // A sick day is a whole-day row in the magister-like shape.
  EXPECT_NE(one.body.find(";1-7;Z;"), std::string::npos);
}

}  // namespace
}  // namespace schakel::attendance_bench
