#include "state.hpp"

#include <stdexcept>

namespace schakel::plugins::tracking_trends {
namespace {

using ojson = nlohmann::ordered_json;

// Bumped when the stored shape changes incompatibly.
constexpr int state_version = 1;

[[noreturn]] void corrupt(const char* what) {
  throw std::runtime_error(std::string("tracking-trends state: ") + what);
}

}  // namespace

std::optional<series_key> series_key::split(std::string_view text) {
  const auto a = text.find('|');
  if (a == std::string_view::npos) return std::nullopt;
  const auto b = text.find('|', a + 1);
  if (b == std::string_view::npos || text.find('|', b + 1) != std::string_view::npos) return std::nullopt;
  return series_key{std::string(text.substr(0, a)), std::string(text.substr(a + 1, b - a - 1)),
                    std::string(text.substr(b + 1))};
}

std::string student_state_key(std::string_view brin, std::string_view student_key) {
  return "stu:" + std::string(brin) + ":" + std::string(student_key);
}

std::string serialize(const student_state& s) {
  ojson root = ojson::object();
  root["v"] = state_version;
  root["subject"] = s.subject;
  ojson all = ojson::object();
  for (const auto& [key, ser] : s.series_by_key) {
    ojson dates = ojson::object();
    for (const auto& [date, m] : ser) {
      ojson o = ojson::object();
      o["id"] = m.id;
      o["s"] = m.score;
      if (m.norm_scored) o["nk"] = true;
      o["b"] = m.band;
      o["r"] = m.band_rank;
      if (!m.round.empty()) o["rd"] = m.round;
      o["dm"] = m.domain;
      dates[date] = std::move(o);
    }
    all[key] = std::move(dates);
  }
  root["series"] = std::move(all);
  ojson alerts = ojson::object();
  for (const auto& [key, a] : s.alerts) {
    alerts[key] = {{"id", a.id},       {"t", a.type},      {"d", a.date},       {"dm", a.domain},
                   {"i", a.indicator}, {"sv", a.severity}, {"f", a.fingerprint}};
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
    for (const auto& [key, dates] : root.at("series").items()) {
      if (!series_key::split(key)) corrupt("a series key is malformed");
      series ser;
      for (const auto& [date, o] : dates.items()) {
        if (!parse_day(date)) corrupt("a measurement date is not YYYY-MM-DD");
        measurement m;
        m.id = o.at("id").get<std::string>();
        m.score = o.at("s").get<double>();
        m.norm_scored = o.value("nk", false);
        m.band = o.at("b").get<std::string>();
        m.band_rank = o.at("r").get<int>();
        m.round = o.value("rd", "");
        m.domain = o.at("dm").get<std::string>();
        ser.emplace(date, std::move(m));
      }
      s.series_by_key.emplace(key, std::move(ser));
    }
    for (const auto& [key, o] : root.at("alerts").items()) {
      held_alert a;
      a.id = o.at("id").get<std::string>();
      a.type = o.at("t").get<std::string>();
      a.date = o.at("d").get<std::string>();
      a.domain = o.at("dm").get<std::string>();
      a.indicator = o.at("i").get<std::string>();
      a.severity = o.at("sv").get<std::string>();
      a.fingerprint = o.at("f").get<std::string>();
      if (!parse_day(a.date)) corrupt("an alert date is not YYYY-MM-DD");
      s.alerts.emplace(key, std::move(a));
    }
  } catch (const nlohmann::json::exception&) {
    corrupt("a field has the wrong type or is missing");
  }
  return s;
}

}  // namespace schakel::plugins::tracking_trends
