#include "rules.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

namespace schakel::plugins::attendance_rules {
namespace {

using ojson = nlohmann::ordered_json;

// A calendar that has no school day for this long is treated as ending: the walk stops there
// rather than looping (a window is then as long as the calendar allows).
constexpr int max_week_walk = 520;

std::int32_t monday_of(std::int32_t day) {
  return day - weekday(day);
}

bool week_has_school_day(const calendar& cal, std::int32_t monday) {
  for (int i = 0; i < 7; ++i) {
    if (cal.is_school_day(monday + i)) return true;
  }
  return false;
}

/** Monday of the earliest of `weeks` weeks counted back from (and including) the week of `day`. */
std::int32_t window_start_back(const calendar& cal, std::int32_t day, int weeks, bool calendar_weeks) {
  std::int32_t m = monday_of(day);
  if (calendar_weeks) return m - 7 * (weeks - 1);
  int counted = 1;  // the anchor week always counts: it holds the anchor day
  std::int32_t earliest = m;
  for (int walked = 0; counted < weeks && walked < max_week_walk; ++walked) {
    m -= 7;
    if (week_has_school_day(cal, m)) {
      ++counted;
      earliest = m;
    }
  }
  return earliest;
}

/** The same weekday `weeks` school weeks after the week of `start` (exclusive end of the period). */
std::int32_t window_end_forward(const calendar& cal, std::int32_t start, int weeks) {
  std::int32_t m = monday_of(start);
  int counted = 0;
  for (int walked = 0; counted < weeks && walked < max_week_walk; ++walked) {
    m += 7;
    if (week_has_school_day(cal, m)) ++counted;
  }
  return m + weekday(start);
}

bool school_day_between(const calendar& cal, std::int32_t after, std::int32_t before) {
  for (std::int32_t d = after + 1; d < before; ++d) {
    if (cal.is_school_day(d)) return true;
  }
  return false;
}

std::string join_dates(const std::vector<std::int32_t>& days) {
  std::string out;
  for (auto d : days) {
    if (!out.empty()) out += ',';
    out += format_date(d);
  }
  return out;
}

void append_ids(std::vector<std::string>& out, const std::map<std::int32_t, std::vector<std::string>>& ids,
                std::int32_t day) {
  auto it = ids.find(day);
  if (it == ids.end()) return;
  for (const auto& id : it->second) {
    if (!id.empty()) out.push_back(id);
  }
}

// The schema caps derived_from at 1000 ids; the earliest records are the ones that started it.
void cap_ids(std::vector<std::string>& ids) {
  if (ids.size() > 1000) ids.resize(1000);
}

/** One occurrence the count rules count: a sick report (episode) or a late day. */
struct occurrence {
  std::int32_t start = 0;
  std::vector<std::int32_t> days;
};

struct count_hit {
  std::size_t nth = 0;               // index of the occurrence that fired
  std::vector<std::size_t> members;  // the N occurrences used up, oldest first
  std::int32_t window_start = 0;
};

/**
 * The used-up count rule: at each occurrence, the unused occurrences starting inside the window
 * counted back from its week; N of them fire and are used up.
 */
std::vector<count_hit> count_rule(const std::vector<occurrence>& occ, const calendar& cal, int n, int weeks,
                                  bool calendar_weeks, const std::set<std::int32_t>& pre_used) {
  std::vector<bool> used(occ.size(), false);
  for (std::size_t i = 0; i < occ.size(); ++i) used[i] = pre_used.count(occ[i].start) > 0;
  std::vector<count_hit> hits;
  for (std::size_t i = 0; i < occ.size(); ++i) {
    if (used[i]) continue;
    const std::int32_t ws = window_start_back(cal, occ[i].start, weeks, calendar_weeks);
    std::vector<std::size_t> members;
    for (std::size_t j = 0; j <= i; ++j) {
      if (!used[j] && occ[j].start >= ws) members.push_back(j);
    }
    if (static_cast<int>(members.size()) < n) continue;
    // Only after settled seeds can more than N be unused in the window: use the most recent N.
    members.erase(members.begin(), members.end() - n);
    for (auto j : members) used[j] = true;
    hits.push_back({i, std::move(members), ws});
  }
  return hits;
}

std::string format_hours(double v, bool clock) {
  if (!clock) return std::to_string(static_cast<long long>(std::llround(v)));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

ojson hours_value(double v, bool clock) {
  if (!clock) return static_cast<long long>(std::llround(v));
  return std::round(v * 100.0) / 100.0;
}

/** One record's weight for leerplicht, in lessons or clock hours. */
double record_hours(const record& r, const school_settings& s) {
  if (s.leerplicht.clock_hours) {
    if (r.minutes) return *r.minutes / 60.0;
    if (r.lessons) return *r.lessons * s.lesson_minutes / 60.0;
    if (r.whole_day) return s.lessons_per_day * s.lesson_minutes / 60.0;
    return 0;
  }
  if (r.lessons) return *r.lessons;
  if (r.minutes) return static_cast<double>((*r.minutes + s.lesson_minutes - 1) / s.lesson_minutes);
  if (r.whole_day) return s.lessons_per_day;
  return 0;
}

bool adult_reported(const school_settings& s, std::optional<int> age, std::optional<bool> bq) {
  if (!age || *age < 18) return true;  // unknown age: treated as a minor
  switch (s.leerplicht.adults) {
    case adults_policy::never:
      return false;
    case adults_policy::always:
      return true;
    case adults_policy::rmc:
      return *age < 23 && !(bq && *bq);
  }
  return true;
}

void mazl_rules(const std::vector<record>& records, const calendar& cal, const school_settings& s, const seeds& seed,
                std::vector<alert>& out) {
  std::map<std::int32_t, std::vector<std::string>> ids;
  for (const auto& r : records) {
    if (r.cat == category::sick && cal.is_school_day(r.day)) ids[r.day].push_back(r.signal_id);
  }
  std::vector<occurrence> episodes;
  for (const auto& [day, unused] : ids) {
    if (!episodes.empty() && !school_day_between(cal, episodes.back().days.back(), day)) {
      episodes.back().days.push_back(day);
    } else {
      episodes.push_back({day, {day}});
    }
  }

  for (const auto& hit :
       count_rule(episodes, cal, s.mazl.reports, s.mazl.weeks, s.mazl.calendar_weeks, seed.mazl_used)) {
    alert a;
    const auto& nth = episodes[hit.nth];
    a.type = type_mazl;
    a.day = nth.start;
    a.key = "mazl_count:" + format_date(nth.start);
    std::vector<std::int32_t> starts;
    for (auto j : hit.members) {
      starts.push_back(episodes[j].start);
      for (auto d : episodes[j].days) append_ids(a.derived_from, ids, d);
    }
    a.used = starts;
    a.evidence["rule"] = "count";
    a.evidence["report_starts"] = join_dates(starts);
    a.evidence["count"] = s.mazl.reports;
    a.evidence["weeks"] = s.mazl.weeks;
    a.evidence["week_kind"] = s.mazl.calendar_weeks ? "calendar" : "school";
    a.evidence["window_start"] = format_date(hit.window_start);
    a.evidence["window_end"] = format_date(nth.start);
    a.value = s.mazl.reports;
    a.unit = "reports";
    cap_ids(a.derived_from);
    out.push_back(std::move(a));
  }

  // Duration is an independent rule: it neither uses up reports nor needs unused ones.
  const auto d = static_cast<std::size_t>(s.mazl.consecutive_days);
  for (const auto& ep : episodes) {
    if (ep.days.size() < d) continue;
    alert a;
    a.type = type_mazl;
    a.day = ep.days[d - 1];
    a.key = "mazl_duration:" + format_date(ep.start);
    for (std::size_t i = 0; i < d; ++i) append_ids(a.derived_from, ids, ep.days[i]);
    a.evidence["rule"] = "duration";
    a.evidence["episode_start"] = format_date(ep.start);
    a.evidence["days"] = s.mazl.consecutive_days;
    a.evidence["report_starts"] = format_date(ep.start);
    a.evidence["window_start"] = format_date(ep.start);
    a.evidence["window_end"] = format_date(a.day);
    a.value = s.mazl.consecutive_days;
    a.unit = "school_days";
    cap_ids(a.derived_from);
    out.push_back(std::move(a));
  }
}

void leerplicht_rule(const std::vector<record>& records, const calendar& cal, const school_settings& s,
                     const seeds& seed, std::vector<alert>& out) {
  struct day_info {
    double hours = 0;
    std::vector<std::string> ids;
    std::optional<int> age;
    std::optional<bool> bq;
  };
  std::map<std::int32_t, day_info> days;
  for (const auto& r : records) {
    if (s.leerplicht.categories.count(r.cat) == 0 || !cal.is_school_day(r.day)) continue;
    if (seed.leerplicht_after && r.day <= *seed.leerplicht_after) continue;
    const double h = record_hours(r, s);
    if (h <= 0) continue;
    auto& di = days[r.day];
    di.hours += h;
    di.ids.push_back(r.signal_id);
    if (r.age) di.age = std::max(di.age.value_or(0), *r.age);
    if (r.basic_qualification) di.bq = di.bq.value_or(false) || *r.basic_qualification;
  }
  std::vector<std::pair<std::int32_t, const day_info*>> seq;
  for (const auto& [day, info] : days) seq.emplace_back(day, &info);

  const bool clock = s.leerplicht.clock_hours;
  // Compare with a little slack: clock hours are sums of fractions (100 min = 1.666… h).
  const double threshold = s.leerplicht.threshold - 1e-9;
  std::optional<std::size_t> start;
  for (std::size_t j = 0; j < seq.size(); ++j) {
    if (!start) start = j;
    while (seq[j].first >= window_end_forward(cal, seq[*start].first, s.leerplicht.weeks)) ++*start;
    double sum = 0;
    for (std::size_t k = *start; k <= j; ++k) sum += seq[k].second->hours;
    if (sum < threshold) continue;

    std::optional<int> age;
    std::optional<bool> bq;
    for (std::size_t k = *start; k <= j; ++k) {
      if (seq[k].second->age) age = std::max(age.value_or(0), *seq[k].second->age);
      if (seq[k].second->bq) bq = bq.value_or(false) || *seq[k].second->bq;
    }
    const std::int32_t period_start = seq[*start].first;
    const std::int32_t reached = seq[j].first;
    if (adult_reported(s, age, bq)) {
      alert a;
      a.type = type_leerplicht;
      a.day = reached;
      // The period is the report: hours registered later in it (lesson by lesson, or late) update this
      // alert, whichever day they move the threshold to.
      a.key = leerplicht_key(period_start);
      std::string list;
      for (std::size_t k = *start; k <= j; ++k) {
        if (!list.empty()) list += ',';
        list += format_date(seq[k].first) + ":" + format_hours(seq[k].second->hours, clock);
        for (const auto& id : seq[k].second->ids) {
          if (!id.empty()) a.derived_from.push_back(id);
        }
      }
      a.evidence["period_start"] = format_date(period_start);
      a.evidence["reached_on"] = format_date(reached);
      a.evidence["hours"] = hours_value(sum, clock);
      const double th = s.leerplicht.threshold;
      if (std::floor(th) == th) {
        a.evidence["threshold"] = static_cast<long long>(th);
      } else {
        a.evidence["threshold"] = th;
      }
      a.evidence["weeks"] = s.leerplicht.weeks;
      a.evidence["unit"] = clock ? "clock_hours" : "lessons";
      a.evidence["days"] = list;
      a.evidence["report_deadline"] = format_date(add_working_days(reached, s.leerplicht.report_deadline_days));
      if (age) a.evidence["age"] = *age;
      a.value = hours_value(sum, clock);
      a.unit = clock ? "hours" : "lessons";
      cap_ids(a.derived_from);
      out.push_back(std::move(a));
    }
    // The period closes on the day it reached the threshold, reported or not (adults); the next one
    // starts with the next absence day.
    start.reset();
  }
}

void lateness_rule(const std::vector<record>& records, const calendar& cal, const school_settings& s, const seeds& seed,
                   std::vector<alert>& out) {
  if (!s.lateness.enabled) return;
  std::map<std::int32_t, std::vector<std::string>> ids;
  for (const auto& r : records) {
    if (r.cat == category::late && cal.is_school_day(r.day)) ids[r.day].push_back(r.signal_id);
  }
  std::vector<occurrence> late;
  for (const auto& [day, unused] : ids) late.push_back({day, {day}});  // at most one per day
  for (const auto& hit : count_rule(late, cal, s.lateness.count, s.lateness.weeks, false, seed.lateness_used)) {
    alert a;
    a.type = type_lateness;
    a.day = late[hit.nth].start;
    a.key = "lateness:" + format_date(a.day);
    std::vector<std::int32_t> dates;
    for (auto j : hit.members) {
      dates.push_back(late[j].start);
      append_ids(a.derived_from, ids, late[j].start);
    }
    a.used = dates;
    a.evidence["rule"] = "count";
    a.evidence["dates"] = join_dates(dates);
    a.evidence["count"] = s.lateness.count;
    a.evidence["weeks"] = s.lateness.weeks;
    a.evidence["window_start"] = format_date(hit.window_start);
    a.evidence["window_end"] = format_date(a.day);
    a.value = s.lateness.count;
    a.unit = "late_arrivals";
    cap_ids(a.derived_from);
    out.push_back(std::move(a));
  }
}

}  // namespace

std::optional<std::int32_t> parse_date(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  const std::pair<int, int> spans[3] = {{0, 4}, {5, 2}, {8, 2}};
  for (int p = 0; p < 3; ++p) {
    for (int i = 0; i < spans[p].second; ++i) {
      const char c = t[static_cast<std::size_t>(spans[p].first + i)];
      if (c < '0' || c > '9') return std::nullopt;
      parts[p] = parts[p] * 10 + (c - '0');
    }
  }
  const std::chrono::year_month_day ymd{std::chrono::year{parts[0]},
                                        std::chrono::month{static_cast<unsigned>(parts[1])},
                                        std::chrono::day{static_cast<unsigned>(parts[2])}};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<std::int32_t>(std::chrono::sys_days{ymd}.time_since_epoch().count());
}

std::string format_date(std::int32_t day) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

int weekday(std::int32_t day) {
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  return static_cast<int>(((day + 3) % 7 + 7) % 7);
}

std::string leerplicht_key(std::int32_t period_start) {
  return "leerplicht:" + format_date(period_start);
}

std::int32_t add_working_days(std::int32_t day, int n) {
  while (n > 0) {
    ++day;
    if (weekday(day) < 5) --n;
  }
  return day;
}

std::vector<alert> compute_alerts(const std::vector<record>& records, const calendar& cal, const school_settings& s,
                                  const seeds& seed) {
  std::vector<alert> out;
  mazl_rules(records, cal, s, seed, out);
  leerplicht_rule(records, cal, s, seed, out);
  lateness_rule(records, cal, s, seed, out);
  std::stable_sort(out.begin(), out.end(),
                   [](const alert& a, const alert& b) { return a.day != b.day ? a.day < b.day : a.key < b.key; });
  return out;
}

// Kept beside the rules above: a key added there and not here fails the processor's tests.
std::set<std::string, std::less<>> mazl_evidence() {
  return {"rule",         "report_starts", "count",         "weeks", "week_kind",
          "window_start", "window_end",    "episode_start", "days"};
}

std::set<std::string, std::less<>> leerplicht_evidence() {
  return {"period_start", "reached_on", "hours", "threshold", "weeks", "unit", "days", "report_deadline", "age"};
}

std::set<std::string, std::less<>> lateness_evidence() {
  return {"rule", "dates", "count", "weeks", "window_start", "window_end"};
}

}  // namespace schakel::plugins::attendance_rules
