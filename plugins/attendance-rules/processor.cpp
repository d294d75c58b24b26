#include "processor.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <functional>
#include <set>
#include <vector>

#include "rules.hpp"
#include "schakel/sdk/alert_lifecycle.hpp"
#include "schakel/sdk/json_fields.hpp"

namespace schakel::plugins::attendance_rules {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr std::string_view prefix_attendance = "nl.schakel.attendance.";
constexpr std::string_view type_recorded = "nl.schakel.attendance.absence.recorded";
constexpr std::string_view type_deleted = "nl.schakel.attendance.absence.deleted";
constexpr std::string_view type_snapshot = "nl.schakel.attendance.snapshot.completed";
constexpr std::string_view type_referral = "nl.schakel.alert.referral.recorded";

// The minimum a JGZ doctor needs to plan a consult, copied from the M@ZL alert; the rest stays at school.
constexpr std::array<const char*, 7> referred_alert_evidence{
    "rule", "count", "days", "episode_start", "window_start", "window_end", "report_starts"};
// What a referral adds to it (on_referral, recompute).
constexpr std::array<const char*, 4> referred_own_evidence{"alert", "parents_informed_on", "informed_by", "referral"};

/** What every signal of one derived type carries besides its evidence. */
struct type_traits {
  std::string_view indicator;
  std::string_view severity;
  std::string_view data_category;
  std::string_view legal_basis;
};

type_traits traits_of(std::string_view type) {
  if (type == type_mazl) return {"mazl", "concern", "health", "public_task"};
  if (type == type_referred) return {"mazl_referral", "concern", "health", "public_task"};
  if (type == type_leerplicht) return {"unauthorised_absence", "concern", "ordinary", "legal_obligation"};
  return {"lateness", "attention", "ordinary", "public_task"};
}

using sdk::find_path;

std::optional<int> int_at(const json& j, std::initializer_list<const char*> path) {
  const json* v = find_path(j, path);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  const double d = v->get<double>();
  if (d < 0 || d > 1e6) return std::nullopt;
  return static_cast<int>(d);
}

std::optional<bool> bool_at(const json& j, std::initializer_list<const char*> path) {
  const json* v = find_path(j, path);
  if (v == nullptr || !v->is_boolean()) return std::nullopt;
  return v->get<bool>();
}

std::string observed_at(std::int32_t day) {
  return format_date(day) + "T00:00:00Z";
}

/** The subject fields a derived signal copies from the student's latest record. */
ojson subject_of(const json& signal) {
  ojson out = ojson::object();
  const json* subj = find_path(signal, {"subject"});
  if (subj == nullptr || !subj->is_object()) return out;
  for (const char* k : {"school", "student_key", "class", "school_year", "leerjaar"}) {
    if (auto it = subj->find(k); it != subj->end()) out[k] = *it;
  }
  return out;
}

/**
 * A derived signal as every type of this processor shapes it: `traits` are those of the alert the
 * signal is (or is about, for retractions and updates). `value`, `unit` and `derived_from` are left
 * out when empty.
 */
ojson derived_signal(std::string_view type, const std::string& key, std::int32_t day, const ojson& subject,
                     const type_traits& t, ojson evidence, const ojson& value = nullptr, const std::string& unit = {},
                     const ojson& derived_from = ojson::array()) {
  ojson sig = ojson::object();
  sig["type"] = type;
  sig["source"] = {{"record_id", key}};
  sig["observed_at"] = observed_at(day);
  sig["subject"] = subject;
  ojson content = ojson::object();
  content["domain"] = "attendance";
  content["indicator"] = t.indicator;
  if (!value.is_null()) content["value"] = value;
  if (!unit.empty()) content["unit"] = unit;
  content["severity"] = t.severity;
  content["instrument"] = "attendance-rules";
  content["evidence"] = std::move(evidence);
  sig["content"] = std::move(content);
  sig["governance"] = {{"data_category", t.data_category}, {"legal_basis_hints", ojson::array({t.legal_basis})}};
  if (!derived_from.empty()) sig["derived_from"] = derived_from;
  return sig;
}

/** The evidence of a mazl.referred: the minimum a JGZ doctor needs to plan a consult; the rest stays at school. */
ojson referred_evidence(const std::string& alert_id, const ojson& alert_evidence, const ojson& extra) {
  ojson evidence = ojson::object();
  evidence["alert"] = alert_id;
  for (const char* k : referred_alert_evidence) {
    if (auto it = alert_evidence.find(k); it != alert_evidence.end()) evidence[k] = *it;
  }
  for (const auto& [k, v] : extra.items()) evidence[k] = v;
  return evidence;
}

/** The day a referral was about: when the parents were informed, or the alert's own day (direct). */
std::int32_t referral_day(const stored_alert& a) {
  if (auto it = a.referral_extra.find("parents_informed_on"); it != a.referral_extra.end() && it->is_string()) {
    if (auto d = parse_date(it->get<std::string>())) return *d;
  }
  return a.day;
}

/** The school-day view of one school over the processor's calendar lookups. */
class school_calendar final : public calendar {
 public:
  explicit school_calendar(std::function<std::optional<sdk::day_kind>(std::int32_t)> lookup)
      : lookup_(std::move(lookup)) {}
  bool is_school_day(std::int32_t day) const override {
    if (auto k = lookup_(day)) return *k == sdk::day_kind::school_day;
    return weekday(day) < 5;  // no calendar for the school: Monday to Friday
  }

