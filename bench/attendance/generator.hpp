#pragma once
/**
 * A deterministic school year of absence registrations for the attendance benchmark: one school,
 * its students in classes, absences placed on the school days of a real calendar, written as the
 * weekly CSV exports (magister-like profile) a school administration system drops into a folder.
 *
 * The absence model (rates per student per school year) is documented in docs/performance.md,
 * "Attendance: one school's year through the drop folder". The same seed gives the same rows and
 * the same files byte for byte (the generator uses its own PRNG and distributions, not the
 * implementation-defined ones of <random>).
 */
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "calendar/calendar.hpp"

namespace schakel::attendance_bench {

struct year_options {
  std::uint64_t seed = 20262027;
  int students = 1500;
  int classes = 60;  ///< spread evenly over leerjaar 1..6
  std::chrono::sys_days first_day{std::chrono::year{2026} / 8 / 31};
  std::chrono::sys_days last_day{std::chrono::year{2027} / 7 / 16};
  // Means per student per school year (Poisson counts unless said otherwise).
  double sick_episodes = 3.0;          ///< each 1-3 school days, one whole-day row (`1-7`) per day
  double authorised_rows = 10.5;       ///< about one a month; 1-3 lessons
  double unauthorised_rows = 4.0;      ///< 1-2 lessons
  double late_rows = 8.0;              ///< one lesson, mostly the first
  double chronic_truant_share = 0.05;  ///< these add ~40 unauthorised lessons (35-45) over the year
  double long_sick_share = 0.03;       ///< these add one sick spell of 8-15 school days
};

/** One CSV row: an absence of one student on one school day, lessons [lesson_from, lesson_to]. */
struct absence_row {
  std::int32_t day = 0;  ///< index into year::school_days
  std::int32_t student = 0;
  std::uint8_t lesson_from = 1, lesson_to = 1;
  const char* code = "";
  std::uint32_t record_id = 0;  ///< unique; assigned in (day, student, lesson) order
};

struct student {
  std::string number;  ///< Stamnummer
  std::string class_name;
  int leerjaar = 1;
  bool chronic_truant = false;
  bool long_sick = false;
};

struct year {
  std::vector<std::chrono::sys_days> school_days;  ///< ascending
  std::vector<student> students;
  std::vector<absence_row> rows;  ///< sorted by (day, student, lesson_from)

  /** Row counts by code, for the report. */
  std::vector<std::pair<std::string, std::size_t>> rows_by_code() const;
};

/**
 * Generates the year on the school days of `calendar` between first_day and last_day. Throws
 * std::invalid_argument when the options leave no school day or no student.
 */
year generate_year(const year_options& options, const calendar::school_calendar& calendar);

/** The CSV header of the magister-like profile as the benchmark writes it. */
std::string csv_header();
/** One row as a CSV line (with its newline). */
std::string csv_line(const year& y, const absence_row& r);

/** A file to drop: its final name and its content. */
struct export_file {
  std::string name;
  std::string body;
};

/**
 * The year as weekly exports: one file per week that has at least one school day, named
 * `week-<Monday YYYY-MM-DD>.csv`, each with the header row, in week order. Weeks whose school days
 * hold no absence still get a file with only the header (a school exports every week).
 */
std::vector<export_file> weekly_exports(const year& y);
/** One file per school day, `day-<YYYY-MM-DD>.csv` (more, smaller files: for the memory-per-file check). */
std::vector<export_file> daily_exports(const year& y);
/** The whole year as one file, `year-<first school day>.csv`. */
export_file single_export(const year& y);

}  // namespace schakel::attendance_bench
