#include "state.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "schakel/sdk/days.hpp"

namespace schakel::plugins::match_detection {
namespace {

using json = nlohmann::json;

// Bumped when the stored shape changes incompatibly.
constexpr int state_version = 1;

[[noreturn]] void corrupt(const char* what) {
  throw std::runtime_error(std::string("match-detection state: ") + what);
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<instant> parse_instant(std::string_view t) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!digits(t, 0, 4, y) || t.size() < 20 || t[4] != '-' || !digits(t, 5, 2, mo) || t[7] != '-' ||
      !digits(t, 8, 2, d) || (t[10] != 'T' && t[10] != 't') || !digits(t, 11, 2, h) || t[13] != ':' ||
      !digits(t, 14, 2, mi) || t[16] != ':' || !digits(t, 17, 2, s)) {
    return std::nullopt;
  }
  if (!sdk::valid_date(y, mo, d) || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::size_t pos = 19;
  int millis = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (n < 3) millis = millis * 10 + (t[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0 || n > 9) return std::nullopt;
    for (int i = n; i < 3; ++i) millis *= 10;
  }
  int offset_min = 0;
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    int oh = 0, om = 0;
    if (!digits(t, pos + 1, 2, oh) || pos + 3 >= t.size() || t[pos + 3] != ':' || !digits(t, pos + 4, 2, om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_min = (t[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) return std::nullopt;
  instant out;
  out.day = sdk::days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const std::int64_t local_s = static_cast<std::int64_t>(out.day) * 86400 + h * 3600 + mi * 60 + s;
  out.utc_ms = (local_s - static_cast<std::int64_t>(offset_min) * 60) * 1000 + millis;
  return out;
}

std::string student_state_key(std::string_view brin, std::string_view student_key) {
  return "stu:" + std::string(brin) + ":" + std::string(student_key);
}

std::string serialize(const student_state& s) {
  if (s.empty()) return {};
  json root = json::object();
  root["v"] = state_version;
  json roles = json::object();
  for (const auto& [role, e] : s.roles) {
    json o = {{"id", e.id}, {"o", e.observed_at}};
    if (e.health) o["h"] = true;
    roles[role] = std::move(o);
  }
  root["r"] = std::move(roles);
  if (s.match) {
    json m = {{"r", s.match->roles}, {"ids", s.match->ids}};
    if (s.match->health) m["h"] = true;
    root["m"] = std::move(m);
  }
  return root.dump();
}

student_state parse_student_state(std::string_view text) {
  student_state s;
  if (text.empty()) return s;
  const json root = json::parse(text, nullptr, false);
  if (root.is_discarded() || !root.is_object()) corrupt("not a JSON object");
  if (root.value("v", 0) != state_version) corrupt("unknown version");
  try {
    for (const auto& [role, o] : root.at("r").items()) {
      role_entry e;
      e.id = o.at("id").get<std::string>();
      e.observed_at = o.at("o").get<std::string>();
      auto at = parse_instant(e.observed_at);
      if (!at) corrupt("an observed_at is not RFC 3339");
      e.at = *at;
      e.health = o.value("h", false);
      s.roles.emplace(role, std::move(e));
    }
    if (auto it = root.find("m"); it != root.end()) {
      open_match m;
      m.roles = it->at("r").get<std::set<std::string>>();
      m.ids = it->at("ids").get<std::vector<std::string>>();
      m.health = it->value("h", false);
      s.match = std::move(m);
    }
  } catch (const json::exception&) {
    corrupt("a field has the wrong type or is missing");
  }
  return s;
}

}  // namespace schakel::plugins::match_detection