 private:
  std::function<std::optional<sdk::day_kind>(std::int32_t)> lookup_;
};

}  // namespace

attendance_rules_processor::attendance_rules_processor(std::string_view settings_json, services& svc)
    : settings_(settings::parse(settings_json)),
      svc_(svc),
      // An unreadable state is not recoverable record by record; starting afresh loses the emitted-alert
      // memory of one student, which is better than blocking every later signal about them.
      students_(svc, "attendance-rules", &student_state_key, &parse_student_state, sdk::unreadable_state::keep,
                [](cached_student& cs) {
                  for (const auto& [identity, r] : cs.state.records) cs.instances_seen.insert(r.instance);
                }) {}

attendance_rules_processor::cached_index& attendance_rules_processor::index(const std::string& instance,
                                                                            const std::string& brin) {
  const std::string key = index_state_key(instance, brin);
  auto it = indexes_.find(key);
  if (it != indexes_.end()) return it->second;
  cached_index ci;
  sdk::read_state(svc_, key, &parse_index, ci.students,
                  "attendance-rules: a stored snapshot index is unreadable; snapshots of that source and school see "
                  "only new records");
  return indexes_.emplace(key, std::move(ci)).first->second;
}

void attendance_rules_processor::process(std::string_view signal_json, sdk::processor_context& ctx) {
  const json signal = json::parse(signal_json, nullptr, false);
  if (signal.is_discarded() || !signal.is_object()) {
    svc_.log(SCHAKEL_LOG_WARN, "attendance-rules: a consumed signal is not a JSON object; skipped");
    return;
  }
  const std::string type = sdk::string_at(signal, {"type"});
  if (type == type_recorded) {
    on_recorded(signal);
  } else if (type == type_deleted) {
    on_deleted(signal);
  } else if (type == type_snapshot) {
    on_snapshot(signal);
  } else if (type == type_referral) {
    on_referral(signal, ctx);
  }
  // Anything else under the consumed prefixes (other processors' alerts, future types) is not ours.
}

void attendance_rules_processor::on_recorded(const json& signal) {
  const std::string instance = sdk::string_at(signal, {"source", "instance"});
  const std::string record_id = sdk::string_at(signal, {"source", "record_id"});
  const std::string brin = sdk::string_at(signal, {"subject", "school", "brin"});
  const std::string student_key = sdk::string_at(signal, {"subject", "student_key"});
  const auto day = parse_date(sdk::string_at(signal, {"content", "evidence", "date"}));
  if (instance.empty() || record_id.empty() || brin.empty() || student_key.empty() || !day) {
    svc_.log(SCHAKEL_LOG_WARN,
             "attendance-rules: absence.recorded without source.instance, source.record_id, subject.school.brin, "
             "subject.student_key or a valid content.evidence.date; skipped");
    return;
  }
  category cat = category::other;
  if (!parse_category(sdk::string_at(signal, {"content", "evidence", "category"}), cat)) cat = category::other;

  auto& cs = students_.get(brin, student_key);
  const std::string identity = record_identity(instance, record_id);
  // A correction replaces the record; a record no rule of the school can use is dropped, not kept.
  bool changed = cs.state.records.erase(identity) > 0;
  if (settings_.for_school(brin).relevant(cat)) {
    changed = true;
    stored_record r;
    r.instance = instance;
    r.record_id = record_id;
    r.day = *day;
    r.cat = cat;
    r.lessons = int_at(signal, {"content", "evidence", "lessons"});
    r.minutes = int_at(signal, {"content", "evidence", "minutes"});
    r.whole_day = bool_at(signal, {"content", "evidence", "whole_day"}).value_or(false);
    r.age = int_at(signal, {"content", "evidence", "age"});
    r.basic_qualification = bool_at(signal, {"content", "evidence", "basic_qualification"});
    r.snapshot = sdk::string_at(signal, {"content", "evidence", "snapshot"});
    r.vestiging = sdk::string_at(signal, {"subject", "school", "vestiging"});
    r.signal_id = sdk::string_at(signal, {"id"});
    cs.state.records.emplace(identity, std::move(r));
    auto& ix = index(instance, brin);
    if (ix.students.insert(student_key).second) ix.dirty = true;
    cs.instances_seen.insert(instance);
  }
  if (changed) cs.touched = true;
  // A student known only for absences no rule uses gets no state at all.
  if (changed || !cs.state.records.empty() || !cs.state.alerts.empty()) {
    cs.state.subject = subject_of(signal);
    cs.dirty = true;
  }
}

