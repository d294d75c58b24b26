#pragma once
/**
 * POST /v1/alerts/{id}/referral {"parents_informed_on": "YYYY-MM-DD", "informed_by": "<role>"}: the
 * school records that the parents were informed, so the rules may refer the alert outside the school
 * (M@ZL to the JGZ doctor). The core stores the fact as a signal the processors read; it never
 * decides itself what the referral means. 202 with the referral's id; 404 for an unknown alert, 409
 * when it waits for no referral or has one already, 422 naming the field. Needs the admin token.
 */
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "http/server.hpp"
#include "pipeline/ingest_pipeline.hpp"
#include "storage/plugin_state.hpp"
#include "storage/signal_log.hpp"

namespace schakel::daemon {

/** The instance name the core itself uses as the source of the signals it makes (referrals). */
inline constexpr const char* core_alerts_instance = "schakel-alerts";
inline constexpr const char* referral_type = "nl.schakel.alert.referral.recorded";

class referral_api {
 public:
  /**
   * The storage views have no blocking method (a handler cannot stall its network thread).
   * `on_recorded(subscriptions)` runs after the referral is committed (the daemon wakes delivery and
   * the processors).
   */
  referral_api(storage::async_signal_log& log, storage::async_plugin_state& state,
               const pipeline::ingest_pipeline& pipeline,
               std::function<void(const std::vector<std::string>&)> on_recorded);

  /** Whether `path` is /v1/alerts/{id}/referral. */
  static bool owns(const std::string& path);
  boost::asio::awaitable<http::response> handle(http::request& req);

 private:
  boost::asio::awaitable<http::response> record(http::request& req, std::string alert_id);

  storage::async_signal_log& log_;
  storage::async_plugin_state& state_;
  const pipeline::ingest_pipeline& pipeline_;
  std::function<void(const std::vector<std::string>&)> on_recorded_;
};

}  // namespace schakel::daemon
