#pragma once
/**
 * The life of an alert after it was sent, one rule for every processor and for the hub's router.
 *
 * A processor keeps, per alert key, the id, type and fingerprint (type + evidence) of the alert it
 * sent. At every recomputation it asks `next_step` what to tell the partners:
 *   - the alert no longer holds             → retract it (`<prefix>.alert.retracted`);
 *   - it holds with the same fingerprint    → nothing;
 *   - it holds with other evidence          → update it (`<prefix>.alert.updated`), never retract and
 *     send it again: evidence that grows after the alert (more lessons in the same leerplicht period,
 *     another measurement of the same round) is the same report, and a partner must not count two.
 *
 * A retraction carries `{retracts, retracts_type, reason}`; an update carries `{updates, updates_type}`
 * followed by the alert's full current evidence, so a partner that applies each update in order ends
 * with the evidence a partner that saw only the final alert has. Both route as the type they follow
 * (`followed_type_field`), so they reach exactly the subscriptions that took the alert.
 */
#include <string_view>

#include <nlohmann/json.hpp>

namespace schakel::sdk {

inline constexpr std::string_view retracted_suffix = ".retracted";
inline constexpr std::string_view updated_suffix = ".updated";

/**
 * The evidence field naming the type a lifecycle signal follows ("retracts_type" for a type ending in
 * ".retracted", "updates_type" for one ending in ".updated"), or "" for any other type.
 */
constexpr std::string_view followed_type_field(std::string_view type) {
  if (type.ends_with(retracted_suffix)) return "retracts_type";
  if (type.ends_with(updated_suffix)) return "updates_type";
  return {};
}

/** True for retractions and updates: signals about an earlier alert, not new observations. */
constexpr bool is_lifecycle_type(std::string_view type) {
  return !followed_type_field(type).empty();
}

/** What to tell the partners about one alert key. */
enum class alert_step {
  none,     ///< not sent and does not hold, or sent and unchanged
  send,     ///< holds and was never sent: the first crossing
  update,   ///< sent, still holds, evidence changed
  retract,  ///< sent, no longer holds
};

/**
 * The one rule. `sent_fingerprint` is empty when nothing was sent under the key, `now_fingerprint`
 * empty when the alert does not hold now.
 */
constexpr alert_step next_step(std::string_view sent_fingerprint, std::string_view now_fingerprint) {
  if (sent_fingerprint.empty()) return now_fingerprint.empty() ? alert_step::none : alert_step::send;
  if (now_fingerprint.empty()) return alert_step::retract;
  return sent_fingerprint == now_fingerprint ? alert_step::none : alert_step::update;
}

/** content.evidence of a retraction of the alert `id` of type `type`. */
inline nlohmann::ordered_json retraction_evidence(std::string_view id, std::string_view type) {
  nlohmann::ordered_json e = nlohmann::ordered_json::object();
  e["retracts"] = id;
  e["retracts_type"] = type;
  e["reason"] = "no_longer_holds";
  return e;
}

/**
 * content.evidence of an update of the alert `id` of type `type`: the reference, then every field of
 * the alert's current evidence (which never holds `updates` or `updates_type` itself).
 */
inline nlohmann::ordered_json update_evidence(std::string_view id, std::string_view type,
                                              const nlohmann::ordered_json& current) {
  nlohmann::ordered_json e = nlohmann::ordered_json::object();
  e["updates"] = id;
  e["updates_type"] = type;
  for (const auto& [k, v] : current.items()) {
    if (k != "updates" && k != "updates_type") e[k] = v;
  }
  return e;
}

}  // namespace schakel::sdk
