#pragma once
/**
 * jgz-fhir connector settings (README.md, "Settings"): how a report's subject is linked to a school's
 * student, which FHIR questionnaires are SDQs and how their items map, the SDQ scoring settings, and
 * the rules that turn contact-moment Observations into signals. Validated once into an immutable typed
 * object; every error is a schakel::sdk::config_error `<path>: <reason>` that never quotes a value.
 */
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/sdk/school.hpp"
#include "sdq.hpp"

namespace schakel::connectors::jgz_fhir {

/** Canonical URL of the default SDQ self-report (11–17) questionnaire. */
inline constexpr std::string_view default_self_canonical = "http://schakel.example/fhir/Questionnaire/sdq-self-11-17";
/** Canonical URL of the default SDQ parent (4–17) questionnaire. */
inline constexpr std::string_view default_parent_canonical =
    "http://schakel.example/fhir/Questionnaire/sdq-parent-4-17";

/** The school a linked subject belongs to (the signal schema's subject.school). */
using school = sdk::school;

/** Which SDQ question a questionnaire item (`linkId`) holds the answer to. */
struct sdq_target {
  enum class kind { item, difficulties, impact };
  kind what = kind::item;
  /** item: 1–25; impact: 0 distress, 1 home, 2 friendships, 3 classroom, 4 leisure; difficulties: 0. */
  int number = 0;

  friend bool operator==(const sdq_target&, const sdq_target&) = default;
};

/** `item:7` | `difficulties` | `impact:distress` … → the target; nullopt for anything else. */
std::optional<sdq_target> parse_sdq_target(std::string_view text);

/** The spelling parse_sdq_target reads (`item:7`, `difficulties`, `impact:home`). */
std::string sdq_target_name(const sdq_target& t);

/** The default linkId map: "1"…"25" the items, "impact" the difficulties question, "impact.distress" … */
const std::map<std::string, sdq_target, std::less<>>& default_item_map();

/** One SDQ questionnaire the instance recognises. */
struct sdq_questionnaire {
  sdq::version version = sdq::version::self_11_17;
  /** linkId → question. Items whose linkId is not here are not part of the SDQ and are ignored. */
  std::map<std::string, sdq_target, std::less<>> items;
};

/** An Observation code that becomes a signal (one entry of settings.observations). */
struct observation_rule {
  std::string system;
  std::string code;
  std::string type;       ///< nl.schakel.jgz.conclusion.<x>
  std::string domain;     ///< a content.domain of the signal schema
  std::string indicator;  ///< content.indicator
  std::string severity;   ///< info | attention | concern | urgent
};

struct settings {
  /** link.student_systems: identifier system → the school whose student number it is. */
  std::map<std::string, school, std::less<>> student_systems;
  /** link.bsn: a BSN may be handed to the hub for linking. */
  bool link_bsn = false;
  /** link.bsn_school: subject.school of BSN-linked signals (set exactly when link_bsn). */
  std::optional<school> bsn_school;
  /** sdq.questionnaires merged over the two defaults; keys are canonicals without `|version`. */
  std::map<std::string, sdq_questionnaire, std::less<>> questionnaires;
  /** sdq.scoring. */
  sdq::settings scoring = sdq::default_settings();
  /** settings.observations, in the order written. */
  std::vector<observation_rule> observations;

  /** The questionnaire `canonical` names (a `|version` suffix is ignored), or nullptr. */
  const sdq_questionnaire* find_questionnaire(std::string_view canonical) const;
  /** The rule for (system, code), or nullptr. */
  const observation_rule* find_rule(std::string_view system, std::string_view code) const;
};

/**
 * Validates the settings JSON text ("" and `null` give the defaults: no linking, the default SDQ
 * questionnaires, default scoring, no observation rules). Throws sdk::config_error naming the path,
 * e.g. `settings.link.bsn_school: required when link.bsn is true`; unknown keys fail at their path.
 */
settings parse_settings(std::string_view settings_json);

}  // namespace schakel::connectors::jgz_fhir
