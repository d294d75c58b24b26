#include "daemon/referral_api.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "common/signal.hpp"
#include "daemon/completion.hpp"
#include "daemon/responses.hpp"

namespace schakel::daemon {
namespace asio = boost::asio;

namespace {

/** State namespace of the core's referral marks: one per alert, so a second referral is refused. */
constexpr const char* referral_namespace = "schakel.referrals";
constexpr std::string_view alerts_prefix = "/v1/alerts/";
constexpr std::string_view referral_suffix = "/referral";

std::string date_problem(std::string_view s) {
  // YYYY-MM-DD with a real calendar date; "" when fine, else why.
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return "must be a date YYYY-MM-DD";
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
    if (s[i] < '0' || s[i] > '9') return "must be a date YYYY-MM-DD";
  const std::chrono::year_month_day ymd{
      std::chrono::year{std::stoi(std::string(s.substr(0, 4)))},
      std::chrono::month{static_cast<unsigned>(std::stoi(std::string(s.substr(5, 2))))},
      std::chrono::day{static_cast<unsigned>(std::stoi(std::string(s.substr(8, 2))))}};
  if (!ymd.ok()) return "is not a calendar date";
  return {};
}

struct referral_request {
  std::string informed_on;
  std::string informed_by;
};

/** The request's own checks (before any store read); a problem response when refused. */
std::optional<http::response> check_request(const http::request& req, referral_request& out) {
  const std::string& p = req.path;
  const auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (!body.is_object())
    return http::problem(400, "invalid-body", "Invalid body",
                         "send a JSON object with parents_informed_on and informed_by", p);
  const auto field_problem = [&](const char* field, const std::string& why) {
    return http::problem(422, "invalid-referral", "Invalid referral", std::string(field) + " " + why, p,
                         {{"errors", nlohmann::json::array({{{"field", std::string("/") + field}, {"reason", why}}})}});
  };
  if (!body.contains("parents_informed_on") || !body["parents_informed_on"].is_string())
    return field_problem("parents_informed_on", "is required: the date the parents were informed (YYYY-MM-DD)");
  out.informed_on = body["parents_informed_on"].get<std::string>();
  if (auto why = date_problem(out.informed_on); !why.empty()) return field_problem("parents_informed_on", why);
  if (out.informed_on > format_rfc3339(now_ms()).substr(0, 10))
    return field_problem("parents_informed_on", "lies in the future");
  if (!body.contains("informed_by") || !body["informed_by"].is_string())
    return field_problem("informed_by", "is required: the role of who informed the parents (e.g. mentor)");
  out.informed_by = body["informed_by"].get<std::string>();
  if (out.informed_by.empty() || out.informed_by.size() > 64 ||
      std::any_of(out.informed_by.begin(), out.informed_by.end(),
                  [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    return field_problem("informed_by", "must be 1 to 64 printable characters (a role, not a name)");
  return std::nullopt;
}

/** The alert, when it is one that waits for a referral; otherwise the problem response. */
std::optional<http::response> check_alert(const std::optional<std::string>& stored, const std::string& path,
                                          nlohmann::json& alert) {
  if (!stored) return http::problem(404, "unknown-alert", "Unknown alert", "no signal with that id", path);
  alert = nlohmann::json::parse(*stored, nullptr, false);
  const nlohmann::json::json_pointer referral_ptr("/content/evidence/referral");
  if (!alert.is_object() || !alert.contains(referral_ptr) || alert.at(referral_ptr) != "pending")
    return http::problem(409, "no-referral-pending", "No referral pending",
                         "this signal is not an alert that waits for a referral", path);
  return std::nullopt;
}

/**
 * Forms the referral signal into `b`. Outside the coroutine body: g++ 12 miscompiles braced
 * initialiser lists that live in a coroutine frame ("array used as initializer").
 */
std::optional<http::response> form_referral(const pipeline::ingest_pipeline& pipeline, const std::string& path,
                                            const std::string& alert_id, const nlohmann::json& alert,
                                            const referral_request& r, pipeline::batch& b, std::string& referral_id) {
  nlohmann::json referral = {
      {"type", referral_type},
      {"observed_at", format_rfc3339(now_ms())},
      {"subject", alert.at("subject")},
      {"content",
       {{"domain", alert.at("content").value("domain", "attendance")},
        {"indicator", "referral"},
        {"severity", "info"},
        {"evidence",
         {{"alert", alert_id},
          {"alert_type", alert.value("type", "")},
          {"parents_informed_on", r.informed_on},
          {"informed_by", r.informed_by}}}}},
      {"governance", {{"data_category", alert.at("governance").value("data_category", "ordinary")}}},
      {"derived_from", nlohmann::json::array({alert_id})}};
  std::string error;
  referral_id = pipeline.derive(referral.dump(), core_alerts_instance, "schakel", now_ms(), b, error);
  if (referral_id.empty()) {
    log::error("referral.invalid", {{"reason", error}});
    return http::problem(500, "referral-failed", "Referral not recorded", "the referral could not be formed", path);
  }
  return std::nullopt;
}

http::response store_failed(std::error_code ec, const std::string& path, const char* what) {
  log::error("referral.store_failed", {{"error", ec.message()}, {"step", what}});
  auto r = http::problem(503, "store-unavailable", "Not stored", "the referral could not be stored; retry", path);
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

/** The referral and its mark, in one transaction; awaited on the caller's executor (`b`, `mark` moved from). */
asio::awaitable<std::error_code> await_append(storage::async_signal_log& log, pipeline::batch& b,
                                              std::vector<storage::state_write>& mark) {
  return await_completion<std::error_code>([&log, &b, &mark](auto complete) {
    log.append_with_state(std::move(b.rows), std::move(b.items), std::move(mark), std::move(complete));
  });
}

std::vector<storage::state_write> referral_mark(const std::string& alert_id, const std::string& referral_id) {
  std::vector<storage::state_write> out;
  out.push_back({referral_namespace, alert_id, referral_id, false});
  return out;
}

http::response recorded(const std::string& alert_id, const std::string& referral_id) {
  return json_response(202, {{"referral", referral_id}, {"alert", alert_id}, {"status", "recorded"}});
}

}  // namespace

referral_api::referral_api(storage::async_signal_log& log, storage::async_plugin_state& state,
                           const pipeline::ingest_pipeline& pipeline,
                           std::function<void(const std::vector<std::string>&)> on_recorded)
    : log_(log), state_(state), pipeline_(pipeline), on_recorded_(std::move(on_recorded)) {}

bool referral_api::owns(const std::string& path) {
  return path.starts_with(alerts_prefix) && path.ends_with(referral_suffix) &&
         path.size() > alerts_prefix.size() + referral_suffix.size();
}

asio::awaitable<http::response> referral_api::handle(http::request& req) {
  const std::string& p = req.path;
  if (req.method != "POST") {
    auto r = http::problem(405, "method-not-allowed", "Method not allowed", "use POST", p);
    r.headers.emplace_back("Allow", "POST");
    co_return r;
  }
  std::string alert_id = p.substr(alerts_prefix.size(), p.size() - alerts_prefix.size() - referral_suffix.size());
  co_return co_await record(req, std::move(alert_id));
}

asio::awaitable<http::response> referral_api::record(http::request& req, std::string alert_id) {
  referral_request checked;
  if (auto refused = check_request(req, checked)) co_return std::move(*refused);
  // Both reads run on the store's reader thread; this coroutine resumes on its own executor.
  auto [read_ec, stored] = co_await await_answer<std::optional<std::string>>(
      [this, &alert_id](auto answer) { log_.get_signal(alert_id, std::move(answer)); });
  if (read_ec) co_return store_failed(read_ec, req.path, "read_alert");
  nlohmann::json alert;
  if (auto refused = check_alert(stored, req.path, alert)) co_return std::move(*refused);
  auto [mark_ec, mark] = co_await await_answer<std::optional<std::string>>(
      [this, &alert_id](auto answer) { state_.state_get(referral_namespace, alert_id, std::move(answer)); });
  if (mark_ec) co_return store_failed(mark_ec, req.path, "read_mark");
  if (mark)
    co_return http::problem(409, "referral-exists", "Referral already recorded",
                            "a referral for this alert was recorded before", req.path);

  pipeline::batch b;
  std::string referral_id;
  if (auto refused = form_referral(pipeline_, req.path, alert_id, alert, checked, b, referral_id))
    co_return std::move(*refused);
  auto marks = referral_mark(alert_id, referral_id);
  const auto touched = b.touched_subscriptions;
  if (const auto ec = co_await await_append(log_, b, marks)) co_return store_failed(ec, req.path, "append");
  if (on_recorded_) on_recorded_(touched);
  log::info("referral.recorded", {{"alert", alert_id}, {"referral", referral_id}});
  co_return recorded(alert_id, referral_id);
}

}  // namespace schakel::daemon
