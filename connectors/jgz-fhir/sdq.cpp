#include "sdq.hpp"

#include <stdexcept>
#include <utility>

#include "schakel/sdk/settings_reader.hpp"

namespace schakel::connectors::jgz_fhir::sdq {

namespace {

/** 1-based item numbers of each subscale, in form order. */
constexpr std::array<std::array<int, 5>, 5> subscale_items = {{
    {3, 8, 13, 16, 24},   // emotional
    {5, 7, 12, 18, 22},   // conduct
    {2, 10, 15, 21, 25},  // hyperactivity
    {6, 11, 14, 19, 23},  // peer
    {1, 4, 9, 17, 20},    // prosocial
}};

constexpr bool is_reversed(int item) noexcept {
  return item == 7 || item == 11 || item == 14 || item == 21 || item == 25;
}

constexpr std::array<std::string_view, impact_item_count> impact_item_names = {"distress", "home", "friendships",
                                                                               "classroom", "leisure"};

constexpr std::size_t index(scale s) noexcept {
  return static_cast<std::size_t>(s);
}

score subscale(const answers& a, std::size_t which) {
  int sum = 0;
  int answered = 0;
  for (int item : subscale_items[which]) {
    const auto& v = a.items[static_cast<std::size_t>(item - 1)];
    if (!v) continue;
    sum += is_reversed(item) ? 2 - *v : *v;
    ++answered;
  }
  score out;
  if (answered == 5) {
    out.value = sum;
  } else if (answered >= 3) {
    // round(5·sum/n) half up, kept in integers so no binary fraction can tip a .5 the wrong way.
    out.value = (10 * sum + answered) / (2 * answered);
    out.prorated = true;
  }
  return out;
}

score impact_score(const answers& a) {
  score out;
  if (!a.difficulties) return out;
  if (*a.difficulties == 0) {
    // "No difficulties": the form skips the impact questions, so whatever is there does not count.
    out.value = 0;
    return out;
  }
  int sum = 0;
  for (const auto& v : a.impact) {
    // A partial supplement is not prorated: with only five items each worth up to 2, guessing the
    // rest would move the band, so the score is reported missing instead.
    if (!v) return out;
    sum += *v >= 2 ? *v - 1 : 0;  // not at all / only a little 0, quite a lot 1, a great deal 2
  }
  out.value = sum;
  return out;
}

// --- settings ---------------------------------------------------------------------------------

/** Default cut-offs {lower_max, borderline_max} in scale order (emotional … impact). */
constexpr std::array<cutoff, scale_count> default_self = {{{5, 6}, {3, 4}, {5, 6}, {3, 5}, {4, 5}, {15, 19}, {0, 1}}};
constexpr std::array<cutoff, scale_count> default_parent = {{{3, 4}, {2, 3}, {5, 6}, {2, 3}, {4, 5}, {13, 16}, {0, 1}}};

std::string_view lower_key(scale s) noexcept {
  return s == scale::prosocial ? "abnormal_max" : "normal_max";
}

nlohmann::json cutoffs_json(const std::array<cutoff, scale_count>& table) {
  nlohmann::json out = nlohmann::json::object();
  for (scale s : all_scales) {
    const cutoff& c = table[index(s)];
    out[std::string(scale_name(s))] = {{std::string(lower_key(s)), c.lower_max}, {"borderline_max", c.borderline_max}};
  }
  return out;
}

version_cutoffs read_cutoffs(const sdk::settings_reader& r) {
  version_cutoffs out;
  for (scale s : all_scales) {
    const sdk::settings_reader one = r.object(scale_name(s));
    const int hi = scale_max(s);
    cutoff c;
    c.lower_max = one.whole_number(lower_key(s), 0, hi);
    c.borderline_max = one.whole_number("borderline_max", 0, hi);
    if (c.borderline_max < c.lower_max) {
      sdk::settings_fail(one.path_of("borderline_max"), "must not be below " + std::string(lower_key(s)));
    }
    out[s] = c;
  }
  return out;
}

std::array<bool, scale_count> read_severity_from(const nlohmann::json& v, const std::string& path) {
  if (!v.is_array()) sdk::settings_fail(path, "must be an array of score names");
  if (v.empty()) sdk::settings_fail(path, "must name at least one score");
  std::array<bool, scale_count> out{};
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    const std::string name =
        sdk::read_one_of(v[i], at, {"emotional", "conduct", "hyperactivity", "peer", "prosocial", "total", "impact"});
    for (scale s : all_scales) {
      if (scale_name(s) != name) continue;
      if (out[index(s)]) sdk::settings_fail(at, "listed twice");
      out[index(s)] = true;
    }
  }
  return out;
}

}  // namespace

std::string_view version_name(version v) noexcept {
  return v == version::parent ? "parent" : "self_11_17";
}

std::string_view scale_name(scale s) noexcept {
  switch (s) {
    case scale::emotional:
      return "emotional";
    case scale::conduct:
      return "conduct";
    case scale::hyperactivity:
      return "hyperactivity";
    case scale::peer:
      return "peer";
    case scale::prosocial:
      return "prosocial";
    case scale::total:
      return "total";
    case scale::impact:
      return "impact";
  }
  return "unknown";
}

int scale_max(scale s) noexcept {
  return s == scale::total ? 40 : 10;
}

std::string_view band_name(band b) noexcept {
  switch (b) {
    case band::normal:
      return "normal";
    case band::borderline:
      return "borderline";
    case band::abnormal:
      return "abnormal";
  }
  return "unknown";
}

