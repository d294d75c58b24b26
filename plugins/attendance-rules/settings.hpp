#pragma once
/**
 * Typed settings of the attendance-rules processor. Parsed once at create: `defaults` deep-merged over
 * the built-in defaults, then each `schools.<BRIN>` deep-merged over those. Every error is an
 * sdk::config_error whose message starts with the settings path (`settings.defaults.mazl.reports: …`).
 */
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace schakel::plugins::attendance_rules {

/** The absence categories of the attendance signals (attendance_signals.md). */
enum class category { sick, authorised, unauthorised, late, removed_from_class, suspended, other };

/** "sick" → category::sick …; unknown text → nullopt-like false. */
bool parse_category(std::string_view text, category& out);
std::string_view to_string(category c);

struct mazl_settings {
  int reports = 4;               ///< the Nth report within `weeks` fires
  int weeks = 12;                ///< window length, counted back from the week of the Nth report
  bool calendar_weeks = false;   ///< week_kind: calendar (true) or school (false)
  int consecutive_days = 7;      ///< the Dth consecutive sick school day of one report fires
  bool referral_direct = false;  ///< referral: direct (true) or on_request (false)
};

enum class adults_policy { rmc, never, always };

struct leerplicht_settings {
  double threshold = 16;     ///< hours (lessons or clock hours)
  int weeks = 4;             ///< school weeks from the period's start day
  bool clock_hours = false;  ///< unit: clock_hours (true) or lessons (false)
  std::set<category> categories{category::unauthorised};
  adults_policy adults = adults_policy::rmc;
  int report_deadline_days = 5;  ///< working days (Mon–Fri) after reached_on
};

struct lateness_settings {
  bool enabled = false;
  int count = 5;
  int weeks = 4;
};

/** Everything the rules need for one school. */
struct school_settings {
  mazl_settings mazl;
  leerplicht_settings leerplicht;
  lateness_settings lateness;
  int lesson_minutes = 50;
  int lessons_per_day = 7;
  int keep_days = 400;

  /**
   * Days after the pruning horizon during which alerts are "settled": never emitted or retracted
   * any more, because their windows may reach records that pruning removed. Longer than any window.
   */
  int settle_margin_days() const;
  /** True when a record of category `c` can matter to any rule of this school (others are not kept). */
  bool relevant(category c) const;
};

/** All settings of one processor instance. Immutable after parse. */
class settings {
 public:
  /** Parses the instance settings (a JSON object; empty text = all defaults). Throws sdk::config_error. */
  static settings parse(std::string_view json_text);

  /** The settings for `brin`: its override when configured, else the defaults. */
  const school_settings& for_school(std::string_view brin) const;

 private:
  school_settings defaults_;
  std::map<std::string, school_settings, std::less<>> schools_;
};

}  // namespace schakel::plugins::attendance_rules
