#include "processor.hpp"

#include <algorithm>
#include <initializer_list>
#include <set>
#include <vector>

#include "schakel/sdk/alert_lifecycle.hpp"
#include "schakel/sdk/json_fields.hpp"

namespace schakel::plugins::match_detection {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr std::string_view own_prefix = "nl.schakel.match.";

using sdk::find_path;

/** Only what the gate needs to pseudonymise and route: no vestiging, class or year (they narrow who it is). */
ojson subject_of(const std::string& brin, const std::string& student_key) {
  ojson school = ojson::object();
  school["brin"] = brin;
  ojson subject = ojson::object();
  subject["school"] = std::move(school);
  subject["student_key"] = student_key;
  return subject;
}

/** A match signal: detections and retractions share the frame; type, date, evidence and links differ. */
ojson match_signal(std::string_view type, const std::string& observed_at, const std::string& brin,
                   const std::string& student_key, ojson evidence, bool health, ojson derived_from) {
  ojson content = ojson::object();
  content["domain"] = "wellbeing";
  content["indicator"] = "match";
  content["severity"] = "concern";
  content["evidence"] = std::move(evidence);

  ojson sig = ojson::object();
  sig["type"] = type;
  sig["observed_at"] = observed_at;
  sig["subject"] = subject_of(brin, student_key);
  sig["content"] = std::move(content);
  sig["governance"] = ojson{{"data_category", health ? "health" : "ordinary"}};
  sig["derived_from"] = std::move(derived_from);
  return sig;
}

}  // namespace

match_detection_processor::match_detection_processor(std::string_view settings_json, services& svc)
    : settings_(settings::parse(settings_json)),
      svc_(svc),
      // Starting afresh may emit one match again for this student, which is better than never matching
      // them again; the fresh state is written back so the unreadable value is not met again.
      students_(svc, "match-detection", &student_state_key, &parse_student_state, sdk::unreadable_state::rewrite) {}

void match_detection_processor::process(std::string_view signal_json, sdk::processor_context& /*ctx*/) {
  // Matches are evaluated at flush, so signals of several roles in one batch give one match, not a
  // chain of growing ones, and a signal withdrawn in the same batch never matches at all.
  const json sig = json::parse(signal_json, nullptr, false);
  if (sig.is_discarded() || !sig.is_object()) {
    svc_.log(SCHAKEL_LOG_WARN, "match-detection: a signal is not a JSON object; skipped");
    return;
  }
  const std::string type = sdk::string_at(sig, {"type"});
  // Our own output (of any match-detection instance) is never evidence of a concern.
  if (type.starts_with(own_prefix)) return;
  const std::string brin = sdk::string_at(sig, {"subject", "school", "brin"});
  const std::string student_key = sdk::string_at(sig, {"subject", "student_key"});
  if (brin.empty() || student_key.empty()) return;  // class-level: no student to match
  if (type.ends_with(sdk::retracted_suffix)) {
    on_retraction(sig, brin, student_key);
  } else if (!type.ends_with(sdk::updated_suffix)) {
    // An update is the same concern told again with more evidence, not a new one: counting it would
    // make the update the role's latest concern, and the alert's later retraction would then miss it.
    on_concern(sig, brin, student_key);
  }
}

void match_detection_processor::on_concern(const json& sig, const std::string& brin, const std::string& student_key) {
  severity sev{};
  if (!parse_severity(sdk::string_at(sig, {"content", "severity"}), sev) || sev < settings_.min_severity) return;
  const std::string id = sdk::string_at(sig, {"id"});
  const std::string instance = sdk::string_at(sig, {"source", "instance"});
  const std::string observed_at = sdk::string_at(sig, {"observed_at"});
  const auto at = parse_instant(observed_at);
  if (id.empty() || instance.empty() || !at) {
    svc_.log(SCHAKEL_LOG_WARN,
             "match-detection: a concern-level signal lacks id, source.instance or a readable "
             "observed_at; skipped");
    return;
  }
  const bool health = sdk::string_at(sig, {"governance", "data_category"}) == "health";
  const std::string role = settings_.role_of(instance);

  cached_student& cs = students_.get(brin, student_key);
  // Prune before applying: when this signal comes after a gap longer than the window, the roles of the
  // open match fell out in between, even if one of them is now back (it is this very signal).
  std::int32_t newest = at->day;
  for (const auto& [r, e] : cs.state.roles) newest = std::max(newest, e.at.day);
  prune(cs, newest);
  auto it = cs.state.roles.find(role);
  if (it == cs.state.roles.end()) {
    cs.state.roles.emplace(role, role_entry{id, observed_at, *at, health});
    cs.dirty = true;
    return;
  }
  role_entry& e = it->second;
  if (e.id == id) return;  // the same signal again (a replayed batch, a re-read log)
  if (std::tie(at->utc_ms, id) > std::tie(e.at.utc_ms, e.id)) {
    // The health flag of the replaced signal lives on while that signal is still inside the window:
    // it is still one of the signals this role's concern rests on.
    const bool keep_health = e.health && at->day - e.at.day <= settings_.window_days;
    e = role_entry{id, observed_at, *at, health || keep_health};
    cs.dirty = true;
  } else if (health && !e.health && e.at.day - at->day <= settings_.window_days) {
    e.health = true;  // an older, late-arriving health concern within the window
    cs.dirty = true;
  }
}

