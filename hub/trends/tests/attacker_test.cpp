// The situations in which a partner holding everything it received could learn about fewer than k
// students, each released through plan_release and solved by the attacker (attacker.hpp). With the
// combination checks on the attacker must learn nothing; with them off and the hub's reasons shown
// to the partner (the old documents) it must find the very disclosure the situation is about, which
// shows that the attacker can see it.
#include "attacker.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace schakel::trends::attack {
namespace {

// The school year 2026-2027 starts on Saturday 1 August; its first week is Monday 3 August (W32).
const days year_start = school_year_first_week("2026-2027", "08-01");
const days before_year = year_start - days::duration{30};

days week(int n) {
  return year_start + days::duration{7 * n};
}  // week(0) = W32
days day_in(int week_n, int weekday) {
  return week(week_n) + days::duration{weekday};
}  // 0 = Monday

/** Adds a signal of `m` for each student, one minute apart, on that day. */
void signal_all(school_history& h, const std::vector<int>& students, days d, const std::string& m,
                const std::string& category = "", double hours = 0) {
  int minute = 8 * 60;
  for (const int s : students) h.signals.push_back({s, moment(d, minute++), m, hours, category});
}

void absent_all(school_history& h, const std::vector<int>& students, days d) {
  signal_all(h, students, d, absent);
}

std::vector<int> slice(const std::vector<int>& v, std::size_t from, std::size_t count) {
  return {v.begin() + static_cast<std::ptrdiff_t>(from), v.begin() + static_cast<std::ptrdiff_t>(from + count)};
}

/** A school of two classes of one leerjaar, everyone enrolled before the year, one week long; the
 *  first class's students. */
std::vector<int> two_classes(school_history& h, const std::string& first, int first_size, const std::string& second,
                             int second_size, int leerjaar) {
  h.add_class(first, leerjaar);
  h.add_class(second, leerjaar);
  const auto students = h.enrol_many(first, before_year, first_size);
  h.enrol_many(second, before_year, second_size);
  h.weeks = {week(0)};
  return students;
}

struct outcome {
  release_log log;
  observed_run seen;
  std::vector<leak> leaks;
};

/** Releases `h` and attacks what the partner got: the new documents, or (control) the old ones. */
outcome attack(const school_history& h, const settings& s, bool combination_checks) {
  run_options o;
  o.combination_checks = combination_checks;
  outcome r;
  r.log = run_releases(h, s, o);
  r.seen = observe(h, s, r.log, combination_checks ? exposure::suppressed_only : exposure::hub_reason);
  r.leaks = find_leaks(r.seen.oracle);
  return r;
}

bool has_leak(const std::vector<leak>& leaks, leak::kind kind, const std::string& subject_part) {
  return std::any_of(leaks.begin(), leaks.end(), [&](const leak& l) {
    return l.what == kind && l.subject.find(subject_part) != std::string::npos;
  });
}

std::string all_disagreements(const observed_run& seen) {
  std::string out;
  for (const auto& d : seen.disagreements) out += "\n  " + d;
  return out;
}

/** The assertions every situation makes: fixed with the checks, and the control finds `kind` at `subject`. */
void expect_fixed_with_control(const school_history& h, const settings& s, leak::kind kind,
                               const std::string& subject) {
  const auto fixed = attack(h, s, true);
  EXPECT_TRUE(fixed.seen.disagreements.empty()) << all_disagreements(fixed.seen);
  EXPECT_TRUE(fixed.leaks.empty()) << describe(fixed.leaks) << "\nreleased:" << describe(fixed.log);

  const auto control = attack(h, s, false);
  EXPECT_TRUE(control.seen.disagreements.empty()) << all_disagreements(control.seen);
  EXPECT_TRUE(has_leak(control.leaks, kind, subject))
      << "the control should show the disclosure at " << subject << "; it found " << describe(control.leaks, 40);
}

// --- The oracle itself --------------------------------------------------------------------------

oracle_cell released_cell(const std::string& name, std::set<int> members, std::int64_t enrolled) {
  oracle_cell c;
  c.name = name;
  c.released = true;
  c.value = static_cast<double>(members.size());
  c.members = std::move(members);
  c.enrolled = enrolled;
  return c;
}

std::set<int> range(int from, int to) {  // [from, to)
  std::set<int> out;
  for (int i = from; i < to; ++i) out.insert(i);
  return out;
}

oracle_input thirty_students() {
  oracle_input in;
  in.k = 10;
  for (int i = 0; i < 30; ++i) in.students.push_back(i);
  in.rosters.push_back({"roster", range(0, 30), 30});
  return in;
}

TEST(attacker_oracle, finds_a_planted_difference_of_one_student) {
  auto in = thirty_students();
  in.cells.push_back(released_cell("A", range(0, 10), 30));
  in.cells.push_back(released_cell("B", range(0, 11), 30));
  const auto leaks = find_leaks(in);
  ASSERT_EQ(leaks.size(), 1u) << describe(leaks);
  EXPECT_EQ(leaks[0].what, leak::kind::atom);
  EXPECT_EQ(leaks[0].subject, "B");  // student 10 is in B only
  EXPECT_NE(leaks[0].text.find("1 student"), std::string::npos) << leaks[0].text;
}

TEST(attacker_oracle, an_undetermined_overlap_is_no_leak_until_a_union_pins_it_down) {
  auto in = thirty_students();
  in.cells.push_back(released_cell("A", range(0, 10), 30));
  in.cells.push_back(released_cell("C", range(5, 20), 30));
  oracle_cell overlap = released_cell("A and C", range(5, 10), 30);
  overlap.released = false;
  overlap.partner_reason = "suppressed";
  in.cells.push_back(overlap);
  // Atoms of 5 (A only, both) exist, but 10 and 15 cannot tell how A and C overlap.
  EXPECT_TRUE(find_leaks(in).empty()) << describe(find_leaks(in));

  in.cells.push_back(released_cell("A or C", range(0, 20), 30));  // 10 + 15 - 20 = 5 in both
  const auto leaks = find_leaks(in);
  EXPECT_TRUE(has_leak(leaks, leak::kind::few, "A and C")) << describe(leaks);
  EXPECT_TRUE(has_leak(leaks, leak::kind::atom, "A, C, A or C")) << describe(leaks);
}

// Leerjaar 1 = 1A (12) + 1B (20) has 12 absent; the classes are suppressed. Real students alone say
// that only 1A students are absent (nobody else has that pattern), so 1A would look "12 of 12".
// The partner cannot know that: a 1B student could have been absent instead. With those two
// hypothetical students (absent in 1B, silent in 1A) the class is undetermined; once 1B is
// released as 0, the absent 1B student is ruled out and 1A is determined after all.
TEST(attacker_oracle, which_patterns_are_empty_is_not_known_to_the_partner) {
  oracle_input in;
  in.k = 10;
  for (int i = 0; i < 32; ++i) in.students.push_back(i);
  const int absent_in_1b = 32, silent_in_1a = 33;
  in.rosters.push_back({"roster 1A", range(0, 12), 12});
  in.rosters.push_back({"roster 1B", range(12, 32), 20});
  auto with = [](std::set<int> s, int extra) {
    s.insert(extra);
    return s;
  };
  oracle_cell leerjaar = released_cell("leerjaar 1", with(range(0, 12), absent_in_1b), 32);
  leerjaar.value = 12;
  oracle_cell a = released_cell("1A", range(0, 12), 12), b = released_cell("1B", {absent_in_1b}, 20);
  a.released = b.released = false;
  a.partner_reason = b.partner_reason = "suppressed";
  in.cells = {leerjaar, a, b};
  EXPECT_TRUE(has_leak(find_leaks(in), leak::kind::complement, "1A")) << "real students only: support known";

  in.hypothetical = {absent_in_1b, silent_in_1a};
  in.rosters[0].members.insert(silent_in_1a);
  in.rosters[1].members.insert(absent_in_1b);
  EXPECT_TRUE(find_leaks(in).empty()) << describe(find_leaks(in));

  in.cells[2].released = true;
  in.cells[2].value = 0;
  EXPECT_TRUE(has_leak(find_leaks(in), leak::kind::complement, "1A")) << describe(find_leaks(in));
}

TEST(attacker_oracle, a_range_in_a_visible_reason_is_a_leak_and_suppressed_is_not) {
  auto in = thirty_students();
  oracle_cell c = released_cell("small", range(0, 3), 30);
  c.released = false;
  c.partner_reason = "suppressed";
  in.cells.push_back(c);
  EXPECT_TRUE(find_leaks(in).empty());
  in.cells[0].partner_reason = "below_k";
  EXPECT_TRUE(has_leak(find_leaks(in), leak::kind::reason, "small"));
}

TEST(attacker_oracle, a_whole_class_counted_is_a_complement_leak) {
  auto in = thirty_students();
  in.rosters.push_back({"roster 1A", range(0, 12), 12});
  in.cells.push_back(released_cell("1A", range(0, 12), 12));
  EXPECT_TRUE(has_leak(find_leaks(in), leak::kind::complement, "1A"));
}

// --- The situations -----------------------------------------------------------------------------

// (1) 1A: all 12 enrolled absent; 1B: 20 enrolled, none absent. Leerjaar 1 minus 1B is 1A: "12 of 12".
TEST(attacker_situations, whole_class_recovered_from_its_leerjaar_and_a_zero_sibling) {
  const auto s = test_settings(10);
  school_history h;
  const auto a = two_classes(h, "1A", 12, "1B", 20, 1);
  absent_all(h, a, day_in(0, 1));
  expect_fixed_with_control(h, s, leak::kind::complement, "week/2026-W32/absent/class-1A");
}

// (2) The same as a distribution: all 12 of 1A "sick", nobody in 1B.
TEST(attacker_situations, whole_class_in_one_category_recovered) {
  const auto s = test_settings(10);
  school_history h;
  const auto a = two_classes(h, "1A", 12, "1B", 20, 1);
  signal_all(h, a, day_in(0, 1), reason_measure, "sick");
  expect_fixed_with_control(h, s, leak::kind::complement, "week/2026-W32/reason/class-1A");
}

// (3) A class of 15 (k..2k-1) with 3 absent: "below_k" itself says 1..9.
TEST(attacker_situations, suppression_reason_states_a_range) {
  const auto s = test_settings(10);
  school_history h;
  const auto a = two_classes(h, "3A", 15, "3B", 25, 3);
  absent_all(h, slice(a, 0, 3), day_in(0, 2));
  expect_fixed_with_control(h, s, leak::kind::reason, "week/2026-W32/absent/class-3A");
}

// (4) 2A: 11 absent; their reasons: 10 authorised, 0 unauthorised, 1 sick. The students measure (or
// the distribution's total) minus the released categories gives the one sick student.
TEST(attacker_situations, students_measure_against_its_distribution) {
  const auto s = test_settings(10);
  school_history h;
  h.add_class("2A", 2);
  h.add_class("2B", 2);
  const auto a = h.enrol_many("2A", before_year, 30);
  h.enrol_many("2B", before_year, 25);
  h.weeks = {week(0)};
  const auto absentees = slice(a, 0, 11);
  absent_all(h, absentees, day_in(0, 1));
  signal_all(h, slice(absentees, 0, 10), day_in(0, 2), reason_measure, "authorised");
  signal_all(h, slice(absentees, 10, 1), day_in(0, 3), reason_measure, "sick");
  expect_fixed_with_control(h, s, leak::kind::few, "week/2026-W32/reason/class-2A/sick");
}

// (5a) Week 38: 11 absent; year to date 37: 10; year to date 38: 20. So one student was absent in
// both weeks 37 and 38: week and year to date combined.
TEST(attacker_situations, week_and_year_to_date_combined) {
  const auto s = test_settings(10);
  school_history h;
  h.add_class("1A", 1);
  h.add_class("1B", 1);
  const auto a = h.enrol_many("1A", before_year, 40);
  h.enrol_many("1B", before_year, 25);
  for (int i = 0; i <= 6; ++i) h.weeks.push_back(week(i));  // W32 .. W38
  absent_all(h, slice(a, 0, 10), day_in(5, 1));             // W37
  absent_all(h, slice(a, 9, 11), day_in(6, 1));             // W38: one of them again, 10 new
  expect_fixed_with_control(h, s, leak::kind::atom, "week/2026-W38/absent/class-1A");
}

// (5b) August's weeks are the school year's first four weeks, so the month and the year to date up
// to its last week count the same students. Year to date W34: 10; the month (= year to date W35): 12.
// The two students new in W35 are an atom of the month and the year to date.
TEST(attacker_situations, month_and_year_to_date_over_the_same_weeks) {
  auto s = test_settings(10);
  s.windows = {window_kind::month, window_kind::year_to_date};
  school_history h;
  h.add_class("1A", 1);
  h.add_class("1B", 1);
  const auto a = h.enrol_many("1A", before_year, 40);
  h.enrol_many("1B", before_year, 25);
  for (int i = 0; i <= 3; ++i) h.weeks.push_back(week(i));  // W32 .. W35 = August
  ASSERT_EQ(month_weeks(week(0)).size(), 4u);
  absent_all(h, slice(a, 0, 10), day_in(2, 1));  // W34
  absent_all(h, slice(a, 5, 7), day_in(3, 1));   // W35: five of them again, two new
  expect_fixed_with_control(h, s, leak::kind::atom, "month/2026-08/absent/class-1A");
}

// (6) A student moves from 3A to 3B on Wednesday, absent on Monday (in 3A) and Thursday (in 3B).
// They count once, in 3B (their latest signal), so leerjaar 3 is exactly 3A + 3B. There is no control:
// the counting rule has no switch, and with one class per student nothing is left to find.
TEST(attacker_situations, a_class_mover_counts_once) {
  const auto s = test_settings(10);
  school_history h;
  h.add_class("3A", 3);
  h.add_class("3B", 3);
  const auto a = h.enrol_many("3A", before_year, 30);
  const auto b = h.enrol_many("3B", before_year, 30);
  const int mover = a.back();
  h.place(mover, "3B", day_in(0, 2));
  h.weeks = {week(0)};
  absent_all(h, slice(a, 0, 12), day_in(0, 0));
  absent_all(h, slice(b, 0, 12), day_in(0, 1));
  h.signals.push_back({mover, moment(day_in(0, 0), 9 * 60), absent, 0, ""});
  h.signals.push_back({mover, moment(day_in(0, 3), 9 * 60), absent, 0, ""});
  h.signals.push_back({mover, moment(day_in(0, 3), 9 * 60 + 1), absence_hours, 4, ""});
  h.signals.push_back({mover, moment(day_in(0, 0), 9 * 60 + 1), absence_hours, 2, ""});

  const auto fixed = attack(h, s, true);
  EXPECT_TRUE(fixed.seen.disagreements.empty()) << all_disagreements(fixed.seen);
  EXPECT_TRUE(fixed.leaks.empty()) << describe(fixed.leaks);

  int compared = 0;
  for (const auto& r : fixed.log.releases) {
    std::map<std::string, const planned_cell*> leerjaar;  // window + measure + category -> cell
    std::map<std::string, std::vector<const planned_cell*>> classes;
    for (const auto& c : r.cells) {
      const std::string key = std::string(to_string(c.win.kind)) + c.m->name + "/" + c.category;
      if (c.g.lvl == level::leerjaar) leerjaar[key] = &c;
      if (c.g.lvl == level::class_group) classes[key].push_back(&c);
    }
    for (const auto& [key, lj] : leerjaar) {
      const auto& cs = classes[key];
      const bool all_released = lj->released && std::all_of(cs.begin(), cs.end(), [](auto* c) { return c->released; });
      if (!all_released) continue;
      double sum = 0;
      for (auto* c : cs) sum += c->value;
      EXPECT_DOUBLE_EQ(lj->value, sum) << key;
      ++compared;
    }
    for (const auto& c : r.cells) {
      if (c.released && c.m->name == absent && c.g.lvl == level::class_group) {
        EXPECT_DOUBLE_EQ(c.value, c.g.klass == "3A" ? 12 : 13) << cell_id(c.win, *c.m, c.g, c.category);
      }
    }
  }
  // The mover's hours (2 in 3A, 4 in 3B) all count in 3B, the class of their latest signal.
  const auto hours_3b = cell_members(h, windows_closing(week(0), {window_kind::week}, "08-01")[0], s.measures[1],
                                     {level::class_group, 3, "3B"}, "");
  EXPECT_TRUE(hours_3b.contains(mover));
  RecordProperty("leerjaar_sums_compared", compared);
  EXPECT_GT(compared, 0) << "no leerjaar was released with all its classes: nothing was compared";
}

}  // namespace
}  // namespace schakel::trends::attack