void attendance_rules_processor::on_deleted(const json& signal) {
  const std::string instance = sdk::string_at(signal, {"source", "instance"});
  const std::string record_id = sdk::string_at(signal, {"source", "record_id"});
  const std::string brin = sdk::string_at(signal, {"subject", "school", "brin"});
  const std::string student_key = sdk::string_at(signal, {"subject", "student_key"});
  if (instance.empty() || record_id.empty() || brin.empty() || student_key.empty()) {
    svc_.log(SCHAKEL_LOG_WARN, "attendance-rules: absence.deleted without its record identity or subject; skipped");
    return;
  }
  auto& cs = students_.get(brin, student_key);
  if (cs.state.records.erase(record_identity(instance, record_id)) > 0) cs.touched = cs.dirty = true;
}

void attendance_rules_processor::on_snapshot(const json& signal) {
  const std::string instance = sdk::string_at(signal, {"source", "instance"});
  const std::string brin = sdk::string_at(signal, {"subject", "school", "brin"});
  const std::string vestiging = sdk::string_at(signal, {"subject", "school", "vestiging"});
  const std::string snapshot = sdk::string_at(signal, {"content", "evidence", "snapshot"});
  const auto from = parse_date(sdk::string_at(signal, {"content", "evidence", "from"}));
  const auto to = parse_date(sdk::string_at(signal, {"content", "evidence", "to"}));
  if (instance.empty() || brin.empty() || snapshot.empty() || !from || !to) {
    svc_.log(SCHAKEL_LOG_WARN,
             "attendance-rules: snapshot.completed without source.instance, subject.school.brin or evidence "
             "snapshot/from/to; skipped");
    return;
  }
  // Copy: students_.get() below may load more indexes and must not invalidate what we iterate.
  const std::set<std::string> keys = index(instance, brin).students;
  for (const auto& key : keys) {
    auto& cs = students_.get(brin, key);
    for (auto it = cs.state.records.begin(); it != cs.state.records.end();) {
      const auto& r = it->second;
      const bool same_source = r.instance == instance && (vestiging.empty() || r.vestiging == vestiging);
      if (same_source && r.day >= *from && r.day <= *to && r.snapshot != snapshot) {
        it = cs.state.records.erase(it);
        cs.touched = cs.dirty = true;
      } else {
        ++it;
      }
    }
  }
}

