#pragma once
/**
 * tracking connector settings: a declarative mapping profile (column -> field, respondent values,
 * scales -> domain/competence, bands best -> worst with severities, optional norm-score thresholds)
 * validated once into an immutable typed object. Shipped profiles are the YAML files in profiles/,
 * embedded at build time; inline `mapping` settings use the same keys (see README.md).
 */
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include "schakel/sdk/school.hpp"

namespace schakel::connectors::tracking {

/** The export fields a profile maps to CSV columns / JSON keys. */
enum class field : std::size_t {
  student_key,
  date,
  instrument,
  respondent,
  scale,
  raw_score,
  norm_score,
  band,
  class_name,
  leerjaar,
  round,
  record_id,
};
inline constexpr std::size_t field_count = static_cast<std::size_t>(field::record_id) + 1;

/** The mapping key of `f` (`student_key`, `class`, …). */
std::string_view field_name(field f) noexcept;

enum class encoding { automatic, utf8, windows1252 };

/** What each scale column of a wide export holds. */
enum class cell_kind { norm_score, raw_score, band };

struct scale {
  std::string id;                         ///< [a-z0-9_]+
  std::string domain;                     ///< emotional | behavioural | social | wellbeing
  std::optional<std::string> competence;  ///< one of the five CASEL competences
  std::vector<std::string> values;        ///< long shape: scale-cell values (trimmed, lower-case)
  std::string column;                     ///< wide shape: the column holding this scale's score
};

struct band {
  std::string name;                 ///< [a-z0-9_]+
  std::string severity;             ///< info | attention | concern | urgent
  std::vector<std::string> values;  ///< band-cell values (trimmed, lower-case); the name when none given
};

/** norm score -> band: the first entry with min <= score <= max (either bound may be absent) wins. */
struct norm_threshold {
  std::size_t band_rank = 0;
  std::optional<double> min;
  std::optional<double> max;
};

using school = sdk::school;

struct settings {
  std::string profile;                                           ///< shipped profile name, or empty
  std::array<std::optional<std::string>, field_count> columns;   ///< header name / JSON key per field
  std::optional<std::string> instrument;                         ///< fixed instrument id when no instrument column
  std::optional<std::string> respondent;                         ///< fixed respondent when no respondent column
  std::vector<std::pair<std::string, std::string>> respondents;  ///< lower-case cell value -> respondent
  std::vector<scale> scales;
  bool wide = false;  ///< scales come from columns (one per scale) rather than a scale column
  cell_kind wide_holds = cell_kind::norm_score;
  std::vector<band> bands;  ///< best -> worst; rank = index
  std::vector<norm_threshold> norm_bands;
  school default_school;
  char delimiter = 0;  ///< 0: detect from the header row
  tracking::encoding encoding = encoding::automatic;

  const std::optional<std::string>& col(field f) const noexcept { return columns[static_cast<std::size_t>(f)]; }
};

/**
 * Validates the settings JSON text (`profile` and/or `mapping`, plus `school`). Inline `mapping`
 * is merged over the profile as a JSON merge patch (null removes a key). Throws
 * schakel::sdk::config_error naming the path and the reason, e.g. "settings.mapping.bands[1].severity:
 * expected one of info, attention, concern, urgent".
 */
settings parse_settings(std::string_view settings_json);

/** The shipped profile names (`kanvas-like`, `zien-like`). */
std::vector<std::string> profile_names();

/** The shipped profile `name` as JSON (converted from its YAML file); nullopt when unknown. */
std::optional<nlohmann::json> shipped_profile(std::string_view name);

/** YAML text -> JSON (scalars stay strings except in the keys listed in the README). For tests. */
nlohmann::json yaml_to_json(std::string_view yaml_text);

}  // namespace schakel::connectors::tracking
