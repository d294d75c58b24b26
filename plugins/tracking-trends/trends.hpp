#pragma once
/**
 * The tracking rules as pure functions over one student's stored series: which alerts hold, at every
 * kept measurement date and round, and which of them are about the latest measurement (only those may
 * be newly emitted; older ones are only checked, so a correction can retract them).
 */
#include <array>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "settings.hpp"
#include "state.hpp"

namespace schakel::plugins::tracking_trends {

inline constexpr std::string_view type_measurement = "nl.schakel.tracking.measurement.recorded";
inline constexpr std::string_view type_at_risk = "nl.schakel.tracking.score.at_risk";
inline constexpr std::string_view type_declined = "nl.schakel.tracking.score.declined";
inline constexpr std::string_view type_withdrawn = "nl.schakel.tracking.pattern.withdrawn";
inline constexpr std::string_view type_retracted = "nl.schakel.tracking.alert.retracted";
inline constexpr std::string_view type_updated = "nl.schakel.tracking.alert.updated";

/** The withdrawal alert describes its emotional and social scale each under these suffixes. */
inline constexpr std::array<const char*, 6> side_keys{"_instrument", "_respondent", "_scale",
                                                      "_score",      "_band",       "_band_rank"};

/** One alert as the rules derive it; the processor adds subject, source and governance. */
struct derived_alert {
  std::string key;  ///< identity across batches: `<rule>|<series key>|<date>` or `withdrawn|<round>`
  std::string type;
  std::string date;  ///< YYYY-MM-DD: observed_at of the alert
  std::string domain;
  std::string indicator;
  std::string severity;
  nlohmann::ordered_json value;
  nlohmann::ordered_json evidence = nlohmann::ordered_json::object();
  std::vector<std::string> derived_from;
  bool latest = false;  ///< about a series' latest measurement or the student's latest round
};

struct evaluation {
  std::map<std::string, derived_alert> holding;  ///< every alert that holds, by key
  std::set<std::string> known;                   ///< every key the kept data can decide (holding or not)
};

/** Evaluates every rule over `st`'s series. */
evaluation evaluate(const student_state& st, const settings& s);

/** The round a measurement belongs to: `r:<round>` when labelled, else `d:<date>`. */
std::string round_of(const std::string& date, const measurement& m);

}  // namespace schakel::plugins::tracking_trends