void attendance_rules_processor::on_referral(const json& signal, sdk::processor_context& ctx) {
  std::string alert_id = sdk::string_at(signal, {"content", "evidence", "alert"});
  if (alert_id.empty()) {
    if (const json* df = find_path(signal, {"derived_from"});
        df != nullptr && df->is_array() && !df->empty() && (*df)[0].is_string()) {
      alert_id = (*df)[0].get<std::string>();
    }
  }
  const std::string brin = sdk::string_at(signal, {"subject", "school", "brin"});
  const std::string student_key = sdk::string_at(signal, {"subject", "student_key"});
  const std::string informed_on = sdk::string_at(signal, {"content", "evidence", "parents_informed_on"});
  const auto informed_day = parse_date(informed_on);
  if (alert_id.empty() || brin.empty() || student_key.empty()) {
    svc_.log(SCHAKEL_LOG_WARN, "attendance-rules: referral.recorded without alert id or subject; skipped");
    return;
  }
  auto& cs = students_.get(brin, student_key);
  auto it = std::find_if(cs.state.alerts.begin(), cs.state.alerts.end(),
                         [&](const auto& kv) { return kv.second.id == alert_id; });
  if (it == cs.state.alerts.end() || it->second.type != type_mazl) {
    // Another processor's alert, or one of ours that no longer holds: nothing to refer.
    svc_.log(SCHAKEL_LOG_INFO, "attendance-rules: referral for an alert this processor does not hold; ignored");
    return;
  }
  if (!it->second.referred_id.empty()) {
    svc_.log(SCHAKEL_LOG_INFO, "attendance-rules: referral for an alert that is already referred; ignored");
    return;
  }
  if (!informed_day) {
    svc_.log(SCHAKEL_LOG_WARN,
             "attendance-rules: referral.recorded without a valid evidence.parents_informed_on; skipped");
    return;
  }
  ojson extra = ojson::object();
  extra["parents_informed_on"] = informed_on;
  if (auto by = sdk::string_at(signal, {"content", "evidence", "informed_by"}); !by.empty()) extra["informed_by"] = by;
  extra["referral"] = "on_request";
  const std::string id =
      emit_referred(cs, it->first, it->second, extra, sdk::string_at(signal, {"id"}), *informed_day, ctx);
  if (!id.empty()) {
    it->second.referred_id = id;
    it->second.referral_extra = std::move(extra);
    cs.dirty = true;
  }
}

std::optional<sdk::day_kind> attendance_rules_processor::day_kind(const std::string& brin, const std::string& vestiging,
                                                                  std::int32_t day) {
  auto& days = calendar_cache_[brin + ":" + vestiging];
  auto it = days.find(day);
  if (it != days.end()) return it->second;
  const auto kind = svc_.school_day(brin, vestiging, day);
  days.emplace(day, kind);
  return kind;
}

std::string attendance_rules_processor::emit_retraction(cached_student& cs, const std::string& key,
                                                        const std::string& id, const std::string& type,
                                                        std::int32_t day, sdk::processor_context& ctx) {
  const ojson sig = derived_signal(type_retracted, key, day, cs.state.subject, traits_of(type),
                                   sdk::retraction_evidence(id, type), nullptr, {}, ojson::array({id}));
  std::string out = ctx.emit(sig.dump());
  if (out.empty()) svc_.log(SCHAKEL_LOG_ERROR, "attendance-rules: the host refused a retraction (a bug)");
  return out;
}

std::string attendance_rules_processor::emit_referred(cached_student& cs, const std::string& key, const stored_alert& a,
                                                      const ojson& extra, const std::string& referral_signal_id,
                                                      std::int32_t day, sdk::processor_context& ctx) {
  ojson from = ojson::array({a.id});
  if (!referral_signal_id.empty()) from.push_back(referral_signal_id);
  const ojson sig = derived_signal(type_referred, key, day, cs.state.subject, traits_of(type_referred),
                                   referred_evidence(a.id, a.evidence, extra), nullptr, {}, from);
  std::string out = ctx.emit(sig.dump());
  if (out.empty()) svc_.log(SCHAKEL_LOG_ERROR, "attendance-rules: the host refused a referral signal (a bug)");
  return out;
}

bool attendance_rules_processor::emit_update(cached_student& cs, const std::string& key, stored_alert& held,
                                             const alert& now, const std::string& fingerprint,
                                             sdk::processor_context& ctx) {
  const ojson sig =
      derived_signal(type_updated, key, now.day, cs.state.subject, traits_of(held.type),
                     sdk::update_evidence(held.id, held.type, now.evidence), now.value, now.unit, now.derived_from);
  if (ctx.emit(sig.dump()).empty()) {
    svc_.log(
        SCHAKEL_LOG_ERROR,
        "attendance-rules: the host refused an alert update (a bug); it is retried with the student's next change");
    return false;
  }
  // A referral copies part of the alert's evidence: when that part changed, the JGZ hears it too.
  if (!held.referred_id.empty() && !held.referral_extra.empty()) {
    const ojson before = referred_evidence(held.id, held.evidence, held.referral_extra);
    const ojson after = referred_evidence(held.id, now.evidence, held.referral_extra);
    if (before != after) {
      const ojson ref = derived_signal(
          type_updated, key, referral_day(held), cs.state.subject, traits_of(type_referred),
          sdk::update_evidence(held.referred_id, type_referred, after), nullptr, {}, ojson::array({held.id}));
      if (ctx.emit(ref.dump()).empty()) {
        svc_.log(SCHAKEL_LOG_ERROR, "attendance-rules: the host refused a referral update (a bug)");
      }
    }
  }
  held.day = now.day;
  held.fingerprint = fingerprint;
  held.evidence = now.evidence;
  held.used = now.used;
  cs.dirty = true;
  return true;
}

