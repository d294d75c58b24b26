#include "settings.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "schakel/plugin.hpp"
#include "schakel/sdk/settings_reader.hpp"

namespace schakel::connectors::observations {
namespace {

using nlohmann::json;
using sdk::settings_fail;
using sdk::settings_path;

// Settings come from an operator's file, but a bounded depth keeps dump/destroy recursion bounded
// whatever is written there.
constexpr int max_settings_depth = 16;

bool contains(const auto& range, std::string_view value) {
  return std::find(range.begin(), range.end(), value) != range.end();
}

bool valid_category_id(std::string_view id) {
  if (id.empty() || id.size() > 40 || id[0] < 'a' || id[0] > 'z') return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

std::string list_of(const auto& names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += " | ";
    out += n;
  }
  return out;
}

const std::string& expect_string(const json& v, const std::string& path) {
  if (!v.is_string()) settings_fail(path, "must be a string");
  return v.get_ref<const std::string&>();
}

/** A non-empty array of distinct strings, each accepted by `known` (else fails with `unknown_reason`). */
std::vector<std::string> read_id_list(const json& v, const std::string& path, const auto& known,
                                      const std::string& unknown_reason) {
  if (!v.is_array() || v.empty()) settings_fail(path, "must be a non-empty array");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    const std::string& id = expect_string(v[i], item_path);
    if (!known(id)) settings_fail(item_path, unknown_reason);
    if (contains(out, id)) settings_fail(item_path, "listed twice");
    out.push_back(id);
  }
  return out;
}

std::vector<category> read_extra_categories(const json& v) {
  const std::string path = "settings.extra_categories";
  if (!v.is_object()) settings_fail(path, "must be an object {id: {domain, health}}");
  std::vector<category> out;
  for (auto it = v.begin(); it != v.end(); ++it) {
    // Not a structured binding: clang 14 cannot capture one in the lambda below.
    const std::string& id = it.key();
    const json& spec = it.value();
    const std::string p = settings_path(path, id);
    if (!valid_category_id(id)) settings_fail(p, "id must match [a-z][a-z0-9_]{0,39}");
    const auto& built_in = built_in_catalogue();
    if (std::any_of(built_in.begin(), built_in.end(), [&](const category& c) { return c.id == id; })) {
      // Redefining one could turn a health category into ordinary data.
      settings_fail(p, "collides with a built-in category (built-in categories cannot be redefined)");
    }
    if (!spec.is_object()) settings_fail(p, "must be an object {domain, health}");
    for (const auto& [key, value] : spec.items()) {
      if (key != "domain" && key != "health") settings_fail(settings_path(p, key), "unknown field");
    }
    category c;
    c.id = id;
    const auto domain = spec.find("domain");
    if (domain == spec.end()) settings_fail(p + ".domain", "required");
    c.domain = sdk::read_one_of(
        *domain, p + ".domain",
        {all_domains[0], all_domains[1], all_domains[2], all_domains[3], all_domains[4], all_domains[5]});
    // No default: whether a school's own category is special-category data is a decision the school
    // must write down, not one the connector guesses.
    const auto health = spec.find("health");
    if (health == spec.end()) settings_fail(p + ".health", "required (true for health data, AVG art. 9)");
    c.health = sdk::read_boolean(*health, p + ".health");
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

const std::vector<category>& built_in_catalogue() {
  static const std::vector<category> catalogue = {
      {"tired", "wellbeing", false, true},
      {"withdrawn", "emotional", false, true},
      {"low_mood", "emotional", false, true},
      {"restless_or_aggressive", "behavioural", false, true},
      {"results_dropping", "wellbeing", false, true},
      {"peer_conflict", "social", false, true},
      {"isolated", "social", false, true},
      {"bullied", "social", false, true},
      {"frequently_absent_from_class", "attendance", false, true},
      // Recorded because it may point at self-harm: data about health (AVG art. 9).
      {"long_sleeves_warm_weather", "health", true, true},
      {"suspected_substance_use", "health", true, true},
      {"self_harm_signs", "health", true, true},
      {"other", "wellbeing", false, true},
  };
  return catalogue;
}

const category* settings::find_category(std::string_view id) const noexcept {
  for (const auto& c : categories) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

bool settings::role_enabled(std::string_view role) const noexcept {
  return contains(roles, role);
}

settings parse_settings(std::string_view settings_json) {
  if (const std::size_t at = sdk::json_too_deep_at(settings_json, max_settings_depth); at != 0) {
    settings_fail("settings", "nested deeper than " + std::to_string(max_settings_depth) + " levels");
  }
  const json doc = sdk::parse_settings_object(settings_json);
  for (const auto& [key, value] : doc.items()) {
    if (key != "school" && key != "roles" && key != "categories" && key != "extra_categories" &&
        key != "note_max_length") {
      settings_fail(settings_path("settings", key), "unknown field");
    }
  }

  settings out;
  const auto school_it = doc.find("school");
  if (school_it == doc.end()) settings_fail("settings.school", "required ({brin, vestiging})");
  out.school_of_signals = sdk::read_school(*school_it, "settings.school");

  if (const auto it = doc.find("roles"); it != doc.end()) {
    out.roles = read_id_list(
        *it, "settings.roles", [](std::string_view r) { return contains(all_roles, r); },
        "not a role (" + list_of(all_roles) + ")");
  } else {
    out.roles.assign(all_roles.begin(), all_roles.end());
  }

  std::vector<category> extras;
  if (const auto it = doc.find("extra_categories"); it != doc.end()) extras = read_extra_categories(*it);

  const auto& built_in = built_in_catalogue();
  if (const auto it = doc.find("categories"); it != doc.end()) {
    const auto defined = [&](std::string_view id) {
      const auto same = [&](const category& c) { return c.id == id; };
      return std::any_of(built_in.begin(), built_in.end(), same) || std::any_of(extras.begin(), extras.end(), same);
    };
    const auto enabled = read_id_list(*it, "settings.categories", defined,
                                      "not a category of the catalogue or of settings.extra_categories");
    for (const auto& c : built_in) {
      if (contains(enabled, c.id)) out.categories.push_back(c);
    }
    for (const auto& c : extras) {
      // A defined but unlisted category would be dead configuration: most likely a forgotten entry.
      if (!contains(enabled, c.id)) {
        settings_fail(settings_path("settings.extra_categories", c.id),
                      "defined but not listed in settings.categories");
      }
      out.categories.push_back(c);
    }
  } else {
    out.categories = built_in;
    out.categories.insert(out.categories.end(), extras.begin(), extras.end());
  }

  if (const auto it = doc.find("note_max_length"); it != doc.end()) {
    out.note_max_length = sdk::read_whole_number(*it, "settings.note_max_length", 0, note_limit_max);
  }
  return out;
}

}  // namespace schakel::connectors::observations
