#pragma once
/**
 * School calendars: per school (BRIN or BRIN + vestiging) the days off — holidays and study days —
 * so that attendance rules count school days and school weeks of *that* school, never calendar
 * weeks. Calendars come from iCalendar (.ics) or CSV files and from inline config entries.
 *
 * Calendar data is not personal data. Error messages name the origin, line and problem; they
 * quote a date's or value's text never, but may name a CSV column header or an iCalendar
 * component (BEGIN:/END: names), which a reader needs to find the mistake.
 */
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace schakel::calendar {

enum class day_kind { school_day, weekend, holiday, study_day };

/** "school_day", "weekend", "holiday" or "study_day". */
std::string_view to_string(day_kind k);

/** One entry of a calendar: the inclusive range [from, to] of days off. */
struct day_off {
  std::chrono::sys_days from, to;
  std::string name;
  bool study_day = false;
};

/**
 * Every error of this component. what() is "<origin>:<line>: <reason>" for file content,
 * "<origin>: <reason>" for a file as a whole, or "<config path>: <reason>" for configuration.
 */
class calendar_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/**
 * The days off of one school. A school day is a weekday (Mon–Fri) that is neither a holiday nor
 * a study day. Saturdays and Sundays are always `weekend`, also inside a holiday; a day that is
 * both a holiday and a study day counts as a holiday.
 *
 * add() keeps a sorted index of disjoint ranges (O(n log n) per add, n = entries, a few dozen per
 * year), so kind() is one binary search and allocation-free: cheap enough for per-day loops.
 * Immutable use (kind/is_school_day/days_off) is safe from many threads.
 */
class school_calendar {
 public:
  /** Adds a range of days off; throws calendar_error when to < from. */
  void add(day_off d);
  /** Adds several ranges with one index rebuild; all or none (throws calendar_error when one has to < from). */
  void add_all(std::vector<day_off> days);
  day_kind kind(std::chrono::sys_days d) const;
  bool is_school_day(std::chrono::sys_days d) const { return kind(d) == day_kind::school_day; }
  /** The entries in the order they were added (overlaps kept as given). */
  const std::vector<day_off>& days_off() const { return days_off_; }
  std::size_t holiday_count() const;
  std::size_t study_day_count() const;

 private:
  struct segment {
    std::chrono::sys_days from;     // inclusive
    std::chrono::sys_days to_excl;  // exclusive
    day_kind kind;
  };
  void rebuild_index();

  std::vector<day_off> days_off_;
  std::vector<segment> index_;  // sorted, disjoint, only holiday/study_day
};

/** Calendars of all configured schools. */
class calendar_registry {
 public:
  /**
   * Stores (or replaces) the calendar of "99XX" or "99XX00". Throws calendar_error for an id that
   * is not a BRIN or BRIN + vestiging. Refusing duplicates is the caller's job (registry_from_config
   * does it), because replacing is what a reload wants.
   */
  void set(std::string school_id, school_calendar c);
  /** BRIN+vestiging first, then BRIN alone; nullptr when neither is known. Empty vestiging = BRIN only. */
  const school_calendar* find(std::string_view brin, std::string_view vestiging) const;
  /** Exact lookup of "99XX" or "99XX00", no fallback. */
  const school_calendar* find_exact(std::string_view school_id) const;
  std::size_t size() const { return calendars_.size(); }
  /** The configured school ids, sorted. */
  std::vector<std::string> school_ids() const;

 private:
  std::map<std::string, school_calendar, std::less<>> calendars_;
};

/**
 * Parses YYYY-MM-DD, or dd-mm-jjjj / d-m-jjjj with '-', '/' or '.' (same separator twice).
 * nullopt for anything else, including dates that do not exist (2027-02-29). No trimming.
 */
std::optional<std::chrono::sys_days> parse_date(std::string_view text);

/** YYYY-MM-DD. */
std::string format_date(std::chrono::sys_days d);

/**
 * Adds the VEVENTs of an iCalendar text (RFC 5545 subset, see docs/calendars.md) to `into`.
 * All-day DTEND is exclusive; a missing DTEND is one day. Study days: CATEGORIES containing
 * STUDIEDAG or STUDY-DAY, or SUMMARY containing "studiedag"; everything else is a holiday.
 * RRULE/RDATE are refused. Throws calendar_error "<origin>:<line>: <reason>"; on error `into`
 * is left unchanged.
 */
void parse_ics(std::string_view text, const std::string& origin, school_calendar& into);

/**
 * Adds the rows of a CSV text with header from;to;kind;name (',' or ';'; see docs/calendars.md).
 * Throws calendar_error "<origin>:<line>: <reason>"; on error `into` is left unchanged.
 */
void parse_csv(std::string_view text, const std::string& origin, school_calendar& into);

/**
 * Reads `file` and parses it by extension (.ics or .csv, case-insensitive). Errors name the file
 * path as origin. Files above 16 MiB are refused (a calendar is a few kB).
 */
void load_calendar_file(const std::filesystem::path& file, school_calendar& into);

/**
 * Builds the registry from the config's `schools` array (already parsed YAML/JSON):
 *   [{brin, vestiging?, calendar_files?: [path...], holidays?: [{name, from, to?}],
 *     study_days?: ["date" | {from, to?, name?}]}]
 * Files are merged in order, then inline holidays, then study days. Relative paths resolve
 * against `base_dir` (the config file's folder). Keys it does not own are ignored (the config
 * schema rejects unknown ones). Throws calendar_error naming the config path, e.g.
 * "schools[1].calendar_files[0]: /x/y.ics:12: DTSTART is not a date", and refuses a school listed
 * twice.
 */
calendar_registry registry_from_config(const nlohmann::json& schools, const std::filesystem::path& base_dir);

}  // namespace schakel::calendar
