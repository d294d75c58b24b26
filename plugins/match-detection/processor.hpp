#pragma once
/**
 * The match-detection processor (issue 4, point 5; the Verwijsindex idea): it counts concern-level
 * signals about a student per source role and, when two or more different roles raised one within
 * `window_days` of each other, emits `nl.schakel.match.detected` carrying only the school, the student
 * key (the privacy gate pseudonymises it per partner) and WHICH roles are involved — never content.
 * Readings and their reasons: docs/rules.md, "Match signals".
 */
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "schakel/plugin.hpp"
#include "schakel/sdk/processor_services.hpp"
#include "schakel/sdk/student_cache.hpp"
#include "settings.hpp"
#include "state.hpp"

namespace schakel::plugins::match_detection {

inline constexpr std::string_view type_detected = "nl.schakel.match.detected";
inline constexpr std::string_view type_retracted = "nl.schakel.match.retracted";

/** The host services the processor uses (it asks no calendar); sdk::hosted_processor adapts sdk::host. */
using services = sdk::processor_services;

class match_detection_processor {
 public:
  /** Parses the settings (throws sdk::config_error naming `settings.<path>`). `svc` must outlive this. */
  match_detection_processor(std::string_view settings_json, services& svc);

  /** One stored signal. Signals that do not count are skipped; bad input is logged (without content). */
  void process(std::string_view signal_json, sdk::processor_context& ctx);

  /** End of a batch: evaluate the students the batch touched, emit, write their state, drop caches. */
  void flush(sdk::processor_context& ctx);

  /** What the processor derives: matches and their retractions. */
  static sdk::emitted_signals emits();

 private:
  struct cached_student : sdk::cached_student<student_state> {
    std::optional<open_match> retracted_match;  ///< broken by a withdrawal in this batch: retract at flush
    std::string withdrawn_at;                   ///< observed_at of that withdrawal (dates the retraction)
  };

  void on_concern(const nlohmann::json& signal, const std::string& brin, const std::string& student_key);
  void on_retraction(const nlohmann::json& signal, const std::string& brin, const std::string& student_key);
  /** Drops role entries more than window_days before `newest_day`; closes the match none of whose roles remain. */
  void prune(cached_student& cs, std::int32_t newest_day);
  void evaluate(cached_student& cs, sdk::processor_context& ctx);
  std::string emit_match(const cached_student& cs, bool health, sdk::processor_context& ctx);
  void emit_retractions(const cached_student& cs, const open_match& match, sdk::processor_context& ctx);

  settings settings_;
  services& svc_;
  // Per-batch cache, emptied at flush: memory is bounded by one batch, never by history.
  sdk::student_cache<student_state, cached_student> students_;
};

}  // namespace schakel::plugins::match_detection
