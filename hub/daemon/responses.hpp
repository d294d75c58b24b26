#pragma once
/** The JSON answers of the daemon's own routes and its admin APIs (consent, links, trends). */
#include <nlohmann/json.hpp>

#include "http/server.hpp"

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

}  // namespace schakel::daemon
