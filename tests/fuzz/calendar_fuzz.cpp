// libFuzzer target for the school-calendar parsers. The first byte picks the parser (even: .ics,
// odd: .csv); the rest is the file text. calendar_error is the expected answer to most inputs.
// Beyond "no crash, no sanitizer report, no hang, no other exception" it checks the documented
// contract:
//   - an error names the origin first and leaves the calendar exactly as it was;
//   - on success every added range has from <= to, and kind() (a binary search over the swept
//     index) agrees with a naive scan of days_off() around every range boundary.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/calendar.hpp"

namespace {

namespace chr = std::chrono;
using schakel::calendar::day_kind;
using schakel::calendar::day_off;
using schakel::calendar::school_calendar;

const std::string origin = "fuzz.cal";

// The calendar every input is merged into: one holiday already present, so "unchanged on error"
// is a real check and fuzzed ranges overlap existing ones.
school_calendar prefilled() {
  school_calendar c;
  c.add(day_off{chr::sys_days{chr::year{2026} / 12 / 21}, chr::sys_days{chr::year{2027} / 1 / 1}, "kerst", false});
  return c;
}

bool same_entries(const std::vector<day_off>& a, const std::vector<day_off>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].from != b[i].from || a[i].to != b[i].to || a[i].name != b[i].name || a[i].study_day != b[i].study_day) {
      return false;
    }
  }
  return true;
}

// The definition from calendar.hpp, without the index.
day_kind naive_kind(const std::vector<day_off>& days, chr::sys_days d) {
  const unsigned wd = chr::weekday{d}.c_encoding();
  if (wd == 0 || wd == 6) return day_kind::weekend;
  bool study = false;
  for (const auto& r : days) {
    if (r.from <= d && d <= r.to) {
      if (!r.study_day) return day_kind::holiday;
      study = true;
    }
  }
  return study ? day_kind::study_day : day_kind::school_day;
}

void check_index(const school_calendar& cal) {
  const auto& days = cal.days_off();
  // Boundaries of at most 64 ranges keep one input O(64 * n) even for inputs with many events.
  const std::size_t checked = days.size() < 64 ? days.size() : 64;
  for (std::size_t i = 0; i < checked; ++i) {
    if (days[i].to < days[i].from) std::abort();
    for (const chr::sys_days d : {days[i].from - chr::days{1}, days[i].from, days[i].to, days[i].to + chr::days{1}}) {
      if (cal.kind(d) != naive_kind(days, d)) std::abort();
    }
  }
  const std::size_t holidays = cal.holiday_count();
  if (holidays > days.size() || holidays + cal.study_day_count() != days.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool ics = (data[0] & 1u) == 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  school_calendar cal = prefilled();
  const std::vector<day_off> before = cal.days_off();
  try {
    if (ics)
      schakel::calendar::parse_ics(text, origin, cal);
    else
      schakel::calendar::parse_csv(text, origin, cal);
  } catch (const schakel::calendar::calendar_error& e) {
    // "<origin>:<line>: <reason>", and all or nothing.
    if (std::string_view(e.what()).rfind(origin + ":", 0) != 0) std::abort();
    if (!same_entries(cal.days_off(), before)) std::abort();
    return 0;
  }
  // Added after what was there, never instead of it.
  const auto& after = cal.days_off();
  if (after.size() < before.size() || !same_entries({after.begin(), after.begin() + before.size()}, before)) {
    std::abort();
  }
  check_index(cal);
  return 0;
}
