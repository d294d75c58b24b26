#pragma once
/**
 * The shipped YAML files in profiles/ as text, generated into the build tree by CMakeLists.txt so the
 * YAML files stay the single source of the shipped profiles.
 */
#include <cstddef>
#include <string_view>

namespace schakel::connectors::tracking {

struct embedded_profile {
  std::string_view name;  ///< file stem, e.g. zien-like
  std::string_view yaml;
};

extern const embedded_profile embedded_profiles[];
extern const std::size_t embedded_profile_count;

}  // namespace schakel::connectors::tracking
