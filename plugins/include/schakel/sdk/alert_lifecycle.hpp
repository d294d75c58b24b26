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
#include <array>
#include <set>
#include <string>
#include <string_view>
#include <vector>

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

/** The evidence keys of a retraction, and those an update puts before the alert's own evidence. */
inline constexpr std::array<std::string_view, 3> retraction_keys{"retracts", "retracts_type", "reason"};
inline constexpr std::array<std::string_view, 2> update_keys{"updates", "updates_type"};

/** content.evidence of a retraction of the alert `id` of type `type`. */
inline nlohmann::ordered_json retraction_evidence(std::string_view id, std::string_view type) {
  nlohmann::ordered_json e = nlohmann::ordered_json::object();
  e[retraction_keys[0]] = id;
  e[retraction_keys[1]] = type;
  e[retraction_keys[2]] = "no_longer_holds";
  return e;
}

/**
 * content.evidence of an update of the alert `id` of type `type`: the reference, then every field of
 * the alert's current evidence (which never holds `updates` or `updates_type` itself).
 */
inline nlohmann::ordered_json update_evidence(std::string_view id, std::string_view type,
                                              const nlohmann::ordered_json& current) {
  nlohmann::ordered_json e = nlohmann::ordered_json::object();
  e[update_keys[0]] = id;
  e[update_keys[1]] = type;
  for (const auto& [k, v] : current.items()) {
    if (k != update_keys[0] && k != update_keys[1]) e[k] = v;
  }
  return e;
}

/**
 * Adds the retraction and update types that follow `alert_types` to a processor's declaration of what
 * it emits (plugin.hpp's emitted_signals, already holding the alert types): a retraction carries
 * `retraction_content` and retraction_keys; an update can carry the content and evidence of any alert
 * it updates, after update_keys. Derived from the alerts' own declarations, so the two cannot drift.
 */
template <class Signals>
void declare_lifecycle(Signals& out, const std::vector<std::string>& alert_types, const std::string& retracted_type,
                       const std::string& updated_type, const std::set<std::string, std::less<>>& retraction_content) {
  auto& retracted = out[retracted_type];
  retracted.content.insert(retraction_content.begin(), retraction_content.end());
  for (auto k : retraction_keys) retracted.evidence.emplace(k);
  auto& updated = out[updated_type];
  for (auto k : update_keys) updated.evidence.emplace(k);
  for (const auto& type : alert_types) {
    const auto& alert = out.at(type);
    updated.content.insert(alert.content.begin(), alert.content.end());
    updated.evidence.insert(alert.evidence.begin(), alert.evidence.end());
  }
}

}  // namespace schakel::sdk
