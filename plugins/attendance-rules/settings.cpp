#include "settings.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "schakel/plugin.hpp"

namespace schakel::plugins::attendance_rules {
namespace {

using json = nlohmann::json;
using sdk::config_error;

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
  throw config_error(path + ": " + reason);
}

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

// Objects merge key by key (recursively); anything else in `over` replaces. Unknown keys are refused
// here, against the shape of `base`, so the path names where the user wrote them.
void merge_into(json& base, const json& over, const std::string& path) {
  if (!over.is_object()) fail(path, "must be an object");
  for (const auto& [key, value] : over.items()) {
    const std::string sub = path + "." + key;
    auto it = base.find(key);
    if (it == base.end()) fail(sub, "unknown field");
    if (it->is_object()) {
      merge_into(*it, value, sub);
    } else {
      *it = value;
    }
  }
}

int get_int(const json& obj, const char* key, const std::string& path, int lo, int hi) {
  const json& v = obj.at(key);
  const std::string p = path + "." + key;
  if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())) {
    fail(p, "must be a whole number");
  }
  const double d = v.get<double>();
  if (d < lo || d > hi) fail(p, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return static_cast<int>(d);
}

std::string get_enum(const json& obj, const char* key, const std::string& path,
                     std::initializer_list<const char*> allowed) {
  const json& v = obj.at(key);
  const std::string p = path + "." + key;
  std::string options;
  for (const char* a : allowed) {
    if (v.is_string() && v.get<std::string>() == a) return a;
    options += options.empty() ? a : std::string(" | ") + a;
  }
  fail(p, "must be one of " + options);
}

school_settings convert(const json& m, const std::string& path) {
  school_settings s;
  const json& mz = m.at("mazl");
  const std::string mp = path + ".mazl";
  s.mazl.reports = get_int(mz, "reports", mp, 1, 100);
  s.mazl.weeks = get_int(mz, "weeks", mp, 1, 104);
  s.mazl.calendar_weeks = get_enum(mz, "week_kind", mp, {"school", "calendar"}) == "calendar";
  s.mazl.consecutive_days = get_int(mz, "consecutive_days", mp, 1, 200);
  s.mazl.referral_direct = get_enum(mz, "referral", mp, {"on_request", "direct"}) == "direct";

  const json& lp = m.at("leerplicht");
  const std::string lpp = path + ".leerplicht";
  const json& th = lp.at("threshold");
  if (!th.is_number() || th.get<double>() <= 0 || th.get<double>() > 10000) {
    fail(lpp + ".threshold", "must be a number above 0 (at most 10000)");
  }
  s.leerplicht.threshold = th.get<double>();
  s.leerplicht.weeks = get_int(lp, "weeks", lpp, 1, 104);
  s.leerplicht.clock_hours = get_enum(lp, "unit", lpp, {"lessons", "clock_hours"}) == "clock_hours";
  const json& cats = lp.at("categories");
  if (!cats.is_array() || cats.empty()) fail(lpp + ".categories", "must be a non-empty list of categories");
  s.leerplicht.categories.clear();
  for (std::size_t i = 0; i < cats.size(); ++i) {
    category c{};
    if (!cats[i].is_string() || !parse_category(cats[i].get<std::string>(), c)) {
      fail(lpp + ".categories[" + std::to_string(i) + "]",
           "must be one of sick | authorised | unauthorised | late | removed_from_class | suspended | other");
    }
    s.leerplicht.categories.insert(c);
  }
  const std::string adults = get_enum(lp, "adults", lpp, {"rmc", "never", "always"});
  s.leerplicht.adults = adults == "rmc"     ? adults_policy::rmc
                        : adults == "never" ? adults_policy::never
                                            : adults_policy::always;
  s.leerplicht.report_deadline_days = get_int(lp, "report_deadline_days", lpp, 0, 60);

  const json& lt = m.at("lateness");
  const std::string ltp = path + ".lateness";
  if (!lt.at("enabled").is_boolean()) fail(ltp + ".enabled", "must be true or false");
  s.lateness.enabled = lt.at("enabled").get<bool>();
  s.lateness.count = get_int(lt, "count", ltp, 1, 1000);
  s.lateness.weeks = get_int(lt, "weeks", ltp, 1, 104);

  s.lesson_minutes = get_int(m, "lesson_minutes", path, 1, 600);
  s.lessons_per_day = get_int(m, "lessons_per_day", path, 1, 24);
  s.keep_days = get_int(m, "keep_days", path, 1, 3650);
  // Alerts inside the settle margin are frozen; a keep_days no longer than it would freeze everything.
  const int need = s.settle_margin_days() + 60;
  if (s.keep_days < need) {
    fail(path + ".keep_days", "must be at least " + std::to_string(need) + " days for the configured rule windows");
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
  for (const auto& [name, c] : names) {
    if (name == text) {
      out = c;
      return true;
    }
  }
  return false;
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
  json root = json::object();
  if (!json_text.empty()) {
    root = json::parse(json_text, nullptr, false);
    if (root.is_discarded()) fail("settings", "not valid JSON");
  }
  if (root.is_null()) root = json::object();
  if (!root.is_object()) fail("settings", "must be an object");
  for (const auto& [key, value] : root.items()) {
    if (key != "defaults" && key != "schools") fail("settings." + key, "unknown field");
  }
  json defaults = builtin_defaults();
  if (auto it = root.find("defaults"); it != root.end() && !it->is_null())
    merge_into(defaults, *it, "settings.defaults");
  settings out;
  out.defaults_ = convert(defaults, "settings.defaults");
  if (auto it = root.find("schools"); it != root.end() && !it->is_null()) {
    if (!it->is_object()) fail("settings.schools", "must be an object keyed by BRIN");
    for (const auto& [brin, override_value] : it->items()) {
      const std::string path = "settings.schools." + brin;
      if (!valid_brin(brin)) fail(path, "the key must be a BRIN: 4 characters, digits or capital letters");
      json merged = defaults;
      merge_into(merged, override_value, path);
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
