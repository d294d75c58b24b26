#include "calendar/calendar.hpp"

#include <stdlib.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace schakel::calendar {
namespace {

namespace chr = std::chrono;
namespace fs = std::filesystem;

chr::sys_days day(int y, unsigned m, unsigned d) {
  return chr::sys_days{chr::year{y} / m / d};
}

// Runs `f` and returns the calendar_error text, or "" when nothing was thrown.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const calendar_error& e) {
    return e.what();
  }
  return "";
}

std::string ics(const std::string& events) {
  return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + events + "END:VCALENDAR\r\n";
}

class temp_dir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "schakel-calendar-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path write(const std::string& name, const std::string& content) {
    fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  fs::path dir_;
};

// --- dates -----------------------------------------------------------------------------------

TEST(parse_date, iso_and_dutch_forms) {
  EXPECT_EQ(parse_date("2026-10-19"), day(2026, 10, 19));
  EXPECT_EQ(parse_date("19-10-2026"), day(2026, 10, 19));
  EXPECT_EQ(parse_date("9-1-2027"), day(2027, 1, 9));
  EXPECT_EQ(parse_date("09/01/2027"), day(2027, 1, 9));
  EXPECT_EQ(parse_date("9.1.2027"), day(2027, 1, 9));
  EXPECT_EQ(parse_date("2028-02-29"), day(2028, 2, 29));
}

TEST(parse_date, refuses_malformed_and_impossible_dates) {
  for (const char* bad :
       {"", "2026-1-9", "2026-13-01", "2027-02-29", "31-04-2027", "19-10-26", "19-10/2026", " 2026-10-19",
        "2026-10-19 ", "2026/10/19x", "+1-10-2026", "19-10-2026-", "aa-bb-cccc", "123-10-2026"}) {
    EXPECT_FALSE(parse_date(bad).has_value()) << bad;
  }
}

TEST(format_date, pads_fields) {
  EXPECT_EQ(format_date(day(2027, 1, 9)), "2027-01-09");
}

// --- school_calendar -------------------------------------------------------------------------

TEST(school_calendar, classifies_weekday_weekend_holiday_study_day) {
  school_calendar c;
  c.add({day(2026, 10, 19), day(2026, 10, 23), "herfstvakantie", false});
  c.add({day(2026, 11, 20), day(2026, 11, 20), "studiedag", true});
  EXPECT_EQ(c.kind(day(2026, 10, 16)), day_kind::school_day);  // Friday before
  EXPECT_EQ(c.kind(day(2026, 10, 17)), day_kind::weekend);
  EXPECT_EQ(c.kind(day(2026, 10, 18)), day_kind::weekend);
  EXPECT_EQ(c.kind(day(2026, 10, 19)), day_kind::holiday);  // first day, inclusive
  EXPECT_EQ(c.kind(day(2026, 10, 23)), day_kind::holiday);  // last day, inclusive
  EXPECT_EQ(c.kind(day(2026, 10, 26)), day_kind::school_day);
  EXPECT_EQ(c.kind(day(2026, 11, 20)), day_kind::study_day);
  EXPECT_EQ(c.kind(day(2026, 11, 19)), day_kind::school_day);
  EXPECT_TRUE(c.is_school_day(day(2026, 11, 19)));
  EXPECT_FALSE(c.is_school_day(day(2026, 11, 20)));
  EXPECT_EQ(c.holiday_count(), 1u);
  EXPECT_EQ(c.study_day_count(), 1u);
  EXPECT_EQ(to_string(c.kind(day(2026, 11, 20))), "study_day");
}

TEST(school_calendar, weekend_inside_holiday_stays_weekend_and_holiday_beats_study_day) {
  school_calendar c;
  c.add({day(2026, 12, 21), day(2027, 1, 1), "kerstvakantie", false});
  c.add({day(2026, 12, 18), day(2026, 12, 22), "studiedagen", true});  // overlaps the holiday
  EXPECT_EQ(c.kind(day(2026, 12, 26)), day_kind::weekend);
  EXPECT_EQ(c.kind(day(2026, 12, 18)), day_kind::study_day);
  EXPECT_EQ(c.kind(day(2026, 12, 21)), day_kind::holiday);
  EXPECT_EQ(c.kind(day(2026, 12, 22)), day_kind::holiday);
  EXPECT_EQ(c.kind(day(2027, 1, 1)), day_kind::holiday);
  EXPECT_EQ(c.kind(day(2027, 1, 4)), day_kind::school_day);
  EXPECT_EQ(c.days_off().size(), 2u);
}

