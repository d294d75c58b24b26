#pragma once
/**
 * The consent registry's API (docs/privacy.md):
 * - POST /v1/consents: record a consent, withdrawal, objection or objection withdrawal. 201 with the
 *   record id; 422 problem+json naming the field (never its value).
 * - POST /v1/consents/lookup {school, student_key}: one student's records. POST, not GET, so the
 *   student key never sits in a URL (access logs, proxies).
 * Both are audited (consent.recorded, consent.viewed) with the student as the hub's pseudonym, and
 * both need the admin token (or loopback when none is configured), which the daemon checks.
 */
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "daemon/access.hpp"
#include "http/server.hpp"
#include "privacy/consent.hpp"
#include "privacy/gate.hpp"
#include "storage/audit_trail.hpp"
#include "storage/registry.hpp"

namespace schakel::daemon {

/** Appends audit records and awaits their commit on the caller's executor (entries are moved from). */
boost::asio::awaitable<std::error_code> await_audit(storage::async_audit_trail& store,
                                                    std::vector<audit::entry>& entries);

class consent_api {
 public:
  /** `on_change` runs after a record is stored (the daemon wakes delivery so withdrawals apply at once). */
  /** `store` and `trail` are the async views of one store: a handler cannot call a blocking method. */
  consent_api(storage::async_registry& store, storage::async_audit_trail& trail, const privacy::gate& gate,
              privacy::consent_registry& registry, std::function<void()> on_change);

  /** Loads every stored record of `store` into the registry; at start-up (blocking). */
  void load(storage::registry& store);

  /** Handles /v1/consents and /v1/consents/lookup; `actor` names the caller for the audit trail. */
  boost::asio::awaitable<http::response> handle(http::request& req, grant actor);

 private:
  boost::asio::awaitable<http::response> record(http::request& req, grant actor);
  boost::asio::awaitable<http::response> lookup(http::request& req, grant actor);

  storage::async_registry& store_;
  storage::async_audit_trail& trail_;
  const privacy::gate& gate_;
  privacy::consent_registry& registry_;
  std::function<void()> on_change_;
};

}  // namespace schakel::daemon
