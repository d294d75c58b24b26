#include "calendar/calendar.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/school_id.hpp"

namespace schakel::calendar {

namespace chr = std::chrono;
namespace fs = std::filesystem;

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

char to_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_upper(c);
  return out;
}

bool contains_ci(std::string_view hay, std::string_view needle) {
  return upper(hay).find(upper(needle)) != std::string::npos;
}

bool equals_ci(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return to_upper(x) == to_upper(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Digits only, no sign: "+5" or " 5" are not numbers in a date.
std::optional<int> parse_digits(std::string_view s) {
  if (s.empty() || s.size() > 4) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::optional<chr::sys_days> make_date(int y, int m, int d) {
  chr::year_month_day ymd{chr::year{y}, chr::month{static_cast<unsigned>(m)}, chr::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return chr::sys_days{ymd};
}

[[noreturn]] void fail_at(const std::string& origin, std::size_t line, const std::string& reason) {
  throw calendar_error(origin + ":" + std::to_string(line) + ": " + reason);
}

}  // namespace

std::string_view to_string(day_kind k) {
  switch (k) {
    case day_kind::school_day:
      return "school_day";
    case day_kind::weekend:
      return "weekend";
    case day_kind::holiday:
      return "holiday";
    case day_kind::study_day:
      return "study_day";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// school_calendar

void school_calendar::add(day_off d) {
  if (d.to < d.from) throw calendar_error("day off ends before it starts");
  days_off_.push_back(std::move(d));
  rebuild_index();
}

void school_calendar::add_all(std::vector<day_off> days) {
  for (const auto& d : days) {
    if (d.to < d.from) throw calendar_error("day off ends before it starts");
  }
  days_off_.reserve(days_off_.size() + days.size());
  for (auto& d : days) days_off_.push_back(std::move(d));
  rebuild_index();
}

void school_calendar::rebuild_index() {
  // Sweep over range boundaries with a counter per kind; holiday wins where both cover a day.
  struct event {
    chr::sys_days at;
    int holiday_delta, study_delta;
  };
  std::vector<event> events;
  events.reserve(days_off_.size() * 2);
  for (const auto& d : days_off_) {
    const int h = d.study_day ? 0 : 1;
    const int s = d.study_day ? 1 : 0;
    events.push_back({d.from, h, s});
    events.push_back({d.to + chr::days{1}, -h, -s});
  }
  std::sort(events.begin(), events.end(), [](const event& a, const event& b) { return a.at < b.at; });

  index_.clear();
  int holidays = 0, studies = 0;
  for (std::size_t i = 0; i < events.size();) {
    const chr::sys_days at = events[i].at;
    for (; i < events.size() && events[i].at == at; ++i) {
      holidays += events[i].holiday_delta;
      studies += events[i].study_delta;
    }
    if (i == events.size()) break;  // past the last range: nothing is covered any more
    const chr::sys_days next = events[i].at;
    if (holidays == 0 && studies == 0) continue;
    const day_kind k = holidays > 0 ? day_kind::holiday : day_kind::study_day;
    if (!index_.empty() && index_.back().kind == k && index_.back().to_excl == at) {
      index_.back().to_excl = next;
    } else {
      index_.push_back({at, next, k});
    }
  }
}

day_kind school_calendar::kind(chr::sys_days d) const {
  const unsigned wd = chr::weekday{d}.c_encoding();  // 0 = Sunday, 6 = Saturday
  if (wd == 0 || wd == 6) return day_kind::weekend;
  // First segment that ends after d; it covers d when it starts at or before d.
  auto it = std::upper_bound(index_.begin(), index_.end(), d,
                             [](chr::sys_days v, const segment& s) { return v < s.to_excl; });
  if (it != index_.end() && it->from <= d) return it->kind;
  return day_kind::school_day;
}

std::size_t school_calendar::holiday_count() const {
  return static_cast<std::size_t>(
      std::count_if(days_off_.begin(), days_off_.end(), [](const day_off& d) { return !d.study_day; }));
}

std::size_t school_calendar::study_day_count() const {
  return days_off_.size() - holiday_count();
}

// ---------------------------------------------------------------------------------------------
// registry

void calendar_registry::set(std::string school_id, school_calendar c) {
  if (!is_school_id(school_id)) {
    throw calendar_error(
        "school id must be a BRIN (4 characters, digits or capital letters), "
        "optionally followed by a 2-digit vestiging");
  }
  calendars_.insert_or_assign(std::move(school_id), std::move(c));
}

const school_calendar* calendar_registry::find_exact(std::string_view school_id) const {
  auto it = calendars_.find(school_id);
  return it == calendars_.end() ? nullptr : &it->second;
}

const school_calendar* calendar_registry::find(std::string_view brin, std::string_view vestiging) const {
  if (!vestiging.empty()) {
    std::string key;
    key.reserve(brin.size() + vestiging.size());
    key.append(brin).append(vestiging);
    if (const auto* c = find_exact(key)) return c;
  }
  return find_exact(brin);
}

std::vector<std::string> calendar_registry::school_ids() const {
  std::vector<std::string> ids;
  ids.reserve(calendars_.size());
  for (const auto& [id, c] : calendars_) ids.push_back(id);
  return ids;
}

// ---------------------------------------------------------------------------------------------
// dates

std::optional<chr::sys_days> parse_date(std::string_view s) {
  // ISO: exactly YYYY-MM-DD.
  if (s.size() == 10 && s[4] == '-' && s[7] == '-') {
    auto y = s.substr(0, 4), m = s.substr(5, 2), d = s.substr(8, 2);
    auto yv = parse_digits(y), mv = parse_digits(m), dv = parse_digits(d);
    if (!yv || !mv || !dv) return std::nullopt;
    return make_date(*yv, *mv, *dv);
  }
  // Dutch: d[d] sep m[m] sep jjjj, one separator kind.
  const auto p1 = s.find_first_of("-/.");
  if (p1 == std::string_view::npos) return std::nullopt;
  const char sep = s[p1];
  const auto p2 = s.find(sep, p1 + 1);
  if (p2 == std::string_view::npos) return std::nullopt;
  auto d = s.substr(0, p1), m = s.substr(p1 + 1, p2 - p1 - 1), y = s.substr(p2 + 1);
  if (d.empty() || d.size() > 2 || m.empty() || m.size() > 2 || y.size() != 4) return std::nullopt;
  auto yv = parse_digits(y), mv = parse_digits(m), dv = parse_digits(d);
  if (!yv || !mv || !dv) return std::nullopt;
  return make_date(*yv, *mv, *dv);
}

std::string format_date(chr::sys_days d) {
  const chr::year_month_day ymd{d};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

// ---------------------------------------------------------------------------------------------
// iCalendar

namespace {

struct content_line {
  std::size_t line = 0;                                     // where the (folded) line starts, 1-based
  std::string name;                                         // upper case
  std::vector<std::pair<std::string, std::string>> params;  // name upper case, value as given
  std::string value;
};

// Splits the text into physical lines (CRLF or LF) and joins folded continuations.
std::vector<std::pair<std::size_t, std::string>> unfold(std::string_view text) {
  std::vector<std::pair<std::size_t, std::string>> out;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    if (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t') && !out.empty()) {
      out.back().second.append(raw.substr(1));
      continue;
    }
    out.emplace_back(line_no, std::string(raw));
  }
  return out;
}

content_line split_content_line(std::size_t line, const std::string& text, const std::string& origin) {
  content_line cl;
  cl.line = line;
  // The value starts after the first ':' that is not inside a quoted parameter value.
  bool quoted = false;
  std::size_t colon = std::string::npos;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"')
      quoted = !quoted;
    else if (text[i] == ':' && !quoted) {
      colon = i;
      break;
    }
  }
  if (colon == std::string::npos) fail_at(origin, line, "not an iCalendar content line (no ':')");
  cl.value = text.substr(colon + 1);
  std::string_view head(text.data(), colon);
  // name;param=value;param="value"
  std::vector<std::string_view> parts;
  quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= head.size(); ++i) {
    if (i < head.size() && head[i] == '"') quoted = !quoted;
    if (i == head.size() || (head[i] == ';' && !quoted)) {
      parts.push_back(head.substr(start, i - start));
      start = i + 1;
    }
  }
  cl.name = upper(trim(parts.front()));
  if (cl.name.empty()) fail_at(origin, line, "content line without a property name");
  for (std::size_t i = 1; i < parts.size(); ++i) {
    auto eq = parts[i].find('=');
    if (eq == std::string_view::npos) {
      cl.params.emplace_back(upper(parts[i]), std::string());
    } else {
      std::string_view v = parts[i].substr(eq + 1);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      cl.params.emplace_back(upper(parts[i].substr(0, eq)), std::string(v));
    }
  }
  return cl;
}

// RFC 5545 TEXT escapes: \\ \; \, \n \N.
std::string unescape_text(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      const char n = v[++i];
      out.push_back(n == 'n' || n == 'N' ? ' ' : n);
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

struct ics_date {
  chr::sys_days day;
  bool has_time = false;
  bool midnight = false;  // a date-time at 00:00:00
};

// DATE "20261019" or DATE-TIME "20261019T083000[Z]": the date as written, no time-zone shift.
std::optional<ics_date> parse_ics_date(std::string_view v, bool value_is_date) {
  v = trim(v);
  if (v.size() < 8) return std::nullopt;
  auto y = parse_digits(v.substr(0, 4)), m = parse_digits(v.substr(4, 2)), d = parse_digits(v.substr(6, 2));
  if (!y || !m || !d) return std::nullopt;
  auto day = make_date(*y, *m, *d);
  if (!day) return std::nullopt;
  ics_date out{*day};
  if (v.size() == 8) return out;
  if (value_is_date) return std::nullopt;  // VALUE=DATE must not carry a time
  std::string_view t = v.substr(8);
  if (t.size() != 7 && !(t.size() == 8 && (t[7] == 'Z' || t[7] == 'z'))) return std::nullopt;
  if (t[0] != 'T' && t[0] != 't') return std::nullopt;
  auto hh = parse_digits(t.substr(1, 2)), mm = parse_digits(t.substr(3, 2)), ss = parse_digits(t.substr(5, 2));
  if (!hh || !mm || !ss || *hh > 23 || *mm > 59 || *ss > 60) return std::nullopt;
  out.has_time = true;
  out.midnight = *hh == 0 && *mm == 0 && *ss == 0;
  return out;
}

bool param_is(const content_line& cl, std::string_view name, std::string_view value) {
  for (const auto& [n, v] : cl.params) {
    if (n == name && equals_ci(v, value)) return true;
  }
  return false;
}

// Only whole days or weeks ("P3D", "P1W", "P1DT0H0M0S" is refused): enough for days off.
std::optional<int> parse_day_duration(std::string_view v) {
  v = trim(v);
  if (v.size() < 3 || (v[0] != 'P' && v[0] != 'p')) return std::nullopt;
  const char unit = to_upper(v.back());
  auto n = parse_digits(v.substr(1, v.size() - 2));
  if (!n) return std::nullopt;
  if (unit == 'D') return *n;
  if (unit == 'W') return *n * 7;
  return std::nullopt;
}

struct pending_event {
  std::size_t begin_line = 0;
  std::optional<ics_date> start, end;
  std::size_t start_line = 0, end_line = 0;
  std::optional<int> duration_days;
  std::string summary;
  bool study_category = false;
  bool cancelled = false;
};

}  // namespace

void parse_ics(std::string_view text, const std::string& origin, school_calendar& into) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<day_off> found;
  std::vector<std::string> stack;  // open components, outermost first
  std::optional<pending_event> ev;
  bool saw_calendar = false;
  std::size_t last_line = 0;

  for (const auto& [line, raw] : unfold(text)) {
    last_line = line;
    if (trim(raw).empty()) continue;
    const content_line cl = split_content_line(line, raw, origin);

    if (cl.name == "BEGIN") {
      const std::string comp = upper(trim(cl.value));
      if (comp.empty()) fail_at(origin, line, "BEGIN without a component name");
      if (stack.empty() && comp != "VCALENDAR") fail_at(origin, line, "BEGIN:" + comp + " outside VCALENDAR");
      if (!stack.empty() && comp == "VCALENDAR") fail_at(origin, line, "VCALENDAR inside another component");
      if (comp == "VEVENT") {
        if (stack.size() != 1) fail_at(origin, line, "VEVENT must be directly inside VCALENDAR");
        ev.emplace();
        ev->begin_line = line;
      }
      if (comp == "VCALENDAR") saw_calendar = true;
      stack.push_back(comp);
      continue;
    }
    if (cl.name == "END") {
      const std::string comp = upper(trim(cl.value));
      if (stack.empty()) fail_at(origin, line, "END:" + comp + " before BEGIN");
      if (stack.back() != comp) fail_at(origin, line, "END:" + comp + " while " + stack.back() + " is open");
      stack.pop_back();
      if (comp == "VEVENT") {
        pending_event e = std::move(*ev);
        ev.reset();
        if (e.cancelled) continue;
        if (!e.start) fail_at(origin, e.begin_line, "VEVENT without DTSTART");
        if (e.end && e.duration_days) fail_at(origin, e.end_line, "VEVENT has both DTEND and DURATION");
        day_off d;
        d.from = e.start->day;
        d.to = d.from;
        if (e.end) {
          if (e.end->day < e.start->day) fail_at(origin, e.end_line, "DTEND is before DTSTART");
          // DTEND is exclusive: a date (or a date-time at midnight) ends the day before; a
          // date-time later in the day still includes that day.
          if (!e.end->has_time || e.end->midnight) {
            d.to = e.end->day > e.start->day ? e.end->day - chr::days{1} : e.start->day;
          } else {
            d.to = e.end->day;
          }
        } else if (e.duration_days) {
          if (*e.duration_days > 1) d.to = d.from + chr::days{*e.duration_days - 1};
        }
        d.name = std::move(e.summary);
        d.study_day = e.study_category || contains_ci(d.name, "studiedag");
        found.push_back(std::move(d));
      }
      continue;
    }
    if (stack.empty()) fail_at(origin, line, "content before BEGIN:VCALENDAR");
    // Properties of anything but the VEVENT itself (VALARM inside it, VTIMEZONE, ...) are ignored.
    if (!ev || stack.back() != "VEVENT") continue;

    if (cl.name == "DTSTART" || cl.name == "DTEND") {
      const bool is_start = cl.name == "DTSTART";
      auto& slot = is_start ? ev->start : ev->end;
      if (slot) fail_at(origin, line, cl.name + " given twice");
      auto d = parse_ics_date(cl.value, param_is(cl, "VALUE", "DATE"));
      if (!d) fail_at(origin, line, cl.name + " is not a date");
      slot = d;
      (is_start ? ev->start_line : ev->end_line) = line;
    } else if (cl.name == "DURATION") {
      auto n = parse_day_duration(cl.value);
      if (!n || *n < 1) fail_at(origin, line, "DURATION must be whole days or weeks (e.g. P5D, P1W)");
      ev->duration_days = n;
      ev->end_line = line;
    } else if (cl.name == "RRULE" || cl.name == "RDATE") {
      fail_at(origin, line, cl.name + " not supported: list the days");
    } else if (cl.name == "SUMMARY") {
      ev->summary = unescape_text(trim(cl.value));
    } else if (cl.name == "CATEGORIES") {
      if (contains_ci(cl.value, "STUDIEDAG") || contains_ci(cl.value, "STUDY-DAY")) ev->study_category = true;
    } else if (cl.name == "STATUS") {
      ev->cancelled = equals_ci(trim(cl.value), "CANCELLED");
    }
  }
  if (!stack.empty()) fail_at(origin, last_line, "missing END:" + stack.back());
  if (!saw_calendar) fail_at(origin, std::max<std::size_t>(last_line, 1), "no VCALENDAR found");
  into.add_all(std::move(found));
}

// ---------------------------------------------------------------------------------------------
// CSV

namespace {

// One CSV record; double quotes group a field ("" is a literal quote). Multi-line fields are not
// supported: a calendar row fits on one line.
std::optional<std::vector<std::string>> split_csv(std::string_view line, char delim) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          out.back().push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        out.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == delim) {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  if (quoted) return std::nullopt;
  for (auto& f : out) f = std::string(trim(f));
  return out;
}

enum class csv_col { from, to, kind, name };

std::optional<csv_col> column_of(std::string_view h) {
  const std::string u = upper(trim(h));
  if (u == "FROM" || u == "VAN") return csv_col::from;
  if (u == "TO" || u == "TOT" || u == "TM" || u == "T/M") return csv_col::to;
  if (u == "KIND" || u == "SOORT") return csv_col::kind;
  if (u == "NAME" || u == "NAAM") return csv_col::name;
  return std::nullopt;
}

}  // namespace

void parse_csv(std::string_view text, const std::string& origin, school_calendar& into) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<day_off> found;
  std::vector<csv_col> columns;
  char delim = 0;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    const std::string_view t = trim(line);
    if (t.empty() || t.front() == '#') continue;

    if (delim == 0) {
      // The header decides the delimiter: ';' is what Dutch spreadsheet exports use.
      delim = t.find(';') != std::string_view::npos ? ';' : ',';
      auto fields = split_csv(t, delim);
      if (!fields) fail_at(origin, line_no, "unterminated quote in header");
      bool seen[4] = {false, false, false, false};
      for (const auto& f : *fields) {
        auto c = column_of(f);
        if (!c) fail_at(origin, line_no, "unknown column \"" + f + "\" (expected from;to;kind;name)");
        if (seen[static_cast<int>(*c)]) fail_at(origin, line_no, "column \"" + f + "\" given twice");
        seen[static_cast<int>(*c)] = true;
        columns.push_back(*c);
      }
      if (!seen[static_cast<int>(csv_col::from)] || !seen[static_cast<int>(csv_col::kind)]) {
        fail_at(origin, line_no, "header must name at least the columns from and kind (from;to;kind;name)");
      }
      continue;
    }

    auto fields = split_csv(t, delim);
    if (!fields) fail_at(origin, line_no, "unterminated quote");
    if (fields->size() > columns.size()) {
      fail_at(origin, line_no,
              "expected " + std::to_string(columns.size()) + " fields, found " + std::to_string(fields->size()));
    }
    std::string from_s, to_s, kind_s, name;
    for (std::size_t i = 0; i < fields->size(); ++i) {
      switch (columns[i]) {
        case csv_col::from:
          from_s = (*fields)[i];
          break;
        case csv_col::to:
          to_s = (*fields)[i];
          break;
        case csv_col::kind:
          kind_s = (*fields)[i];
          break;
        case csv_col::name:
          name = (*fields)[i];
          break;
      }
    }
    if (from_s.empty()) fail_at(origin, line_no, "from is empty");
    auto from = parse_date(from_s);
    if (!from) fail_at(origin, line_no, "from is not a date (YYYY-MM-DD or dd-mm-jjjj)");
    auto to = from;
    if (!to_s.empty()) {
      to = parse_date(to_s);
      if (!to) fail_at(origin, line_no, "to is not a date (YYYY-MM-DD or dd-mm-jjjj)");
      if (*to < *from) fail_at(origin, line_no, "to is before from");
    }
    bool study;
    const std::string k = upper(kind_s);
    if (k == "HOLIDAY" || k == "VAKANTIE") {
      study = false;
    } else if (k == "STUDY_DAY" || k == "STUDIEDAG" || k == "STUDY-DAY") {
      study = true;
    } else {
      fail_at(origin, line_no, "kind must be holiday, study_day, vakantie or studiedag");
    }
    found.push_back(day_off{*from, *to, std::move(name), study});
  }
  if (delim == 0) fail_at(origin, std::max<std::size_t>(line_no, 1), "no header line (from;to;kind;name)");
  into.add_all(std::move(found));
}

