#include "daemon/consent_api.hpp"

#include "audit/audit.hpp"
#include "common/log.hpp"
#include "common/signal.hpp"
#include "daemon/completion.hpp"
#include "daemon/responses.hpp"

namespace schakel::daemon {
namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

struct stored_consent {
  std::error_code ec;
  std::int64_t id = 0;
};

/** Awaits append_consent's commit and the record's id (`row` and `audit` are moved from). */
asio::awaitable<stored_consent> await_consent(storage::async_registry& store, storage::consent_row& row,
                                              std::vector<audit::entry>& audit) {
  return await_completion<stored_consent>([&store, &row, &audit](auto complete) {
    store.append_consent(std::move(row), std::move(audit), [complete](std::error_code ec, std::int64_t id) {
      complete(stored_consent{ec, id});
    });
  });
}

}  // namespace

asio::awaitable<std::error_code> await_audit(storage::async_audit_trail& store, std::vector<audit::entry>& entries) {
  return await_completion<std::error_code>(
      [&store, &entries](auto complete) { store.append_audit(std::move(entries), std::move(complete)); });
}

namespace {

const char* kind_name(privacy::consent_kind k) {
  switch (k) {
    case privacy::consent_kind::consent:
      return "consent";
    case privacy::consent_kind::withdrawal:
      return "withdrawal";
    case privacy::consent_kind::objection:
      return "objection";
    case privacy::consent_kind::objection_withdrawal:
      return "objection_withdrawal";
  }
  return "?";
}

audit::entry consent_audit(const std::string& action, const grant& actor, const std::string& subject,
                           const std::string& detail) {
  audit::entry e;
  e.time_ms = now_ms();
  e.action = action;
  e.outcome = "success";
  e.actor = actor.name;
  e.actor_role = actor.role;
  e.purpose = "consent registry (AVG art. 7: demonstrate consent; art. 21: objections)";
  e.subject = subject;
  e.object_type = "consent";
  e.sensitivity = "ordinary";
  e.access_point = "api";
  e.detail = detail;
  return e;
}

http::response field_problem(const std::string& path, const std::string& error) {
  // error is "<field>: <why>" and never holds the value.
  const auto colon = error.find(':');
  const std::string field = colon == std::string::npos ? std::string() : error.substr(0, colon);
  json errors = json::array();
  errors.push_back({{"field", "/" + field}, {"reason", colon == std::string::npos ? error : error.substr(colon + 2)}});
  return http::problem(422, "invalid-consent", "Invalid consent record", error, path, {{"errors", errors}});
}

http::response records_reply(const json& list) {
  json body = json::object();
  body["records"] = list;
  return json_response(200, body);
}

json record_json(const privacy::consent_record& r) {
  json j = privacy::to_json(r);
  j["id"] = r.id;
  return j;
}

}  // namespace

consent_api::consent_api(storage::async_registry& store, storage::async_audit_trail& trail, const privacy::gate& gate,
                         privacy::consent_registry& registry, std::function<void()> on_change)
    : store_(store), trail_(trail), gate_(gate), registry_(registry), on_change_(std::move(on_change)) {}

void consent_api::load(storage::registry& store) {
  std::size_t bad = 0;
  for (const auto& row : store.load_consents()) {
    auto rec = privacy::consent_from_json(json::parse(row.json, nullptr, false));
    if (!rec) {
      ++bad;
      continue;
    }
    rec->id = row.id;
    rec->recorded_ms = row.recorded_ms;
    registry_.add(row.subject_ref, std::move(*rec));
  }
  // An unreadable record is not silently ignored: deny by default still holds (a missing consent
  // blocks), but the operator must know.
  if (bad > 0) log::error("consent.unreadable_records", {{"count", bad}});
  log::info("consent.loaded", {{"records", registry_.size()}});
}

asio::awaitable<http::response> consent_api::handle(http::request& req, grant actor) {
  if (req.method != "POST") {
    auto r = http::problem(405, "method-not-allowed", "Method not allowed", "use POST", req.path);
    r.headers.emplace_back("Allow", "POST");
    co_return r;
  }
  if (req.path == "/v1/consents") co_return co_await record(req, std::move(actor));
  if (req.path == "/v1/consents/lookup") co_return co_await lookup(req, std::move(actor));
  co_return http::problem(404, "not-found", "Not found", "no such endpoint", req.path);
}

asio::awaitable<http::response> consent_api::record(http::request& req, grant actor) {
  const auto body = json::parse(req.body, nullptr, false);
  if (!body.is_object())
    co_return http::problem(400, "invalid-body", "Invalid body", "send a JSON object (see docs/privacy.md)", req.path);
  std::string error;
  auto parsed = privacy::parse_consent_request(body, format_rfc3339(now_ms()).substr(0, 10), error);
  if (!parsed) co_return field_problem(req.path, error);
  parsed->record.recorded_ms = now_ms();
  storage::consent_row row;
  row.subject_ref = gate_.subject_ref(parsed->school.substr(0, 4), parsed->student_key);
  row.recorded_ms = parsed->record.recorded_ms;
  row.json = privacy::to_json(parsed->record).dump();
  const std::string scope =
      parsed->record.partner.empty() ? "purpose " + parsed->record.purpose : "partner " + parsed->record.partner;
  const std::string detail = std::string(kind_name(parsed->record.kind)) + " by " +
                             (parsed->record.given_by == privacy::consenter::parent ? "parent" : "student") + " for " +
                             scope;
  std::vector<audit::entry> audit;
  audit.push_back(consent_audit("consent.recorded", actor, row.subject_ref, detail));
  const std::string subject = row.subject_ref;
  const auto stored = co_await await_consent(store_, row, audit);
  if (stored.ec) {
    log::error("consent.store_failed", {{"error", stored.ec.message()}});
    auto r = http::problem(503, "store-unavailable", "Not stored", "the record could not be stored; retry", req.path);
    r.headers.emplace_back("Retry-After", "1");
    co_return r;
  }
  parsed->record.id = stored.id;
  registry_.add(subject, parsed->record);
  log::info("consent.recorded", {{"id", stored.id}, {"kind", kind_name(parsed->record.kind)}});
  if (on_change_) on_change_();
  co_return json_response(201, record_json(parsed->record));
}

asio::awaitable<http::response> consent_api::lookup(http::request& req, grant actor) {
  const auto body = json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("school") || !body["school"].is_string() || !body.contains("student_key") ||
      !body["student_key"].is_string())
    co_return http::problem(400, "invalid-body", "Invalid body", "send {\"school\": BRIN, \"student_key\": key}",
                            req.path);
  const std::string school = body["school"].get<std::string>();
  const std::string subject = gate_.subject_ref(school.substr(0, std::min<std::size_t>(4, school.size())),
                                                body["student_key"].get<std::string>());
  json list = json::array();
  for (const auto& r : registry_.records(subject)) list.push_back(record_json(r));
  std::vector<audit::entry> audit;
  audit.push_back(consent_audit("consent.viewed", actor, subject, std::to_string(list.size()) + " records"));
  const std::error_code ec = co_await await_audit(trail_, audit);
  if (ec) {
    // No audit record, no disclosure.
    co_return http::problem(503, "store-unavailable", "Not available", "the access could not be audited; retry",
                            req.path);
  }
  co_return records_reply(list);
}

}  // namespace schakel::daemon
