#pragma once
/**
 * observations connector settings: validated once into an immutable typed object, so the mapper
 * never re-reads raw JSON. Also the built-in catalogue of observation categories and the observer
 * roles (README.md lists both and says why three categories are health data).
 */
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/sdk/school.hpp"

namespace schakel::connectors::observations {

/** One observation category: what staff may record, and what the hub must know to govern it. */
struct category {
  std::string id;       ///< `[a-z][a-z0-9_]{0,39}`; the signal's indicator is `observation.<id>`
  std::string domain;   ///< one of the signal schema's content.domain values
  bool health = false;  ///< special-category data (AVG art. 9) -> governance.data_category health
  bool built_in = false;
};

/** The built-in catalogue, in the order the README lists it. */
const std::vector<category>& built_in_catalogue();

/** Every observer role this connector knows, in the order the README lists them. */
inline constexpr std::array<std::string_view, 7> all_roles = {
    "mentor", "teacher", "caretaker", "canteen_staff", "youth_worker", "care_coordinator", "other_staff"};

/** The signal schema's content.domain values (an extra category must use one). */
inline constexpr std::array<std::string_view, 6> all_domains = {"emotional", "behavioural", "social",
                                                                "wellbeing", "attendance",  "health"};

/** Longest note a school may allow (the signal schema's content.note maxLength). */
inline constexpr int note_limit_max = 280;

using school = sdk::school;

struct settings {
  school school_of_signals;
  std::vector<category> categories;  ///< the enabled ones: built-ins first (catalogue order), then extras
  std::vector<std::string> roles;    ///< the enabled observer roles
  int note_max_length = 0;           ///< 0: notes are refused; else the limit in Unicode code points

  /** The enabled category named `id`, or nullptr. */
  const category* find_category(std::string_view id) const noexcept;
  bool role_enabled(std::string_view role) const noexcept;
};

/**
 * Validates the settings JSON text (an object; see README.md). Throws schakel::sdk::config_error
 * with `<path>: <reason>`, e.g. `settings.extra_categories.tired: collides with a built-in
 * category`; unknown keys fail at their path. Reasons never quote a value.
 */
settings parse_settings(std::string_view settings_json);

}  // namespace schakel::connectors::observations
