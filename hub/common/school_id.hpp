#pragma once
// How the hub names a school: the signal schema's subject.school, the calendars, consent records and
// trend settings all use these rules. (Plugins have the same rules in schakel/sdk/school.hpp: they
// are built apart from the hub and see only the SDK.)

#include <string>
#include <string_view>

namespace schakel {

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

/**
 * Some exports write BRIN and vestiging as one code ("12AB00"): when `vestiging` is empty and `brin`
 * is such a code, moves its last two digits to `vestiging`.
 */
inline void split_combined_school_code(std::string& brin, std::string& vestiging) {
  if (brin.size() == 6 && vestiging.empty() && is_vestiging(std::string_view(brin).substr(4))) {
    vestiging = brin.substr(4);
    brin.resize(4);
  }
}

}  // namespace schakel
