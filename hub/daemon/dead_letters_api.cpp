#include "daemon/dead_letters_api.hpp"

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/audit.hpp"
#include "common/log.hpp"
#include "common/signal.hpp"
#include "daemon/completion.hpp"
#include "daemon/consent_api.hpp"
#include "daemon/responses.hpp"

namespace schakel::daemon {
namespace asio = boost::asio;

namespace {

constexpr std::string_view prefix = "/v1/deadletters";
constexpr std::string_view replay_suffix = "/replay";

http::response method_not_allowed(const std::string& path, const std::string& allow) {
  auto r = http::problem(405, "method-not-allowed", "Method not allowed", "use " + allow, path);
  r.headers.emplace_back("Allow", allow);
  return r;
}

http::response unavailable(std::error_code ec, const std::string& path) {
  log::error("deadletter.store_failed", {{"error", ec.message()}});
  auto r = http::problem(503, "store-unavailable", "Not available", "the dead letters could not be read; retry", path);
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

http::response listed(const std::vector<storage::dead_letter>& letters) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : letters)
    list.push_back({{"id", d.unit_id},
                    {"subscription", d.subscription},
                    {"webhook_id", d.webhook_id},
                    {"events", d.event_count},
                    {"attempts", d.attempts},
                    {"created_at", format_rfc3339(d.created_ms)},
                    {"dead_at", format_rfc3339(d.dead_at_ms)},
                    {"reason", d.reason}});
  return json_response(200, {{"dead_letters", list}});
}

http::response replayed(std::int64_t id, const std::string& subscription) {
  return json_response(200, {{"replayed", id}, {"subscription", subscription}});
}

std::vector<audit::entry> dead_letter_audit(const http::request& req, const grant& who, const http::response& r) {
  std::vector<audit::entry> out;
  const auto body = nlohmann::json::parse(r.body, nullptr, false);
  audit::entry e;
  e.time_ms = now_ms();
  e.outcome = "success";
  e.actor = who.name;
  e.actor_role = who.role;
  e.purpose = "delivery operations";
  e.object_type = "dead_letter";
  e.access_point = "api";
  if (req.method == "GET") {
    e.action = "deadletter.viewed";
    const auto n = body.is_object() && body.contains("dead_letters") ? body["dead_letters"].size() : 0;
    e.detail = std::to_string(n) + " dead letters listed (metadata only)";
  } else {
    e.action = "deadletter.replayed";
    if (body.is_object()) {
      e.object_id = std::to_string(body.value("replayed", std::int64_t{0}));
      e.detail = "subscription " + body.value("subscription", std::string());
    }
  }
  out.push_back(std::move(e));
  return out;
}

}  // namespace

dead_letters_api::dead_letters_api(storage::async_outbox& store, storage::async_audit_trail& trail,
                                   std::function<void(const std::string&)> on_replayed)
    : store_(store), trail_(trail), on_replayed_(std::move(on_replayed)) {}

bool dead_letters_api::owns(const std::string& path) {
  return path == prefix || (path.starts_with(prefix) && path.size() > prefix.size() && path[prefix.size()] == '/');
}

asio::awaitable<http::response> dead_letters_api::handle(http::request& req, grant actor) {
  auto r = co_await answer(req);
  if (r.status >= 300) co_return r;
  // Who looked at or replayed which dead letters is audited; no audit record, no answer.
  auto audit = dead_letter_audit(req, actor, r);
  if (co_await await_audit(trail_, audit))
    co_return http::problem(503, "store-unavailable", "Not available", "the access could not be audited; retry",
                            req.path);
  co_return r;
}

asio::awaitable<http::response> dead_letters_api::answer(http::request& req) {
  const std::string& p = req.path;
  if (p == prefix) {
    if (req.method != "GET") co_return method_not_allowed(p, "GET");
    co_return co_await list(req);
  }
  if (!p.ends_with(replay_suffix)) co_return http::problem(404, "not-found", "Not found", "no such endpoint", p);
  if (req.method != "POST") co_return method_not_allowed(p, "POST");
  co_return co_await replay(req);
}

asio::awaitable<http::response> dead_letters_api::list(http::request& req) {
  std::string subscription;
  if (req.query.starts_with("subscription=")) subscription = req.query.substr(13);
  auto [ec, letters] = co_await await_answer<std::vector<storage::dead_letter>>(
      [this, &subscription](auto answer) { store_.list_dead_letters(subscription, std::move(answer)); });
  if (ec) co_return unavailable(ec, req.path);
  co_return listed(letters);
}

asio::awaitable<http::response> dead_letters_api::replay(http::request& req) {
  const std::string& p = req.path;
  const std::string id_text = p.substr(prefix.size() + 1, p.size() - prefix.size() - 1 - replay_suffix.size());
  std::int64_t id = 0;
  try {
    std::size_t used = 0;
    id = std::stoll(id_text, &used);
    if (used != id_text.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    co_return http::problem(400, "bad-id", "Bad dead-letter id", "the id must be an integer", p);
  }
  // Committed on the store thread before this coroutine resumes, on its own executor.
  auto [ec, subscription] = co_await await_answer<std::optional<std::string>>(
      [this, id](auto answer) { store_.replay_dead_letter(id, std::move(answer)); });
  if (ec) co_return unavailable(ec, p);
  if (!subscription)
    co_return http::problem(404, "unknown-dead-letter", "Unknown dead letter", "no dead letter with that id", p);
  log::info("deadletter.replayed", {{"id", id}, {"subscription", *subscription}});
  if (on_replayed_) on_replayed_(*subscription);
  co_return replayed(id, *subscription);
}

}  // namespace schakel::daemon
