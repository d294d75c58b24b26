#pragma once
/**
 * Trend windows (docs/trends.md, "Windows"). Every window is a union of whole ISO weeks (Monday to
 * Sunday), so one released figure can never be subtracted from another to isolate a few days:
 * - week: one ISO week, key "2026-W40";
 * - month: the weeks whose Thursday falls in that calendar month, key "2026-10" (4 or 5 weeks);
 * - year_to_date: the weeks of the school year up to and including a week, key "2026-W40".
 * A week belongs to the school year in which its Thursday falls (school years start on
 * `school_year_start`, 1 August by default) and is named "2026-2027".
 */
#include <chrono>
#include <string>
#include <vector>

#include "trends/model.hpp"

namespace schakel::trends {

using days = std::chrono::sys_days;

/** The Monday of the ISO week holding `d`. */
days week_monday(days d);
/** "2026-W40" for the ISO week starting `monday`. */
std::string week_key(days monday);
/** "2026-10": the month of the week's Thursday. */
std::string month_key(days monday);
/** "2026-2027" for the week starting `monday`, given the school year's first day as "MM-DD". */
std::string school_year_of(days monday, const std::string& start_mm_dd);
/** The Monday of the first week of the school year named "2026-2027". */
days school_year_first_week(const std::string& school_year, const std::string& start_mm_dd);
/** Whether `monday`'s week is the last week of its month (the next week's Thursday is in another month). */
bool last_week_of_month(days monday);
/** The Mondays of the weeks of the month holding `monday`'s Thursday. */
std::vector<days> month_weeks(days monday);

/** One window: its kind, key and first and last day (inclusive). */
struct window {
  window_kind kind = window_kind::week;
  std::string key;
  days first{};
  days last{};
};

/** The windows that close with the week starting `monday` (week; month when it is the month's last; year to date). */
std::vector<window> windows_closing(days monday, const std::vector<window_kind>& kinds,
                                    const std::string& school_year_start);

std::string format_day(days d);
/** Parses YYYY-MM-DD; false when it is no valid date. */
bool parse_day(const std::string& text, days& out);

}  // namespace schakel::trends
