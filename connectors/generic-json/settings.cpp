#include "settings.hpp"

#include <algorithm>
#include <set>

#include "schakel/plugin.hpp"

namespace schakel::connectors::generic_json {
namespace {

using ojson = nlohmann::ordered_json;
using sdk::config_error;

// Fields of signal schema v1 a connector produces; the core owns the rest (id, schema_version,
// source.connector/instance, received_at). content.evidence.<key> is checked separately.
const std::vector<std::string_view> targets = {
    "type",
    "observed_at",
    "source.record_id",
    "subject.school.brin",
    "subject.school.vestiging",
    "subject.student_key",
    "subject.class",
    "subject.school_year",
    "subject.leerjaar",
    "content.domain",
    "content.indicator",
    "content.value",
    "content.unit",
    "content.severity",
    "content.instrument",
    "governance.data_category",
    "governance.legal_basis_hints",
    "governance.retention_days",
};

// Every signal needs these; a mapping without them could never produce a valid signal.
const std::vector<std::string_view> must_map = {
    "subject.school.brin", "content.domain", "content.indicator", "content.severity", "governance.data_category",
};

constexpr std::string_view evidence_prefix = "content.evidence.";

bool valid_evidence_key(std::string_view key) {
  if (key.empty() || key.size() > 64) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool known_target(std::string_view t) {
  if (t.substr(0, evidence_prefix.size()) == evidence_prefix)
    return valid_evidence_key(t.substr(evidence_prefix.size()));
  return std::find(targets.begin(), targets.end(), t) != targets.end();
}

// Reverse-DNS: >= 3 dot-separated segments [a-z][a-z0-9_]*.
bool valid_type(std::string_view t) {
  if (t.empty() || t.size() > 255) return false;
  int segments = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = t.find('.', start);
    const std::string_view seg = t.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (seg.empty() || seg[0] < 'a' || seg[0] > 'z') return false;
    for (char c : seg) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    ++segments;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return segments >= 3;
}

nlohmann::json plain(const ojson& v) {
  return nlohmann::json(v);
}

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
  throw config_error(path + ": " + reason);
}

std::string kind_name(const ojson& v) {
  switch (v.type()) {
    case ojson::value_t::null:
      return "null";
    case ojson::value_t::boolean:
      return "boolean";
    case ojson::value_t::string:
      return "string";
    case ojson::value_t::array:
      return "array";
    case ojson::value_t::object:
      return "object";
    default:
      return "number";
  }
}

conversion parse_conversion(const ojson& v, const std::string& path) {
  static const char* allowed = "must be one of string, number, integer, boolean, date";
  if (!v.is_string()) fail(path, allowed);
  const auto& s = v.get_ref<const std::string&>();
  if (s == "string") return conversion::string;
  if (s == "number") return conversion::number;
  if (s == "integer") return conversion::integer;
  if (s == "boolean") return conversion::boolean;
  if (s == "date") return conversion::date;
  fail(path, allowed);
}

rule parse_rule(const std::string& target, const ojson& spec, const std::string& path) {
  if (!spec.is_object()) fail(path, "must be an object with 'pointer' or 'const' (got " + kind_name(spec) + ")");
  rule r;
  r.target = target;
  std::string ptr_text = "/";
  for (char c : target) ptr_text += (c == '.' ? '/' : c);
  r.where = nlohmann::json::json_pointer(ptr_text);

  static const std::set<std::string> keys = {"pointer", "const", "required", "default", "map", "map_default", "as"};
  for (const auto& [key, value] : spec.items()) {
    if (keys.count(key) == 0) fail(path + "." + key, "unknown field");
  }
  const bool has_pointer = spec.contains("pointer");
  const bool has_const = spec.contains("const");
  if (has_pointer == has_const) fail(path, "needs exactly one of 'pointer' and 'const'");

  if (has_const) {
    for (const char* other : {"required", "default", "map", "map_default", "as"}) {
      if (spec.contains(other)) fail(path + "." + other, "not allowed with 'const'");
    }
    const auto& c = spec.at("const");
    if (c.is_null()) fail(path + ".const", "must not be null");
    r.constant = plain(c);
    return r;
  }

  const auto& p = spec.at("pointer");
  if (!p.is_string()) fail(path + ".pointer", "must be a JSON pointer string (\"\" or starting with '/')");
  r.source = pointer::parse(p.get_ref<const std::string&>());
  if (!r.source) fail(path + ".pointer", "not a valid JSON pointer (\"\" or '/'-separated, '~' only as ~0 or ~1)");

  if (spec.contains("required")) {
    if (!spec.at("required").is_boolean()) fail(path + ".required", "must be true or false");
    r.required = spec.at("required").get<bool>();
  }
  if (spec.contains("default")) {
    if (r.required) fail(path, "'required: true' and 'default' exclude each other");
    if (spec.at("default").is_null()) fail(path + ".default", "must not be null");
    r.default_value = plain(spec.at("default"));
  }
  if (spec.contains("as")) r.as = parse_conversion(spec.at("as"), path + ".as");
  if (spec.contains("map")) {
    const auto& m = spec.at("map");
    if (!m.is_object() || m.empty()) fail(path + ".map", "must be a non-empty object (source value -> signal value)");
    std::unordered_map<std::string, nlohmann::json> table;
    for (const auto& [from, to] : m.items()) {
      if (to.is_null()) fail(path + ".map." + from, "must not be null");
      table.emplace(from, plain(to));
    }
    r.map = std::move(table);
  }
  if (spec.contains("map_default")) {
    if (!r.map) fail(path + ".map_default", "only allowed together with 'map'");
    if (spec.at("map_default").is_null()) fail(path + ".map_default", "must not be null");
    r.map_default = plain(spec.at("map_default"));
  }
  return r;
}

/**
 * The types an instance emits must be known from its settings (the hub holds subscriptions' field lists
 * against them), so a type read from the record goes through a map whose every outcome is a type.
 */
void check_type_rule(const rule& r, const std::string& path) {
  const auto is_type = [](const nlohmann::json& v) {
    return v.is_string() && valid_type(v.get_ref<const std::string&>());
  };
  if (!r.source) {
    if (!is_type(r.constant)) fail(path + ".const", "must be a reverse-DNS signal type");
    return;
  }
  if (!r.map)
    fail(path,
         "a type read from the record needs a 'map' from source values to the signal types this instance "
         "emits (the hub checks subscriptions against them)");
  for (const auto& [from, to] : *r.map)
    if (!is_type(to)) fail(path + ".map." + from, "must be a reverse-DNS signal type");
  if (r.map_default && !is_type(*r.map_default)) fail(path + ".map_default", "must be a reverse-DNS signal type");
  if (r.default_value && !is_type(*r.default_value)) fail(path + ".default", "must be a reverse-DNS signal type");
}

}  // namespace

std::optional<pointer> pointer::parse(std::string_view text) {
  pointer p;
  p.text = std::string(text);
  if (text.empty()) return p;
  if (text[0] != '/') return std::nullopt;
  std::string token;
  for (std::size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '/') {
      p.tokens.push_back(std::move(token));
      token.clear();
      continue;
    }
    if (text[i] == '~') {
      if (i + 1 >= text.size() || (text[i + 1] != '0' && text[i + 1] != '1')) return std::nullopt;
      token += text[i + 1] == '0' ? '~' : '/';
      ++i;
      continue;
    }
    token += text[i];
  }
  return p;
}