std::string_view severity_name(severity s) noexcept {
  switch (s) {
    case severity::info:
      return "info";
    case severity::attention:
      return "attention";
    case severity::concern:
      return "concern";
  }
  return "unknown";
}

std::vector<std::string> validate(const answers& a) {
  std::vector<std::string> errors;
  for (std::size_t i = 0; i < item_count; ++i) {
    const auto& v = a.items[i];
    if (v && (*v < 0 || *v > 2)) errors.push_back("item " + std::to_string(i + 1) + ": must be 0, 1 or 2");
  }
  if (a.difficulties && (*a.difficulties < 0 || *a.difficulties > 3)) {
    errors.emplace_back("difficulties: must be 0, 1, 2 or 3");
  }
  for (std::size_t i = 0; i < impact_item_count; ++i) {
    const auto& v = a.impact[i];
    if (v && (*v < 0 || *v > 3)) {
      errors.push_back("impact " + std::to_string(i + 1) + " (" + std::string(impact_item_names[i]) +
                       "): must be 0, 1, 2 or 3");
    }
  }
  return errors;
}

nlohmann::json default_settings_json() {
  nlohmann::json severity_from = nlohmann::json::array();
  for (scale s : all_scales) severity_from.push_back(std::string(scale_name(s)));
  return {{"cutoffs", {{"self_11_17", cutoffs_json(default_self)}, {"parent", cutoffs_json(default_parent)}}},
          {"severity_from", std::move(severity_from)}};
}

const settings& default_settings() {
  static const settings defaults = parse_settings(nlohmann::json::object());
  return defaults;
}

settings parse_settings(const nlohmann::json& over, const std::string& path) {
  nlohmann::json merged = default_settings_json();
  sdk::merge_settings(merged, over, path);
  const sdk::settings_reader root(merged, path);
  const sdk::settings_reader cutoffs = root.object("cutoffs");
  settings out;
  out.self_11_17 = read_cutoffs(cutoffs.object("self_11_17"));
  out.parent = read_cutoffs(cutoffs.object("parent"));
  out.severity_from = read_severity_from(root.at("severity_from"), root.path_of("severity_from"));
  return out;
}

settings parse_settings(std::string_view json_text) {
  return parse_settings(sdk::parse_settings_object(json_text));
}

band classify(scale s, int value, const version_cutoffs& c) noexcept {
  const cutoff& k = c[s];
  if (s == scale::prosocial) {
    if (value <= k.lower_max) return band::abnormal;
    if (value <= k.borderline_max) return band::borderline;
    return band::normal;
  }
  if (value <= k.lower_max) return band::normal;
  if (value <= k.borderline_max) return band::borderline;
  return band::abnormal;
}

const score& scores::operator[](scale s) const noexcept {
  switch (s) {
    case scale::emotional:
      return emotional;
    case scale::conduct:
      return conduct;
    case scale::hyperactivity:
      return hyperactivity;
    case scale::peer:
      return peer;
    case scale::prosocial:
      return prosocial;
    case scale::total:
      return total;
    case scale::impact:
      return impact;
  }
  return impact;
}

score& scores::operator[](scale s) noexcept {
  return const_cast<score&>(std::as_const(*this)[s]);
}

scores score_answers(const answers& a, version v, const settings& s) {
  if (auto errors = validate(a); !errors.empty()) throw std::invalid_argument(errors.front());

  scores out;
  out.version = v;
  out.emotional = subscale(a, 0);
  out.conduct = subscale(a, 1);
  out.hyperactivity = subscale(a, 2);
  out.peer = subscale(a, 3);
  out.prosocial = subscale(a, 4);
  if (out.emotional.value && out.conduct.value && out.hyperactivity.value && out.peer.value) {
    out.total.value = *out.emotional.value + *out.conduct.value + *out.hyperactivity.value + *out.peer.value;
    out.total.prorated =
        out.emotional.prorated || out.conduct.prorated || out.hyperactivity.prorated || out.peer.prorated;
  }
  out.impact = impact_score(a);

  const version_cutoffs& cut = s.cutoffs(v);
  std::optional<band> worst;
  for (scale sc : all_scales) {
    score& one = out[sc];
    if (!one.value) continue;
    one.band = classify(sc, *one.value, cut);
    if (s.counts_for_severity(sc) && (!worst || *one.band > *worst)) worst = one.band;
  }
  if (worst) {
    switch (*worst) {
      case band::normal:
        out.severity = severity::info;
        break;
      case band::borderline:
        out.severity = severity::attention;
        break;
      case band::abnormal:
        out.severity = severity::concern;
        break;
    }
  }
  return out;
}

nlohmann::json to_json(const scores& s) {
  nlohmann::json out = nlohmann::json::object();
  out["version"] = std::string(version_name(s.version));
  for (scale sc : all_scales) {
    const score& one = s[sc];
    const std::string name(scale_name(sc));
    out[name] = one.value ? nlohmann::json(*one.value) : nlohmann::json(nullptr);
    out[name + "_band"] = one.band ? nlohmann::json(std::string(band_name(*one.band))) : nlohmann::json(nullptr);
    // Impact is never prorated, so a flag there would only be noise in the evidence.
    if (sc != scale::impact) out[name + "_prorated"] = one.prorated;
  }
  out["severity"] = s.severity ? nlohmann::json(std::string(severity_name(*s.severity))) : nlohmann::json(nullptr);
  return out;
}

}  // namespace schakel::connectors::jgz_fhir::sdq
