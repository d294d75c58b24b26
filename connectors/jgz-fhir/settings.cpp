#include "settings.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "fhir.hpp"
#include "schakel/plugin.hpp"
#include "schakel/sdk/settings_reader.hpp"

namespace schakel::connectors::jgz_fhir {
namespace {

using nlohmann::json;
using sdk::settings_fail;
using sdk::settings_path;

// Settings come from an operator's file; a bounded depth keeps dump/destroy recursion bounded.
constexpr int max_settings_depth = 16;

constexpr std::array<std::string_view, 5> impact_areas = {"distress", "home", "friendships", "classroom", "leisure"};
constexpr std::array<std::string_view, 6> domains = {"emotional", "behavioural", "social",
                                                     "wellbeing", "attendance",  "health"};
constexpr std::string_view conclusion_prefix = "nl.schakel.jgz.conclusion.";

bool is_lower_segment_char(char c, bool first) {
  if (c >= 'a' && c <= 'z') return true;
  return !first && ((c >= '0' && c <= '9') || c == '_');
}

/** `[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*`: the signal schema's type segments. */
bool dotted_segments(std::string_view s) {
  if (s.empty()) return false;
  bool first = true;
  for (char c : s) {
    if (c == '.') {
      if (first) return false;  // empty segment
      first = true;
      continue;
    }
    if (!is_lower_segment_char(c, first)) return false;
    first = false;
  }
  return !first;
}

/** The signal schema's content.indicator: `[a-z][a-z0-9_.]*`, at most 64. */
bool valid_indicator(std::string_view s) {
  if (s.empty() || s.size() > 64 || s[0] < 'a' || s[0] > 'z') return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'; });
}

void only_keys(const json& object, const std::string& path, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      settings_fail(settings_path(path, key), "unknown field");
    }
  }
}

const json& expect_object(const json& v, const std::string& path, std::string_view shape) {
  if (!v.is_object()) settings_fail(path, "must be an object " + std::string(shape));
  return v;
}

const std::string& expect_string(const json& v, const std::string& path) {
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) settings_fail(path, "must be a non-empty string");
  return v.get_ref<const std::string&>();
}

const json& required(const json& object, std::string_view key, const std::string& path) {
  const auto it = object.find(key);
  if (it == object.end()) settings_fail(settings_path(path, key), "required");
  return *it;
}

void read_link(const json& v, settings& out) {
  const std::string path = "settings.link";
  expect_object(v, path, "{student_systems, bsn, bsn_school}");
  only_keys(v, path, {"student_systems", "bsn", "bsn_school"});
  if (const auto it = v.find("student_systems"); it != v.end()) {
    const std::string sys_path = path + ".student_systems";
    expect_object(*it, sys_path, "{<identifier system>: {brin, vestiging}}");
    for (const auto& [system, spec] : it->items()) {
      const std::string p = settings_path(sys_path, system);
      if (system.empty()) settings_fail(sys_path, "an identifier system must not be empty");
      // A BSN is never a student key: it goes through link.bsn and the hub's keyed hash.
      if (fhir::is_bsn_system(system)) settings_fail(p, "is a BSN system; BSN linking is configured with link.bsn");
      out.student_systems.emplace(system, sdk::read_school(spec, p));
    }
  }
  if (const auto it = v.find("bsn"); it != v.end()) out.link_bsn = sdk::read_boolean(*it, path + ".bsn");
  const auto school_it = v.find("bsn_school");
  if (out.link_bsn) {
    if (school_it == v.end()) settings_fail(path + ".bsn_school", "required when link.bsn is true ({brin, vestiging})");
    out.bsn_school = sdk::read_school(*school_it, path + ".bsn_school");
  } else if (school_it != v.end()) {
    // Dead configuration: most likely link.bsn was meant to be true.
    settings_fail(path + ".bsn_school", "only used when link.bsn is true");
  }
}