// ---------------------------------------------------------------------------------------------
// files and config

void load_calendar_file(const fs::path& file, school_calendar& into) {
  const std::string origin = file.string();
  const std::string ext = upper(file.extension().string());
  if (ext != ".ICS" && ext != ".CSV") throw calendar_error(origin + ": unknown calendar file type (use .ics or .csv)");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw calendar_error(origin + ": cannot open: " + std::generic_category().message(errno));
  constexpr std::size_t max_bytes = 16u << 20;
  std::string text;
  char buf[64 * 1024];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes) throw calendar_error(origin + ": larger than 16 MiB, not a calendar");
  }
  if (in.bad()) throw calendar_error(origin + ": read error");
  if (ext == ".ICS")
    parse_ics(text, origin, into);
  else
    parse_csv(text, origin, into);
}

namespace {

chr::sys_days config_date(const nlohmann::json& v, const std::string& path) {
  if (!v.is_string()) throw calendar_error(path + ": must be a date string (YYYY-MM-DD or dd-mm-jjjj)");
  auto d = parse_date(v.get_ref<const std::string&>());
  if (!d) throw calendar_error(path + ": not a date (YYYY-MM-DD or dd-mm-jjjj)");
  return *d;
}

const nlohmann::json& config_array(const nlohmann::json& entry, const char* key, const std::string& path) {
  const auto& v = entry.at(key);
  if (!v.is_array()) throw calendar_error(path + ": must be an array");
  return v;
}

// {from, to?, name?} with only those keys.
day_off config_range(const nlohmann::json& v, const std::string& path, bool name_required, bool study) {
  if (!v.is_object()) throw calendar_error(path + ": must be an object {name, from, to}");
  for (const auto& [k, val] : v.items()) {
    if (k != "from" && k != "to" && k != "name") {
      std::string msg = path;
      msg.append(": unknown key \"").append(k).append("\"");
      throw calendar_error(msg);
    }
  }
  if (!v.contains("from")) throw calendar_error(path + ": from is required");
  day_off d;
  d.study_day = study;
  d.from = config_date(v["from"], path + ".from");
  d.to = v.contains("to") ? config_date(v["to"], path + ".to") : d.from;
  if (d.to < d.from) throw calendar_error(path + ".to: is before from");
  if (v.contains("name")) {
    if (!v["name"].is_string()) throw calendar_error(path + ".name: must be a string");
    d.name = v["name"].get<std::string>();
  } else if (name_required) {
    throw calendar_error(path + ": name is required");
  } else {
    d.name = "studiedag";
  }
  return d;
}

}  // namespace

