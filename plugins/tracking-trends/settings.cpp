#include "settings.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "schakel/sdk/settings_reader.hpp"

namespace schakel::plugins::tracking_trends {
namespace {

using json = nlohmann::json;
using sdk::settings_fail;
using sdk::settings_path;

constexpr int max_rank = 100;

// The built-in defaults of the fixed-shape parts, also the list of their known keys.
const json& builtin_defaults() {
  static const json d = json::parse(R"({
    "defaults": {"risk_rank": 3, "decline_by": 5, "higher_is_better": true},
    "severity": {"at_risk": "concern", "declined": "attention", "withdrawn": "concern"},
    "withdrawn": {"enabled": true, "respondents": ["student", "teacher", "parent"],
                  "emotional_scales": [], "social_scales": [], "behavioural_scales": [],
                  "emotional_rank": 2, "social_rank": 2, "behavioural_rank": 2,
                  "behavioural_must_be_normal": true, "behavioural_must_be_measured": false},
    "keep_days": 1100
  })");
  return d;
}

double read_points(const json& v, const std::string& path) {
  if (!v.is_number() || v.get<double>() <= 0 || v.get<double>() > 1e6) {
    settings_fail(path, "must be a number above 0 (at most 1000000)");
  }
  return v.get<double>();
}

std::string read_severity(const sdk::settings_reader& r, std::string_view key) {
  return r.one_of(key, {"info", "attention", "concern", "urgent"});
}

std::set<std::string> read_names(const json& v, const std::string& path, bool (*valid)(std::string_view),
                                 std::string_view what) {
  if (!v.is_array()) settings_fail(path, "must be a list");
  std::set<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string item = path + "[" + std::to_string(i) + "]";
    if (!v[i].is_string() || !valid(v[i].get<std::string>())) settings_fail(item, what);
    out.insert(v[i].get<std::string>());
  }
  return out;
}

bool valid_respondent(std::string_view s) {
  return s == "student" || s == "teacher" || s == "parent";
}

/**
 * Lays the members of one instrument- or scale-level object over `rule`. `bands` (best → worst) names
 * the bands a `risk_band` may use; empty when the instrument lists none.
 */
void overlay_rule(const json& o, const std::string& path, const std::vector<std::string>& bands, scale_rule& rule,
                  std::initializer_list<std::string_view> extra_keys) {
  if (!o.is_object()) settings_fail(path, "must be an object");
  for (const auto& [key, value] : o.items()) {
    const std::string sub = settings_path(path, key);
    if (key == "risk_rank") {
      if (o.contains("risk_band")) settings_fail(sub, "give risk_rank or risk_band, not both");
      rule.risk_rank = sdk::read_whole_number(value, sub, 0, max_rank);
    } else if (key == "risk_band") {
      if (bands.empty()) settings_fail(sub, "needs the instrument's bands list to name a band");
      auto it = value.is_string() ? std::find(bands.begin(), bands.end(), value.get<std::string>()) : bands.end();
      if (it == bands.end()) settings_fail(sub, "must be one of the instrument's bands");
      rule.risk_rank = static_cast<int>(it - bands.begin());
    } else if (key == "decline_by") {
      rule.decline_by = read_points(value, sub);
    } else if (key == "higher_is_better") {
      rule.higher_is_better = sdk::read_boolean(value, sub);
    } else if (std::find(extra_keys.begin(), extra_keys.end(), key) == extra_keys.end()) {
      settings_fail(sub, "unknown field");
    }
  }
}

}  // namespace