std::map<std::string, sdq_target, std::less<>> read_item_map(const json& v, const std::string& path) {
  expect_object(v, path, "{<linkId>: \"item:1\" … \"item:25\" | \"difficulties\" | \"impact:<area>\"}");
  if (v.empty()) settings_fail(path, "must map at least one linkId");
  std::map<std::string, sdq_target, std::less<>> out;
  std::vector<sdq_target> seen;
  for (const auto& [link_id, target_text] : v.items()) {
    const std::string p = settings_path(path, link_id);
    if (link_id.empty()) settings_fail(path, "a linkId must not be empty");
    const auto target =
        target_text.is_string() ? parse_sdq_target(target_text.get_ref<const std::string&>()) : std::nullopt;
    if (!target) {
      settings_fail(p,
                    "must be item:1 … item:25, difficulties or impact:distress | home | friendships | "
                    "classroom | leisure");
    }
    // Two linkIds for one question would leave the scorer to pick an answer.
    if (std::find(seen.begin(), seen.end(), *target) != seen.end()) {
      settings_fail(p, "maps the same question as another linkId");
    }
    seen.push_back(*target);
    out.emplace(link_id, *target);
  }
  return out;
}

sdq::version read_version(const json& v, const std::string& path) {
  const std::string name = sdk::read_one_of(v, path, {"self_11_17", "parent"});
  return name == "parent" ? sdq::version::parent : sdq::version::self_11_17;
}

void read_questionnaires(const json& v, settings& out) {
  const std::string path = "settings.sdq.questionnaires";
  expect_object(v, path, "{<canonical>: {version, items}}");
  for (const auto& [canonical, spec] : v.items()) {
    const std::string p = settings_path(path, canonical);
    if (canonical.empty()) settings_fail(path, "a canonical URL must not be empty");
    if (canonical.find('|') != std::string::npos) {
      settings_fail(p, "write the canonical URL without |version (every version is accepted)");
    }
    expect_object(spec, p, "{version, items}");
    only_keys(spec, p, {"version", "items"});
    auto existing = out.questionnaires.find(canonical);
    sdq_questionnaire q;
    if (existing != out.questionnaires.end()) {
      q = existing->second;  // a default: what is written replaces, the rest stays
    } else {
      if (!spec.contains("version")) settings_fail(p + ".version", "required (self_11_17 | parent)");
      q.items = default_item_map();
    }
    if (const auto it = spec.find("version"); it != spec.end()) q.version = read_version(*it, p + ".version");
    if (const auto it = spec.find("items"); it != spec.end()) q.items = read_item_map(*it, p + ".items");
    out.questionnaires.insert_or_assign(canonical, std::move(q));
  }
}

void read_sdq(const json& v, settings& out) {
  const std::string path = "settings.sdq";
  expect_object(v, path, "{questionnaires, scoring}");
  only_keys(v, path, {"questionnaires", "scoring"});
  if (const auto it = v.find("questionnaires"); it != v.end()) read_questionnaires(*it, out);
  if (const auto it = v.find("scoring"); it != v.end()) out.scoring = sdq::parse_settings(*it, path + ".scoring");
}

observation_rule read_rule(const json& v, const std::string& path) {
  expect_object(v, path, "{system, code, type, domain, indicator, severity}");
  only_keys(v, path, {"system", "code", "type", "domain", "indicator", "severity"});
  observation_rule r;
  r.system = expect_string(required(v, "system", path), path + ".system");
  r.code = expect_string(required(v, "code", path), path + ".code");
  r.type = expect_string(required(v, "type", path), path + ".type");
  if (r.type.size() > 128 || r.type.compare(0, conclusion_prefix.size(), conclusion_prefix) != 0 ||
      !dotted_segments(std::string_view(r.type).substr(conclusion_prefix.size()))) {
    settings_fail(path + ".type", "must be nl.schakel.jgz.conclusion.<name> (lowercase segments [a-z][a-z0-9_]*)");
  }
  r.domain = sdk::read_one_of(required(v, "domain", path), path + ".domain",
                              {domains[0], domains[1], domains[2], domains[3], domains[4], domains[5]});
  r.indicator = expect_string(required(v, "indicator", path), path + ".indicator");
  if (!valid_indicator(r.indicator)) {
    settings_fail(path + ".indicator", "must be at most 64 of [a-z0-9_.], starting with a letter");
  }
  r.severity =
      sdk::read_one_of(required(v, "severity", path), path + ".severity", {"info", "attention", "concern", "urgent"});
  return r;
}

}  // namespace