void attendance_rules_processor::recompute(cached_student& cs, sdk::processor_context& ctx) {
  const school_settings& s = settings_.for_school(cs.brin);
  auto& st = cs.state;
  std::string vestiging;
  if (auto school = st.subject.find("school"); school != st.subject.end() && school->is_object()) {
    if (auto v = school->find("vestiging"); v != school->end() && v->is_string()) vestiging = v->get<std::string>();
  }

  // Pruning: relative to the newest record, so a student's history ages only with new records.
  std::int32_t horizon = INT_MIN;
  std::int32_t settle = INT_MIN;
  if (!st.records.empty()) {
    std::int32_t newest = INT_MIN;
    for (const auto& [k, r] : st.records) newest = std::max(newest, r.day);
    horizon = newest - s.keep_days;
    settle = horizon + s.settle_margin_days();
    std::erase_if(st.records, [&](const auto& kv) { return kv.second.day < horizon; });
  }

  seeds seed;
  for (const auto& [key, a] : st.alerts) {
    if (a.day >= settle) continue;
    if (key.rfind("mazl_count:", 0) == 0) seed.mazl_used.insert(a.used.begin(), a.used.end());
    if (key.rfind("lateness:", 0) == 0) seed.lateness_used.insert(a.used.begin(), a.used.end());
    if (a.type == type_leerplicht) seed.leerplicht_after = std::max(seed.leerplicht_after.value_or(INT_MIN), a.day);
  }

  std::vector<record> records;
  records.reserve(st.records.size());
  for (const auto& [k, r] : st.records) {
    records.push_back({r.day, r.cat, r.lessons, r.minutes, r.whole_day, r.age, r.basic_qualification, r.signal_id});
  }
  auto lookup = [this, &cs, &vestiging](std::int32_t day) { return day_kind(cs.brin, vestiging, day); };
  const school_calendar cal(lookup);
  std::vector<alert> computed = compute_alerts(records, cal, s, seed);

  std::vector<alert> wanted;
  for (auto& a : computed) {
    if (a.day < settle) continue;  // settled: what was emitted then stands
    a.evidence["calendar"] = lookup(a.day) ? "school" : "weekdays";
    if (a.type == type_mazl) a.evidence["referral"] = s.mazl.referral_direct ? "direct" : "pending";
    wanted.push_back(std::move(a));
  }
  auto fingerprint = [](const alert& a) { return fnv1a_hex(a.type + "|" + a.evidence.dump()); };
  std::map<std::string, std::string> wanted_fp;
  for (const auto& a : wanted) wanted_fp[a.key] = fingerprint(a);

  std::map<std::string, const alert*> wanted_by_key;
  for (const auto& a : wanted) wanted_by_key[a.key] = &a;

  // One rule for every alert (sdk::next_step): the first crossing sends it, changed evidence updates it
  // (more hours in the same period are the same report, never a retraction and a second alert), and
  // only an alert that no longer holds is retracted. Retractions come before new alerts, so a period
  // that moved is withdrawn before its successor appears.
  for (auto it = st.alerts.begin(); it != st.alerts.end();) {
    auto& [key, held] = *it;
    if (held.day < settle) {  // settled: what was told then stands
      ++it;
      continue;
    }
    auto w = wanted_fp.find(key);
    const sdk::alert_step step = sdk::next_step(held.fingerprint, w == wanted_fp.end() ? "" : w->second);
    if (step == sdk::alert_step::update) {
      emit_update(cs, key, held, *wanted_by_key.at(key), w->second, ctx);
      ++it;
      continue;
    }
    if (step != sdk::alert_step::retract) {
      ++it;
      continue;
    }
    bool ok = true;
    if (!held.referred_id.empty()) {
      ok = !emit_retraction(cs, key, held.referred_id, std::string(type_referred), held.day, ctx).empty();
      if (ok) held.referred_id.clear();
    }
    ok = ok && !emit_retraction(cs, key, held.id, held.type, held.day, ctx).empty();
    cs.dirty = true;
    // A refused retraction keeps the alert held, so the next flush for this student tries again.
    it = ok ? st.alerts.erase(it) : std::next(it);
  }

  for (auto& a : wanted) {
    if (st.alerts.count(a.key) > 0) continue;  // told before (unchanged, updated, frozen, or a refused retraction)
    const ojson sig = derived_signal(a.type, a.key, a.day, st.subject, traits_of(a.type), a.evidence, a.value, a.unit,
                                     a.derived_from);
    const std::string id = ctx.emit(sig.dump());
    if (id.empty()) {
      svc_.log(
          SCHAKEL_LOG_ERROR,
          "attendance-rules: the host refused a derived signal (a bug); it is retried with the student's next change");
      continue;
    }
    stored_alert held;
    held.id = id;
    held.type = a.type;
    held.day = a.day;
    held.fingerprint = wanted_fp[a.key];
    held.evidence = a.evidence;
    held.used = a.used;
    if (a.type == type_mazl && s.mazl.referral_direct) {
      ojson extra = ojson::object();
      extra["referral"] = "direct";
      held.referred_id = emit_referred(cs, a.key, held, extra, "", a.day, ctx);
      if (!held.referred_id.empty()) held.referral_extra = std::move(extra);
    }
    st.alerts.emplace(a.key, std::move(held));
    cs.dirty = true;
  }

  // Alerts older than the pruning horizon have nothing left to be compared with.
  if (horizon != INT_MIN) {
    if (std::erase_if(st.alerts, [&](const auto& kv) { return kv.second.day < horizon; }) > 0) cs.dirty = true;
  }
}

