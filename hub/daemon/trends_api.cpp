#include "daemon/trends_api.hpp"

#include <functional>
#include <map>
#include <memory>

#include "common/log.hpp"
#include "common/signal.hpp"
#include "daemon/completion.hpp"
#include "daemon/consent_api.hpp"
#include "daemon/responses.hpp"
#include "trends/enrolment.hpp"
#include "trends/plot.hpp"
#include "trends/report.hpp"

namespace schakel::daemon {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decoded(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() + 0 && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> query_params(const std::string& query) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t amp = query.find('&', start);
    if (amp == std::string::npos) amp = query.size();
    const std::string_view part(query.data() + start, amp - start);
    const auto eq = part.find('=');
    if (eq != std::string_view::npos) out[percent_decoded(part.substr(0, eq))] = percent_decoded(part.substr(eq + 1));
    start = amp + 1;
  }
  return out;
}

http::response not_configured(const std::string& path) {
  return http::problem(404, "trends-not-configured", "No trends",
                       "this hub has no trends section in its configuration (docs/trends.md)", path);
}

audit::entry viewed(const grant& actor, const std::string& subscription, const std::string& what,
                    std::size_t releases) {
  audit::entry e;
  e.time_ms = now_ms();
  e.action = "trends.viewed";
  e.outcome = "success";
  e.actor = actor.name;
  e.actor_role = actor.role;
  e.purpose = "regional trends: anonymised aggregates after disclosure control";
  e.object_type = "trend_release";
  e.sensitivity = "ordinary";
  e.access_point = subscription.empty() ? "api" : subscription;
  e.detail = what + ", " + std::to_string(releases) + " release(s)";
  return e;
}

/**
 * Runs `work` on the releaser's own thread and resumes the caller on its executor with the result: a
 * release or a read of many releases can take a while and must not hold a network thread.
 */
asio::awaitable<http::response> on_releaser(trends::release_queue& releaser,
                                            std::function<http::response(trends::releaser&)>& work) {
  return await_completion<http::response>([&releaser, &work](auto complete) {
    releaser.submit([complete, job = std::move(work)](trends::releaser& r) { complete(job(r)); });
  });
}

}  // namespace

trends_api::trends_api(storage::async_audit_trail& store, trends::release_queue* releaser)
    : store_(store), releaser_(releaser) {}

bool trends_api::owns(const std::string& path) {
  return path == "/v1/enrolment" || path == "/v1/trends" || path == "/v1/trends/plot" || path == "/v1/trends/release";
}

asio::awaitable<http::response> trends_api::handle(http::request& req, grant actor, std::string subscription) {
  const std::string& p = req.path;
  if (releaser_ == nullptr) co_return not_configured(p);
  if (!subscription.empty() && (req.method != "GET" || p == "/v1/enrolment" || p == "/v1/trends/release"))
    co_return http::problem(403, "forbidden", "Forbidden", "a pull token reads released trends only", p);
  if (p == "/v1/enrolment") {
    if (req.method != "POST") co_return http::problem(405, "method-not-allowed", "Method not allowed", "use POST", p);
    std::function<http::response(trends::releaser&)> work = [&req](trends::releaser& r) { return enrolment(r, req); };
    co_return co_await on_releaser(*releaser_, work);
  }
  if (p == "/v1/trends/release") {
    if (req.method != "POST") co_return http::problem(405, "method-not-allowed", "Method not allowed", "use POST", p);
    std::function<http::response(trends::releaser&)> work = [&req](trends::releaser& r) { return release_now(r, req); };
    co_return co_await on_releaser(*releaser_, work);
  }
  if (req.method != "GET") co_return http::problem(405, "method-not-allowed", "Method not allowed", "use GET", p);
  std::string what;
  std::size_t releases = 0;
  std::function<http::response(trends::releaser&)> work = [&req, &subscription, &what, &releases](trends::releaser& r) {
    return read(r, req, subscription, what, releases);
  };
  auto r = co_await on_releaser(*releaser_, work);
  if (r.status != 200) co_return r;
  // Trend releases are anonymised, yet who took which figures out of the hub is part of the trail.
  std::vector<audit::entry> audit{viewed(actor, subscription, what, releases)};
  if (co_await await_audit(store_, audit))
    co_return http::problem(503, "store-unavailable", "Not available", "the access could not be audited; retry", p);
  co_return r;
}

