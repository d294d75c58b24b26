#pragma once
/**
 * Typed settings of the match-detection processor, parsed once at create. Every error is an
 * sdk::config_error whose message starts with the settings path (`settings.window_days: …`).
 */
#include <map>
#include <string>
#include <string_view>

namespace schakel::plugins::match_detection {

/** The signal severities, ordered as the schema defines them: info < attention < concern < urgent. */
enum class severity { info = 0, attention = 1, concern = 2, urgent = 3 };

/** "info" → severity::info …; false for anything else. */
bool parse_severity(std::string_view text, severity& out);

struct settings {
  /** source.instance (connector or processor instance name) → role. Unmapped instances are their own role. */
  std::map<std::string, std::string, std::less<>> roles;
  int window_days = 90;                       ///< inclusive: signals at most this many days apart match
  severity min_severity = severity::concern;  ///< signals at or above this count
  bool retract_on_withdrawal = false;         ///< retract a match when a withdrawal breaks it

  /** The role of a signal from `instance`. */
  std::string role_of(std::string_view instance) const;

  /** Parses the plugin's settings JSON ("" or null = all defaults). Throws sdk::config_error. */
  static settings parse(std::string_view json_text);
};

}  // namespace schakel::plugins::match_detection
