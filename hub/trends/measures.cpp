#include <algorithm>
#include <set>

#include "common/school_id.hpp"
#include "trends/settings.hpp"
#include "trends/windows.hpp"

namespace schakel::trends {

using nlohmann::json;

std::string_view to_string(measure_kind k) {
  switch (k) {
    case measure_kind::students:
      return "students";
    case measure_kind::hours:
      return "hours";
    case measure_kind::distribution:
      return "distribution";
  }
  return "students";
}

bool type_matches(const std::vector<std::string>& patterns, const std::string& type) {
  for (const auto& p : patterns) {
    if (p.ends_with('*') ? type.starts_with(std::string_view(p).substr(0, p.size() - 1)) : type == p) return true;
  }
  return false;
}

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  throw settings_error("trends." + path + ": " + why);
}

std::string text_at(const json& j, const char* key, const std::string& path, bool required) {
  if (!j.contains(key)) {
    if (required) fail(path + key, "required");
    return {};
  }
  if (!j[key].is_string()) fail(path + key, "must be a string");
  return j[key].get<std::string>();
}

std::vector<std::string> texts_at(const json& j, const char* key, const std::string& path) {
  std::vector<std::string> out;
  if (!j.contains(key)) return out;
  if (!j[key].is_array()) fail(path + key, "must be a list of strings");
  for (std::size_t i = 0; i < j[key].size(); ++i) {
    if (!j[key][i].is_string()) fail(path + key + "[" + std::to_string(i) + "]", "must be a string");
    out.push_back(j[key][i].get<std::string>());
  }
  return out;
}

double number_at(const json& j, const char* key, const std::string& path, double fallback, double min, double max) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_number()) fail(path + key, "must be a number");
  const double v = j[key].get<double>();
  if (v < min || v > max) fail(path + key, "must be between " + json(min).dump() + " and " + json(max).dump());
  return v;
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 32 || n[0] < 'a' || n[0] > 'z') return false;
  return std::all_of(n.begin(), n.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

const std::set<std::string> domains{"emotional", "behavioural", "social", "wellbeing", "attendance", "health"};

measure parse_measure(const json& m, const std::string& path) {
  if (!m.is_object()) fail(path.substr(0, path.size() - 1), "must be an object");
  measure out;
  out.name = text_at(m, "name", path, true);
  if (!valid_name(out.name)) fail(path + "name", "lowercase letters, digits and _, starting with a letter, at most 32");
  const std::string kind = text_at(m, "kind", path, true);
  if (kind == "students") {
    out.kind = measure_kind::students;
  } else if (kind == "hours") {
    out.kind = measure_kind::hours;
  } else if (kind == "distribution") {
    out.kind = measure_kind::distribution;
  } else {
    fail(path + "kind", "must be students, hours or distribution");
  }
  out.domain = text_at(m, "domain", path, true);
  if (!domains.contains(out.domain)) fail(path + "domain", "must be one of the signal domains (emotional … health)");
  out.types = texts_at(m, "types", path);
  if (out.types.empty()) fail(path + "types", "name at least one signal type (exact or prefix ending in *)");
  for (std::size_t i = 0; i < out.types.size(); ++i) {
    if (out.types[i].starts_with("nl.schakel.trend."))
      fail(path + "types[" + std::to_string(i) + "]", "trend cells are the output, not an input");
  }
  out.domains = texts_at(m, "domains", path);
  for (std::size_t i = 0; i < out.domains.size(); ++i)
    if (!domains.contains(out.domains[i])) fail(path + "domains[" + std::to_string(i) + "]", "unknown domain");
  out.indicators = texts_at(m, "indicators", path);
  const std::string sev = text_at(m, "min_severity", path, false);
  if (!sev.empty()) {
    out.min_severity = parse_severity(sev);
    if (!out.min_severity) fail(path + "min_severity", "must be info, attention, concern or urgent");
  }
  if (out.kind == measure_kind::distribution) {
    out.field = text_at(m, "field", path, true);
    if (!out.field.starts_with("content."))
      fail(path + "field", "must be a path under content, e.g. content.evidence.total_band");
    out.categories = texts_at(m, "categories", path);
    if (out.categories.size() < 2) fail(path + "categories", "a distribution needs at least two categories");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < out.categories.size(); ++i) {
      if (!valid_name(out.categories[i])) fail(path + "categories[" + std::to_string(i) + "]", "lowercase name");
      // "total" names the cell of all students with a result; a category of that name would be ambiguous.
      if (out.categories[i] == "total") fail(path + "categories[" + std::to_string(i) + "]", "total is reserved");
      if (!seen.insert(out.categories[i]).second) fail(path + "categories[" + std::to_string(i) + "]", "listed twice");
    }
  } else if (m.contains("field") || m.contains("categories")) {
    fail(path + (m.contains("field") ? "field" : "categories"), "only a distribution has categories");
  }
  out.minutes_per_lesson = number_at(m, "minutes_per_lesson", path, 50, 1, 240);
  out.max_hours_per_week = number_at(m, "max_hours_per_week", path, 40, 1, 80);
  out.whole_day_hours = number_at(m, "whole_day_hours", path, 6, 0, 12);
  return out;
}

}  // namespace

