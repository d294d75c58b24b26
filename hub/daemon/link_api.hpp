#pragma once
/**
 * Linking JGZ reports to students (docs/linking.md):
 * - POST /v1/links {"bsn", "school": {"brin", "vestiging"?}, "student_key"}: the BSN is hashed on
 *   arrival with the hub key and only the hash is kept; every report parked for it is linked, routed
 *   and moved into the log at once. 201 {"linked": 1, "unparked": n}; 422 naming the field, never a value.
 * - GET /v1/parked: the reports waiting for a link: id, instance, type, received — never the hash.
 * Both need the admin token (the daemon checks); recording a link is audited.
 */
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "daemon/access.hpp"
#include "http/server.hpp"
#include "pipeline/ingest_pipeline.hpp"
#include "privacy/gate.hpp"
#include "privacy/links.hpp"
#include "storage/registry.hpp"

namespace schakel::daemon {

class link_api {
 public:
  /** `on_unparked(subscriptions)` runs after parked reports entered the log (the daemon wakes delivery). */
  link_api(storage::async_registry& store, const privacy::gate& gate, const pipeline::ingest_pipeline& pipeline,
           privacy::link_registry& links, std::function<void(const std::vector<std::string>&)> on_unparked);

  boost::asio::awaitable<http::response> handle(http::request& req, grant actor);

 private:
  boost::asio::awaitable<http::response> record(http::request& req, grant actor);
  boost::asio::awaitable<http::response> parked(const http::request& req);

  storage::async_registry& store_;  // no blocking method: a handler must not wait on a network thread
  const privacy::gate& gate_;
  const pipeline::ingest_pipeline& pipeline_;
  privacy::link_registry& links_;
  std::function<void(const std::vector<std::string>&)> on_unparked_;
};

}  // namespace schakel::daemon
