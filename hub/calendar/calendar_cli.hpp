#pragma once
/**
 * Helpers behind `schakel calendar check FILE...` and `schakel calendar show`. They only print;
 * the CLI owns argument parsing and loading the config.
 */
#include <chrono>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/calendar.hpp"

namespace schakel::calendar {

/**
 * Loads each file on its own (.ics or .csv) and prints to `out` one line per good file:
 * "<file>: ok, <n> holidays, <m> study days"; for a bad file the error ("<file>:<line>: <reason>")
 * goes to `err`. Checks every file even after a failure. Returns 0 when all files load, else 1
 * (also 1 when `files` is empty).
 */
int calendar_check(const std::vector<std::string>& files, std::ostream& out, std::ostream& err);

/**
 * Prints the school weeks of one school between `from` and `to`, widened to whole Monday–Sunday
 * weeks: one line per week with the Monday's date, the ISO week, the number of school days and
 * the days off (name and dates) that fall on its weekdays; a week without school days is shown as
 * "skipped" because rules never count it. Lookup is BRIN+vestiging, then BRIN. Returns 0, or 1
 * (with a message on `out`) when the school has no calendar or `to` is before `from`.
 */
int calendar_show(const calendar_registry& registry, std::string_view brin, std::string_view vestiging,
                  std::chrono::sys_days from, std::chrono::sys_days to, std::ostream& out);

}  // namespace schakel::calendar
