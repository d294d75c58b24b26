#pragma once
/**
 * The tracking-trends processor: consumes nl.schakel.tracking.measurement.recorded (the issue 5
 * measurement contract), keeps each student's series per (instrument, respondent, scale) through
 * `services`, and at each flush re-evaluates the students the batch changed and emits the difference
 * with what it emitted before: new at_risk / declined / withdrawn alerts about the latest measurement,
 * and a retraction for an emitted alert a correction made untrue. See docs/rules.md, "Tracking trends".
 */
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "schakel/plugin.hpp"
#include "schakel/sdk/processor_services.hpp"
#include "schakel/sdk/student_cache.hpp"
#include "settings.hpp"
#include "state.hpp"

namespace schakel::plugins::tracking_trends {

class tracking_trends_processor {
 public:
  /** Parses the settings (throws sdk::config_error naming `settings.<path>`). `svc` must outlive this. */
  tracking_trends_processor(std::string_view settings_json, sdk::processor_services& svc);

  /** One stored signal of a consumed type. Bad input is logged (without content) and skipped, never thrown. */
  void process(std::string_view signal_json, sdk::processor_context& ctx);

  /** End of a batch: re-evaluate changed students, emit the differences, write state, drop caches. */
  void flush(sdk::processor_context& ctx);

  /** What the processor derives: at-risk, decline and withdrawal alerts and their retractions. */
  static sdk::emitted_signals emits();

 private:
  struct cached_student : sdk::cached_student<student_state> {
    bool touched = false;  ///< a measurement changed: re-evaluate at flush
  };

  void on_measurement(const nlohmann::json& signal);
  void recompute(cached_student& cs, sdk::processor_context& ctx);
  std::string emit_retraction(const cached_student& cs, const std::string& key, const held_alert& held,
                              sdk::processor_context& ctx);

  settings settings_;
  sdk::processor_services& svc_;
  sdk::student_cache<student_state, cached_student> students_;  ///< per batch, emptied at flush
};

}  // namespace schakel::plugins::tracking_trends
