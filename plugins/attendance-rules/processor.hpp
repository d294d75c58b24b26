#pragma once
/**
 * The attendance-rules processor: consumes absence records, deletions, snapshot completions and
 * referral records (attendance_signals.md), keeps per-student state through `services`, and at each
 * flush recomputes the alerts of the students the batch touched and emits the difference with what it
 * told before (new alerts, updates of alerts whose evidence changed, retractions, referrals). See docs/rules.md for the
 * rules and readings.
 */
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "rules.hpp"
#include "schakel/plugin.hpp"
#include "schakel/sdk/processor_services.hpp"
#include "schakel/sdk/student_cache.hpp"
#include "settings.hpp"
#include "state.hpp"

namespace schakel::plugins::attendance_rules {

/** The host services the processor uses; sdk::hosted_processor adapts sdk::host, tests supply a fake. */
using services = sdk::processor_services;

class attendance_rules_processor {
 public:
  /** Parses the settings (throws sdk::config_error naming `settings.<path>`). `svc` must outlive this. */
  attendance_rules_processor(std::string_view settings_json, services& svc);

  /** One stored signal of a consumed type. Bad input is logged and skipped, never thrown. */
  void process(std::string_view signal_json, sdk::processor_context& ctx);

  /** End of a batch: recompute touched students, emit the differences, write state, drop caches. */
  void flush(sdk::processor_context& ctx);

  /** What the rules derive: the alert types, referrals and retractions, with their evidence keys. */
  static sdk::emitted_signals emits();

 private:
  struct cached_student : sdk::cached_student<student_state> {
    std::set<std::string> instances_seen;  ///< sources it had records from: to drop it from indexes it left
    bool touched = false;                  ///< records changed: recompute at flush
  };
  struct cached_index {
    std::set<std::string> students;
    bool dirty = false;
  };

  cached_index& index(const std::string& instance, const std::string& brin);

  void on_recorded(const nlohmann::json& signal);
  void on_deleted(const nlohmann::json& signal);
  void on_snapshot(const nlohmann::json& signal);
  void on_referral(const nlohmann::json& signal, sdk::processor_context& ctx);

  void recompute(cached_student& cs, sdk::processor_context& ctx);
  std::optional<sdk::day_kind> day_kind(const std::string& brin, const std::string& vestiging, std::int32_t day);

  std::string emit_retraction(cached_student& cs, const std::string& key, const std::string& id,
                              const std::string& type, std::int32_t day, sdk::processor_context& ctx);
  /** Tells the partners that `held` now has `now`'s evidence (and its referral, when that changed). */
  bool emit_update(cached_student& cs, const std::string& key, stored_alert& held, const alert& now,
                   const std::string& fingerprint, sdk::processor_context& ctx);
  std::string emit_referred(cached_student& cs, const std::string& key, const stored_alert& a,
                            const nlohmann::ordered_json& extra, const std::string& referral_signal_id,
                            std::int32_t day, sdk::processor_context& ctx);

  settings settings_;
  services& svc_;
  // Per-batch caches, emptied at flush: memory is bounded by one batch, never by history.
  sdk::student_cache<student_state, cached_student> students_;
  std::map<std::string, cached_index> indexes_;
  std::map<std::string, std::map<std::int32_t, std::optional<sdk::day_kind>>> calendar_cache_;
};

}  // namespace schakel::plugins::attendance_rules
