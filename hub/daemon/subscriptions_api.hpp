#pragma once
/**
 * Delivery state of the subscriptions, for operators (README, "Admin API"):
 * - GET /v1/subscriptions: per subscription its state (enabled | disabled), queue depth, the age of
 *   the oldest undelivered event, the last success, the last error (status and short reason),
 *   and, when disabled, since when and why. Never content.
 * - POST /v1/subscriptions/{name}/enable: a partner that answered 410 Gone is delivered to again,
 *   starting with what queued while it was disabled, in order. Audited (`subscription.enabled`)
 *   in the same transaction; 404 for an unknown name, 409 when it is not disabled.
 * Both need the admin token (the daemon checks).
 */
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "daemon/access.hpp"
#include "delivery/delivery_service.hpp"
#include "http/server.hpp"
#include "storage/outbox.hpp"

namespace schakel::daemon {

class subscriptions_api {
 public:
  subscriptions_api(const std::vector<config::subscription>& subscriptions, storage::async_outbox& store,
                    delivery::delivery_service& delivery);

  static bool owns(const std::string& path);
  boost::asio::awaitable<http::response> handle(http::request& req, grant actor);

 private:
  boost::asio::awaitable<http::response> list(const http::request& req);
  boost::asio::awaitable<http::response> enable(http::request& req, std::string name, grant actor);

  const std::vector<config::subscription>& subscriptions_;
  storage::async_outbox& store_;  // no blocking method: a handler must not wait on a network thread
  delivery::delivery_service& delivery_;
};

}  // namespace schakel::daemon
