#pragma once
/**
 * A school as connectors' settings name it, with the signal schema's rules for subject.school: a BRIN
 * (DUO's school number) and an optional vestiging (location) number. The hub has the same rules in
 * hub/common/school_id.hpp; plugins are built apart from the hub and see only the SDK.
 */
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "schakel/sdk/settings_reader.hpp"

namespace schakel::sdk {

/** 4 characters, digits or capital letters ("99XX"). */
constexpr bool is_brin(std::string_view s) noexcept {
  if (s.size() != 4) return false;
  for (const char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return false;
  return true;
}

/** 2 digits ("00"). */
constexpr bool is_vestiging(std::string_view s) noexcept {
  return s.size() == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9';
}

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
