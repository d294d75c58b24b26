#pragma once
/**
 * Typed settings of the tracking-trends processor, parsed once at create. Every error is an
 * sdk::config_error whose message starts with the settings path (`settings.defaults.decline_by: …`)
 * and never quotes what the user wrote. See README.md for the shape and docs/rules.md for the rules.
 */
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace schakel::plugins::tracking_trends {

/** The at_risk and declined rule of one (instrument, scale), all levels resolved. */
struct scale_rule {
  int risk_rank = 3;             ///< band_rank at or above which a measurement is at risk
  double decline_by = 5;         ///< raw-score points of worsening that count as a decline
  bool higher_is_better = true;  ///< direction of the raw score
};

/** The quiet-withdrawal pattern (docs/rules.md, "Tracking trends"). */
struct withdrawn_rule {
  bool enabled = true;
  std::set<std::string> respondents{"parent", "student", "teacher"};  ///< whose measurements count
  std::set<std::string> emotional_scales;    ///< empty: every scale whose measurement has domain emotional
  std::set<std::string> social_scales;       ///< empty: domain social
  std::set<std::string> behavioural_scales;  ///< empty: domain behavioural
  int emotional_rank = 2;                    ///< an internalising scale at or beyond this band_rank
  int social_rank = 2;                       ///< a social scale at or beyond this band_rank
  int behavioural_rank = 2;                  ///< a behavioural scale at or beyond this band_rank is "elevated"
  bool behavioural_must_be_normal = true;
  bool behavioural_must_be_measured = false;
};

/** All settings of one processor instance. Immutable after parse. */
class settings {
 public:
  /** Parses the instance settings (a JSON object; empty text = all defaults). Throws sdk::config_error. */
  static settings parse(std::string_view json_text);

  /** The rule for a scale: scale-level over instrument-level over `defaults`. */
  const scale_rule& rule_for(std::string_view instrument, std::string_view scale) const;
  const withdrawn_rule& withdrawn() const { return withdrawn_; }
  const std::string& severity_at_risk() const { return severity_at_risk_; }
  const std::string& severity_declined() const { return severity_declined_; }
  const std::string& severity_withdrawn() const { return severity_withdrawn_; }
  /** Measurement rounds older than this (before the student's newest measurement) are forgotten. */
  int keep_days() const { return keep_days_; }

 private:
  struct instrument_rules {
    scale_rule base;
    std::map<std::string, scale_rule, std::less<>> scales;
  };
  scale_rule defaults_;
  std::map<std::string, instrument_rules, std::less<>> instruments_;
  withdrawn_rule withdrawn_;
  std::string severity_at_risk_ = "concern";
  std::string severity_declined_ = "attention";
  std::string severity_withdrawn_ = "concern";
  int keep_days_ = 1100;
};

/** True for the ids the measurement contract allows for scales and bands: [a-z0-9_]+, at most 64. */
bool valid_name(std::string_view s);
/** True for an instrument id: [a-z0-9_.-]+, at most 64. */
bool valid_instrument(std::string_view s);

}  // namespace schakel::plugins::tracking_trends
