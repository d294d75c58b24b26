#include "profile.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <string>

#include "common/text.hpp"
#include "embedded_profiles.hpp"
#include "schakel/plugin.hpp"

namespace schakel::connectors::tracking {
namespace {

using nlohmann::json;
namespace txt = schakel::connectors::text;

constexpr std::string_view field_names[field_count] = {"student_key", "date",      "instrument", "respondent",
                                                       "scale",       "raw_score", "norm_score", "band",
                                                       "class",       "leerjaar",  "round",      "record_id"};

constexpr std::string_view domains[] = {"emotional", "behavioural", "social", "wellbeing"};
constexpr std::string_view competences[] = {"self_awareness", "self_management", "social_awareness",
                                            "relationship_skills", "responsible_decision_making"};
constexpr std::string_view severities[] = {"info", "attention", "concern", "urgent"};
constexpr std::string_view respondent_kinds[] = {"student", "teacher", "parent"};

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
  throw sdk::config_error(path + ": " + reason);
}

template <std::size_t N>
std::string one_of(const std::string_view (&list)[N]) {
  std::string out = "expected one of ";
  for (std::size_t i = 0; i < N; ++i) out += (i ? ", " : "") + std::string(list[i]);
  return out;
}

template <std::size_t N>
std::string expect_enum(const json& v, const std::string& path, const std::string_view (&list)[N]) {
  if (!v.is_string()) fail(path, "must be a string (" + one_of(list) + ")");
  const std::string s = v.get<std::string>();
  if (std::find(std::begin(list), std::end(list), s) == std::end(list)) fail(path, one_of(list));
  return s;
}

std::string expect_string(const json& v, const std::string& path, std::size_t max_len = 128) {
  if (!v.is_string()) fail(path, "must be a string");
  std::string s = v.get<std::string>();
  if (txt::trim(s).empty()) fail(path, "must not be empty");
  if (s.size() > max_len) fail(path, "longer than " + std::to_string(max_len) + " characters");
  return s;
}

// Ids end up in signals (scale, band) and derived record ids, hence the narrow alphabet.
std::string expect_id(const json& v, const std::string& path) {
  const std::string s = expect_string(v, path, 64);
  for (const char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) fail(path, "must match [a-z0-9_]+");
  }
  return s;
}

// Instrument ids: the schema allows any string; keep them readable and free of separators.
std::string expect_instrument(const json& v, const std::string& path) {
  const std::string s = expect_string(v, path, 64);
  for (const char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')) {
      fail(path, "must match [a-z0-9_.-]+");
    }
  }
  return s;
}

// YAML scalars arrive as strings, so numbers are accepted in either form.
double expect_number(const json& v, const std::string& path) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string s(txt::trim(v.get<std::string>()));
    double d = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec == std::errc{} && end == s.data() + s.size() && !s.empty()) return d;
  }
  fail(path, "must be a number");
}

const json& expect_object(const json& v, const std::string& path) {
  if (!v.is_object()) fail(path, "must be an object");
  return v;
}

const json& expect_array(const json& v, const std::string& path) {
  if (!v.is_array()) fail(path, "must be a list");
  return v;
}

void check_keys(const json& obj, const std::string& path, std::initializer_list<std::string_view> known) {
  for (const auto& [k, _] : obj.items()) {
    if (std::find(known.begin(), known.end(), k) == known.end()) fail(path + "." + k, "unknown key");
  }
}

std::vector<std::string> value_list(const json& v, const std::string& path) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(txt::ascii_lower(txt::trim(expect_string(v, path))));
    return out;
  }
  expect_array(v, path);
  for (std::size_t i = 0; i < v.size(); ++i) {
    out.push_back(txt::ascii_lower(txt::trim(expect_string(v[i], path + "[" + std::to_string(i) + "]"))));
  }
  return out;
}

