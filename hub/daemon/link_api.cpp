#include "daemon/link_api.hpp"

#include <memory>

#include "audit/audit.hpp"
#include "common/log.hpp"
#include "common/school_id.hpp"
#include "common/signal.hpp"
#include "daemon/completion.hpp"
#include "daemon/responses.hpp"

namespace schakel::daemon {
namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

struct link_stored {
  std::error_code ec;
  std::vector<storage::parked_signal> waiting;
};

/** Awaits the link's commit and the parked reports now waiting for it (`link`, `audit` moved from). */
asio::awaitable<link_stored> await_link(storage::async_registry& store, storage::student_link& link,
                                        std::vector<audit::entry>& audit) {
  return await_completion<link_stored>([&store, &link, &audit](auto complete) {
    store.record_link(std::move(link), std::move(audit),
                      [complete](std::error_code ec, std::vector<storage::parked_signal> waiting) {
                        complete(link_stored{ec, std::move(waiting)});
                      });
  });
}

asio::awaitable<std::error_code> await_unpark(storage::async_registry& store, std::vector<std::string>& ids,
                                              pipeline::batch& b) {
  return await_completion<std::error_code>([&store, &ids, &b](auto complete) {
    store.unpark(std::move(ids), std::move(b.rows), std::move(b.items), std::move(complete));
  });
}

/** The link a request asks for, or the field that is wrong and why (never its value). */
struct link_request {
  std::string bsn;
  storage::student_link link;
  std::string error;
};

link_request parse_link(const json& body) {
  link_request r;
  const auto text = [&](const json& o, const char* key) -> std::string {
    return o.is_object() && o.contains(key) && o[key].is_string() ? o[key].get<std::string>() : std::string();
  };
  r.bsn = text(body, "bsn");
  r.link.student_key = text(body, "student_key");
  const json school = body.is_object() && body.contains("school") ? body["school"] : json();
  r.link.brin = text(school, "brin");
  r.link.vestiging = text(school, "vestiging");
  if (r.bsn.empty()) {
    r.error = "bsn: required (a string of 8 or 9 digits)";
  } else if (!is_brin(r.link.brin)) {
    r.error = "school/brin: required, 4 capital letters or digits";
  } else if (!r.link.vestiging.empty() && !is_vestiging(r.link.vestiging)) {
    r.error = "school/vestiging: 2 digits when given";
  } else if (r.link.student_key.empty() || r.link.student_key.size() > 64) {
    r.error = "student_key: required, 1 to 64 characters";
  }
  return r;
}

http::response invalid(const std::string& path, const std::string& error) {
  const auto colon = error.find(':');
  json errors = json::array();
  errors.push_back({{"field", "/" + error.substr(0, colon)}, {"reason", error.substr(colon + 2)}});
  return http::problem(422, "invalid-link", "Invalid link", error, path, {{"errors", errors}});
}

audit::entry link_audit(const grant& actor, const std::string& subject, std::size_t waiting) {
  audit::entry e;
  e.time_ms = now_ms();
  e.action = "link.recorded";
  e.outcome = "success";
  e.actor = actor.name;
  e.actor_role = actor.role;
  e.purpose = "link JGZ reports to the school's student (BSN used only to link)";
  e.subject = subject;
  e.object_type = "student_link";
  e.sensitivity = "ordinary";
  e.access_point = "api";
  e.detail = std::to_string(waiting) + " parked report(s) waiting";
  return e;
}

json link_reply(std::size_t unparked, std::size_t refused) {
  return {{"linked", 1}, {"unparked", unparked}, {"refused", refused}};
}

}  // namespace

link_api::link_api(storage::async_registry& store, const privacy::gate& gate, const pipeline::ingest_pipeline& pipeline,
                   privacy::link_registry& links, std::function<void(const std::vector<std::string>&)> on_unparked)
    : store_(store), gate_(gate), pipeline_(pipeline), links_(links), on_unparked_(std::move(on_unparked)) {}

