#include "settings.hpp"

#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "schakel/sdk/settings_reader.hpp"

namespace schakel::plugins::attendance_rules {
namespace {

using json = nlohmann::json;
using sdk::settings_fail;

// The built-in defaults, also the list of known keys: a key absent here is unknown.
const json& builtin_defaults() {
  static const json d = json::parse(R"({
    "mazl": {"reports": 4, "weeks": 12, "week_kind": "school", "consecutive_days": 7, "referral": "on_request"},
    "leerplicht": {"threshold": 16, "weeks": 4, "unit": "lessons", "categories": ["unauthorised"],
                   "adults": "rmc", "report_deadline_days": 5},
    "lateness": {"enabled": false, "count": 5, "weeks": 4},
    "lesson_minutes": 50,
    "lessons_per_day": 7,
    "keep_days": 400
  })");
  return d;
}

// `m` is complete (built-in defaults merged under everything), so every member read here exists.
school_settings convert(const json& m, const std::string& path) {
  const sdk::settings_reader root(m, path);
  school_settings s;
  const sdk::settings_reader mz = root.object("mazl");
  s.mazl.reports = mz.whole_number("reports", 1, 100);
  s.mazl.weeks = mz.whole_number("weeks", 1, 104);
  s.mazl.calendar_weeks = mz.one_of("week_kind", {"school", "calendar"}) == "calendar";
  s.mazl.consecutive_days = mz.whole_number("consecutive_days", 1, 200);
  s.mazl.referral_direct = mz.one_of("referral", {"on_request", "direct"}) == "direct";

  const sdk::settings_reader lp = root.object("leerplicht");
  const json& th = lp.at("threshold");
  if (!th.is_number() || th.get<double>() <= 0 || th.get<double>() > 10000) {
    settings_fail(lp.path_of("threshold"), "must be a number above 0 (at most 10000)");
  }
  s.leerplicht.threshold = th.get<double>();
  s.leerplicht.weeks = lp.whole_number("weeks", 1, 104);
  s.leerplicht.clock_hours = lp.one_of("unit", {"lessons", "clock_hours"}) == "clock_hours";
  const json& cats = lp.at("categories");
  if (!cats.is_array() || cats.empty())
    settings_fail(lp.path_of("categories"), "must be a non-empty list of categories");
  s.leerplicht.categories.clear();
  for (std::size_t i = 0; i < cats.size(); ++i) {
    category c{};
    if (!cats[i].is_string() || !parse_category(cats[i].get<std::string>(), c)) {
      settings_fail(lp.path_of("categories") + "[" + std::to_string(i) + "]",
                    "must be one of sick | authorised | unauthorised | late | removed_from_class | suspended | other");
    }
    s.leerplicht.categories.insert(c);
  }
  const std::string adults = lp.one_of("adults", {"rmc", "never", "always"});
  s.leerplicht.adults = adults == "rmc"     ? adults_policy::rmc
                        : adults == "never" ? adults_policy::never
                                            : adults_policy::always;
  s.leerplicht.report_deadline_days = lp.whole_number("report_deadline_days", 0, 60);

  const sdk::settings_reader lt = root.object("lateness");
  s.lateness.enabled = lt.boolean("enabled");
  s.lateness.count = lt.whole_number("count", 1, 1000);
  s.lateness.weeks = lt.whole_number("weeks", 1, 104);

  s.lesson_minutes = root.whole_number("lesson_minutes", 1, 600);
  s.lessons_per_day = root.whole_number("lessons_per_day", 1, 24);
  s.keep_days = root.whole_number("keep_days", 1, 3650);
  // Alerts inside the settle margin are frozen; a keep_days no longer than it would freeze everything.
  const int need = s.settle_margin_days() + 60;
  if (s.keep_days < need) {
    settings_fail(root.path_of("keep_days"),
                  "must be at least " + std::to_string(need) + " days for the configured rule windows");
  }
  return s;
}

bool valid_brin(std::string_view b) {
  return b.size() == 4 &&
         std::all_of(b.begin(), b.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); });
}

}  // namespace

bool parse_category(std::string_view text, category& out) {
  static constexpr std::pair<std::string_view, category> names[] = {
      {"sick", category::sick},
      {"authorised", category::authorised},
      {"unauthorised", category::unauthorised},
      {"late", category::late},
      {"removed_from_class", category::removed_from_class},
      {"suspended", category::suspended},
      {"other", category::other},
  };
  return sdk::parse_name(text, names, out);
}

std::string_view to_string(category c) {
  switch (c) {
    case category::sick:
      return "sick";
    case category::authorised:
      return "authorised";
    case category::unauthorised:
      return "unauthorised";
    case category::late:
      return "late";
    case category::removed_from_class:
      return "removed_from_class";
    case category::suspended:
      return "suspended";
    case category::other:
      return "other";
  }
  return "other";
}

int school_settings::settle_margin_days() const {
  // A window of W school weeks spans W calendar weeks plus the holidays inside it; a school year has
  // about 13 holiday weeks, so W weeks + 100 days covers any window.
  const int weeks = std::max({mazl.weeks, leerplicht.weeks, lateness.weeks});
  return weeks * 7 + 100;
}

bool school_settings::relevant(category c) const {
  return c == category::sick || c == category::late || leerplicht.categories.count(c) > 0;
}

settings settings::parse(std::string_view json_text) {
  const json root = sdk::parse_settings_object(json_text);
  for (const auto& [key, value] : root.items()) {
    if (key != "defaults" && key != "schools") settings_fail(sdk::settings_path("settings", key), "unknown field");
  }
  json defaults = builtin_defaults();
  if (auto it = root.find("defaults"); it != root.end() && !it->is_null())
    sdk::merge_settings(defaults, *it, "settings.defaults");
  settings out;
  out.defaults_ = convert(defaults, "settings.defaults");
  if (auto it = root.find("schools"); it != root.end() && !it->is_null()) {
    if (!it->is_object()) settings_fail("settings.schools", "must be an object keyed by BRIN");
    for (const auto& [brin, override_value] : it->items()) {
      const std::string path = "settings.schools." + brin;
      if (!valid_brin(brin)) settings_fail(path, "the key must be a BRIN: 4 characters, digits or capital letters");
      json merged = defaults;
      sdk::merge_settings(merged, override_value, path);
      out.schools_.emplace(brin, convert(merged, path));
    }
  }
  return out;
}

const school_settings& settings::for_school(std::string_view brin) const {
  auto it = schools_.find(brin);
  return it != schools_.end() ? it->second : defaults_;
}

}  // namespace schakel::plugins::attendance_rules
