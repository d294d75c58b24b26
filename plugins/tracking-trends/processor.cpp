#include "processor.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include "schakel/sdk/alert_lifecycle.hpp"
#include "schakel/sdk/json_fields.hpp"
#include "trends.hpp"

namespace schakel::plugins::tracking_trends {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using sdk::find_path;
using sdk::string_at;

constexpr std::string_view plugin_name = "tracking-trends";

bool valid_round(std::string_view r) {
  return !r.empty() && r.size() <= 32 && std::all_of(r.begin(), r.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':';
  });
}

bool valid_domain(std::string_view d) {
  return d == "emotional" || d == "behavioural" || d == "social" || d == "wellbeing";
}

/** The subject fields an alert carries: enough to route it, nothing the partner does not need. */
ojson subject_of(const json& signal) {
  ojson out = ojson::object();
  const json* subj = find_path(signal, {"subject"});
  if (subj == nullptr || !subj->is_object()) return out;
  for (const char* k : {"school", "student_key", "class", "leerjaar"}) {
    if (auto it = subj->find(k); it != subj->end()) out[k] = *it;
  }
  return out;
}

/** source.record_id of an alert: its key, or a hash of it when the key is longer than the schema allows. */
std::string record_id_of(const std::string& key) {
  return key.size() <= 128 ? key : "tracking-trends:" + fnv1a_hex(key);
}

std::string fingerprint(const derived_alert& a) {
  return fnv1a_hex(a.type + "|" + a.evidence.dump());
}

/** The signal of alert `a` under `type` (the alert itself, or its update) with `evidence`. */
ojson alert_signal(std::string_view type, const std::string& key, const ojson& subject, const derived_alert& a,
                   ojson evidence) {
  ojson sig = ojson::object();
  sig["type"] = type;
  sig["source"] = {{"record_id", record_id_of(key)}};
  sig["observed_at"] = a.date + "T00:00:00Z";
  sig["subject"] = subject;
  ojson content = ojson::object();
  content["domain"] = a.domain;
  content["indicator"] = a.indicator;
  content["value"] = a.value;
  content["severity"] = a.severity;
  content["instrument"] = plugin_name;
  content["evidence"] = std::move(evidence);
  sig["content"] = std::move(content);
  sig["governance"] = {{"data_category", "ordinary"}};
  sig["derived_from"] = a.derived_from;
  return sig;
}

/** An update routes as the alert it updates: it may only when what routing sees is unchanged. */
bool same_routing(const held_alert& held, const derived_alert& a) {
  return held.type == a.type && held.domain == a.domain && held.indicator == a.indicator && held.severity == a.severity;
}

}  // namespace

tracking_trends_processor::tracking_trends_processor(std::string_view settings_json, sdk::processor_services& svc)
    : settings_(settings::parse(settings_json)),
      svc_(svc),
      // Starting afresh loses one student's emitted-alert memory (they may be told again), which is
      // better than blocking every later measurement about them.
      students_(svc, plugin_name, &student_state_key, &parse_student_state, sdk::unreadable_state::rewrite) {}

void tracking_trends_processor::process(std::string_view signal_json, sdk::processor_context&) {
  const json signal = json::parse(signal_json, nullptr, false);
  if (signal.is_discarded() || !signal.is_object()) {
    svc_.log(SCHAKEL_LOG_WARN, "tracking-trends: a consumed signal is not a JSON object; skipped");
    return;
  }
  // Anything else under the consumed prefix (future measurement types) is not ours.
  if (string_at(signal, {"type"}) == type_measurement) on_measurement(signal);
}