void attendance_rules_processor::flush(sdk::processor_context& ctx) {
  for (auto& [key, cs] : students_) {
    if (cs.touched) recompute(cs, ctx);
    if (cs.touched) {
      std::set<std::string> now;
      for (const auto& [identity, r] : cs.state.records) now.insert(r.instance);
      for (const auto& inst : cs.instances_seen) {
        if (now.count(inst) > 0) continue;
        auto& ix = index(inst, cs.brin);
        if (ix.students.erase(cs.student_key) > 0) ix.dirty = true;
      }
    }
    if (cs.dirty && !svc_.state_put(key, serialize(cs.state))) {
      svc_.log(SCHAKEL_LOG_ERROR, "attendance-rules: could not store a student's state");
    }
  }
  for (const auto& [key, ix] : indexes_) {
    if (ix.dirty && !svc_.state_put(key, serialize_index(ix.students))) {
      svc_.log(SCHAKEL_LOG_ERROR, "attendance-rules: could not store a snapshot index");
    }
  }
  students_.clear();
  indexes_.clear();
  calendar_cache_.clear();
}

sdk::emitted_signals attendance_rules_processor::emits() {
  // Alerts carry what compute_alerts writes for their rule, plus the calendar recompute adds.
  const std::set<std::string, std::less<>> alert_content{"domain", "indicator", "value",
                                                         "unit",   "severity",  "instrument"};
  const std::set<std::string, std::less<>> plain_content{"domain", "indicator", "severity", "instrument"};
  sdk::emitted_signals out;
  out[std::string(type_mazl)] = {alert_content, mazl_evidence()};
  out[std::string(type_mazl)].evidence.insert({"calendar", "referral"});
  out[std::string(type_leerplicht)] = {alert_content, leerplicht_evidence()};
  out[std::string(type_leerplicht)].evidence.insert("calendar");
  out[std::string(type_lateness)] = {alert_content, lateness_evidence()};
  out[std::string(type_lateness)].evidence.insert("calendar");
  auto& referred = out[std::string(type_referred)];
  referred.content = plain_content;
  referred.evidence.insert(referred_alert_evidence.begin(), referred_alert_evidence.end());
  referred.evidence.insert(referred_own_evidence.begin(), referred_own_evidence.end());
  // An update can follow any alert, the referral included (a referred alert whose evidence changes).
  sdk::declare_lifecycle(
      out,
      {std::string(type_mazl), std::string(type_leerplicht), std::string(type_lateness), std::string(type_referred)},
      std::string(type_retracted), std::string(type_updated), plain_content);
  return out;
}

}  // namespace schakel::plugins::attendance_rules
