#include "daemon/subscriptions_api.hpp"

#include <algorithm>

#include "audit/audit.hpp"
#include "common/log.hpp"
#include "common/signal.hpp"
#include "daemon/completion.hpp"
#include "daemon/responses.hpp"

namespace schakel::daemon {
namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

constexpr std::string_view prefix = "/v1/subscriptions";
constexpr std::string_view enable_suffix = "/enable";

json time_or_null(std::int64_t ms) {
  return ms > 0 ? json(format_rfc3339(ms)) : json(nullptr);
}

json status_json(const config::subscription& sub, const storage::subscription_status& st, std::int64_t now) {
  json out = {
      {"name", sub.name},
      {"state", st.disabled ? "disabled" : "enabled"},
      {"queue_depth", st.depth},
      {"oldest_undelivered_age_seconds",
       st.oldest_pending_ms > 0 ? json(std::max<std::int64_t>(now - st.oldest_pending_ms, 0) / 1000) : json(nullptr)},
      {"last_success", time_or_null(st.last_success_ms)},
      {"last_error_at", time_or_null(st.last_error_ms)},
      {"last_error", st.last_error.empty() ? json(nullptr) : json(st.last_error)},
      {"disabled_since", st.disabled ? time_or_null(st.disabled_since_ms) : json(nullptr)},
      {"disabled_reason", st.disabled ? json(st.disabled_reason) : json(nullptr)}};
  return out;
}

std::vector<audit::entry> enabled_audit(const std::string& name, const grant& actor, const std::string& was_reason) {
  audit::entry e;
  e.time_ms = now_ms();
  e.action = "subscription.enabled";
  e.outcome = "success";
  e.actor = actor.name;
  e.actor_role = actor.role;
  e.purpose = "delivery operations";
  e.object_type = "subscription";
  e.object_id = name;
  e.access_point = "api";
  e.detail = was_reason.empty() ? "was disabled" : "was disabled: " + was_reason;
  return {std::move(e)};
}

http::response method_not_allowed(const std::string& path, const std::string& allow) {
  auto r = http::problem(405, "method-not-allowed", "Method not allowed", "use " + allow, path);
  r.headers.emplace_back("Allow", allow);
  return r;
}

http::response enable_answer(std::error_code ec, const std::string& name, const std::string& path) {
  if (ec) {
    auto r = http::problem(503, "store-unavailable", "Not enabled", "the change could not be stored; retry", path);
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  return json_response(200, {{"subscription", name}, {"state", "enabled"}});
}

/**
 * Enables and awaits the commit. Not a coroutine, and the lambda captures references only: g++ 12
 * destroys non-trivial temporaries inside a co_await expression twice.
 */
asio::awaitable<std::error_code> await_enable(delivery::delivery_service& delivery, const std::string& name,
                                              std::vector<audit::entry>& audit,
                                              delivery::delivery_service::enable_outcome& outcome) {
  return await_completion<std::error_code>([&delivery, &name, &audit, &outcome](auto complete) {
    outcome = delivery.enable(name, std::move(audit), complete);
    if (outcome != delivery::delivery_service::enable_outcome::enabling) complete(std::error_code{});
  });
}

/** One subscription's status, read on the store's reader; `name` must outlive the await. */
asio::awaitable<std::pair<std::error_code, storage::subscription_status>> await_status(storage::async_outbox& store,
                                                                                       const std::string& name) {
  return await_answer<storage::subscription_status>(
      [&store, &name](auto answer) { store.read_subscription_status(name, std::move(answer)); });
}

http::response status_unavailable(std::error_code ec, const std::string& path) {
  log::error("subscription.status_read_failed", {{"error", ec.message()}});
  auto r = http::problem(503, "store-unavailable", "Not available", "the status could not be read; retry", path);
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace

subscriptions_api::subscriptions_api(const std::vector<config::subscription>& subscriptions,
                                     storage::async_outbox& store, delivery::delivery_service& delivery)
    : subscriptions_(subscriptions), store_(store), delivery_(delivery) {}

bool subscriptions_api::owns(const std::string& path) {
  return path == prefix || (path.starts_with(prefix) && path.size() > prefix.size() && path[prefix.size()] == '/');
}

asio::awaitable<http::response> subscriptions_api::handle(http::request& req, grant actor) {
  const std::string& p = req.path;
  if (p == prefix) {
    if (req.method != "GET") co_return method_not_allowed(p, "GET");
    co_return co_await list(req);
  }
  if (!p.ends_with(enable_suffix) || p.size() <= prefix.size() + 1 + enable_suffix.size())
    co_return http::problem(404, "not-found", "Not found", "no such endpoint", p);
  if (req.method != "POST") co_return method_not_allowed(p, "POST");
  // Named, not a temporary in the co_await expression (g++ 12 may destroy such temporaries twice).
  std::string name = p.substr(prefix.size() + 1, p.size() - prefix.size() - 1 - enable_suffix.size());
  co_return co_await enable(req, std::move(name), std::move(actor));
}

asio::awaitable<http::response> subscriptions_api::list(const http::request& req) {
  json out = json::array();
  const std::int64_t now = now_ms();
  for (const auto& sub : subscriptions_) {
    auto [ec, status] = co_await await_status(store_, sub.name);
    if (ec) co_return status_unavailable(ec, req.path);
    out.push_back(status_json(sub, status, now));
  }
  co_return json_response(200, {{"subscriptions", out}});
}

asio::awaitable<http::response> subscriptions_api::enable(http::request& req, std::string name, grant actor) {
  auto [read_ec, status] = co_await await_status(store_, name);
  if (read_ec) co_return status_unavailable(read_ec, req.path);
  auto audit = enabled_audit(name, actor, status.disabled_reason);
  delivery::delivery_service::enable_outcome outcome = delivery::delivery_service::enable_outcome::unknown;
  const std::error_code ec = co_await await_enable(delivery_, name, audit, outcome);
  if (outcome == delivery::delivery_service::enable_outcome::unknown)
    co_return http::problem(404, "unknown-subscription", "Unknown subscription",
                            "no subscription of that name is configured", req.path);
  if (outcome == delivery::delivery_service::enable_outcome::not_disabled)
    co_return http::problem(409, "not-disabled", "Not disabled", "this subscription is enabled already", req.path);
  co_return enable_answer(ec, name, req.path);
}

}  // namespace schakel::daemon