void apply_mapping(settings& s, const json& m, const std::string& path) {
  expect_object(m, path);
  check_keys(m, path,
             {"columns", "instrument", "respondent", "respondents", "scales", "scale_columns_hold", "bands",
              "norm_bands", "delimiter", "encoding", "description"});

  if (m.contains("columns")) {
    const json& cols = expect_object(m["columns"], path + ".columns");
    for (const auto& [k, v] : cols.items()) {
      const auto it = std::find(std::begin(field_names), std::end(field_names), k);
      if (it == std::end(field_names)) fail(path + ".columns." + k, "unknown field");
      if (v.is_null()) continue;
      s.columns[static_cast<std::size_t>(it - std::begin(field_names))] =
          std::string(txt::trim(expect_string(v, path + ".columns." + k)));
    }
  }
  if (m.contains("instrument")) s.instrument = expect_instrument(m["instrument"], path + ".instrument");
  if (m.contains("respondent")) s.respondent = expect_enum(m["respondent"], path + ".respondent", respondent_kinds);
  if (m.contains("respondents")) {
    const json& r = expect_object(m["respondents"], path + ".respondents");
    for (const auto& [k, v] : r.items()) {
      s.respondents.emplace_back(txt::ascii_lower(txt::trim(k)),
                                 expect_enum(v, path + ".respondents." + k, respondent_kinds));
    }
  }
  if (m.contains("delimiter")) {
    const std::string d = expect_string(m["delimiter"], path + ".delimiter");
    if (d != ";" && d != ",") fail(path + ".delimiter", "expected \";\" or \",\"");
    s.delimiter = d[0];
  }
  if (m.contains("encoding")) {
    static constexpr std::string_view encodings[] = {"auto", "utf-8", "windows-1252"};
    const std::string e = expect_enum(m["encoding"], path + ".encoding", encodings);
    s.encoding = e == "auto" ? encoding::automatic : e == "utf-8" ? encoding::utf8 : encoding::windows1252;
  }
  if (m.contains("scale_columns_hold")) {
    static constexpr std::string_view kinds[] = {"norm_score", "raw_score", "band"};
    const std::string k = expect_enum(m["scale_columns_hold"], path + ".scale_columns_hold", kinds);
    s.wide_holds = k == "norm_score"  ? cell_kind::norm_score
                   : k == "raw_score" ? cell_kind::raw_score
                                      : cell_kind::band;
  }

  const std::string scales_path = path + ".scales";
  if (!m.contains("scales")) fail(scales_path, "required (scale id -> {domain, competence?, values | column})");
  const json& scales = expect_object(m["scales"], scales_path);
  if (scales.empty()) fail(scales_path, "must list at least one scale");
  bool any_column = false;
  bool any_values = false;
  for (const auto& [id, v] : scales.items()) {
    const std::string p = scales_path + "." + id;
    expect_object(v, p);
    check_keys(v, p, {"domain", "competence", "values", "column"});
    scale sc;
    sc.id = expect_id(json(id), p);
    if (!v.contains("domain")) fail(p + ".domain", "required (" + one_of(domains) + ")");
    sc.domain = expect_enum(v["domain"], p + ".domain", domains);
    if (v.contains("competence")) sc.competence = expect_enum(v["competence"], p + ".competence", competences);
    if (v.contains("column")) {
      if (v.contains("values")) fail(p, "give either column (wide export) or values (scale column), not both");
      sc.column = std::string(txt::trim(expect_string(v["column"], p + ".column")));
      any_column = true;
    } else {
      sc.values = v.contains("values") ? value_list(v["values"], p + ".values") : std::vector<std::string>{sc.id};
      any_values = true;
    }
    s.scales.push_back(std::move(sc));
  }
  if (any_column && any_values) fail(scales_path, "either every scale names its column (wide export) or none does");
  // A cell value or column claimed by two scales would map rows silently to whichever came last.
  for (std::size_t i = 0; i < s.scales.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const scale& a = s.scales[j];
      const scale& b = s.scales[i];
      if (!a.column.empty() && txt::iequals(a.column, b.column)) {
        fail(scales_path + "." + b.id + ".column", "also the column of scale '" + a.id + "'");
      }
      for (const auto& v : b.values) {
        if (std::find(a.values.begin(), a.values.end(), v) != a.values.end()) {
          fail(scales_path + "." + b.id + ".values", "a value is also listed for scale '" + a.id + "'");
        }
      }
    }
  }
  s.wide = any_column;

  const std::string bands_path = path + ".bands";
  if (!m.contains("bands")) fail(bands_path, "required (list of {name, severity, values?}, best first)");
  const json& bands = expect_array(m["bands"], bands_path);
  if (bands.empty()) fail(bands_path, "must list at least one band");
  for (std::size_t i = 0; i < bands.size(); ++i) {
    const std::string p = bands_path + "[" + std::to_string(i) + "]";
    const json& b = expect_object(bands[i], p);
    check_keys(b, p, {"name", "severity", "values"});
    band bd;
    if (!b.contains("name")) fail(p + ".name", "required");
    bd.name = expect_id(b["name"], p + ".name");
    for (const auto& other : s.bands) {
      if (other.name == bd.name) fail(p + ".name", "band '" + bd.name + "' is listed twice");
    }
    if (!b.contains("severity")) fail(p + ".severity", "required (" + one_of(severities) + ")");
    bd.severity = expect_enum(b["severity"], p + ".severity", severities);
    bd.values = b.contains("values") ? value_list(b["values"], p + ".values") : std::vector<std::string>{bd.name};
    for (const auto& other : s.bands) {
      for (const auto& v : bd.values) {
        if (std::find(other.values.begin(), other.values.end(), v) != other.values.end()) {
          fail(p + ".values", "a value is also listed for band '" + other.name + "'");
        }
      }
    }
    s.bands.push_back(std::move(bd));
  }

  if (m.contains("norm_bands")) {
    const std::string np = path + ".norm_bands";
    const json& nb = expect_array(m["norm_bands"], np);
    for (std::size_t i = 0; i < nb.size(); ++i) {
      const std::string p = np + "[" + std::to_string(i) + "]";
      const json& t = expect_object(nb[i], p);
      check_keys(t, p, {"band", "min", "max"});
      if (!t.contains("band")) fail(p + ".band", "required");
      const std::string name = expect_id(t["band"], p + ".band");
      const auto it = std::find_if(s.bands.begin(), s.bands.end(), [&](const band& b) { return b.name == name; });
      if (it == s.bands.end()) fail(p + ".band", "not one of the bands listed");
      norm_threshold th;
      th.band_rank = static_cast<std::size_t>(it - s.bands.begin());
      if (t.contains("min")) th.min = expect_number(t["min"], p + ".min");
      if (t.contains("max")) th.max = expect_number(t["max"], p + ".max");
      if (th.min && th.max && *th.min > *th.max) fail(p, "min is above max");
      s.norm_bands.push_back(th);
    }
  }

  // The row must yield a student, a date, an instrument, a respondent, a scale and a band.
  const std::string cp = path + ".columns.";
  if (!s.col(field::student_key)) fail(cp + "student_key", "required");
  if (!s.col(field::date)) fail(cp + "date", "required");
  if (!s.col(field::instrument) && !s.instrument)
    fail(path + ".instrument", "required when columns.instrument is not mapped");
  if (!s.col(field::respondent) && !s.respondent)
    fail(path + ".respondent", "required when columns.respondent is not mapped");
  if (s.col(field::respondent) && s.respondents.empty())
    fail(path + ".respondents", "required when columns.respondent is mapped");
  if (s.wide) {
    if (s.col(field::scale)) fail(cp + "scale", "not used when the scales name their columns (wide export)");
    if (s.wide_holds == cell_kind::norm_score && s.norm_bands.empty()) {
      fail(path + ".norm_bands", "required: the scale columns hold norm scores, and bands come from them");
    }
    if (s.wide_holds == cell_kind::raw_score && !s.col(field::band)) {
      fail(path + ".scale_columns_hold", "raw scores alone give no band; use norm_score or band");
    }
  } else {
    if (!s.col(field::scale)) fail(cp + "scale", "required unless the scales name their columns (wide export)");
    if (!s.col(field::band) && (s.norm_bands.empty() || !s.col(field::norm_score))) {
      fail(cp + "band", "required unless columns.norm_score and norm_bands are given");
    }
  }
}