TEST(school_calendar, overlapping_and_adjacent_ranges_in_any_order) {
  school_calendar c;
  c.add({day(2027, 5, 3), day(2027, 5, 7), "b", false});
  c.add({day(2027, 4, 26), day(2027, 4, 30), "a", false});
  c.add({day(2027, 5, 5), day(2027, 5, 5), "bevrijdingsdag", false});
  for (auto d = day(2027, 4, 26); d <= day(2027, 5, 7); d += chr::days{1}) {
    EXPECT_FALSE(c.is_school_day(d)) << format_date(d);
  }
  EXPECT_TRUE(c.is_school_day(day(2027, 4, 23)));
  EXPECT_TRUE(c.is_school_day(day(2027, 5, 10)));
}

TEST(school_calendar, refuses_range_ending_before_start) {
  school_calendar c;
  EXPECT_THROW(c.add({day(2026, 10, 23), day(2026, 10, 19), "x", false}), calendar_error);
  EXPECT_TRUE(c.days_off().empty());
}

TEST(school_calendar, add_all_is_all_or_nothing) {
  school_calendar c;
  EXPECT_THROW(c.add_all({{day(2026, 10, 19), day(2026, 10, 23), "ok", false},
                          {day(2026, 11, 20), day(2026, 11, 19), "reversed", true}}),
               calendar_error);
  EXPECT_TRUE(c.days_off().empty());
  EXPECT_TRUE(c.is_school_day(day(2026, 10, 19)));
  c.add_all(
      {{day(2026, 10, 19), day(2026, 10, 23), "herfst", false}, {day(2026, 11, 20), day(2026, 11, 20), "s", true}});
  EXPECT_EQ(c.kind(day(2026, 10, 21)), day_kind::holiday);
  EXPECT_EQ(c.kind(day(2026, 11, 20)), day_kind::study_day);
}

TEST(school_calendar, many_entries_stay_consistent_with_a_naive_scan) {
  // Every third weekday of a year off, alternating kinds, added in reverse: the index must agree
  // with checking each entry one by one.
  school_calendar c;
  std::vector<day_off> all;
  for (int i = 360; i >= 0; i -= 3) {
    const auto d = day(2026, 8, 1) + chr::days{i};
    all.push_back({d, d + chr::days{i % 2}, "x", i % 6 == 0});
  }
  c.add_all(all);
  for (int i = -5; i < 370; ++i) {
    const auto d = day(2026, 8, 1) + chr::days{i};
    const unsigned wd = chr::weekday{d}.c_encoding();
    day_kind expected = day_kind::school_day;
    for (const auto& off : all) {
      if (off.from <= d && d <= off.to) {
        if (!off.study_day)
          expected = day_kind::holiday;
        else if (expected == day_kind::school_day)
          expected = day_kind::study_day;
      }
    }
    if (wd == 0 || wd == 6) expected = day_kind::weekend;
    ASSERT_EQ(c.kind(d), expected) << format_date(d);
  }
}

TEST(school_calendar, empty_calendar_has_only_weekdays_and_weekends) {
  school_calendar c;
  EXPECT_EQ(c.kind(day(2027, 3, 1)), day_kind::school_day);
  EXPECT_EQ(c.kind(day(2027, 3, 7)), day_kind::weekend);
}

// --- iCalendar -------------------------------------------------------------------------------

TEST(parse_ics, all_day_dtend_is_exclusive_and_missing_dtend_is_one_day) {
  school_calendar c;
  parse_ics(ics("BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261019\r\nDTEND;VALUE=DATE:20261024\r\n"
                "SUMMARY:herfstvakantie\r\nEND:VEVENT\r\n"
                "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270326\r\nSUMMARY:Goede Vrijdag\r\nEND:VEVENT\r\n"),
            "t.ics", c);
  ASSERT_EQ(c.days_off().size(), 2u);
  EXPECT_EQ(c.days_off()[0].from, day(2026, 10, 19));
  EXPECT_EQ(c.days_off()[0].to, day(2026, 10, 23));
  EXPECT_EQ(c.days_off()[0].name, "herfstvakantie");
  EXPECT_FALSE(c.days_off()[0].study_day);
  EXPECT_EQ(c.days_off()[1].from, day(2027, 3, 26));
  EXPECT_EQ(c.days_off()[1].to, day(2027, 3, 26));
  EXPECT_TRUE(c.is_school_day(day(2027, 3, 25)));
  EXPECT_FALSE(c.is_school_day(day(2027, 3, 26)));
  EXPECT_TRUE(c.is_school_day(day(2027, 3, 29)));
}

