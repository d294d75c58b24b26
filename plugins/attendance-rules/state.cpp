#include "state.hpp"

#include <cstdio>
#include <stdexcept>

#include "rules.hpp"

namespace schakel::plugins::attendance_rules {
namespace {

using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

// Bumped when the stored shape changes incompatibly.
constexpr int state_version = 1;

[[noreturn]] void corrupt(const char* what) {
  throw std::runtime_error(std::string("attendance-rules state: ") + what);
}

std::int32_t day_of(const json& v) {
  if (!v.is_string()) corrupt("a date is not a string");
  auto d = parse_date(v.get<std::string>());
  if (!d) corrupt("a date is not YYYY-MM-DD");
  return *d;
}

/**
 * Leerplicht alerts were keyed by period start and reached day; the period alone is the report now,
 * so later hours in it update the alert. Old keys are read as the new ones, so the upgrade neither
 * retracts nor re-sends an alert that was already told.
 */
std::string leerplicht_key_of(const std::string& key, const stored_alert& a) {
  constexpr std::string_view prefix = "leerplicht:";
  if (a.type != type_leerplicht || !key.starts_with(prefix) || key.size() != prefix.size() + 21) return key;
  const auto start = parse_date(std::string_view(key).substr(prefix.size(), 10));
  return start ? leerplicht_key(*start) : key;
}

}  // namespace

std::string record_identity(std::string_view instance, std::string_view record_id) {
  std::string out(instance);
  out += '\x1f';
  out += record_id;
  return out;
}

std::string student_state_key(std::string_view brin, std::string_view student_key) {
  return "stu:" + std::string(brin) + ":" + std::string(student_key);
}

std::string index_state_key(std::string_view instance, std::string_view brin) {
  return "idx:" + std::string(instance) + ":" + std::string(brin);
}

std::string serialize(const student_state& s) {
  ojson root = ojson::object();
  root["v"] = state_version;
  root["subject"] = s.subject;
  ojson recs = ojson::array();
  for (const auto& [identity, r] : s.records) {
    ojson o = ojson::object();
    o["i"] = r.instance;
    o["r"] = r.record_id;
    o["d"] = format_date(r.day);
    o["c"] = to_string(r.cat);
    if (r.lessons) o["l"] = *r.lessons;
    if (r.minutes) o["m"] = *r.minutes;
    if (r.whole_day) o["w"] = true;
    if (r.age) o["a"] = *r.age;
    if (r.basic_qualification) o["q"] = *r.basic_qualification;
    if (!r.snapshot.empty()) o["s"] = r.snapshot;
    if (!r.vestiging.empty()) o["ve"] = r.vestiging;
    if (!r.signal_id.empty()) o["id"] = r.signal_id;
    recs.push_back(std::move(o));
  }
  root["records"] = std::move(recs);
  ojson alerts = ojson::object();
  for (const auto& [key, a] : s.alerts) {
    ojson o = ojson::object();
    o["id"] = a.id;
    o["t"] = a.type;
    o["d"] = format_date(a.day);
    o["f"] = a.fingerprint;
    o["e"] = a.evidence;
    if (!a.used.empty()) {
      ojson u = ojson::array();
      for (auto d : a.used) u.push_back(format_date(d));
      o["u"] = std::move(u);
    }
    if (!a.referred_id.empty()) o["ref"] = a.referred_id;
    if (!a.referral_extra.empty()) o["rx"] = a.referral_extra;
    alerts[key] = std::move(o);
  }
  root["alerts"] = std::move(alerts);
  return root.dump();
}

student_state parse_student_state(std::string_view text) {
  const ojson root = ojson::parse(text, nullptr, false);
  if (root.is_discarded() || !root.is_object()) corrupt("not a JSON object");
  if (root.value("v", 0) != state_version) corrupt("unknown version");
  student_state s;
  try {
    s.subject = root.at("subject");
    for (const auto& o : root.at("records")) {
      stored_record r;
      r.instance = o.at("i").get<std::string>();
      r.record_id = o.at("r").get<std::string>();
      r.day = day_of(o.at("d"));
      if (!parse_category(o.at("c").get<std::string>(), r.cat)) corrupt("unknown category");
      if (o.contains("l")) r.lessons = o["l"].get<int>();
      if (o.contains("m")) r.minutes = o["m"].get<int>();
      r.whole_day = o.value("w", false);
      if (o.contains("a")) r.age = o["a"].get<int>();
      if (o.contains("q")) r.basic_qualification = o["q"].get<bool>();
      r.snapshot = o.value("s", "");
      r.vestiging = o.value("ve", "");
      r.signal_id = o.value("id", "");
      s.records.emplace(record_identity(r.instance, r.record_id), std::move(r));
    }
    for (const auto& [key, o] : root.at("alerts").items()) {
      stored_alert a;
      a.id = o.at("id").get<std::string>();
      a.type = o.at("t").get<std::string>();
      a.day = day_of(o.at("d"));
      a.fingerprint = o.at("f").get<std::string>();
      a.evidence = o.at("e");
      if (o.contains("u")) {
        for (const auto& d : o["u"]) a.used.push_back(day_of(d));
      }
      a.referred_id = o.value("ref", "");
      if (o.contains("rx")) {
        if (!o["rx"].is_object()) corrupt("a referral's evidence is not an object");
        a.referral_extra = o["rx"];
      }
      s.alerts.emplace(leerplicht_key_of(key, a), std::move(a));
    }
  } catch (const nlohmann::json::exception&) {
    corrupt("a field has the wrong type or is missing");
  }
  return s;
}

std::string serialize_index(const std::set<std::string>& students) {
  return json(students).dump();
}

std::set<std::string> parse_index(std::string_view text) {
  const json root = json::parse(text, nullptr, false);
  if (root.is_discarded() || !root.is_array()) corrupt("index is not a JSON array");
  std::set<std::string> out;
  for (const auto& v : root) {
    if (!v.is_string()) corrupt("index entry is not a string");
    out.insert(v.get<std::string>());
  }
  return out;
}

}  // namespace schakel::plugins::attendance_rules
