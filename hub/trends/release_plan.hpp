#pragma once
/**
 * What one release of one school publishes (docs/trends.md, "Disclosure control"). From the sealed
 * weeks of the school year so far, the enrolment and the cells released earlier, it decides every cell
 * of the windows that close with this week: released (with its value) or suppressed. Pure — no store,
 * no clock, no randomness of its own — so the releaser (hub/trend_release) and the attacker tests run
 * the very same decisions.
 *
 * The model is the students themselves. Every cell — any measure, window kind, level or category, of
 * this release or an earlier one — is a set of students (the hub's pseudonyms); a partner holding all
 * of them can learn at most the size of each *atom*: the students who lie in exactly the same released
 * cells. Three rules together:
 *  - every cell: a known enrolment of at least k, not more counted than enrolled, 0 or at least k
 *    students counted, and if anyone is counted, at least k enrolled students not counted;
 *  - every atom of everything ever released this school year has 0 or at least k students (so no
 *    measure, window kind or earlier release can be combined to isolate fewer than k);
 *  - every *block* of this release — the enrolled students that the released groups (school, leerjaar,
 *    class) single out, e.g. a class as its leerjaar minus the released other classes — holds, in each
 *    window, either nobody counted in any released cell or at least k students counted in none.
 * A student counts in one class per window: the class of their latest signal in it.
 *
 * With noise (settings.noise) every value is noisy and what is released depends only on the noisy
 * value and public facts (the enrolment), never on an exact count.
 */
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "trends/settings.hpp"
#include "trends/windows.hpp"

namespace schakel::trends {

/** A group of students: the school, one leerjaar of it, or one class. */
struct group_def {
  level lvl = level::school;
  int leerjaar = 0;
  std::string klass;
  friend bool operator==(const group_def&, const group_def&) = default;
};

/** "school", "leerjaar-2", "class-2B". */
std::string group_id(const group_def& g);

/** A stable name for one cell of one school's release, e.g. "week/2026-W40/absent/class-2B" (+ "/" category). */
std::string cell_id(const window& w, const measure& m, const group_def& g, const std::string& category);

/**
 * The published value of a cell under noise: `exact` plus noise of the given Laplace scale, rounded
 * and clamped at 0 (whole students, 0.1 hour). The releaser draws from the kernel; tests substitute.
 */
using noise_fn = std::function<double(const std::string& cell, measure_kind kind, double exact, double scale)>;

struct release_input {
  const settings* config = nullptr;
  /**
   * The sealed weeks of the school year up to and including the one being released, ascending, and
   * their sealed contents (same order): {"m": {"<measure>": [rows]}} with rows
   *   students:     [class, leerjaar, pseudonym, 1, observed]
   *   hours:        [class, leerjaar, pseudonym, hours, observed]
   *   distribution: [class, leerjaar, pseudonym, category, observed]
   * `observed` (RFC 3339) may be missing on rows sealed by older versions.
   */
  std::vector<days> weeks;
  std::vector<nlohmann::json> week_data;
  /** class -> {"leerjaar": n, "history": [{"from": "YYYY-MM-DD", "students": n}]}, as recorded. */
  nlohmann::json enrolment = nlohmann::json::object();
  /**
   * The cells released earlier this school year, as stored in their release documents (measure, level,
   * leerjaar, class, category), each with its window as "_kind", "_window", "_first", "_last".
   */
  std::vector<nlohmann::json> earlier;
  /** The windows that close with this week (windows_closing). */
  std::vector<window> windows;
  /** Required when config->noise is set. */
  noise_fn noise;

  /**
   * For the attacker tests' controls only: false switches off the combination checks (atoms and
   * blocks), leaving the rules of single cells.
   */
  bool combination_checks = true;
  /** For the attacker tests' controls only: under noise, decide on the exact counts (the old behaviour). */
  bool noise_decides_on_exact = false;
};

struct planned_cell {
  window win;
  const measure* m = nullptr;
  group_def g;
  std::string category;  ///< distribution: "total" or a category; "" otherwise
  bool released = false;
  /** Why it was suppressed (model.hpp reason::): for the hub's own log and admin view, never a partner. */
  std::string_view hub_reason;
  double value = 0;               ///< released only: exact or noisy
  std::int64_t denominator = -1;  ///< released only
  bool noisy = false;
};

/**
 * Decides every cell of the windows in `in.windows`, coarse first (year to date, month, week; school,
 * leerjaar, class; a distribution's total before its categories). Throws std::invalid_argument when
 * `config` is missing or noise is configured without `noise`.
 */
std::vector<planned_cell> plan_release(const release_input& in);

}  // namespace schakel::trends
