#include "common/text.hpp"

#include <array>
#include <cstdio>

namespace schakel::connectors::text {
namespace {

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Windows-1252 0x80-0x9F. 0xA0-0xFF equal their Latin-1 code points, so they need no table.
constexpr std::array<std::uint16_t, 32> cp1252_high = {0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                                       0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
                                                       0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                                       0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

bool valid_ymd(int y, int m, int d) noexcept {
  if (m < 1 || m > 12 || d < 1) return false;
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= days[m - 1] + ((m == 2 && leap) ? 1 : 0);
}

// Reads 1..max_len digits at `pos`; advances pos. -1 when there is no digit.
int read_number(std::string_view s, std::size_t& pos, std::size_t max_len) noexcept {
  int v = 0;
  std::size_t n = 0;
  while (pos < s.size() && n < max_len && is_digit(s[pos])) {
    v = v * 10 + (s[pos] - '0');
    ++pos;
    ++n;
  }
  return n == 0 ? -1 : v;
}

}  // namespace

std::uint64_t fnv1a64(std::string_view bytes) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string fnv1a64_hex(std::string_view bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::uint64_t h = fnv1a64(bytes);
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = hex[h & 0xF];
    h >>= 4;
  }
  return out;
}

bool has_utf8_bom(std::string_view body) noexcept {
  return body.substr(0, 3) == "\xEF\xBB\xBF";
}

std::size_t invalid_utf8_at(std::string_view text) noexcept {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (s[i + 1] < lo || s[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k) {
      if (s[i + k] < 0x80 || s[i + k] > 0xBF) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

std::string windows1252_to_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else if (c < 0xA0) {
      append_utf8(out, cp1252_high[c - 0x80]);
    } else {
      append_utf8(out, c);
    }
  }
  return out;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

split_result split_csv_line(std::string_view line, char delimiter) {
  split_result r;
  std::string cell;
  std::size_t i = 0;
  const std::size_t n = line.size();
  while (true) {
    cell.clear();
    // Spaces before an opening quote are tolerated (`a; "b"`), as some exporters pad cells.
    std::size_t q = i;
    while (q < n && (line[q] == ' ' || line[q] == '\t')) ++q;
    if (q < n && line[q] == '"') {
      i = q + 1;
      bool closed = false;
      while (i < n) {
        if (line[i] == '"') {
          if (i + 1 < n && line[i + 1] == '"') {
            cell.push_back('"');
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        cell.push_back(line[i++]);
      }
      if (!closed) {
        r.error = "quoted field " + std::to_string(r.cells.size() + 1) +
                  " is not closed on its line (line breaks inside quotes are not supported)";
        r.cells.clear();
        return r;
      }
      while (i < n && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < n && line[i] != delimiter) {
        r.error = "unexpected character after the closing quote of field " + std::to_string(r.cells.size() + 1);
        r.cells.clear();
        return r;
      }
    } else {
      while (i < n && line[i] != delimiter) cell.push_back(line[i++]);
    }
    r.cells.push_back(cell);
    if (i >= n) break;
    ++i;  // the delimiter; a trailing one yields a final empty cell
    if (i == n) {
      r.cells.emplace_back();
      break;
    }
  }
  return r;
}

char detect_delimiter(std::string_view header) noexcept {
  std::size_t semicolons = 0, commas = 0;
  bool quoted = false;
  for (const char c : header) {
    if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && c == ';') {
      ++semicolons;
    } else if (!quoted && c == ',') {
      ++commas;
    }
  }
  return commas > semicolons ? ',' : ';';
}

std::string date::iso() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  return buf;
}

std::optional<date> parse_date(std::string_view text) noexcept {
  const std::string_view s = trim(text);
  std::size_t pos = 0;
  const int first = read_number(s, pos, 4);
  if (first < 0 || pos >= s.size()) return std::nullopt;
  const std::size_t first_len = pos;
  const char sep = s[pos];
  if (sep != '-' && sep != '/' && sep != '.') return std::nullopt;
  ++pos;
  const std::size_t second_at = pos;
  const int second = read_number(s, pos, 2);
  if (second < 0 || pos >= s.size() || s[pos] != sep) return std::nullopt;
  const std::size_t second_len = pos - second_at;
  ++pos;
  const std::size_t third_at = pos;
  const int third = read_number(s, pos, 4);
  if (third < 0 || pos != s.size()) return std::nullopt;
  const std::size_t third_len = pos - third_at;
  date d;
  if (first_len == 4) {
    // ISO: only with '-' and two-digit month and day.
    if (sep != '-' || second_len != 2 || third_len != 2) return std::nullopt;
    d = {first, second, third};
  } else {
    if (third_len != 4) return std::nullopt;
    d = {third, second, first};
  }
  if (d.year < 1900 || d.year > 2199 || !valid_ymd(d.year, d.month, d.day)) return std::nullopt;
  return d;
}

std::optional<int> parse_time(std::string_view text) noexcept {
  const std::string_view s = trim(text);
  std::size_t pos = 0;
  const int h = read_number(s, pos, 2);
  if (h < 0 || pos >= s.size() || s[pos] != ':') return std::nullopt;
  ++pos;
  const std::size_t m_at = pos;
  const int m = read_number(s, pos, 2);
  if (m < 0 || pos - m_at != 2) return std::nullopt;
  if (pos < s.size()) {
    if (s[pos] != ':') return std::nullopt;
    ++pos;
    const std::size_t s_at = pos;
    const int sec = read_number(s, pos, 2);
    if (sec < 0 || pos - s_at != 2 || pos != s.size() || sec > 59) return std::nullopt;
  }
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

std::string format_time(int minutes) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", (minutes / 60) % 100, minutes % 60);
  return buf;
}

std::optional<int> parse_count(std::string_view text, int max) noexcept {
  const std::string_view s = trim(text);
  if (s.empty() || s.size() > 9) return std::nullopt;
  int v = 0;
  for (const char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

int age_on(const date& birth, const date& on) noexcept {
  int years = on.year - birth.year;
  if (on.month < birth.month || (on.month == birth.month && on.day < birth.day)) --years;
  return years;
}

}  // namespace schakel::connectors::text
