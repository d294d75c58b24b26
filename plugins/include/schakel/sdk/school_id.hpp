#pragma once
/**
 * The signal schema's rules for subject.school, as plain functions: the hub (calendars, consent,
 * links, trends) and the connectors (settings, rows) check schools by these, so a school the one
 * accepts the other accepts too. No dependencies: the hub includes it without the rest of the SDK.
 */
#include <string_view>

namespace schakel::sdk {

/** A BRIN, DUO's school number: 4 characters, digits or capital letters ("99XX"). */
constexpr bool is_brin(std::string_view s) noexcept {
  if (s.size() != 4) return false;
  for (const char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return false;
  return true;
}

/** A vestiging (a school's location) number: 2 digits ("00"). */
constexpr bool is_vestiging(std::string_view s) noexcept {
  return s.size() == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9';
}

/** A school as one key: a BRIN, or a BRIN followed by its vestiging ("99XX" or "99XX00"). */
constexpr bool is_school_id(std::string_view s) noexcept {
  return is_brin(s.substr(0, 4)) && (s.size() == 4 || is_vestiging(s.substr(4)));
}

}  // namespace schakel::sdk
