#include "trends/windows.hpp"

#include <cstdio>

namespace schakel::trends {

using namespace std::chrono;

days week_monday(days d) {
  const weekday wd{d};
  return d - days::duration{(wd.c_encoding() + 6) % 7};
}

std::string format_day(days d) {
  const year_month_day ymd{d};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

bool parse_day(const std::string& text, days& out) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
    if (text[i] < '0' || text[i] > '9') return false;
  const int y = std::stoi(text.substr(0, 4));
  const unsigned m = static_cast<unsigned>(std::stoi(text.substr(5, 2)));
  const unsigned d = static_cast<unsigned>(std::stoi(text.substr(8, 2)));
  const year_month_day ymd{year{y}, month{m}, day{d}};
  if (!ymd.ok()) return false;
  out = sys_days{ymd};
  return true;
}

std::string week_key(days monday) {
  // ISO: the week belongs to the year of its Thursday; week 1 holds that year's first Thursday.
  const days thursday = monday + days::duration{3};
  const year y = year_month_day{thursday}.year();
  const days jan1 = sys_days{y / January / 1};
  const int week = static_cast<int>((thursday - jan1).count() / 7) + 1;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-W%02d", static_cast<int>(y), week);
  return buf;
}

std::string month_key(days monday) {
  const year_month_day ymd{monday + days::duration{3}};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()));
  return buf;
}

namespace {
std::pair<unsigned, unsigned> month_day_of(const std::string& mm_dd) {
  unsigned m = 8, d = 1;
  if (mm_dd.size() == 5 && mm_dd[2] == '-') {
    m = static_cast<unsigned>(std::stoi(mm_dd.substr(0, 2)));
    d = static_cast<unsigned>(std::stoi(mm_dd.substr(3, 2)));
  }
  return {m, d};
}
}  // namespace

std::string school_year_of(days monday, const std::string& start_mm_dd) {
  const auto [m, d] = month_day_of(start_mm_dd);
  const days thursday = monday + days::duration{3};
  const year_month_day ymd{thursday};
  int first = static_cast<int>(ymd.year());
  if (thursday < sys_days{ymd.year() / month{m} / day{d}}) --first;
  return std::to_string(first) + "-" + std::to_string(first + 1);
}

days school_year_first_week(const std::string& school_year, const std::string& start_mm_dd) {
  const auto [m, d] = month_day_of(start_mm_dd);
  const int first = std::stoi(school_year.substr(0, 4));
  const days start = sys_days{year{first} / month{m} / day{d}};
  // The first week whose Thursday is on or after the start day.
  days monday = week_monday(start);
  if (monday + days::duration{3} < start) monday += days::duration{7};
  return monday;
}

bool last_week_of_month(days monday) {
  return month_key(monday) != month_key(monday + days::duration{7});
}

std::vector<days> month_weeks(days monday) {
  const std::string key = month_key(monday);
  days first = monday;
  while (month_key(first - days::duration{7}) == key) first -= days::duration{7};
  std::vector<days> out;
  for (days w = first; month_key(w) == key; w += days::duration{7}) out.push_back(w);
  return out;
}

std::vector<window> windows_closing(days monday, const std::vector<window_kind>& kinds,
                                    const std::string& school_year_start) {
  std::vector<window> out;
  const days sunday = monday + days::duration{6};
  for (const auto kind : kinds) {
    window w;
    w.kind = kind;
    w.last = sunday;
    switch (kind) {
      case window_kind::week:
        w.key = week_key(monday);
        w.first = monday;
        break;
      case window_kind::month:
        if (!last_week_of_month(monday)) continue;
        w.key = month_key(monday);
        w.first = month_weeks(monday).front();
        break;
      case window_kind::year_to_date:
        w.key = week_key(monday);
        w.first = school_year_first_week(school_year_of(monday, school_year_start), school_year_start);
        break;
    }
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace schakel::trends
