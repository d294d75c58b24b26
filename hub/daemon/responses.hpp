#pragma once
/** The JSON answers of the daemon's own routes and its admin APIs (consent, links, trends). */
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "http/server.hpp"
#include "schakel/plugin.hpp"

namespace schakel::daemon {

/**
 * `body` as an application/json response with `status`. Invalid UTF-8 in a string is replaced
 * (U+FFFD) rather than thrown on: a stored value must never turn an answer into a 500.
 */
inline http::response json_response(unsigned status, const nlohmann::json& body) {
  http::response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

/**
 * Deepest nesting of a JSON body the admin API parses, the same as the connectors' for ingest:
 * a parsed tree costs far more memory than its text, and destroying a deep one recurses.
 */
inline constexpr int max_json_depth = 32;

/**
 * A 422 for a body nested deeper than max_json_depth, checked before parsing; nullopt when within
 * it. Bodies larger than limits.max_body_bytes never get here: the server answers those with 413.
 */
inline std::optional<http::response> json_body_refusal(const http::request& req) {
  const std::size_t at = sdk::json_too_deep_at(req.body, max_json_depth);
  if (at == 0) return std::nullopt;
  return http::problem(
      422, "json-too-deep", "JSON nested too deeply",
      "the body nests deeper than " + std::to_string(max_json_depth) + " levels at byte " + std::to_string(at),
      req.path, {{"max_depth", max_json_depth}});
}

}  // namespace schakel::daemon
