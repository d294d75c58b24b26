#pragma once
/**
 * Calendar days as plain integers (days since 1970-01-01, proleptic Gregorian), for processors that
 * compare dates, count windows or prune by age. Header-only, no time zone: a signal's date is the
 * date as written.
 */
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace schakel::sdk {

/** Days since 1970-01-01 of year/month/day (Howard Hinnant's days_from_civil); no validation. */
inline std::int32_t days_from_civil(int y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int32_t>(doe) - 719468;
}

/** True when day `d` exists in month `m` (1-12) of year `y`. */
inline bool valid_date(int y, int m, int d) noexcept {
  static constexpr int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= month_days[m - 1] + (m == 2 && leap ? 1 : 0);
}

/** Days since 1970-01-01 of exactly `YYYY-MM-DD`; nullopt for anything else or an impossible date. */
inline std::optional<std::int32_t> parse_day(std::string_view date) noexcept {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8};
  const std::size_t lens[3] = {4, 2, 2};
  for (int p = 0; p < 3; ++p) {
    for (std::size_t i = starts[p]; i < starts[p] + lens[p]; ++i) {
      if (date[i] < '0' || date[i] > '9') return std::nullopt;
      parts[p] = parts[p] * 10 + (date[i] - '0');
    }
  }
  if (!valid_date(parts[0], parts[1], parts[2])) return std::nullopt;
  return days_from_civil(parts[0], static_cast<unsigned>(parts[1]), static_cast<unsigned>(parts[2]));
}

/** `YYYY-MM-DD` of a day number (the inverse of days_from_civil). */
inline std::string format_day(std::int32_t day) {
  const int z = day + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int y = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[48];  // sized for any int, though m and d are always two digits
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
  return buf;
}

}  // namespace schakel::sdk