TEST(parse_ics, date_times_take_the_date) {
  school_calendar c;
  parse_ics(ics("BEGIN:VEVENT\nDTSTART:20261019T000000\nDTEND:20261024T000000\nSUMMARY:a\nEND:VEVENT\n"
                "BEGIN:VEVENT\nDTSTART;TZID=\"Europe/Amsterdam\":20261120T083000\nDTEND;TZID=Europe/Amsterdam:"
                "20261120T160000\nSUMMARY:b\nEND:VEVENT\n"
                "BEGIN:VEVENT\nDTSTART:20270201T090000Z\nDTEND:20270202T120000Z\nSUMMARY:c\nEND:VEVENT\n"),
            "t.ics", c);
  ASSERT_EQ(c.days_off().size(), 3u);
  EXPECT_EQ(c.days_off()[0].to, day(2026, 10, 23));  // midnight end is exclusive
  EXPECT_EQ(c.days_off()[1].from, day(2026, 11, 20));
  EXPECT_EQ(c.days_off()[1].to, day(2026, 11, 20));
  EXPECT_EQ(c.days_off()[2].to, day(2027, 2, 2));  // ends during that day: included
}

TEST(parse_ics, folded_lines_are_unfolded) {
  school_calendar c;
  parse_ics(ics("BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:2026\r\n 1120\r\nSUMMARY:Studie\r\n\tdag voor het team\\, m\r\n"
                " et lunch\r\nEND:VEVENT\r\n"),
            "t.ics", c);
  ASSERT_EQ(c.days_off().size(), 1u);
  EXPECT_EQ(c.days_off()[0].from, day(2026, 11, 20));
  EXPECT_EQ(c.days_off()[0].name, "Studiedag voor het team, met lunch");
  EXPECT_TRUE(c.days_off()[0].study_day);  // recognised only after unfolding
}

TEST(parse_ics, study_days_by_categories_or_summary) {
  school_calendar c;
  parse_ics(ics("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261001\nSUMMARY:teamdag\nCATEGORIES:SCHOOL,StudieDag\nEND:VEVENT\n"
                "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261002\nSUMMARY:x\nCATEGORIES:study-day\nEND:VEVENT\n"
                "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261005\nSUMMARY:STUDIEDAG bovenbouw\nEND:VEVENT\n"
                "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261006\nSUMMARY:dag van de leraar\nCATEGORIES:VRIJ\nEND:VEVENT\n"),
            "t.ics", c);
  ASSERT_EQ(c.days_off().size(), 4u);
  EXPECT_TRUE(c.days_off()[0].study_day);
  EXPECT_TRUE(c.days_off()[1].study_day);
  EXPECT_TRUE(c.days_off()[2].study_day);
  EXPECT_FALSE(c.days_off()[3].study_day);
  EXPECT_EQ(c.kind(day(2026, 10, 6)), day_kind::holiday);
  EXPECT_EQ(c.kind(day(2026, 10, 5)), day_kind::study_day);
}

TEST(parse_ics, ignores_unknown_components_properties_and_cancelled_events) {
  school_calendar c;
  parse_ics(ics("BEGIN:VTIMEZONE\nTZID:Europe/Amsterdam\nBEGIN:STANDARD\nDTSTART:19701025T030000\nEND:STANDARD\n"
                "END:VTIMEZONE\n"
                "BEGIN:VEVENT\nX-FOO;BAR=\"a:b\":baz\nDTSTART;VALUE=DATE:20261019\nSUMMARY:a\n"
                "BEGIN:VALARM\nTRIGGER:-PT15M\nDTSTART:garbage\nEND:VALARM\nEND:VEVENT\n"
                "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261020\nSTATUS:CANCELLED\nEND:VEVENT\n"),
            "t.ics", c);
  ASSERT_EQ(c.days_off().size(), 1u);
  EXPECT_EQ(c.days_off()[0].from, day(2026, 10, 19));
  EXPECT_TRUE(c.is_school_day(day(2026, 10, 20)));
}

