#pragma once
/**
 * Regional trends over HTTP (docs/trends.md, "API"):
 * - POST /v1/enrolment: enrolled students per class (the denominators); 422 names each bad field.
 * - GET /v1/trends?school=&window=&from=&to=&subscription=&format=json|csv: the released cells, as
 *   the released document of trends/model.hpp or as CSV; `subscription` shows only what was routed
 *   to that aggregate subscription.
 * - GET /v1/trends/plot?school=&level=&leerjaar=&class=&measure=&category=&window=&y=rate|value: the SVG.
 * - POST /v1/trends/release: read the log and release every closed week now (instead of waiting for
 *   the next check); 200 with what was released.
 * All need the admin token (the daemon checks); an aggregate subscription's pull token reads that
 * partner's own releases (GET only). Every read of released cells is audited.
 */
#include <string>

#include <boost/asio/awaitable.hpp>

#include "daemon/access.hpp"
#include "http/server.hpp"
#include "storage/audit_trail.hpp"
#include "trend_release/release.hpp"

namespace schakel::daemon {

class trends_api {
 public:
  /**
   * Both are handler views: the audit trail's appends, and a queue onto the releaser's thread, where
   * the blocking release and reads run (the releaser is reachable only inside a job there).
   */
  trends_api(storage::async_audit_trail& store, trends::release_queue* releaser);

  /** Whether `path` is one of this API's. */
  static bool owns(const std::string& path);

  /**
   * `subscription` is "" for the admin; for a partner that pulls with its token it names its
   * aggregate subscription: then only GET /v1/trends and /v1/trends/plot answer, with only the
   * releases routed to it.
   */
  boost::asio::awaitable<http::response> handle(http::request& req, grant actor, std::string subscription);

 private:
  static http::response enrolment(trends::releaser& releaser, const http::request& req);
  static http::response release_now(trends::releaser& releaser, const http::request& req);
  /** A GET: the released document, its CSV or its plot; `what` and `releases` for the audit record. */
  static http::response read(trends::releaser& releaser, const http::request& req, const std::string& subscription,
                             std::string& what, std::size_t& releases);

  storage::async_audit_trail& store_;
  trends::release_queue* releaser_;  // null when the configuration has no trends section
};

}  // namespace schakel::daemon
