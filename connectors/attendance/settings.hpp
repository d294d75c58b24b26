#pragma once
/**
 * attendance connector settings: validated once into an immutable typed object (see README.md for
 * the format). A built-in example profile supplies column names, delimiter and encoding; inline
 * `mapping` entries override it; `codes` always comes from the instance settings.
 */
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "schakel/sdk/school.hpp"

namespace schakel::connectors::attendance {

/** The fields an export can carry; each maps to one CSV column or JSON key. */
enum class field : std::size_t {
  student_key,
  date,
  code,
  lesson,
  lesson_from,
  lesson_to,
  start,
  end,
  lessons,
  minutes,
  class_name,
  leerjaar,
  school_year,
  brin,
  vestiging,
  record_id,
  birth_date,
  basic_qualification,
  deleted,
};
inline constexpr std::size_t field_count = static_cast<std::size_t>(field::deleted) + 1;

/** The settings key of `f` (`student_key`, `class`, …). */
std::string_view field_name(field f) noexcept;

/** Absence categories the attendance-rules processor understands. */
enum class category { sick, authorised, unauthorised, late, removed_from_class, suspended, other };

/** The contract string of `c` (`removed_from_class`, …). */
std::string_view category_name(category c) noexcept;

enum class encoding { automatic, utf8, windows1252 };

struct column {
  std::string name;           ///< CSV header (matched trimmed, case-insensitively) or JSON key (exact)
  bool from_profile = false;  ///< optional profile columns may be missing from an export
};

using school = sdk::school;

struct settings {
  std::string profile;  ///< built-in profile name, or empty
  std::array<std::optional<column>, field_count> columns;
  std::optional<school> default_school;
  std::optional<std::string> school_year;           ///< YYYY-YYYY
  std::unordered_map<std::string, category> codes;  ///< key: trimmed, ASCII lower-case
  char delimiter = 0;                               ///< 0: detect from the header row
  attendance::encoding encoding = encoding::automatic;
  std::vector<std::string> deleted_values;  ///< trimmed, ASCII lower-case

  const std::optional<column>& col(field f) const noexcept { return columns[static_cast<std::size_t>(f)]; }
};

/**
 * Validates the settings JSON text. Throws schakel::sdk::config_error naming the path and the
 * reason, e.g. "settings.codes.X: unknown category 'y'".
 */
settings parse_settings(std::string_view settings_json);

/** Names of the built-in example profiles (`magister-like`, `somtoday-like`). */
std::vector<std::string> profile_names();

}  // namespace schakel::connectors::attendance
