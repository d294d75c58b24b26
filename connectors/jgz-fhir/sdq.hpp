#pragma once
/**
 * SDQ (Strengths and Difficulties Questionnaire) scoring: one questionnaire's answers in, every
 * score, band and the resulting severity out. Pure and exact: integer arithmetic only, no I/O, no
 * logging. The rules are those of domain.md §2 (sdqinfo.org scoring); SDQ.md documents them for
 * users. Reading answers out of FHIR is the FHIR reader's job, not this file's.
 */
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace schakel::connectors::jgz_fhir::sdq {

/** Which form was filled in. `parent` covers the parent forms for 4–17 and 2–4 (same scoring). */
enum class version { self_11_17, parent };

/** `self_11_17` | `parent`: the spelling in settings and in evidence. */
std::string_view version_name(version v) noexcept;

inline constexpr std::size_t item_count = 25;
inline constexpr std::size_t impact_item_count = 5;

/**
 * The answers as printed on the form, BEFORE any reversing. An empty optional is an unanswered
 * question. Values outside the ranges below are the caller's error (see validate()).
 */
struct answers {
  /** items[0] is item 1. 0 not true, 1 somewhat true, 2 certainly true. */
  std::array<std::optional<int>, item_count> items;
  /** "Overall, do you think you/your child have difficulties …": 0 no, 1 yes-minor, 2 yes-definite, 3 yes-severe. */
  std::optional<int> difficulties;
  /** Distress, home, friendships, classroom, leisure: 0 not at all, 1 only a little, 2 quite a lot, 3 a great deal. */
  std::array<std::optional<int>, impact_item_count> impact;
};

/**
 * Every out-of-range answer, one message each, naming the question but never the value
 * ("item 7: must be 0, 1 or 2", "impact 2 (home): must be 0, 1, 2 or 3"). Empty when valid.
 */
std::vector<std::string> validate(const answers& a);

/** The seven scores, in the order they appear in settings and evidence. */
enum class scale { emotional, conduct, hyperactivity, peer, prosocial, total, impact };
inline constexpr std::size_t scale_count = 7;
inline constexpr std::array<scale, scale_count> all_scales = {
    scale::emotional, scale::conduct, scale::hyperactivity, scale::peer, scale::prosocial, scale::total, scale::impact};

/** `emotional` | `conduct` | `hyperactivity` | `peer` | `prosocial` | `total` | `impact`. */
std::string_view scale_name(scale s) noexcept;

/** Highest possible value of a scale: 40 for total, 10 for the others. */
int scale_max(scale s) noexcept;

enum class band { normal, borderline, abnormal };

/** `normal` | `borderline` | `abnormal`. */
std::string_view band_name(band b) noexcept;

/** The signal severities the SDQ can produce (the hub's vocabulary, spelled the same). */
enum class severity { info, attention, concern };

/** `info` | `attention` | `concern`. */
std::string_view severity_name(severity s) noexcept;

/**
 * Cut-offs of one scale. For the difficulty scales, total and impact (high is bad):
 * score ≤ normal_max → normal, ≤ borderline_max → borderline, else abnormal.
 * For prosocial (low is bad) the same two numbers read the other way round:
 * score ≤ abnormal_max → abnormal, ≤ borderline_max → borderline, else normal;
 * `lower_max` holds abnormal_max there. lower_max ≤ borderline_max (an empty borderline band is allowed).
 */
struct cutoff {
  int lower_max = 0;  ///< normal_max, or abnormal_max for prosocial
  int borderline_max = 0;
};

/** The cut-offs of one version, indexed by scale. */
struct version_cutoffs {
  std::array<cutoff, scale_count> by_scale{};
  const cutoff& operator[](scale s) const noexcept { return by_scale[static_cast<std::size_t>(s)]; }
  cutoff& operator[](scale s) noexcept { return by_scale[static_cast<std::size_t>(s)]; }
};

/** Validated scoring settings; immutable once built. */
struct settings {
  version_cutoffs self_11_17;
  version_cutoffs parent;
  /** Which scales count toward the severity. */
  std::array<bool, scale_count> severity_from{};

  const version_cutoffs& cutoffs(version v) const noexcept { return v == version::parent ? parent : self_11_17; }
  bool counts_for_severity(scale s) const noexcept { return severity_from[static_cast<std::size_t>(s)]; }
};

/**
 * The defaults of domain.md §2 (sdqinfo.org three-band cut-offs) as a settings JSON object:
 * `{"cutoffs": {"self_11_17": {"total": {"normal_max": 15, "borderline_max": 19}, …,
 * "prosocial": {"abnormal_max": 4, "borderline_max": 5}}, "parent": {…}}, "severity_from": [all seven]}`.
 */
nlohmann::json default_settings_json();

/** default_settings_json(), typed. */
const settings& default_settings();

/**
 * Merges `over` (a settings object, possibly partial) over the defaults and validates the result.
 * Throws sdk::config_error `<path>.<…>: <reason>` naming where the user wrote it, without quoting the
 * value: unknown keys, non-objects, cut-offs that are not whole numbers within 0–40 (total) or 0–10
 * (others), borderline_max below normal_max/abnormal_max, and a `severity_from` that is not a
 * non-empty array of distinct scale names. `severity_from` replaces the default list as a whole.
 * `path` is where `over` sits in the plugin's settings (`settings`, or `settings.sdq` when nested).
 */
settings parse_settings(const nlohmann::json& over, const std::string& path = "settings");

/** As above from JSON text; "" and `null` give the defaults. */
settings parse_settings(std::string_view json_text);

/** The band of `value` on scale `s` under `c`. */
band classify(scale s, int value, const version_cutoffs& c) noexcept;

/** One computed score. */
struct score {
  std::optional<int> value;       ///< empty: missing (too few answers)
  bool prorated = false;          ///< computed from 3 or 4 of 5 items (total: any of its four parts was)
  std::optional<sdq::band> band;  ///< set exactly when value is
};

/** The scoring result of one questionnaire. */
struct scores {
  sdq::version version = version::self_11_17;
  score emotional, conduct, hyperactivity, peer, prosocial, total, impact;
  /** From the worst band among the severity_from scales that are not missing; empty when all are missing. */
  std::optional<sdq::severity> severity;

  const score& operator[](scale s) const noexcept;
  score& operator[](scale s) noexcept;
};

/**
 * Scores `a` as form `v`. Subscales: 5 answered → sum; 3–4 answered → round half up of mean × 5
 * (integer: (10·sum + n) / (2·n)); fewer → missing. Items 7, 11, 14, 21, 25 are reversed (2 − v).
 * Total = emotional + conduct + hyperactivity + peer, missing when any is. Impact: missing when
 * `difficulties` is; 0 when it is 0; otherwise the five impact items scored 0, 0, 1, 2 summed, missing
 * when any of them is. Throws std::invalid_argument with validate()'s first message when `a` is invalid.
 */
scores score_answers(const answers& a, version v, const settings& s = default_settings());

/**
 * A flat object for a signal's `content.evidence` (22 keys, scalars only): `version`, per scale
 * `<scale>` (number or null) and `<scale>_band` (string or null), `<scale>_prorated` (boolean) for
 * the five subscales and total, and `severity` (string or null).
 */
nlohmann::json to_json(const scores& s);

}  // namespace schakel::connectors::jgz_fhir::sdq