const nlohmann::json* pointer::find(const nlohmann::json& doc) const noexcept {
  const nlohmann::json* at = &doc;
  for (const auto& token : tokens) {
    if (at->is_object()) {
      const auto it = at->find(token);
      if (it == at->end()) return nullptr;
      at = &*it;
    } else if (at->is_array()) {
      // RFC 6901 array index: "0" or digits without a leading zero.
      if (token.empty() || token.size() > 18 || (token.size() > 1 && token[0] == '0')) return nullptr;
      std::size_t index = 0;
      for (char c : token) {
        if (c < '0' || c > '9') return nullptr;
        index = index * 10 + static_cast<std::size_t>(c - '0');
      }
      if (index >= at->size()) return nullptr;
      at = &(*at)[index];
    } else {
      return nullptr;
    }
  }
  return at;
}

const std::vector<std::string_view>& settable_targets() {
  return targets;
}

settings parse_settings(std::string_view settings_json) {
  ojson doc;
  try {
    doc = ojson::parse(settings_json);
  } catch (const ojson::parse_error& e) {
    fail("settings", "invalid JSON at byte " + std::to_string(e.byte));
  } catch (const ojson::exception&) {
    fail("settings", "invalid JSON: a number is out of range");
  }
  if (!doc.is_object()) fail("settings", "must be a JSON object (got " + kind_name(doc) + ")");

  settings out;
  for (const auto& [key, value] : doc.items()) {
    if (key != "records" && key != "type" && key != "mapping") fail("settings." + key, "unknown field");
  }
  if (doc.contains("records")) {
    const auto& r = doc.at("records");
    if (!r.is_string()) fail("settings.records", "must be a JSON pointer string such as \"/items\"");
    out.records = pointer::parse(r.get_ref<const std::string&>());
    if (!out.records) fail("settings.records", "not a valid JSON pointer (\"\" or starting with '/')");
  }
  if (doc.contains("type")) {
    const auto& t = doc.at("type");
    if (!t.is_string() || !valid_type(t.get_ref<const std::string&>())) {
      fail("settings.type", "must be a reverse-DNS signal type like nl.schakel.attendance.absence.recorded");
    }
    out.type = t.get<std::string>();
  }
  if (!doc.contains("mapping")) fail("settings.mapping", "required");
  const auto& mapping = doc.at("mapping");
  if (!mapping.is_object() || mapping.empty()) fail("settings.mapping", "must be a non-empty object");

  for (const auto& [target, spec] : mapping.items()) {
    const std::string path = "settings.mapping." + target;
    if (!known_target(target)) fail(path, "unknown field");
    if (target == "type" && out.type) fail(path, "'type' is already fixed by settings.type");
    out.rules.push_back(parse_rule(target, spec, path));
  }
  const auto mapped = [&](std::string_view t) {
    return std::any_of(out.rules.begin(), out.rules.end(), [&](const rule& r) { return r.target == t; });
  };
  if (!out.type && !mapped("type")) fail("settings.type", "required (or map the target 'type' under settings.mapping)");
  for (const auto& r : out.rules) {
    if (r.target == "type") check_type_rule(r, "settings.mapping.type");
  }
  for (auto t : must_map) {
    if (!mapped(t)) fail("settings.mapping", "target " + std::string(t) + " must be mapped (every signal requires it)");
  }
  return out;
}

}  // namespace schakel::connectors::generic_json