asio::awaitable<http::response> link_api::handle(http::request& req, grant actor) {
  if (req.path == "/v1/links" && req.method == "POST") co_return co_await record(req, std::move(actor));
  if (req.path == "/v1/parked" && req.method == "GET") co_return co_await parked(req);
  auto r = http::problem(405, "method-not-allowed", "Method not allowed",
                         req.path == "/v1/links" ? "use POST" : "use GET", req.path);
  r.headers.emplace_back("Allow", req.path == "/v1/links" ? "POST" : "GET");
  co_return r;
}

asio::awaitable<http::response> link_api::record(http::request& req, grant actor) {
  const auto body = json::parse(req.body, nullptr, false);
  if (!body.is_object())
    co_return http::problem(400, "invalid-body", "Invalid body", "send a JSON object (see docs/linking.md)", req.path);
  auto parsed = parse_link(body);
  if (!parsed.error.empty()) co_return invalid(req.path, parsed.error);
  parsed.link.link_hash = gate_.bsn_link_hash(parsed.bsn);
  if (parsed.link.link_hash.empty()) co_return invalid(req.path, "bsn: not a BSN (8 or 9 digits passing the 11-test)");
  parsed.link.recorded_ms = now_ms();
  const privacy::linked_student student{parsed.link.brin, parsed.link.vestiging, parsed.link.student_key};
  const std::string hash = parsed.link.link_hash;
  std::vector<audit::entry> audit;
  audit.push_back(link_audit(actor, gate_.subject_ref(student.brin, student.student_key), 0));
  auto stored = co_await await_link(store_, parsed.link, audit);
  if (stored.ec) {
    log::error("link.store_failed", {{"error", stored.ec.message()}});
    co_return http::problem(503, "store-unavailable", "Not stored", "the link could not be stored; retry", req.path);
  }
  links_.put(hash, student);
  // Reports that waited for this link: linked and routed under the policies of now, then moved
  // into the log in one transaction. One that no longer validates stays parked, and is logged.
  pipeline::batch b;
  std::vector<std::string> ids;
  std::size_t refused = 0;
  for (const auto& p : stored.waiting) {
    std::string error;
    if (pipeline_.unpark(p, student, now_ms(), b, error)) {
      ids.push_back(p.id);
    } else {
      ++refused;
      log::error("link.unpark_refused", {{"signal_id", p.id}, {"reason", error}});
    }
  }
  const std::size_t unparked = ids.size();
  const auto touched = b.touched_subscriptions;
  if (!ids.empty()) {
    if (const auto ec = co_await await_unpark(store_, ids, b)) {
      log::error("link.unpark_failed", {{"error", ec.message()}});
      co_return http::problem(503, "store-unavailable", "Link stored, reports not moved",
                              "the link is stored; its parked reports move on the next link or restart", req.path);
    }
    if (on_unparked_) on_unparked_(touched);
  }
  log::info("link.recorded", {{"unparked", unparked}, {"refused", refused}});
  co_return json_response(201, link_reply(unparked, refused));
}

asio::awaitable<http::response> link_api::parked(const http::request& req) {
  auto [ec, parked] = co_await await_answer<std::vector<storage::parked_signal>>(
      [this](auto answer) { store_.list_parked(std::move(answer)); });
  if (ec) {
    log::error("link.parked_read_failed", {{"error", ec.message()}});
    co_return http::problem(503, "store-unavailable", "Not available", "the parked reports could not be read; retry",
                            req.path);
  }
  json list = json::array();
  for (const auto& p : parked) {
    json one = {
        {"id", p.id}, {"instance", p.instance}, {"type", p.type}, {"received_at", format_rfc3339(p.received_ms)}};
    list.push_back(std::move(one));
  }
  json body = json::object();
  body["parked"] = std::move(list);
  co_return json_response(200, body);
}

}  // namespace schakel::daemon
