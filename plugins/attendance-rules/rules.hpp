#pragma once
/**
 * The pure rule engine: one student's retained absence records + the school's calendar + settings →
 * every alert that holds. No JSON parsing, no host: the processor feeds it and diffs its answer with
 * what it emitted before. Deterministic: the same input always gives the same alerts in the same order.
 */
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "settings.hpp"

namespace schakel::plugins::attendance_rules {

/** Days since 1970-01-01 for a strict "YYYY-MM-DD" (a real calendar date); nullopt otherwise. */
std::optional<std::int32_t> parse_date(std::string_view text);
/** "YYYY-MM-DD" of a day number. */
std::string format_date(std::int32_t day);
/** 0 = Monday … 6 = Sunday. */
int weekday(std::int32_t day);

/** What the rules need to know of a school's calendar. */
class calendar {
 public:
  virtual ~calendar() = default;
  /** True when `day` is a school day (not weekend, holiday or study day). */
  virtual bool is_school_day(std::int32_t day) const = 0;
};

/** One retained absence record, as the rules see it. */
struct record {
  std::int32_t day = 0;
  category cat = category::other;
  std::optional<int> lessons;
  std::optional<int> minutes;
  bool whole_day = false;
  std::optional<int> age;
  std::optional<bool> basic_qualification;
  std::string signal_id;  ///< the stored absence.recorded signal, for derived_from
};

/** A computed alert. The processor adds calendar/referral evidence and the subject. */
struct alert {
  std::string key;       ///< stable identity, e.g. "mazl_count:2026-11-02" or "leerplicht:<period start>"
  std::string type;      ///< signal type
  std::int32_t day = 0;  ///< the day the rule fired (observed_at)
  nlohmann::ordered_json evidence = nlohmann::ordered_json::object();
  nlohmann::ordered_json value;  ///< content.value (may be null)
  std::string unit;
  std::vector<std::string> derived_from;
  std::vector<std::int32_t> used;  ///< count rules: the starts of the reports/late days this alert used up
};

/**
 * What the processor carries over from alerts that are settled (older than the settle margin, never
 * recomputed): reports and late days they used up, and the last day a leerplicht period closed.
 */
struct seeds {
  std::set<std::int32_t> mazl_used;
  std::set<std::int32_t> lateness_used;
  std::optional<std::int32_t> leerplicht_after;
};

inline constexpr std::string_view type_mazl = "nl.schakel.attendance.mazl.triggered";
inline constexpr std::string_view type_referred = "nl.schakel.attendance.mazl.referred";
inline constexpr std::string_view type_leerplicht = "nl.schakel.attendance.leerplicht.threshold_reached";
inline constexpr std::string_view type_lateness = "nl.schakel.attendance.lateness.pattern_detected";
inline constexpr std::string_view type_retracted = "nl.schakel.attendance.alert.retracted";
inline constexpr std::string_view type_updated = "nl.schakel.attendance.alert.updated";

/** Every alert that holds for one student, in firing order (by day, then key). */
std::vector<alert> compute_alerts(const std::vector<record>& records, const calendar& cal, const school_settings& s,
                                  const seeds& seed);

/** The alert key of the leerplicht period starting on `period_start`: one report, one key. */
std::string leerplicht_key(std::int32_t period_start);

/** The evidence keys compute_alerts can write on each alert type (the processor declares them). */
std::set<std::string, std::less<>> mazl_evidence();
std::set<std::string, std::less<>> leerplicht_evidence();
std::set<std::string, std::less<>> lateness_evidence();

/** reached_on + n working days (Mon–Fri; school holidays do not extend it). */
std::int32_t add_working_days(std::int32_t day, int n);

}  // namespace schakel::plugins::attendance_rules
