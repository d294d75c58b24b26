#pragma once
/**
 * A school as connectors' settings name it: a BRIN (DUO's school number) and an optional vestiging
 * (location) number, checked by the rules in school_id.hpp.
 */
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "schakel/sdk/school_id.hpp"
#include "schakel/sdk/settings_reader.hpp"

namespace schakel::sdk {

struct school {
  std::string brin;       ///< is_brin
  std::string vestiging;  ///< is_vestiging, or empty when not named
};

/**
 * Reads `{brin, vestiging?}` at `path`; fails (sdk::config_error, `<path>[.member]: <reason>`) when it
 * is not an object, has another member, or a member breaks its rule.
 */
inline school read_school(const nlohmann::json& v, const std::string& path) {
  if (!v.is_object()) settings_fail(path, "must be an object {brin, vestiging}");
  for (const auto& [key, value] : v.items())
    if (key != "brin" && key != "vestiging") settings_fail(settings_path(path, key), "unknown field");
  school s;
  const auto brin = v.find("brin");
  if (brin == v.end()) settings_fail(path + ".brin", "required");
  if (!brin->is_string() || !is_brin(brin->get_ref<const std::string&>()))
    settings_fail(path + ".brin", "must be 4 digits or capital letters");
  s.brin = brin->get<std::string>();
  if (const auto ves = v.find("vestiging"); ves != v.end()) {
    if (!ves->is_string() || !is_vestiging(ves->get_ref<const std::string&>()))
      settings_fail(path + ".vestiging", "must be 2 digits");
    s.vestiging = ves->get<std::string>();
  }
  return s;
}

}  // namespace schakel::sdk