void tracking_trends_processor::on_measurement(const json& signal) {
  const std::string id = string_at(signal, {"id"});
  const std::string brin = string_at(signal, {"subject", "school", "brin"});
  const std::string student_key = string_at(signal, {"subject", "student_key"});
  const std::string observed = string_at(signal, {"observed_at"});
  const std::string date = observed.substr(0, std::min<std::size_t>(observed.size(), 10));
  std::string instrument = string_at(signal, {"content", "evidence", "instrument"});
  if (instrument.empty()) instrument = string_at(signal, {"content", "instrument"});
  series_key key{instrument, string_at(signal, {"content", "evidence", "respondent"}),
                 string_at(signal, {"content", "evidence", "scale"})};
  measurement m;
  m.id = id;
  m.band = string_at(signal, {"content", "evidence", "band"});
  m.domain = string_at(signal, {"content", "domain"});
  const json* value = find_path(signal, {"content", "value"});
  const json* rank = find_path(signal, {"content", "evidence", "band_rank"});
  const bool rank_ok =
      rank != nullptr && rank->is_number_integer() && rank->get<long long>() >= 0 && rank->get<long long>() <= 100;
  if (id.empty() || brin.empty() || student_key.empty() || !parse_day(date) || !valid_instrument(key.instrument) ||
      (key.respondent != "student" && key.respondent != "teacher" && key.respondent != "parent") ||
      !valid_name(key.scale) || !valid_name(m.band) || !valid_domain(m.domain) || value == nullptr ||
      !value->is_number() || !rank_ok) {
    svc_.log(SCHAKEL_LOG_WARN,
             "tracking-trends: measurement.recorded without id, subject.school.brin, subject.student_key, a dated "
             "observed_at, content.domain, a numeric content.value or valid evidence instrument/respondent/scale/"
             "band/band_rank; skipped");
    return;
  }
  m.score = value->get<double>();
  m.norm_scored = string_at(signal, {"content", "evidence", "value_kind"}) == "norm_score";
  m.band_rank = static_cast<int>(rank->get<long long>());
  // A malformed round label is ignored: the measurement then groups with others of its date.
  if (const std::string r = string_at(signal, {"content", "evidence", "round"}); valid_round(r)) m.round = r;

  auto& cs = students_.get(brin, student_key);
  const ojson subject = subject_of(signal);
  if (cs.state.subject != subject) {
    cs.state.subject = subject;
    cs.dirty = true;
  }
  series& ser = cs.state.series_by_key[key.joined()];
  auto it = ser.find(date);
  if (it != ser.end() && it->second.same_values(m)) return;  // a re-import: the first id stays the evidence
  ser[date] = std::move(m);                                  // new, or a correction: the latest received is the truth
  cs.touched = cs.dirty = true;
}

std::string tracking_trends_processor::emit_retraction(const cached_student& cs, const std::string& key,
                                                       const held_alert& held, sdk::processor_context& ctx) {
  ojson sig = ojson::object();
  sig["type"] = type_retracted;
  sig["source"] = {{"record_id", record_id_of(key)}};
  sig["observed_at"] = held.date + "T00:00:00Z";
  sig["subject"] = cs.state.subject;
  sig["content"] = {{"domain", held.domain},
                    {"indicator", held.indicator},
                    {"severity", held.severity},
                    {"instrument", plugin_name},
                    {"evidence", sdk::retraction_evidence(held.id, held.type)}};
  sig["governance"] = {{"data_category", "ordinary"}};
  sig["derived_from"] = ojson::array({held.id});
  std::string out = ctx.emit(sig.dump());
  if (out.empty()) svc_.log(SCHAKEL_LOG_ERROR, "tracking-trends: the host refused a retraction (a bug)");
  return out;
}

