#include "settings.hpp"

#include <nlohmann/json.hpp>

#include "schakel/sdk/settings_reader.hpp"

namespace schakel::plugins::match_detection {
namespace {

using json = nlohmann::json;
using sdk::settings_fail;

/** The config schema's instance-name rule; roles follow it too so the joined role list stays unambiguous. */
bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(s.front())) return false;
  for (char c : s) {
    if (!lower_or_digit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

}  // namespace

bool parse_severity(std::string_view text, severity& out) {
  static constexpr std::pair<std::string_view, severity> names[] = {
      {"info", severity::info},
      {"attention", severity::attention},
      {"concern", severity::concern},
      {"urgent", severity::urgent},
  };
  return sdk::parse_name(text, names, out);
}

std::string settings::role_of(std::string_view instance) const {
  auto it = roles.find(instance);
  return it != roles.end() ? it->second : std::string(instance);
}

settings settings::parse(std::string_view json_text) {
  const json root = sdk::parse_settings_object(json_text);
  settings out;
  for (const auto& [key, value] : root.items()) {
    const std::string path = sdk::settings_path("settings", key);
    if (key == "roles") {
      if (value.is_null()) continue;
      if (!value.is_object()) settings_fail(path, "must be an object mapping instance names to roles");
      for (const auto& [instance, role] : value.items()) {
        const std::string p = sdk::settings_path(path, instance);
        if (!valid_name(instance)) settings_fail(p, "the key must be an instance name: 1 to 63 of a-z, 0-9, _ or -");
        if (!role.is_string() || !valid_name(role.get<std::string>())) {
          settings_fail(p, "must be a role name: 1 to 63 of a-z, 0-9, _ or -, starting with a letter or digit");
        }
        out.roles.emplace(instance, role.get<std::string>());
      }
    } else if (key == "window_days") {
      out.window_days = sdk::read_whole_number(value, path, 1, 3650);
    } else if (key == "min_severity") {
      parse_severity(sdk::read_one_of(value, path, {"info", "attention", "concern", "urgent"}), out.min_severity);
    } else if (key == "retract_on_withdrawal") {
      out.retract_on_withdrawal = sdk::read_boolean(value, path);
    } else {
      settings_fail(path, "unknown field");
    }
  }
  return out;
}

}  // namespace schakel::plugins::match_detection
