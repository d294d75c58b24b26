#pragma once
/**
 * Persisted per-student state of the tracking-trends processor (key `stu:<BRIN>:<student_key>`) and
 * its compact JSON form: the student's measurement series (per instrument, respondent and scale, one
 * measurement per date: the latest received), the alerts already emitted, and the subject of the
 * latest measurement signal.
 */
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "schakel/sdk/days.hpp"
#include "schakel/sdk/fingerprint.hpp"

namespace schakel::plugins::tracking_trends {

struct measurement {
  std::string id;            ///< the measurement signal's id (derived_from)
  double score = 0;          ///< content.value: the raw score, or the norm score when `norm_scored`
  bool norm_scored = false;  ///< evidence.value_kind == norm_score (a norm-only export)
  std::string band;
  int band_rank = 0;   ///< 0 = best band
  std::string round;   ///< evidence.round, may be empty
  std::string domain;  ///< emotional | behavioural | social | wellbeing

  /** Same reading (the id is not part of it: a re-import has new ids and the same values). */
  bool same_values(const measurement& o) const {
    return score == o.score && norm_scored == o.norm_scored && band == o.band && band_rank == o.band_rank &&
           round == o.round && domain == o.domain;
  }
};

/** A series' identity. Its parts are validated ids, none holding '|'. */
struct series_key {
  std::string instrument;
  std::string respondent;
  std::string scale;
  std::string joined() const { return instrument + "|" + respondent + "|" + scale; }
  /** nullopt when `text` is not three '|'-separated parts. */
  static std::optional<series_key> split(std::string_view text);
};

/** One series: measurements by date (YYYY-MM-DD, so the map is in time order). */
using series = std::map<std::string, measurement>;

struct held_alert {
  std::string id;  ///< the id the host gave the emitted signal
  std::string type;
  std::string date;  ///< the date the alert is about (measurement date, or a round's latest date)
  std::string domain;
  std::string indicator;
  std::string severity;
  std::string fingerprint;  ///< hash of type + evidence as last told: a changed latest alert is updated
};

struct student_state {
  nlohmann::ordered_json subject = nlohmann::ordered_json::object();
  std::map<std::string, series> series_by_key;  ///< by series_key::joined()
  std::map<std::string, held_alert> alerts;     ///< by alert key
};

std::string student_state_key(std::string_view brin, std::string_view student_key);

std::string serialize(const student_state& s);
/** Throws std::runtime_error (no content quoted) when the value is not a state this version wrote. */
student_state parse_student_state(std::string_view text);

using sdk::fnv1a_hex;
using sdk::format_day;
using sdk::parse_day;

}  // namespace schakel::plugins::tracking_trends