void tracking_trends_processor::recompute(cached_student& cs, sdk::processor_context& ctx) {
  student_state& st = cs.state;

  // Pruning, relative to the newest measurement so history ages only with new rounds. Whole rounds go
  // at once, so no round is ever judged on half its measurements.
  std::string newest;
  std::map<std::string, std::string> round_dates;
  for (const auto& [k, ser] : st.series_by_key) {
    for (const auto& [date, m] : ser) {
      newest = std::max(newest, date);
      auto& rd = round_dates[round_of(date, m)];
      rd = std::max(rd, date);
    }
  }
  if (!newest.empty()) {
    const std::string horizon = format_day(*parse_day(newest) - settings_.keep_days());
    for (auto it = st.series_by_key.begin(); it != st.series_by_key.end();) {
      std::erase_if(it->second, [&](const auto& kv) { return round_dates[round_of(kv.first, kv.second)] < horizon; });
      it = it->second.empty() ? st.series_by_key.erase(it) : std::next(it);
    }
  }

  const evaluation ev = evaluate(st, settings_);

  // One rule for every alert (sdk::next_step): a latest alert whose evidence changed (another scale of
  // the same round arrived, a corrected score that still counts) is updated, never retracted and sent
  // again; an alert that no longer holds is retracted. Retractions come before new alerts.
  for (auto it = st.alerts.begin(); it != st.alerts.end();) {
    auto& [key, held] = *it;
    if (ev.known.count(key) == 0) {
      // Its measurements were pruned: nothing left to judge it by, and it held when it was sent.
      it = st.alerts.erase(it);
      cs.dirty = true;
      continue;
    }
    auto h = ev.holding.find(key);
    const bool holds = h != ev.holding.end();
    // An older alert that still holds stands even if its evidence shifted: it was true when sent.
    if (holds && !h->second.latest) {
      ++it;
      continue;
    }
    const std::string now_fp = holds ? fingerprint(h->second) : std::string();
    const sdk::alert_step step = sdk::next_step(held.fingerprint, now_fp);
    if (step == sdk::alert_step::none) {
      ++it;
      continue;
    }
    if (step == sdk::alert_step::update && same_routing(held, h->second)) {
      const derived_alert& a = h->second;
      const ojson sig =
          alert_signal(type_updated, key, st.subject, a, sdk::update_evidence(held.id, held.type, a.evidence));
      if (ctx.emit(sig.dump()).empty()) {
        svc_.log(SCHAKEL_LOG_ERROR,
                 "tracking-trends: the host refused an alert update (a bug); it is retried with the student's next "
                 "change");
      } else {
        held.date = a.date;
        held.fingerprint = now_fp;
        cs.dirty = true;
      }
      ++it;
      continue;
    }
    // No longer holds, or would now route elsewhere (another severity or domain): retract, and the
    // loop below sends what holds now as a new alert.
    const bool ok = !emit_retraction(cs, key, held, ctx).empty();
    cs.dirty = true;
    // A refused retraction keeps the alert held, so the next change for this student tries again.
    it = ok ? st.alerts.erase(it) : std::next(it);
  }

  for (const auto& [key, a] : ev.holding) {
    if (!a.latest || st.alerts.count(key) > 0) continue;
    const std::string id = ctx.emit(alert_signal(a.type, key, st.subject, a, a.evidence).dump());
    if (id.empty()) {
      svc_.log(SCHAKEL_LOG_ERROR,
               "tracking-trends: the host refused a derived signal (a bug); it is retried with the student's next "
               "change");
      continue;
    }
    st.alerts.emplace(key, held_alert{id, a.type, a.date, a.domain, a.indicator, a.severity, fingerprint(a)});
    cs.dirty = true;
  }
}

void tracking_trends_processor::flush(sdk::processor_context& ctx) {
  for (auto& [key, cs] : students_) {
    if (cs.touched) recompute(cs, ctx);
    if (cs.dirty && !svc_.state_put(key, serialize(cs.state))) {
      svc_.log(SCHAKEL_LOG_ERROR, "tracking-trends: could not store a student's state");
    }
  }
  students_.clear();
}

sdk::emitted_signals tracking_trends_processor::emits() {
  const std::set<std::string, std::less<>> alert_content{"domain", "indicator", "value", "severity", "instrument"};
  sdk::emitted_signals out;
  // Both name their series (put_series) before their own evidence.
  out[std::string(type_at_risk)] = {
      alert_content, {"instrument", "respondent", "scale", "date", "score", "band", "band_rank", "risk_rank", "round"}};
  out[std::string(type_declined)] = {
      alert_content,
      {"instrument", "respondent", "scale", "previous_date", "date", "previous_score", "score", "previous_band", "band",
       "previous_band_rank", "band_rank", "worsened_by", "previous_value_kind", "value_kind", "decline_by", "reason"}};
  auto& withdrawn = out[std::string(type_withdrawn)];
  withdrawn = {alert_content, {"round", "date", "behavioural_measured", "behavioural_band_rank"}};
  for (const char* side : {"emotional", "social"})
    for (const char* suffix : side_keys) withdrawn.evidence.insert(std::string(side) + suffix);
  sdk::declare_lifecycle(out, {std::string(type_at_risk), std::string(type_declined), std::string(type_withdrawn)},
                         std::string(type_retracted), std::string(type_updated),
                         {"domain", "indicator", "severity", "instrument"});
  return out;
}

}  // namespace schakel::plugins::tracking_trends