TEST(parse_ics, duration_in_days_or_weeks) {
  school_calendar c;
  parse_ics(ics("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261019\nDURATION:P5D\nEND:VEVENT\n"
                "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261221\nDURATION:P2W\nEND:VEVENT\n"),
            "t.ics", c);
  ASSERT_EQ(c.days_off().size(), 2u);
  EXPECT_EQ(c.days_off()[0].to, day(2026, 10, 23));
  EXPECT_EQ(c.days_off()[1].to, day(2027, 1, 3));
}

TEST(parse_ics, rrule_and_rdate_are_refused_with_line) {
  school_calendar c;
  EXPECT_EQ(error_of([&] {
              parse_ics(
                  ics("BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261019\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT\r\n"),
                  "s.ics", c);
            }),
            "s.ics:6: RRULE not supported: list the days");
  EXPECT_EQ(error_of([&] {
              parse_ics(ics("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261019\nRDATE;VALUE=DATE:20261020\nEND:VEVENT\n"),
                        "s.ics", c);
            }),
            "s.ics:6: RDATE not supported: list the days");
  EXPECT_TRUE(c.days_off().empty());
}

TEST(parse_ics, errors_carry_origin_and_line) {
  school_calendar c;
  struct bad_case {
    std::string text, expected;
  };
  const std::string ev = "BEGIN:VEVENT\n";  // line 4 inside ics()
  const bad_case cases[] = {
      {"END:VEVENT\nBEGIN:VCALENDAR\nEND:VCALENDAR\n", "x.ics:1: END:VEVENT before BEGIN"},
      {ics(ev + "DTSTART;VALUE=DATE:20261319\nEND:VEVENT\n"), "x.ics:5: DTSTART is not a date"},
      {ics(ev + "DTSTART;VALUE=DATE:20261019T080000\nEND:VEVENT\n"), "x.ics:5: DTSTART is not a date"},
      {ics(ev + "DTSTART:2026-10-19\nEND:VEVENT\n"), "x.ics:5: DTSTART is not a date"},
      {ics(ev + "DTSTART;VALUE=DATE:20261019\nDTEND;VALUE=DATE:20261018\nEND:VEVENT\n"),
       "x.ics:6: DTEND is before DTSTART"},
      {ics(ev + "DTSTART;VALUE=DATE:20261019\nDTEND;VALUE=DATE:x\nEND:VEVENT\n"), "x.ics:6: DTEND is not a date"},
      {ics(ev + "SUMMARY:no start\nEND:VEVENT\n"), "x.ics:4: VEVENT without DTSTART"},
      {ics(ev + "DTSTART;VALUE=DATE:20261019\nDTSTART;VALUE=DATE:20261020\nEND:VEVENT\n"),
       "x.ics:6: DTSTART given twice"},
      {ics(ev + "DTSTART;VALUE=DATE:20261019\nDURATION:PT8H\nEND:VEVENT\n"),
       "x.ics:6: DURATION must be whole days or weeks (e.g. P5D, P1W)"},
      {ics(ev + "DTSTART;VALUE=DATE:20261019\nEND:VTODO\n"), "x.ics:6: END:VTODO while VEVENT is open"},
      {ics(ev + "just text\nEND:VEVENT\n"), "x.ics:5: not an iCalendar content line (no ':')"},
      {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261019\nEND:VEVENT\n", "x.ics:4: missing END:VCALENDAR"},
      {"SUMMARY:x\n", "x.ics:1: content before BEGIN:VCALENDAR"},
      {"BEGIN:VEVENT\nEND:VEVENT\n", "x.ics:1: BEGIN:VEVENT outside VCALENDAR"},
      {"", "x.ics:1: no VCALENDAR found"},
  };
  for (const auto& bc : cases) {
    EXPECT_EQ(error_of([&] { parse_ics(bc.text, "x.ics", c); }), bc.expected) << bc.text;
  }
  EXPECT_TRUE(c.days_off().empty());
}

TEST(parse_ics, error_after_good_events_leaves_calendar_unchanged) {
  school_calendar c;
  EXPECT_THROW(parse_ics(ics("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261019\nEND:VEVENT\n"
                             "BEGIN:VEVENT\nDTSTART;VALUE=DATE:bad\nEND:VEVENT\n"),
                         "x.ics", c),
               calendar_error);
  EXPECT_TRUE(c.days_off().empty());
}

// --- CSV ---------------------------------------------------------------------------------------

TEST(parse_csv, semicolon_and_comma_dutch_kinds_one_day_rows) {
  school_calendar a;
  parse_csv("from;to;kind;name\n2026-10-19;2026-10-23;vakantie;herfstvakantie\n20-11-2026;;studiedag;studiedag\n",
            "a.csv", a);
  ASSERT_EQ(a.days_off().size(), 2u);
  EXPECT_EQ(a.days_off()[0].to, day(2026, 10, 23));
  EXPECT_FALSE(a.days_off()[0].study_day);
  EXPECT_EQ(a.days_off()[1].from, day(2026, 11, 20));
  EXPECT_EQ(a.days_off()[1].to, day(2026, 11, 20));
  EXPECT_TRUE(a.days_off()[1].study_day);

  school_calendar b;
  parse_csv(
      "from,to,kind,name\r\n2027-02-01,2027-02-02,study_day,\"toetsweek, deel 1\"\r\n"
      "2027-03-26,,holiday,Goede Vrijdag\r\n",
      "b.csv", b);
  ASSERT_EQ(b.days_off().size(), 2u);
  EXPECT_EQ(b.days_off()[0].name, "toetsweek, deel 1");
  EXPECT_EQ(b.kind(day(2027, 2, 2)), day_kind::study_day);
  EXPECT_EQ(b.kind(day(2027, 3, 26)), day_kind::holiday);
}

TEST(parse_csv, bom_comments_blank_lines_and_short_rows) {
  school_calendar c;
  parse_csv("\xEF\xBB\xBF# own study days\n\nfrom;to;kind;name\n  # another comment\n2026-09-30;;STUDY_DAY\n", "c.csv",
            c);
  ASSERT_EQ(c.days_off().size(), 1u);
  EXPECT_EQ(c.days_off()[0].from, day(2026, 9, 30));
  EXPECT_TRUE(c.days_off()[0].study_day);
  EXPECT_EQ(c.days_off()[0].name, "");
}

TEST(parse_csv, columns_in_other_order_and_dutch_header) {
  school_calendar c;
  parse_csv("soort;naam;van\nvakantie;kerst;21-12-2026\n", "c.csv", c);
  ASSERT_EQ(c.days_off().size(), 1u);
  EXPECT_EQ(c.days_off()[0].name, "kerst");
  EXPECT_EQ(c.days_off()[0].to, day(2026, 12, 21));
}

TEST(parse_csv, errors_carry_origin_and_line) {
  school_calendar c;
  const std::string h = "# comment\nfrom;to;kind;name\n";
  struct bad_case {
    std::string text, expected;
  };
  const bad_case cases[] = {
      {h + "2026-10-19;;vrij;x\n", "d.csv:3: kind must be holiday, study_day, vakantie or studiedag"},
      {h + "2026-10-32;;holiday;x\n", "d.csv:3: from is not a date (YYYY-MM-DD or dd-mm-jjjj)"},
      {h + "2026-10-19;19-10-26;holiday;x\n", "d.csv:3: to is not a date (YYYY-MM-DD or dd-mm-jjjj)"},
      {h + "2026-10-19;2026-10-18;holiday;x\n", "d.csv:3: to is before from"},
      {h + "\n;;holiday;x\n", "d.csv:4: from is empty"},
      {h + "2026-10-19;;holiday;x;extra\n", "d.csv:3: expected 4 fields, found 5"},
      {h + "2026-10-19;;holiday;\"open\n", "d.csv:3: unterminated quote"},
      {"from;until;kind\n", "d.csv:1: unknown column \"until\" (expected from;to;kind;name)"},
      {"to;name\n", "d.csv:1: header must name at least the columns from and kind (from;to;kind;name)"},
      {"# only a comment\n", "d.csv:1: no header line (from;to;kind;name)"},
  };
  for (const auto& bc : cases) {
    EXPECT_EQ(error_of([&] { parse_csv(bc.text, "d.csv", c); }), bc.expected) << bc.text;
  }
  EXPECT_TRUE(c.days_off().empty());
}

// --- registry --------------------------------------------------------------------------------

TEST(calendar_registry, lookup_prefers_vestiging_then_brin) {
  calendar_registry r;
  school_calendar brin_only, branch;
  brin_only.add({day(2026, 10, 19), day(2026, 10, 23), "herfst", false});
  branch.add({day(2026, 11, 20), day(2026, 11, 20), "studiedag", true});
  r.set("99XX", brin_only);
  r.set("99XX01", branch);
  EXPECT_EQ(r.size(), 2u);

  const auto* c1 = r.find("99XX", "01");
  ASSERT_NE(c1, nullptr);
  EXPECT_EQ(c1->kind(day(2026, 11, 20)), day_kind::study_day);
  EXPECT_EQ(c1->kind(day(2026, 10, 19)), day_kind::school_day);  // the branch calendar, not merged

  const auto* c0 = r.find("99XX", "00");  // unknown branch falls back to the BRIN
  ASSERT_NE(c0, nullptr);
  EXPECT_EQ(c0->kind(day(2026, 10, 19)), day_kind::holiday);
  EXPECT_EQ(r.find("99XX", ""), c0);
  EXPECT_EQ(r.find("12AB", "00"), nullptr);
  EXPECT_EQ(r.find_exact("99XX00"), nullptr);
  EXPECT_EQ(r.school_ids(), (std::vector<std::string>{"99XX", "99XX01"}));
}

TEST(calendar_registry, branch_without_brin_entry_is_not_found_for_other_branches) {
  calendar_registry r;
  r.set("12AB00", school_calendar{});
  EXPECT_NE(r.find("12AB", "00"), nullptr);
  EXPECT_EQ(r.find("12AB", "01"), nullptr);
  EXPECT_EQ(r.find("12AB", ""), nullptr);
}

TEST(calendar_registry, refuses_bad_school_ids) {
  calendar_registry r;
  for (const char* bad : {"", "99X", "99xx", "99XX0", "99XXAB", "99XX001", "99-X"}) {
    EXPECT_THROW(r.set(bad, school_calendar{}), calendar_error) << bad;
  }
  EXPECT_EQ(r.size(), 0u);
}

// --- registry_from_config ----------------------------------------------------------------------

using registry_config = temp_dir;

TEST_F(registry_config, inline_and_file_entries) {
  write("calendars/region.ics", ics("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261019\nDTEND;VALUE=DATE:20261024\n"
                                    "SUMMARY:herfstvakantie\nEND:VEVENT\n"));
  write("own.csv", "from;to;kind;name\n2026-11-20;;studiedag;studiedag\n");
  const auto schools = nlohmann::json::parse(R"([
    {"brin": "99XX", "vestiging": "00", "calendar_files": ["calendars/region.ics", "own.csv"],
     "holidays": [{"name": "kerstvakantie", "from": "2026-12-21", "to": "2027-01-01"}],
     "study_days": ["2027-02-03", {"from": "2027-02-01", "to": "2027-02-02", "name": "toetsweek"}]},
    {"brin": "12AB", "study_days": ["05-03-2027"], "lessons_per_day": 8}
  ])");
  const auto reg = registry_from_config(schools, dir_);
  EXPECT_EQ(reg.size(), 2u);
  const auto* c = reg.find("99XX", "00");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind(day(2026, 10, 21)), day_kind::holiday);
  EXPECT_EQ(c->kind(day(2026, 11, 20)), day_kind::study_day);
  EXPECT_EQ(c->kind(day(2026, 12, 31)), day_kind::holiday);
  EXPECT_EQ(c->kind(day(2027, 2, 1)), day_kind::study_day);
  EXPECT_EQ(c->kind(day(2027, 2, 3)), day_kind::study_day);
  EXPECT_EQ(c->kind(day(2027, 2, 4)), day_kind::school_day);
  ASSERT_EQ(c->days_off().size(), 5u);
  EXPECT_EQ(c->days_off()[0].name, "herfstvakantie");  // files first, in order
  EXPECT_EQ(c->days_off()[4].name, "toetsweek");
  EXPECT_EQ(reg.find("99XX", "01"), nullptr);  // only 99XX00 was configured

  const auto* d = reg.find("12AB", "00");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->kind(day(2027, 3, 5)), day_kind::study_day);
}

