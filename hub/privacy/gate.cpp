#include "privacy/gate.hpp"

#include <algorithm>
#include <stdexcept>

#include "common/log.hpp"
#include "common/signal.hpp"
#include "privacy/bsn.hpp"
#include "privacy/hub_ids.hpp"
#include "routing/router.hpp"

namespace schakel::privacy {
namespace {

using json = nlohmann::json;

std::string string_at(const json& j, const json::json_pointer& p) {
  if (!j.contains(p)) return {};
  const auto& v = j.at(p);
  return v.is_string() ? v.get<std::string>() : std::string{};
}

json::json_pointer pointer_of(const std::string& dotted) {
  std::string p = "/";
  for (char c : dotted) p += (c == '.') ? '/' : c;
  return json::json_pointer(p);
}

const json::json_pointer student_ptr("/subject/student_key");
const json::json_pointer brin_ptr("/subject/school/brin");
const json::json_pointer category_ptr("/governance/data_category");

bool is_health(const json& signal) {
  return string_at(signal, category_ptr) == "health";
}

// Why the gate kept a signal from a matching subscription: short, stable codes (metric labels, logs),
// explained in docs/privacy.md.
constexpr const char* no_policy = "no_policy";
constexpr const char* no_basis = "no_legal_basis";
constexpr const char* row_level = "row_level_to_aggregate";
constexpr const char* health_no_ground = "health_without_ground";
constexpr const char* no_key = "no_pseudonym_key";

std::string nine_digits(const std::string& digits) {
  return std::string(9 - std::min<std::size_t>(9, digits.size()), '0') + digits;
}

/**
 * A partner's own stable stand-in for a hub id: keyed by the hub, so the same for every delivery to
 * that subscription (a retraction names what the partner received) and unlinkable across partners.
 */
std::string stand_in(const std::string& hub_key, const std::string& subscription, std::string_view id) {
  std::string message = "event:" + subscription + ":";
  message += id;
  return keyed_hash(hub_key, message);
}

/**
 * Whether a subscription gets its own stand-ins for every hub id. Identified partners know the
 * student already, so a hub id adds nothing to link; and the school's own people quote it back to
 * the hub (`POST /v1/alerts/{id}/referral`). Everyone else could join pseudonyms across partners
 * through a shared id, and a ULID tells the time the hub saw the signal.
 */
bool own_ids(const config::subscription& sub) {
  return sub.privacy.identity == "pseudonymous" || sub.privacy.identity == "aggregate";
}

std::string today(std::int64_t now_ms) {
  return format_rfc3339(now_ms).substr(0, 10);
}

}  // namespace

gate::gate(const config::hub_config& cfg, std::string hub_key, const consent_registry& consents,
           metrics::registry* metrics)
    : subscriptions_(cfg.subscriptions), hub_key_(std::move(hub_key)), consents_(consents), metrics_(metrics) {
  views_.reserve(subscriptions_.size());
  for (const auto& sub : subscriptions_) {
    partner_view v;
    v.sub = &sub;
    if (sub.privacy.identity == "pseudonymous") {
      try {
        v.keys = std::make_unique<key_ring>(sub.privacy.pseudonym_keys);
      } catch (const std::exception& e) {
        throw std::runtime_error("subscription " + sub.name + ": " + e.what());
      }
    }
    views_.push_back(std::move(v));
  }
  for (const auto& c : cfg.connectors) bsn_[c.name] = c.bsn;
}

screen_result gate::screen(json& signal, const std::string& instance) const {
  screen_result r;
  std::vector<std::string> not_scanned;
  if (auto it = bsn_.find(instance); it != bsn_.end()) {
    not_scanned = it->second.exempt;
    for (const auto& [field, use] : it->second.keys) {
      not_scanned.push_back(field);
      const auto ptr = pointer_of(field);
      if (!signal.contains(ptr)) continue;
      auto& value = signal.at(ptr);
      const std::string text = value.is_string()            ? value.get<std::string>()
                               : value.is_number_unsigned() ? std::to_string(value.get<std::uint64_t>())
                                                            : std::string();
      // pseudonymise and link store the same keyed hash: the difference is what the field is for
      // (a JGZ report links through it), not how it is kept.
      if (!is_bsn(text)) continue;
      value = keyed_hash(hub_key_, "bsn:" + nine_digits(text));
      if (use == "link") r.link_hash = value.get<std::string>();
    }
  }
  const auto found = find_bsn_fields(signal, not_scanned);
  if (!found.empty()) {
    r.accepted = false;
    r.field = found.front();
    r.reason =
        "holds a BSN (8 or 9 digits passing the 11-test), which is never stored: declare the field under "
        "connectors[].bsn.keys (pseudonymise or link), or under bsn.exempt if it is another identifier that only "
        "looks like one";
  }
  return r;
}

std::string gate::bsn_link_hash(std::string_view bsn) const {
  const std::string text(bsn);
  if (!is_bsn(text)) return {};
  return keyed_hash(hub_key_, "bsn:" + nine_digits(text));
}

std::string gate::subject_ref(const std::string& brin, const std::string& student_key) const {
  if (student_key.empty()) return {};
  return keyed_hash(hub_key_, "subject:" + subject_identity(brin, student_key));
}

std::string gate::basis_text(const config::privacy_policy& policy, bool health) {
  std::string basis = policy.legal_basis.empty() ? std::string("none") : policy.legal_basis;
  if (health) basis += "+art9:" + (policy.health_ground.empty() ? std::string("consent") : policy.health_ground);
  return basis;
}

std::string gate::policy_refusal(const config::subscription& sub, const json& signal, std::int64_t now_ms) const {
  const auto& p = sub.privacy;
  const bool row = !string_at(signal, student_ptr).empty();
  if (p.identity != "identified" && p.identity != "pseudonymous" && p.identity != "aggregate") return no_policy;
  if (p.identity == "aggregate") return row ? row_level : "";
  if (p.legal_basis.empty()) return no_basis;
  if (is_health(signal) && p.legal_basis != "consent" && p.health_ground.empty()) return health_no_ground;
  if (p.identity == "pseudonymous" && row) {
    const auto* v = find(sub.name);
    if (v == nullptr || !v->keys ||
        v->keys->pseudonyms(subject_identity(string_at(signal, brin_ptr), string_at(signal, student_ptr)), now_ms)
            .empty())
      return no_key;
  }
  return "";
}

const gate::partner_view* gate::find(const std::string& subscription) const {
  for (const auto& v : views_)
    if (v.sub->name == subscription) return &v;
  return nullptr;
}

json gate::payload(const partner_view& view, const json& signal, std::int64_t now_ms) const {
  const auto& sub = *view.sub;
  json out = routing::project(signal, sub.fields);
  // Staff's free text never leaves the school, whatever the field list says (a listed "content"
  // would otherwise carry it): check-config refuses listing it, this holds it at run time.
  if (sub.privacy.audience != "school" && out.contains("content") && out["content"].is_object())
    out["content"].erase("note");
  if (sub.privacy.identity != "pseudonymous") return out;
  const std::string key = string_at(signal, student_ptr);
  if (out.contains("subject") && out["subject"].is_object()) out["subject"].erase("student_key");
  if (key.empty()) return out;
  const auto names = view.keys->pseudonyms(subject_identity(string_at(signal, brin_ptr), key), now_ms);
  out["subject"]["pseudonym"] = names.front().value;
  out["subject"]["pseudonym_key"] = names.front().key_id;
  if (names.size() > 1) {
    // Rotation overlap: the partner gets the student under every key in use, so it can re-key its records.
    json all = json::array();
    for (const auto& n : names) all.push_back({{"key", n.key_id}, {"value", n.value}});
    out["subject"]["pseudonyms"] = std::move(all);
  }
  return out;
}

void gate::route(const json& signal, const std::string& signal_id, std::int64_t now_ms,
                 std::vector<storage::outbox_item>& out) const {
  const std::string type = string_at(signal, json::json_pointer("/type"));
  for (const auto& view : views_) {
    const auto& sub = *view.sub;
    if (!routing::matches(sub.filter, signal)) continue;
    if (const std::string why = policy_refusal(sub, signal, now_ms); !why.empty()) {
      if (metrics_)
        metrics_
            ->get_counter("schakel_privacy_refused_total",
                          "Signals the privacy gate kept from a matching subscription, by reason.",
                          {{"subscription", sub.name}, {"reason", why}})
            .add();
      log::info("privacy.refused", {{"subscription", sub.name}, {"signal_id", signal_id}, {"reason", why}});
      continue;
    }
    storage::outbox_item item;
    item.subscription = sub.name;
    item.signal_id = signal_id;
    item.lane = routing::lane_for(signal, sub.delivery.lanes);
    json event = routing::cloudevent(signal, payload(view, signal, now_ms));
    if (own_ids(sub)) {
      // The whole event, envelope included, not a list of fields known to hold ids: a processor may
      // put an id under any name (evidence.retracts, evidence.alert, ...). The partner's id of a
      // signal is the same wherever it appears, so a retraction still names the alert it received.
      replace_hub_ids(event, [&](std::string_view id) { return stand_in(hub_key_, sub.name, id); });
      // Named after the event, so stable across retries and replays and as unlinkable as the event
      // id; a batch is named after its members' webhook ids (storage), so no webhook id carries a time.
      item.webhook_id = "msg_" + event.at("id").get<std::string>();
    }
    item.event_json = event.dump();
    item.signal_type = type;
    item.subject_ref = subject_ref(string_at(signal, brin_ptr), string_at(signal, student_ptr));
    item.data_category = is_health(signal) ? "health" : "ordinary";
    out.push_back(std::move(item));
  }
}

delivery_verdict gate::check_delivery(const std::string& subscription, const storage::unit_member& member,
                                      std::int64_t now_ms) const {
  const auto* v = find(subscription);
  if (v == nullptr) return {false, "unknown subscription"};
  const auto& p = v->sub->privacy;
  delivery_question q;
  q.partner = v->sub->partner;
  q.purpose = p.purpose;
  q.framework = p.consent_framework == "wgbo" ? legal_framework::wgbo : legal_framework::avg;
  q.needs_consent =
      p.legal_basis == "consent" || (member.data_category == "health" && p.health_ground == "explicit_consent");
  // AVG art. 21: an objection binds processing on public task (and withdrawing consent ends consent);
  // a legal obligation or a vital interest is not set aside by it.
  q.objection_applies = p.legal_basis == "public_task" || p.legal_basis == "consent";
  if (member.subject_ref.empty() || (!q.needs_consent && !q.objection_applies)) return {true, "no consent needed"};
  q.date = today(now_ms);
  const auto verdict = evaluate(consents_.records(member.subject_ref), q);
  return {verdict.allowed, verdict.reason};
}

audit::entry gate::delivery_audit(const std::string& subscription, const storage::unit_member& member,
                                  const std::string& action, const std::string& outcome, const std::string& detail,
                                  std::int64_t now_ms) const {
  audit::entry e;
  e.time_ms = now_ms;
  e.action = action;
  e.outcome = outcome;
  e.access_point = subscription;
  e.actor_role = "partner";
  if (const auto* v = find(subscription)) {
    e.actor = v->sub->partner;
    e.purpose = v->sub->privacy.purpose;
    e.legal_basis = basis_text(v->sub->privacy, member.data_category == "health");
  }
  e.subject = member.subject_ref;
  e.object_id = member.signal_id;
  e.object_type = member.signal_type;
  e.sensitivity = member.data_category;
  e.detail = detail;
  return e;
}

}  // namespace schakel::privacy
