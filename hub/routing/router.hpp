#pragma once
/**
 * Routing helpers: which subscriptions a signal matches, the allowlist projection, the CloudEvent
 * envelope and ordering lanes. The privacy gate (privacy/gate.hpp) uses them; it alone decides what
 * reaches a partner.
 */
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"

namespace schakel::routing {

/**
 * True when a (validated) signal passes the filter: every non-empty criterion must match. A
 * retraction (a type ending in ".retracted" with content.evidence.retracts_type) or an update (a type
 * ending in ".updated" with content.evidence.updates_type) is matched as the type of the alert it
 * follows, so it reaches exactly the subscriptions that took that alert's type.
 */
bool matches(const config::subscription_filter& filter, const nlohmann::json& signal);

/**
 * Keeps only the listed field paths ("subject.class" keeps that leaf, "subject.school" keeps the
 * whole object). Paths absent from the signal are simply absent in the result.
 */
nlohmann::json project(const nlohmann::json& signal, const std::vector<std::string>& fields);

/**
 * The CloudEvents 1.0 structured-mode event for one subscription: id, source and type come from the
 * signal envelope (they carry no personal data); `data` is the projected signal. The privacy gate
 * rewrites hub ids in it for partners that get their own (privacy/gate.hpp).
 */
nlohmann::json cloudevent(const nlohmann::json& signal, const nlohmann::json& data);

/** `cloudevent` as delivered text. */
std::string render_cloudevent(const nlohmann::json& signal, const nlohmann::json& data);

/** Ordering lane: one student's events always share a lane, so their order is kept. Stable across restarts. */
std::uint32_t lane_for(const nlohmann::json& signal, std::uint32_t lanes);

}  // namespace schakel::routing