settings parse_settings(const json& section) {
  if (!section.is_object()) throw settings_error("trends: must be an object");
  settings s;
  if (section.contains("k")) {
    if (!section["k"].is_number_integer()) fail("k", "must be an integer");
    s.k = section["k"].get<int>();
    // Below 5 a published count says too much about the few behind it: refused, not warned.
    if (s.k < 5) fail("k", "must be at least 5 (the minimum cell size; 10 is the default)");
    if (s.k > 1000) fail("k", "must be at most 1000");
  }
  s.release_delay_days = static_cast<int>(number_at(section, "release_delay_days", "", 2, 0, 60));
  if (section.contains("windows")) {
    s.windows.clear();
    const auto list = texts_at(section, "windows", "");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto& w = list[i];
      window_kind k = window_kind::week;
      if (w == "week") {
        k = window_kind::week;
      } else if (w == "month") {
        k = window_kind::month;
      } else if (w == "year_to_date") {
        k = window_kind::year_to_date;
      } else {
        fail("windows[" + std::to_string(i) + "]", "must be week, month or year_to_date");
      }
      if (std::find(s.windows.begin(), s.windows.end(), k) != s.windows.end())
        fail("windows[" + std::to_string(i) + "]", "listed twice");
      s.windows.push_back(k);
    }
    if (s.windows.empty()) fail("windows", "name at least one window");
  }
  if (section.contains("levels")) {
    s.levels.clear();
    const auto list = texts_at(section, "levels", "");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto& l = list[i];
      level v = level::school;
      if (l == "school") {
        v = level::school;
      } else if (l == "leerjaar") {
        v = level::leerjaar;
      } else if (l == "class") {
        v = level::class_group;
      } else {
        fail("levels[" + std::to_string(i) + "]", "must be school, leerjaar or class");
      }
      if (std::find(s.levels.begin(), s.levels.end(), v) != s.levels.end())
        fail("levels[" + std::to_string(i) + "]", "listed twice");
      s.levels.push_back(v);
    }
    if (s.levels.empty()) fail("levels", "name at least one level");
  }
  s.schools = texts_at(section, "schools", "");
  if (s.schools.empty()) fail("schools", "name the schools to aggregate (BRIN or BRIN + vestiging)");
  for (std::size_t i = 0; i < s.schools.size(); ++i)
    if (!is_school_id(s.schools[i])) fail("schools[" + std::to_string(i) + "]", "BRIN (4) or BRIN + vestiging (6)");
  s.school_year_start =
      section.contains("school_year_start") ? text_at(section, "school_year_start", "", false) : "08-01";
  days probe{};
  if (!parse_day("2024-" + s.school_year_start, probe)) fail("school_year_start", "must be MM-DD, e.g. 08-01");
  s.first_week = text_at(section, "first_week", "", false);
  if (!s.first_week.empty() && !parse_day(s.first_week, probe)) fail("first_week", "must be a date YYYY-MM-DD");
  if (!section.contains("measures") || !section["measures"].is_array() || section["measures"].empty())
    fail("measures", "name at least one measure");
  std::set<std::string> names;
  for (std::size_t i = 0; i < section["measures"].size(); ++i) {
    const std::string path = "measures[" + std::to_string(i) + "].";
    auto m = parse_measure(section["measures"][i], path);
    if (!names.insert(m.name).second) fail(path + "name", "another measure has this name");
    s.measures.push_back(std::move(m));
  }
  if (section.contains("noise") && !section["noise"].is_null()) {
    const json& n = section["noise"];
    if (!n.is_object()) fail("noise", "must be an object");
    noise_settings ns;
    if (!n.contains("epsilon_per_release")) fail("noise.epsilon_per_release", "required");
    ns.epsilon_per_release = number_at(n, "epsilon_per_release", "noise.", 1.0, 0.01, 10);
    ns.budget_per_school_year = number_at(n, "budget_per_school_year", "noise.", 20, 0.01, 1000);
    if (ns.budget_per_school_year < ns.epsilon_per_release)
      fail("noise.budget_per_school_year", "must hold at least one release (epsilon_per_release)");
    s.noise = ns;
  }
  s.check_interval_seconds = static_cast<int>(number_at(section, "check_interval_seconds", "", 600, 1, 86400));
  return s;
}

}  // namespace schakel::trends
