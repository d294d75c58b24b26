#pragma once
/**
 * The attacker of regional trends (docs/trends.md, "Disclosure control"), for tests.
 *
 * Three parts:
 *  - a ground-truth history of one school: classes, students (most never signal), the class each
 *    student is in on each day (moves, joiners, leavers), and every signal with its time;
 *  - a driver that releases that history week by week through plan_release, exactly as the releaser
 *    does (sealed weeks so far, enrolment, every cell released before), and keeps every decision;
 *  - an oracle that holds everything a partner received and solves it exactly.
 *
 * What "a leak" means here. The partner knows every released cell (window, group, measure, category,
 * value, denominator), every class's enrolment on every release's last day (class sizes are public),
 * and what a suppressed cell shows instead of a value. Every cell and every class roster is a set of
 * students; students who lie in exactly the same sets form an *atom*, whose size is all anyone can
 * learn about them. The unknowns are the atom sizes (>= 0); each released count and each roster is a
 * linear equation over them. A number is *determined* when it follows from those equations (and from
 * the zeros that non-negativity forces).
 *
 * The partner does not know which patterns are empty: that nobody in 1B was absent is exactly what a
 * suppressed 1B cell hides. So besides the patterns of the real students the unknowns include those
 * of *hypothetical* students, one change away from a real one (silent, in another class, moved to
 * another class from some week on, a week's absences left out, an absence added in some week), with
 * true size 0. Those histories are possible,
 * so the oracle still determines everything the partner can (and more: it knows every other pattern
 * is empty), and "no leak" from it is a claim about the real partner. A leak is any of:
 *  - a determined atom of 1..k-1 students that lies in at least one released cell (atoms by released
 *    cells and rosters, and by released cells alone);
 *  - a determined cell (released or suppressed, any measure, group or category; for hours the number
 *    of students with hours) of 1..k-1 students, or of at least one student and fewer than k enrolled
 *    students not in it ("12 of 12");
 *  - a suppressed cell whose visible reason states a range ("below_k", "complement_below_k").
 */
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trends/release_plan.hpp"
#include "trends/settings.hpp"
#include "trends/windows.hpp"

namespace schakel::trends::attack {

// ---------------------------------------------------------------------------------------------
// Ground truth

/** The measures every test uses: a students count, absence hours and a reason distribution. */
inline constexpr const char* absent = "absent";
inline constexpr const char* absence_hours = "absence_hours";
inline constexpr const char* reason_measure = "reason";

/** k, those three measures, all window kinds and levels, school year from 1 August, no noise. */
settings test_settings(int k);

/** One signal of one student, at one moment: it becomes one row of one measure in its week. */
struct signal {
  int student = 0;
  std::string observed;  ///< RFC 3339; never the same moment twice for one student
  std::string measure;
  double hours = 0;      ///< hours measures
  std::string category;  ///< distribution measures
};

struct school_history {
  std::map<std::string, int> class_leerjaar;
  /** Per student: the class from a day on ("" = not enrolled), ascending. Index = student id. */
  std::vector<std::vector<std::pair<days, std::string>>> placements;
  std::vector<days> weeks;  ///< Mondays, ascending, from the school year's first week
  std::vector<signal> signals;

  void add_class(const std::string& klass, int leerjaar) { class_leerjaar[klass] = leerjaar; }
  /** A new student in `klass` from `from` on; returns their id. */
  int enrol(const std::string& klass, days from);
  /** The student is in `klass` ("" = leaves the school) from `from` on. */
  void place(int student, const std::string& klass, days from);
  /** `count` new students in `klass` from `from` on; returns their ids. */
  std::vector<int> enrol_many(const std::string& klass, days from, int count);

  std::string class_on(int student, days d) const;
  /** Students in `klass` on `d`. */
  std::set<int> roster(const std::string& klass, days d) const;
  /** class -> {"leerjaar", "history": [{"from", "students"}]}: a row for every day a roster changes. */
  nlohmann::json enrolment() const;
  /** The sealed contents of week `i`: {"m": {measure: [rows]}}, each row in the class of its moment. */
  nlohmann::json week_data(std::size_t i, const settings& s) const;
};

/** "YYYY-MM-DDTHH:MM:00Z" for `minute` minutes after midnight of `d`. */
std::string moment(days d, int minute);
/** The day of an RFC 3339 moment. */
days day_of(const std::string& observed);

// ---------------------------------------------------------------------------------------------
// The driver

struct run_options {
  bool combination_checks = true;
  bool noise_decides_on_exact = false;
  noise_fn noise;
};

/** Every decision of every release of a history. */
struct release_log {
  struct release {
    days monday{};
    std::vector<planned_cell> cells;
  };
  std::vector<release> releases;
};

/** Releases the history week by week (each week with the windows closing with it). `s` must outlive the log. */
release_log run_releases(const school_history& h, const settings& s, const run_options& o);

/** The stored form of a released cell, as `release_input::earlier` takes it. */
nlohmann::json earlier_cell(const planned_cell& c);

// ---------------------------------------------------------------------------------------------
// The oracle

/** One cell as the oracle sees it: what the partner was shown, and (ground truth) who is in it. */
struct oracle_cell {
  std::string name;
  bool released = false;
  bool counts_students = true;  ///< false for hours: the value is hours, the members those with hours
  double value = 0;             ///< released only
  std::set<int> members;        ///< ground truth
  std::int64_t enrolled = -1;   ///< the group's enrolment on the window's last day, public
  std::string partner_reason;   ///< suppressed only: what the partner sees instead of a value
};

/** A class's roster on a release's last day: its members (ground truth) and its public size. */
struct oracle_roster {
  std::string name;
  std::set<int> members;
  std::int64_t enrolled = 0;
};

struct oracle_input {
  int k = 10;
  std::vector<int> students;  ///< everyone, silent students included
  std::vector<oracle_cell> cells;
  std::vector<oracle_roster> rosters;
  /** Students who do not exist but could, as far as the partner knows: their patterns are unknowns
   *  too (of true size 0). Cells and rosters list them as members where they would be. */
  std::vector<int> hypothetical;
};

struct leak {
  enum class kind { atom, few, complement, reason } what;
  std::string subject;  ///< the cell's name, or the cells an atom lies in
  std::string text;     ///< readable: what the attacker learns
};

std::vector<leak> find_leaks(const oracle_input& in);

/** How the partner saw suppressed cells. */
enum class exposure {
  suppressed_only,  ///< the partner sees "suppressed" (the new documents)
  hub_reason,       ///< the partner sees the hub's reason (the old documents)
};

/** The oracle's input for a run: every cell of every release with its ground-truth members. */
struct observed_run {
  oracle_input oracle;
  /** Released values or denominators that differ from the ground truth (noise off): plan_release disagrees. */
  std::vector<std::string> disagreements;
};

/** The oracle's input for a run, with the hypothetical students of with_hypothetical_students(h). */
observed_run observe(const school_history& h, const settings& s, const release_log& log, exposure e);

/** `h` plus, for every real student, the students one change away (see above), as new ids from
 *  h.placements.size() on. */
school_history with_hypothetical_students(const school_history& h);

/** Ground-truth members of one cell of a window of a history (hours: students with hours > 0). */
std::set<int> cell_members(const school_history& h, const window& w, const measure& m, const group_def& g,
                           const std::string& category);

std::string describe(const std::vector<leak>& leaks, std::size_t at_most = 8);
/** Every decision of a run, one line per cell: for a failure's message. */
std::string describe(const release_log& log);

}  // namespace schakel::trends::attack
