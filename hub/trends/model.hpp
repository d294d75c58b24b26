#pragma once
/**
 * The shared vocabulary of regional trends (docs/trends.md): windows, groups, cells and the released
 * document that `GET /v1/trends` serves, the CSV export writes and the plot draws.
 *
 * A released document (JSON) looks like this; every part of the hub that reads or writes one uses
 * these names:
 *
 *     {"releases": [{
 *        "school": "12AB00",
 *        "window": {"kind": "week", "key": "2026-W40", "first": "2026-09-28", "last": "2026-10-04"},
 *        "released_at": "2026-10-07T02:00:00Z",
 *        "disclosure": {"k": 10, "noise": null | {"epsilon": 0.5}},
 *        "measures": [{"name": "students_concern", "kind": "students", "unit": "students"}],
 *        "cells": [{"measure": "students_concern", "category": "abnormal" (distribution only),
 *                   "level": "school" | "leerjaar" | "class", "leerjaar": "2", "class": "2B",
 *                   "status": "released" | "suppressed",
 *                   "value": 12, "denominator": 28, "rate": 0.4286, "noisy": true,   (released only)
 *                   "reason": "suppressed", "hub_reason": "below_k"}]}]}              (suppressed only)
 *
 * `value` is a count of distinct students (kinds students and distribution) or a total of hours (kind
 * hours); `rate` is value / denominator (enrolled students), rounded to 4 decimals. A suppressed cell
 * carries no value, no rate and no denominator-derived number. Its `reason` is always "suppressed": the
 * detailed `hub_reason` would narrow the value down, so it stays in the hub's own view and every
 * partner's view has it removed.
 */
#include <string>
#include <string_view>

namespace schakel::trends {

/** Window kinds, each a union of whole ISO weeks (docs/trends.md, "Windows"). */
enum class window_kind { week, month, year_to_date };

std::string_view to_string(window_kind k);

/** Group levels: the whole school, one leerjaar of it, one class. */
enum class level { school, leerjaar, class_group };

std::string_view to_string(level l);

/** Why a cell was suppressed; the reason strings are part of the released document. */
namespace reason {
inline constexpr std::string_view below_k = "below_k";                                ///< 1..k-1 students
inline constexpr std::string_view complement_below_k = "complement_below_k";          ///< nearly all of the group
inline constexpr std::string_view group_below_k = "group_below_k";                    ///< fewer than k enrolled
inline constexpr std::string_view no_enrolment = "no_enrolment";                      ///< denominator unknown
inline constexpr std::string_view enrolment_inconsistent = "enrolment_inconsistent";  ///< more counted than enrolled
inline constexpr std::string_view secondary = "secondary";  ///< would let a suppressed cell be recovered by subtraction
inline constexpr std::string_view difference = "difference";  ///< would reveal the difference with an earlier release
/// would let the students of a block (a group the released groups single out) who are not counted number 1..k-1
inline constexpr std::string_view complement_secondary = "complement_secondary";
/// The only reason a partner sees: the detailed one would itself narrow down the value.
inline constexpr std::string_view suppressed = "suppressed";
inline constexpr std::string_view budget_exhausted = "budget_exhausted";  ///< the partner's privacy budget is spent
}  // namespace reason

}  // namespace schakel::trends