TEST_F(registry_config, absolute_paths_are_used_as_given) {
  const auto p = write("abs.csv", "from,to,kind,name\n2026-10-19,2026-10-23,holiday,herfst\n");
  const auto schools = nlohmann::json::array({{{"brin", "99XX"}, {"calendar_files", {p.string()}}}});
  const auto reg = registry_from_config(schools, "/nonexistent-base");
  ASSERT_NE(reg.find("99XX", ""), nullptr);
  EXPECT_EQ(reg.find("99XX", "")->kind(day(2026, 10, 20)), day_kind::holiday);
}

TEST_F(registry_config, error_paths_name_the_config_location) {
  write("bad.ics", ics("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261019\nEND:VEVENT\n"
                       "BEGIN:VEVENT\nDTSTART;VALUE=DATE:2026-10-20\nEND:VEVENT\n"));
  write("ok.csv", "from;to;kind;name\n2026-11-20;;studiedag;x\n");
  const std::string bad_ics = (dir_ / "bad.ics").string();
  struct bad_case {
    const char* config;
    std::string expected;
  };
  const bad_case cases[] = {
      {R"({"brin": "99XX"})", "schools: must be an array"},
      {R"([42])", "schools[0]: must be an object"},
      {R"([{"vestiging": "00"}])", "schools[0]: brin is required"},
      {R"([{"brin": "99xx"}])", "schools[0].brin: must be 4 characters, digits or capital letters (e.g. 99XX)"},
      {R"([{"brin": "99XX00"}])", "schools[0].brin: must be 4 characters, digits or capital letters (e.g. 99XX)"},
      {R"([{"brin": "99XX", "vestiging": 0}])",
       "schools[0].vestiging: must be 2 digits (e.g. \"00\"); quote it in YAML"},
      {R"([{"brin": "99XX", "vestiging": "0A"}])",
       "schools[0].vestiging: must be 2 digits (e.g. \"00\"); quote it in YAML"},
      {R"([{"brin": "99XX"}, {"brin": "12AB"}, {"brin": "99XX"}])",
       "schools[2]: school 99XX is listed twice (also schools[0])"},
      {R"([{"brin": "99XX", "vestiging": "00"}, {"brin": "99XX", "vestiging": "00"}])",
       "schools[1]: school 99XX00 is listed twice (also schools[0])"},
      {R"([{"brin": "12AB"}, {"brin": "99XX", "calendar_files": ["ok.csv", "bad.ics"]}])",
       "schools[1].calendar_files[1]: " + bad_ics + ":8: DTSTART is not a date"},
      {R"([{"brin": "99XX", "calendar_files": ["missing.ics"]}])",
       "schools[0].calendar_files[0]: " + (dir_ / "missing.ics").string() + ": cannot open: No such file or directory"},
      {R"([{"brin": "99XX", "calendar_files": ["ok.txt"]}])",
       "schools[0].calendar_files[0]: " + (dir_ / "ok.txt").string() +
           ": unknown calendar file type (use .ics or .csv)"},
      {R"([{"brin": "99XX", "calendar_files": "ok.csv"}])", "schools[0].calendar_files: must be an array"},
      {R"([{"brin": "99XX", "calendar_files": [""]}])", "schools[0].calendar_files[0]: must be a file path"},
      {R"([{"brin": "99XX", "holidays": [{"from": "2026-10-19"}]}])", "schools[0].holidays[0]: name is required"},
      {R"([{"brin": "99XX", "holidays": [{"name": "h", "to": "2026-10-19"}]}])",
       "schools[0].holidays[0]: from is required"},
      {R"([{"brin": "99XX", "holidays": [{"name": "h", "from": "2026-10-19", "until": "x"}]}])",
       "schools[0].holidays[0]: unknown key \"until\""},
      {R"([{"brin": "99XX", "holidays": [{"name": "h", "from": "2026-10-19", "to": "2026-10-18"}]}])",
       "schools[0].holidays[0].to: is before from"},
      {R"([{"brin": "99XX", "holidays": [{"name": "h", "from": "2026-10-19", "to": "2026-02-30"}]}])",
       "schools[0].holidays[0].to: not a date (YYYY-MM-DD or dd-mm-jjjj)"},
      {R"([{"brin": "99XX", "study_days": ["2026-11-20", 20261120]}])",
       "schools[0].study_days[1]: must be a date string or an object {from, to, name}"},
      {R"([{"brin": "99XX", "study_days": ["2026-11-31"]}])",
       "schools[0].study_days[0]: not a date (YYYY-MM-DD or dd-mm-jjjj)"},
      {R"([{"brin": "99XX", "study_days": [{"from": 20261120}]}])",
       "schools[0].study_days[0].from: must be a date string (YYYY-MM-DD or dd-mm-jjjj)"},
  };
  for (const auto& bc : cases) {
    EXPECT_EQ(error_of([&] { registry_from_config(nlohmann::json::parse(bc.config), dir_); }), bc.expected)
        << bc.config;
  }
}