std::optional<sdq_target> parse_sdq_target(std::string_view text) {
  if (text == "difficulties") return sdq_target{sdq_target::kind::difficulties, 0};
  constexpr std::string_view item = "item:";
  constexpr std::string_view impact = "impact:";
  if (text.substr(0, item.size()) == item) {
    const std::string_view n = text.substr(item.size());
    if (n.empty() || n.size() > 2 || n[0] == '0' ||
        !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    const int number = n.size() == 1 ? n[0] - '0' : (n[0] - '0') * 10 + (n[1] - '0');
    if (number < 1 || number > static_cast<int>(sdq::item_count)) return std::nullopt;
    return sdq_target{sdq_target::kind::item, number};
  }
  if (text.substr(0, impact.size()) == impact) {
    const std::string_view area = text.substr(impact.size());
    for (std::size_t i = 0; i < impact_areas.size(); ++i) {
      if (impact_areas[i] == area) return sdq_target{sdq_target::kind::impact, static_cast<int>(i)};
    }
  }
  return std::nullopt;
}

std::string sdq_target_name(const sdq_target& t) {
  switch (t.what) {
    case sdq_target::kind::item:
      return "item:" + std::to_string(t.number);
    case sdq_target::kind::difficulties:
      return "difficulties";
    case sdq_target::kind::impact:
      return "impact:" + std::string(impact_areas.at(static_cast<std::size_t>(t.number)));
  }
  return {};
}

const std::map<std::string, sdq_target, std::less<>>& default_item_map() {
  static const auto map = [] {
    std::map<std::string, sdq_target, std::less<>> m;
    for (int i = 1; i <= static_cast<int>(sdq::item_count); ++i) {
      m.emplace(std::to_string(i), sdq_target{sdq_target::kind::item, i});
    }
    m.emplace("impact", sdq_target{sdq_target::kind::difficulties, 0});
    for (std::size_t i = 0; i < impact_areas.size(); ++i) {
      m.emplace("impact." + std::string(impact_areas[i]), sdq_target{sdq_target::kind::impact, static_cast<int>(i)});
    }
    return m;
  }();
  return map;
}

const sdq_questionnaire* settings::find_questionnaire(std::string_view canonical) const {
  // FHIR canonical references may pin a version (`url|1.2`); every version of a form scores alike.
  const auto it = questionnaires.find(canonical.substr(0, canonical.find('|')));
  return it == questionnaires.end() ? nullptr : &it->second;
}

const observation_rule* settings::find_rule(std::string_view system, std::string_view code) const {
  for (const auto& r : observations) {
    if (r.system == system && r.code == code) return &r;
  }
  return nullptr;
}

settings parse_settings(std::string_view settings_json) {
  if (sdk::json_too_deep_at(settings_json, max_settings_depth) != 0) {
    settings_fail("settings", "nested deeper than " + std::to_string(max_settings_depth) + " levels");
  }
  const json doc = sdk::parse_settings_object(settings_json);
  only_keys(doc, "settings", {"link", "sdq", "observations"});

  settings out;
  out.questionnaires.emplace(std::string(default_self_canonical),
                             sdq_questionnaire{sdq::version::self_11_17, default_item_map()});
  out.questionnaires.emplace(std::string(default_parent_canonical),
                             sdq_questionnaire{sdq::version::parent, default_item_map()});

  if (const auto it = doc.find("link"); it != doc.end()) read_link(*it, out);
  if (const auto it = doc.find("sdq"); it != doc.end()) read_sdq(*it, out);
  if (const auto it = doc.find("observations"); it != doc.end()) {
    const std::string path = "settings.observations";
    if (!it->is_array()) settings_fail(path, "must be an array of {system, code, type, domain, indicator, severity}");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const std::string p = path + "[" + std::to_string(i) + "]";
      observation_rule r = read_rule((*it)[i], p);
      if (out.find_rule(r.system, r.code) != nullptr) settings_fail(p, "system and code listed twice");
      out.observations.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace schakel::connectors::jgz_fhir
