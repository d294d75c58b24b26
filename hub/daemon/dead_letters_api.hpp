#pragma once
/**
 * Dead letters, for operators (README, "Admin API"):
 * - GET /v1/deadletters[?subscription=name]: the dead letters, newest first: metadata only, never content.
 * - POST /v1/deadletters/{id}/replay: puts one back at the head of its lane with fresh attempts
 *   (committed before the answer) and wakes its subscription's delivery; 404 for an unknown id.
 * Both need the admin token (the daemon checks) and are audited: no audit record, no answer.
 */
#include <functional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "daemon/access.hpp"
#include "http/server.hpp"
#include "storage/audit_trail.hpp"
#include "storage/outbox.hpp"

namespace schakel::daemon {

class dead_letters_api {
 public:
  /**
   * The storage views have no blocking method (a handler cannot stall its network thread).
   * `on_replayed(subscription)` runs after a replay is committed (the daemon wakes delivery).
   */
  dead_letters_api(storage::async_outbox& store, storage::async_audit_trail& trail,
                   std::function<void(const std::string&)> on_replayed);

  static bool owns(const std::string& path);
  boost::asio::awaitable<http::response> handle(http::request& req, grant actor);

 private:
  boost::asio::awaitable<http::response> answer(http::request& req);
  boost::asio::awaitable<http::response> list(http::request& req);
  boost::asio::awaitable<http::response> replay(http::request& req);

  storage::async_outbox& store_;
  storage::async_audit_trail& trail_;
  std::function<void(const std::string&)> on_replayed_;
};

}  // namespace schakel::daemon