TEST_F(registry_config, null_or_empty_schools_give_empty_registry) {
  EXPECT_EQ(registry_from_config(nlohmann::json(), dir_).size(), 0u);
  EXPECT_EQ(registry_from_config(nlohmann::json::array(), dir_).size(), 0u);
}

// --- files and the shipped examples ----------------------------------------------------------

using calendar_file = temp_dir;

TEST_F(calendar_file, extension_is_case_insensitive) {
  const auto p = write("upper.ICS", ics("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261019\nEND:VEVENT\n"));
  school_calendar c;
  load_calendar_file(p, c);
  EXPECT_EQ(c.days_off().size(), 1u);
}

struct region_case {
  const char* file;
  chr::sys_days spring_monday;
  chr::sys_days summer_first, summer_last;
};

void PrintTo(const region_case& rc, std::ostream* os) {
  *os << rc.file;
}

class example_calendars : public ::testing::TestWithParam<region_case> {};

TEST_P(example_calendars, shipped_file_loads_with_national_and_regional_dates) {
  const auto& rc = GetParam();
  school_calendar c;
  ASSERT_NO_THROW(load_calendar_file(fs::path(SCHAKEL_EXAMPLE_CALENDARS) / rc.file, c));
  EXPECT_EQ(c.study_day_count(), 0u);
  EXPECT_EQ(c.holiday_count(), 9u);
  // The summer before the school year is in every file, so windows counted back skip it.
  EXPECT_EQ(c.kind(day(2026, 8, 10)), day_kind::holiday);
  // National dates.
  EXPECT_EQ(c.kind(day(2026, 12, 23)), day_kind::holiday);
  EXPECT_EQ(c.kind(day(2026, 12, 18)), day_kind::school_day);
  EXPECT_EQ(c.kind(day(2027, 1, 1)), day_kind::holiday);
  EXPECT_EQ(c.kind(day(2027, 1, 4)), day_kind::school_day);
  EXPECT_FALSE(c.is_school_day(day(2027, 5, 6)));  // Ascension inside the May break
  EXPECT_FALSE(c.is_school_day(day(2027, 4, 27)));
  EXPECT_TRUE(c.is_school_day(day(2027, 5, 10)));
  EXPECT_FALSE(c.is_school_day(day(2027, 3, 26)));  // Good Friday
  EXPECT_FALSE(c.is_school_day(day(2027, 3, 29)));  // Easter Monday
  EXPECT_TRUE(c.is_school_day(day(2027, 3, 30)));
  EXPECT_FALSE(c.is_school_day(day(2027, 5, 17)));  // Whit Monday
  EXPECT_FALSE(c.is_school_day(day(2026, 10, 19)));
  EXPECT_FALSE(c.is_school_day(day(2026, 10, 23)));
  EXPECT_TRUE(c.is_school_day(day(2026, 10, 26)));
  // Regional dates.
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(c.is_school_day(rc.spring_monday + chr::days{i}));
  EXPECT_TRUE(c.is_school_day(rc.spring_monday - chr::days{3}));
  EXPECT_TRUE(c.is_school_day(rc.spring_monday + chr::days{7}));
  EXPECT_TRUE(c.is_school_day(rc.summer_first - chr::days{3}));
  EXPECT_EQ(c.kind(rc.summer_first), day_kind::holiday);
  EXPECT_EQ(c.kind(rc.summer_last), day_kind::holiday);
  EXPECT_TRUE(c.is_school_day(rc.summer_last + chr::days{3}));
}

INSTANTIATE_TEST_SUITE_P(
    regions, example_calendars,
    ::testing::Values(region_case{"2026-2027-noord.ics", day(2027, 2, 22), day(2027, 7, 12), day(2027, 8, 20)},
                      region_case{"2026-2027-midden.ics", day(2027, 2, 15), day(2027, 7, 19), day(2027, 8, 27)},
                      region_case{"2026-2027-zuid.ics", day(2027, 2, 8), day(2027, 7, 26), day(2027, 9, 3)}),
    [](const auto& info) {
      std::string n = info.param.file;
      return n.substr(10, n.size() - 14);  // "2026-2027-" … ".ics"
    });

TEST(example_calendars_csv, study_days_example_loads) {
  school_calendar c;
  ASSERT_NO_THROW(load_calendar_file(fs::path(SCHAKEL_EXAMPLE_CALENDARS) / "study-days-example.csv", c));
  EXPECT_EQ(c.holiday_count(), 0u);
  EXPECT_GE(c.study_day_count(), 1u);
  EXPECT_EQ(c.kind(day(2026, 11, 20)), day_kind::study_day);
}

}  // namespace
}  // namespace schakel::calendar