calendar_registry registry_from_config(const nlohmann::json& schools, const fs::path& base_dir) {
  calendar_registry reg;
  if (schools.is_null()) return reg;
  if (!schools.is_array()) throw calendar_error("schools: must be an array");
  std::map<std::string, std::size_t> seen;  // school id -> index where first listed
  for (std::size_t i = 0; i < schools.size(); ++i) {
    const std::string at = "schools[" + std::to_string(i) + "]";
    const auto& entry = schools[i];
    if (!entry.is_object()) throw calendar_error(at + ": must be an object");
    if (!entry.contains("brin")) throw calendar_error(at + ": brin is required");
    const auto& brin = entry["brin"];
    if (!brin.is_string() || !is_brin(brin.get_ref<const std::string&>())) {
      throw calendar_error(at + ".brin: must be 4 characters, digits or capital letters (e.g. 99XX)");
    }
    std::string id = brin.get<std::string>();
    if (entry.contains("vestiging")) {
      const auto& v = entry["vestiging"];
      if (!v.is_string() || !is_vestiging(v.get_ref<const std::string&>())) {
        throw calendar_error(at + ".vestiging: must be 2 digits (e.g. \"00\"); quote it in YAML");
      }
      id += v.get<std::string>();
    }
    if (auto [it, inserted] = seen.emplace(id, i); !inserted) {
      std::string msg = at;
      msg.append(": school ").append(id).append(" is listed twice (also schools[");
      msg.append(std::to_string(it->second)).append("])");
      throw calendar_error(msg);
    }

    school_calendar cal;
    if (entry.contains("calendar_files")) {
      const auto& files = config_array(entry, "calendar_files", at + ".calendar_files");
      for (std::size_t k = 0; k < files.size(); ++k) {
        const std::string fp = at + ".calendar_files[" + std::to_string(k) + "]";
        if (!files[k].is_string() || files[k].get_ref<const std::string&>().empty()) {
          throw calendar_error(fp + ": must be a file path");
        }
        fs::path p = files[k].get<std::string>();
        if (p.is_relative()) p = base_dir / p;
        try {
          load_calendar_file(p.lexically_normal(), cal);
        } catch (const calendar_error& e) {
          throw calendar_error(fp + ": " + e.what());
        }
      }
    }
    if (entry.contains("holidays")) {
      const auto& hs = config_array(entry, "holidays", at + ".holidays");
      for (std::size_t k = 0; k < hs.size(); ++k) {
        cal.add(config_range(hs[k], at + ".holidays[" + std::to_string(k) + "]", true, false));
      }
    }
    if (entry.contains("study_days")) {
      const auto& ss = config_array(entry, "study_days", at + ".study_days");
      for (std::size_t k = 0; k < ss.size(); ++k) {
        const std::string sp = at + ".study_days[" + std::to_string(k) + "]";
        if (ss[k].is_string()) {
          const auto d = config_date(ss[k], sp);
          cal.add(day_off{d, d, "studiedag", true});
        } else if (!ss[k].is_object()) {
          throw calendar_error(sp + ": must be a date string or an object {from, to, name}");
        } else {
          cal.add(config_range(ss[k], sp, false, true));
        }
      }
    }
    reg.set(std::move(id), std::move(cal));
  }
  return reg;
}

}  // namespace schakel::calendar
