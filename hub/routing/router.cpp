#include "routing/router.hpp"

#include <algorithm>
#include <string_view>

#include "schakel/sdk/alert_lifecycle.hpp"

namespace schakel::routing {
namespace {

bool type_matches(const std::vector<std::string>& patterns, std::string_view type) {
  if (patterns.empty()) return true;
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) {
    if (!p.empty() && p.back() == '*')
      return type.substr(0, p.size() - 1) == std::string_view(p).substr(0, p.size() - 1);
    return type == p;
  });
}

std::string string_at(const nlohmann::json& j, const nlohmann::json::json_pointer& ptr) {
  if (!j.contains(ptr)) return {};
  const auto& v = j.at(ptr);
  return v.is_string() ? v.get<std::string>() : std::string{};
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string routing_type(const nlohmann::json& signal) {
  static const nlohmann::json::json_pointer type_ptr("/type");
  std::string type = string_at(signal, type_ptr);
  // A retraction or an update follows the alert it is about: it reaches exactly the subscriptions that
  // take the alert's type, so a partner hears that an alert it received changed or no longer holds, and
  // no partner learns of an alert it never received.
  if (const std::string_view field = sdk::followed_type_field(type); !field.empty()) {
    const nlohmann::json::json_pointer followed_ptr("/content/evidence/" + std::string(field));
    std::string followed = string_at(signal, followed_ptr);
    if (!followed.empty() && !sdk::is_lifecycle_type(followed)) return followed;
  }
  return type;
}

}  // namespace

bool matches(const config::subscription_filter& filter, const nlohmann::json& signal) {
  static const nlohmann::json::json_pointer domain_ptr("/content/domain"), severity_ptr("/content/severity"),
      brin_ptr("/subject/school/brin"), vest_ptr("/subject/school/vestiging"), instance_ptr("/source/instance");
  if (!type_matches(filter.types, routing_type(signal))) return false;
  if (!filter.domains.empty() && !contains(filter.domains, string_at(signal, domain_ptr))) return false;
  if (filter.min_severity) {
    auto s = parse_severity(string_at(signal, severity_ptr));
    if (!s || *s < *filter.min_severity) return false;
  }
  if (!filter.schools.empty()) {
    const std::string brin = string_at(signal, brin_ptr);
    const std::string full = brin + string_at(signal, vest_ptr);
    if (!contains(filter.schools, brin) && !contains(filter.schools, full)) return false;
  }
  if (!filter.instances.empty() && !contains(filter.instances, string_at(signal, instance_ptr))) return false;
  return true;
}

nlohmann::json project(const nlohmann::json& signal, const std::vector<std::string>& fields) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& field : fields) {
    std::string pointer = "/";
    for (char c : field) pointer += (c == '.') ? '/' : c;
    const nlohmann::json::json_pointer ptr(pointer);
    if (signal.contains(ptr)) out[ptr] = signal.at(ptr);
  }
  return out;
}

nlohmann::json cloudevent(const nlohmann::json& signal, const nlohmann::json& data) {
  return {
      {"specversion", "1.0"},
      {"id", signal.value("id", "")},
      {"source", "/schakel/connectors/" + signal.at("source").value("instance", "")},
      {"type", signal.value("type", "")},
      {"time", signal.value("observed_at", "")},
      {"datacontenttype", "application/json"},
      {"dataschema", "urn:schakel:schema:signal:v1"},
      {"data", data},
  };
}

std::string render_cloudevent(const nlohmann::json& signal, const nlohmann::json& data) {
  return cloudevent(signal, data).dump();
}

std::uint32_t lane_for(const nlohmann::json& signal, std::uint32_t lanes) {
  if (lanes <= 1) return 0;
  static const nlohmann::json::json_pointer key_ptr("/subject/student_key");
  // FNV-1a: std::hash is not promised to be stable across builds, and lanes are stored on disk.
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : string_at(signal, key_ptr)) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<std::uint32_t>(h % lanes);
}

}  // namespace schakel::routing