json yaml_node_to_json(const YAML::Node& n, int depth) {
  if (depth > 32) throw sdk::config_error("profile: YAML nested too deep");
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : n) out[kv.first.as<std::string>()] = yaml_node_to_json(kv.second, depth + 1);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : n) out.push_back(yaml_node_to_json(item, depth + 1));
      return out;
    }
    case YAML::NodeType::Scalar:
      return n.Scalar();
    default:
      return nullptr;
  }
}

}  // namespace

std::string_view field_name(field f) noexcept {
  return field_names[static_cast<std::size_t>(f)];
}

json yaml_to_json(std::string_view yaml_text) {
  return yaml_node_to_json(YAML::Load(std::string(yaml_text)), 0);
}

std::vector<std::string> profile_names() {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < embedded_profile_count; ++i) out.emplace_back(embedded_profiles[i].name);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<json> shipped_profile(std::string_view name) {
  for (std::size_t i = 0; i < embedded_profile_count; ++i) {
    if (embedded_profiles[i].name != name) continue;
    // A shipped file is a documented example instance; its `mapping` is the profile.
    const json doc = yaml_to_json(embedded_profiles[i].yaml);
    const json& instance = doc.at("connectors").at(0).at("settings");
    return instance.at("mapping");
  }
  return std::nullopt;
}

settings parse_settings(std::string_view settings_json) {
  // Settings are small; refusing deep nesting keeps destruction of the parsed tree bounded.
  if (sdk::json_too_deep_at(settings_json, 16) != 0) fail("settings", "nested deeper than 16 levels");
  json doc;
  try {
    doc = settings_json.empty() ? json::object() : json::parse(settings_json);
  } catch (const json::exception&) {
    throw sdk::config_error("settings: not valid JSON");
  }
  if (!doc.is_object()) fail("settings", "must be an object");
  check_keys(doc, "settings", {"profile", "mapping", "school"});

  settings s;
  json mapping = json::object();
  if (doc.contains("profile")) {
    s.profile = expect_string(doc["profile"], "settings.profile");
    std::optional<json> p;
    try {
      p = shipped_profile(s.profile);
    } catch (const std::exception&) {
      fail("settings.profile", "shipped profile '" + s.profile + "' cannot be read");
    }
    if (!p) {
      std::string names;
      for (const auto& n : profile_names()) names += (names.empty() ? "" : ", ") + n;
      fail("settings.profile", "unknown profile '" + s.profile + "' (known: " + names + ")");
    }
    mapping = std::move(*p);
  }
  if (doc.contains("mapping")) {
    expect_object(doc["mapping"], "settings.mapping");
    mapping.merge_patch(doc["mapping"]);
  } else if (!doc.contains("profile")) {
    fail("settings", "needs a profile or a mapping");
  }
  if (!doc.contains("school")) fail("settings.school", "required ({brin, vestiging})");
  s.default_school = sdk::read_school(doc["school"], "settings.school");
  apply_mapping(s, mapping,
                doc.contains("profile") && !doc.contains("mapping") ? "profile." + s.profile : "settings.mapping");
  return s;
}

}  // namespace schakel::connectors::tracking