void match_detection_processor::on_retraction(const json& sig, const std::string& brin,
                                              const std::string& student_key) {
  std::set<std::string> retracted;
  if (const json* d = find_path(sig, {"derived_from"}); d != nullptr && d->is_array()) {
    for (const auto& v : *d) {
      if (v.is_string()) retracted.insert(v.get<std::string>());
    }
  }
  if (auto r = sdk::string_at(sig, {"content", "evidence", "retracts"}); !r.empty()) retracted.insert(r);
  if (retracted.empty()) return;
  // Only look a student up when we already keep state for them: most retractions concern signals that
  // never counted, and a lookup must not create a state value.
  const std::string key = students_.key_of(brin, student_key);
  if (!students_.contains(key) && !svc_.state_get(key)) return;
  cached_student& cs = students_.get(brin, student_key);
  const auto removed = std::erase_if(cs.state.roles, [&](const auto& kv) { return retracted.contains(kv.second.id); });
  if (removed == 0) return;
  cs.dirty = true;
  // Decided now, not at flush: a concern later in the batch may prune or re-form the match, and the
  // partners must still hear that the one they were sent no longer holds.
  if (settings_.retract_on_withdrawal && cs.state.match && cs.state.roles.size() < 2) {
    cs.retracted_match = std::move(cs.state.match);
    cs.state.match.reset();
    cs.withdrawn_at = sdk::string_at(sig, {"observed_at"});
  }
}

void match_detection_processor::flush(sdk::processor_context& ctx) {
  for (auto& [key, cs] : students_) {
    evaluate(cs, ctx);
    if (cs.dirty && !svc_.state_put(key, serialize(cs.state))) {
      svc_.log(SCHAKEL_LOG_ERROR, "match-detection: a student's state could not be stored");
    }
  }
  students_.clear();
}

void match_detection_processor::prune(cached_student& cs, std::int32_t newest_day) {
  student_state& st = cs.state;
  const auto before = st.roles.size();
  std::erase_if(st.roles, [&](const auto& kv) { return newest_day - kv.second.at.day > settings_.window_days; });
  if (st.roles.size() != before) cs.dirty = true;
  if (!st.match) return;
  // Re-arm once every role of the open match has left the window: a later match is news again.
  const bool any_left = std::any_of(st.match->roles.begin(), st.match->roles.end(),
                                    [&](const std::string& r) { return st.roles.contains(r); });
  if (!any_left) {
    st.match.reset();
    cs.dirty = true;
  }
}

void match_detection_processor::evaluate(cached_student& cs, sdk::processor_context& ctx) {
  student_state& st = cs.state;

  if (!st.roles.empty()) {
    std::int32_t newest = st.roles.begin()->second.at.day;
    for (const auto& [role, e] : st.roles) newest = std::max(newest, e.at.day);
    prune(cs, newest);
  }
  if (cs.retracted_match) {
    emit_retractions(cs, *cs.retracted_match, ctx);
    cs.retracted_match.reset();
  }

  if (st.roles.size() < 2) return;
  const bool grows = !st.match || std::any_of(st.roles.begin(), st.roles.end(),
                                              [&](const auto& kv) { return !st.match->roles.contains(kv.first); });
  if (!grows) return;
  const bool health = std::any_of(st.roles.begin(), st.roles.end(), [](const auto& kv) { return kv.second.health; });
  const std::string id = emit_match(cs, health, ctx);
  if (id.empty()) {
    // Not recorded: the next batch that touches the student tries again.
    svc_.log(SCHAKEL_LOG_ERROR, "match-detection: the host refused a match signal");
    return;
  }
  if (!st.match) st.match = open_match{};
  for (const auto& [role, e] : st.roles) st.match->roles.insert(role);
  st.match->ids.push_back(id);
  st.match->health = st.match->health || health;
  cs.dirty = true;
}

std::string match_detection_processor::emit_match(const cached_student& cs, bool health, sdk::processor_context& ctx) {
  const student_state& st = cs.state;
  std::string roles;
  ojson derived_from = ojson::array();
  const role_entry* newest = nullptr;
  for (const auto& [role, e] : st.roles) {  // std::map: roles come sorted
    if (!roles.empty()) roles += ',';
    roles += role;
    derived_from.push_back(e.id);
    if (newest == nullptr || e.at.utc_ms > newest->at.utc_ms) newest = &e;
  }
  ojson evidence = ojson::object();
  evidence["roles"] = roles;
  evidence["role_count"] = st.roles.size();
  evidence["window_days"] = settings_.window_days;
  const ojson sig = match_signal(type_detected, newest->observed_at, cs.brin, cs.student_key, std::move(evidence),
                                 health, std::move(derived_from));
  return ctx.emit(sig.dump());
}

void match_detection_processor::emit_retractions(const cached_student& cs, const open_match& match,
                                                 sdk::processor_context& ctx) {
  for (const std::string& match_id : match.ids) {
    ojson evidence = ojson::object();
    evidence["retracts"] = match_id;
    evidence["retracts_type"] = type_detected;
    evidence["reason"] = "no_longer_holds";
    const ojson sig = match_signal(type_retracted, cs.withdrawn_at, cs.brin, cs.student_key, std::move(evidence),
                                   match.health, ojson::array({match_id}));
    if (ctx.emit(sig.dump()).empty()) {
      svc_.log(SCHAKEL_LOG_ERROR, "match-detection: the host refused a match retraction");
    }
  }
}

sdk::emitted_signals match_detection_processor::emits() {
  const std::set<std::string, std::less<>> content{"domain", "indicator", "severity"};  // match_signal's frame
  return {{std::string(type_detected), {content, {"roles", "role_count", "window_days"}}},
          {std::string(type_retracted), {content, {"retracts", "retracts_type", "reason"}}}};
}

}  // namespace schakel::plugins::match_detection