http::response trends_api::read(trends::releaser& releaser, const http::request& req, const std::string& subscription,
                                std::string& what, std::size_t& releases) {
  const std::string& p = req.path;
  auto params = query_params(req.query);
  trends::trend_query q;
  q.school = params["school"];
  q.from = params["from"];
  q.to = params["to"];
  q.subscription = subscription.empty() ? params["subscription"] : subscription;
  const std::string window = params.contains("window") ? params["window"] : std::string();
  if (!window.empty()) {
    if (window == "week") {
      q.kind = trends::window_kind::week;
    } else if (window == "month") {
      q.kind = trends::window_kind::month;
    } else if (window == "year_to_date") {
      q.kind = trends::window_kind::year_to_date;
    } else {
      return http::problem(400, "invalid-query", "Invalid query", "window: must be week, month or year_to_date", p);
    }
  }
  json doc;
  try {
    doc = releaser.released(q);
  } catch (const std::exception& e) {
    log::error("trends.read_failed", {{"error", e.what()}});
    return http::problem(503, "store-unavailable", "Not available", "the releases could not be read; retry", p);
  }
  http::response r;
  what = "released cells";
  if (p == "/v1/trends/plot") {
    trends::plot_request pr;
    pr.school = q.school;
    pr.level = params.contains("level") ? params["level"] : "school";
    pr.leerjaar = params["leerjaar"];
    pr.klass = params["class"];
    pr.measure = params["measure"];
    pr.category = params["category"];
    pr.window_kind = window.empty() ? "week" : window;
    pr.rate = params["y"] != "value";
    try {
      r.body = trends::render_trend_svg(doc, pr);
    } catch (const std::invalid_argument& e) {
      return http::problem(422, "nothing-to-plot", "Nothing to plot", e.what(), p);
    }
    r.content_type = "image/svg+xml";
    what = "trend plot";
  } else if (params["format"] == "csv") {
    r.body = trends::trends_csv(doc);
    r.content_type = "text/csv; charset=utf-8";
    what = "trend export";
  } else {
    r = json_response(200, doc);
  }
  r.status = 200;
  releases = doc["releases"].size();
  return r;
}

http::response trends_api::enrolment(trends::releaser& releaser, const http::request& req) {
  const json body = json::parse(req.body, nullptr, false);
  if (!body.is_object())
    return http::problem(400, "invalid-body", "Invalid body", "send a JSON object (see docs/trends.md)", req.path);
  const auto parsed = trends::parse_enrolment_json(body);
  if (!parsed.errors.empty()) {
    json errors = json::array();
    for (const auto& [field, reason] : parsed.errors) errors.push_back({{"field", field}, {"reason", reason}});
    return http::problem(422, "invalid-enrolment", "Invalid enrolment",
                         parsed.errors.front().first + ": " + parsed.errors.front().second, req.path,
                         {{"errors", errors}});
  }
  const std::string today = format_rfc3339(now_ms()).substr(0, 10);
  std::vector<trends::class_enrolment> rows;
  const auto& schools = releaser.config().schools;
  for (const auto& r : parsed.rows) {
    trends::class_enrolment e;
    // The school as the trends section names it: BRIN + vestiging, or the BRIN alone.
    const std::string full = r.brin + r.vestiging;
    e.school = std::find(schools.begin(), schools.end(), full) != schools.end() ? full : r.brin;
    e.klass = r.klass;
    e.leerjaar = std::stoi(r.leerjaar);
    e.students = r.students;
    e.valid_from = r.valid_from.empty() ? today : r.valid_from;
    rows.push_back(std::move(e));
  }
  try {
    releaser.record_enrolment(rows);
  } catch (const std::exception& e) {
    log::error("trends.enrolment_failed", {{"error", e.what()}});
    return http::problem(503, "store-unavailable", "Not stored", "the enrolment could not be stored; retry", req.path);
  }
  log::info("trends.enrolment_recorded", {{"classes", rows.size()}});
  return json_response(200, {{"recorded", rows.size()}});
}

http::response trends_api::release_now(trends::releaser& releaser, const http::request& req) {
  std::optional<trends::days> until;
  if (!req.body.empty()) {
    const json body = json::parse(req.body, nullptr, false);
    trends::days d{};
    if (!body.is_object() || (body.contains("until") &&
                              (!body["until"].is_string() || !trends::parse_day(body["until"].get<std::string>(), d))))
      return http::problem(422, "invalid-release", "Invalid release request",
                           "until: a date YYYY-MM-DD (weeks ending on or before it are released)", req.path);
    if (body.contains("until")) until = d;
  }
  try {
    const auto r = releaser.run_once(now_ms(), until);
    return json_response(200, {{"signals_read", r.signals_read},
                               {"late_signals", r.late_signals},
                               {"releases", r.releases},
                               {"cells", r.cells}});
  } catch (const std::exception& e) {
    log::error("trends.release_failed", {{"error", e.what()}});
    return http::problem(503, "store-unavailable", "Not released", "the release could not be stored; retry", req.path);
  }
}

}  // namespace schakel::daemon