bool valid_name(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool valid_instrument(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

settings settings::parse(std::string_view json_text) {
  json root = sdk::parse_settings_object(json_text);
  json instruments = json::object();
  if (auto it = root.find("instruments"); it != root.end()) {
    instruments = *it;
    root.erase(it);
  }
  json m = builtin_defaults();
  sdk::merge_settings(m, root, "settings");

  settings s;
  const sdk::settings_reader top(m, "settings");
  const sdk::settings_reader d = top.object("defaults");
  overlay_rule(m["defaults"], d.path(), {}, s.defaults_, {});

  const sdk::settings_reader sev = top.object("severity");
  s.severity_at_risk_ = read_severity(sev, "at_risk");
  s.severity_declined_ = read_severity(sev, "declined");
  s.severity_withdrawn_ = read_severity(sev, "withdrawn");

  const sdk::settings_reader w = top.object("withdrawn");
  withdrawn_rule& wr = s.withdrawn_;
  wr.enabled = w.boolean("enabled");
  wr.respondents = read_names(w.at("respondents"), w.path_of("respondents"), &valid_respondent,
                              "must be student | teacher | parent");
  if (wr.respondents.empty()) settings_fail(w.path_of("respondents"), "must name at least one respondent");
  wr.emotional_scales = read_names(w.at("emotional_scales"), w.path_of("emotional_scales"), &valid_name,
                                   "must be a scale id of [a-z0-9_]");
  wr.social_scales =
      read_names(w.at("social_scales"), w.path_of("social_scales"), &valid_name, "must be a scale id of [a-z0-9_]");
  wr.behavioural_scales = read_names(w.at("behavioural_scales"), w.path_of("behavioural_scales"), &valid_name,
                                     "must be a scale id of [a-z0-9_]");
  wr.emotional_rank = w.whole_number("emotional_rank", 0, max_rank);
  wr.social_rank = w.whole_number("social_rank", 0, max_rank);
  wr.behavioural_rank = w.whole_number("behavioural_rank", 0, max_rank);
  wr.behavioural_must_be_normal = w.boolean("behavioural_must_be_normal");
  wr.behavioural_must_be_measured = w.boolean("behavioural_must_be_measured");

  s.keep_days_ = top.whole_number("keep_days", 30, 3650);

  if (!instruments.is_object()) settings_fail("settings.instruments", "must be an object");
  for (const auto& [id, o] : instruments.items()) {
    const std::string path = settings_path("settings.instruments", id);
    if (!valid_instrument(id)) settings_fail(path, "instrument ids are [a-z0-9_.-], at most 64 characters");
    if (!o.is_object()) settings_fail(path, "must be an object");
    std::vector<std::string> bands;
    if (auto b = o.find("bands"); b != o.end()) {
      const std::string bp = settings_path(path, "bands");
      if (!b->is_array() || b->size() < 2) settings_fail(bp, "must list at least two bands, best first");
      for (std::size_t i = 0; i < b->size(); ++i) {
        const json& v = (*b)[i];
        if (!v.is_string() || !valid_name(v.get<std::string>())) {
          settings_fail(bp + "[" + std::to_string(i) + "]", "must be a band name of [a-z0-9_]");
        }
        if (std::find(bands.begin(), bands.end(), v.get<std::string>()) != bands.end()) {
          settings_fail(bp + "[" + std::to_string(i) + "]", "is listed twice");
        }
        bands.push_back(v.get<std::string>());
      }
    }
    instrument_rules ir;
    ir.base = s.defaults_;
    // With the bands known, "the worst band" is the default risk band of this instrument.
    if (!bands.empty()) ir.base.risk_rank = static_cast<int>(bands.size()) - 1;
    overlay_rule(o, path, bands, ir.base, {"bands", "scales"});
    if (auto sc = o.find("scales"); sc != o.end()) {
      const std::string sp = settings_path(path, "scales");
      if (!sc->is_object()) settings_fail(sp, "must be an object");
      for (const auto& [scale, so] : sc->items()) {
        const std::string p = settings_path(sp, scale);
        if (!valid_name(scale)) settings_fail(p, "scale ids are [a-z0-9_], at most 64 characters");
        scale_rule r = ir.base;
        overlay_rule(so, p, bands, r, {});
        ir.scales.emplace(scale, r);
      }
    }
    s.instruments_.emplace(id, std::move(ir));
  }
  return s;
}

const scale_rule& settings::rule_for(std::string_view instrument, std::string_view scale) const {
  auto i = instruments_.find(instrument);
  if (i == instruments_.end()) return defaults_;
  auto sc = i->second.scales.find(scale);
  return sc == i->second.scales.end() ? i->second.base : sc->second;
}

}  // namespace schakel::plugins::tracking_trends
