#pragma once
/**
 * The `trends` section of the configuration (docs/trends.md, docs/configuration.md): which schools are
 * aggregated, which measures, over which windows and groups, and how disclosure is controlled.
 */
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/signal.hpp"
#include "trends/model.hpp"

namespace schakel::trends {

/** A problem in the `trends` section; what() is "trends.<path>: <problem>". */
class settings_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class measure_kind {
  students,      ///< distinct students with at least one matching signal in the window
  hours,         ///< absence hours (attendance records: lessons or minutes), summed per group
  distribution,  ///< distinct students by the category of their latest matching signal in the window
};

std::string_view to_string(measure_kind k);

struct measure {
  std::string name;  ///< [a-z][a-z0-9_]*, at most 32 characters; names the cells
  measure_kind kind = measure_kind::students;
  std::string domain;                   ///< content.domain of the released cells
  std::vector<std::string> types;       ///< signal types counted: exact or prefix ending in '*'
  std::vector<std::string> domains;     ///< content.domain filter; empty = any
  std::vector<std::string> indicators;  ///< content.indicator filter; empty = any
  std::optional<severity> min_severity;
  std::string field;                    ///< distribution: dotted path of the category, e.g. evidence.total_band
  std::vector<std::string> categories;  ///< distribution: the categories, in display order
  double minutes_per_lesson = 50;       ///< hours: a record counted in lessons is this long
  double max_hours_per_week = 40;       ///< hours: one student's week is clipped to this (bounds noise sensitivity)
  double whole_day_hours = 6;           ///< hours: a record without lessons or minutes (a whole day) counts this much
};

struct noise_settings {
  double epsilon_per_release = 1.0;      ///< privacy loss of one release (one school, one week's windows) per partner
  double budget_per_school_year = 20.0;  ///< per partner and school; releases beyond it are withheld from that partner
};

struct settings {
  int k = 10;                  ///< minimum distinct students behind every released number; >= 5
  int release_delay_days = 2;  ///< a week is sealed and released this many days after its Sunday
  std::vector<window_kind> windows{window_kind::week, window_kind::month, window_kind::year_to_date};
  std::vector<level> levels{level::school, level::leerjaar, level::class_group};
  std::vector<std::string> schools;         ///< BRIN (4) or BRIN + vestiging (6)
  std::string school_year_start = "08-01";  ///< MM-DD
  std::string first_week;  ///< YYYY-MM-DD: nothing before the week holding this day is aggregated; "" = no bound
  std::vector<measure> measures;
  std::optional<noise_settings> noise;
  int check_interval_seconds = 600;  ///< how often the hub looks for weeks to release
};

/**
 * Parses the section (already checked against the config schema for shapes); throws settings_error
 * naming the path for what the schema cannot express (unknown categories, duplicate names, k < 5, …).
 */
settings parse_settings(const nlohmann::json& section);

/** Whether `type` matches an exact type or a prefix pattern ending in '*'. */
bool type_matches(const std::vector<std::string>& patterns, const std::string& type);

}  // namespace schakel::trends
