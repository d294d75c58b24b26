#include "settings.hpp"

#include <nlohmann/json.hpp>

#include "common/text.hpp"
#include "schakel/plugin.hpp"

namespace schakel::connectors::attendance {
using namespace schakel::connectors::text;  // the shared CSV/date helpers read as this connector's own
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, field_count> field_names = {
    "student_key", "date", "code",      "lesson",    "lesson_from", "lesson_to",
    "start",       "end",  "lessons",   "minutes",   "class",       "leerjaar",
    "school_year", "brin", "vestiging", "record_id", "birth_date",  "basic_qualification",
    "deleted"};

constexpr std::array<std::string_view, 7> category_names = {
    "sick", "authorised", "unauthorised", "late", "removed_from_class", "suspended", "other"};

// The built-in example profiles. They mirror profiles/*.yaml; both are invented, plausible shapes,
// not statements about the vendors' real export formats.
struct builtin_profile {
  std::string_view name;
  std::string_view json_text;
};
constexpr builtin_profile builtin_profiles[] = {
    {"magister-like", R"({
      "delimiter": ";", "encoding": "auto",
      "mapping": {"student_key": "Stamnummer", "date": "Datum", "lesson": "Lesuur", "code": "Absentiecode",
                  "class": "Klas", "leerjaar": "Leerjaar", "record_id": "Registratie-id",
                  "birth_date": "Geboortedatum", "deleted": "Verwijderd"}})"},
    {"somtoday-like", R"({
      "delimiter": ",", "encoding": "auto",
      "mapping": {"student_key": "leerlingnummer", "date": "datum", "start": "begintijd", "end": "eindtijd",
                  "code": "absentiecategorie", "class": "klas", "leerjaar": "leerjaar", "brin": "brin",
                  "vestiging": "vestiging", "record_id": "id", "birth_date": "geboortedatum",
                  "basic_qualification": "startkwalificatie", "deleted": "verwijderd"}})"},
};

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
  throw sdk::config_error(path + ": " + reason);
}

std::optional<field> field_of(std::string_view name) {
  for (std::size_t i = 0; i < field_count; ++i) {
    if (field_names[i] == name) return static_cast<field>(i);
  }
  return std::nullopt;
}

std::optional<category> category_of(std::string_view name) {
  for (std::size_t i = 0; i < category_names.size(); ++i) {
    if (category_names[i] == name) return static_cast<category>(i);
  }
  return std::nullopt;
}

std::string known_categories() {
  std::string out;
  for (const auto c : category_names) out += (out.empty() ? "" : ", ") + std::string(c);
  return out;
}

const std::string& expect_string(const json& v, const std::string& path) {
  if (!v.is_string()) fail(path, "must be a string");
  return v.get_ref<const std::string&>();
}

void apply_delimiter(settings& s, const json& v, const std::string& path) {
  const std::string& d = expect_string(v, path);
  if (d == "auto") {
    s.delimiter = 0;
  } else if (d == ";" || d == ",") {
    s.delimiter = d[0];
  } else {
    fail(path, "must be \"auto\", \";\" or \",\"");
  }
}

void apply_encoding(settings& s, const json& v, const std::string& path) {
  const std::string& e = expect_string(v, path);
  if (e == "auto") {
    s.encoding = encoding::automatic;
  } else if (iequals(e, "utf-8")) {
    s.encoding = encoding::utf8;
  } else if (iequals(e, "windows-1252")) {
    s.encoding = encoding::windows1252;
  } else {
    fail(path, "must be \"auto\", \"utf-8\" or \"windows-1252\"");
  }
}

void apply_mapping(settings& s, const json& mapping, const std::string& path, bool from_profile) {
  if (!mapping.is_object()) fail(path, "must be an object (field -> column name)");
  for (const auto& [key, value] : mapping.items()) {
    const std::string p = path + "." + key;
    const auto f = field_of(key);
    if (!f) fail(p, "unknown field");
    auto& slot = s.columns[static_cast<std::size_t>(*f)];
    if (value.is_null()) {  // an inline null removes a column the profile maps
      slot.reset();
      continue;
    }
    const std::string name(trim(expect_string(value, p)));
    if (name.empty()) fail(p, "must not be empty");
    slot = column{name, from_profile};
  }
}

void check_school_year(std::string_view y, const std::string& path) {
  const bool shape = y.size() == 9 && y[4] == '-' && y.find_first_not_of("0123456789", 0) == 4 &&
                     y.substr(5).find_first_not_of("0123456789") == std::string_view::npos;
  if (!shape || std::stoi(std::string(y.substr(5))) != std::stoi(std::string(y.substr(0, 4))) + 1) {
    fail(path, "must be YYYY-YYYY with consecutive years, e.g. 2026-2027");
  }
}

}  // namespace

std::string_view field_name(field f) noexcept {
  return field_names[static_cast<std::size_t>(f)];
}

std::string_view category_name(category c) noexcept {
  return category_names[static_cast<std::size_t>(c)];
}

std::vector<std::string> profile_names() {
  std::vector<std::string> out;
  for (const auto& p : builtin_profiles) out.emplace_back(p.name);
  return out;
}

settings parse_settings(std::string_view settings_json) {
  json doc = json::parse(settings_json.empty() ? std::string_view("{}") : settings_json, nullptr, false);
  if (doc.is_discarded()) fail("settings", "not valid JSON");
  if (!doc.is_object()) fail("settings", "must be an object");

  for (const auto& [key, value] : doc.items()) {
    static constexpr std::string_view known[] = {"profile", "mapping",   "school",   "school_year",
                                                 "codes",   "delimiter", "encoding", "deleted_values"};
    bool ok = false;
    for (const auto k : known) ok = ok || k == key;
    if (!ok) fail("settings." + key, "unknown setting");
  }

  settings s;
  s.deleted_values = {"ja", "j", "yes", "y", "true", "1", "x"};

  if (doc.contains("profile")) {
    s.profile = expect_string(doc["profile"], "settings.profile");
    const builtin_profile* found = nullptr;
    for (const auto& p : builtin_profiles) {
      if (p.name == s.profile) found = &p;
    }
    if (found == nullptr) {
      std::string names;
      for (const auto& n : profile_names()) names += (names.empty() ? "" : ", ") + n;
      fail("settings.profile", "unknown profile '" + s.profile + "' (known: " + names + ")");
    }
    const json profile = json::parse(found->json_text);
    apply_delimiter(s, profile["delimiter"], "profile.delimiter");
    apply_encoding(s, profile["encoding"], "profile.encoding");
    apply_mapping(s, profile["mapping"], "profile.mapping", true);
  }
  if (doc.contains("mapping")) apply_mapping(s, doc["mapping"], "settings.mapping", false);
  if (doc.contains("delimiter")) apply_delimiter(s, doc["delimiter"], "settings.delimiter");
  if (doc.contains("encoding")) apply_encoding(s, doc["encoding"], "settings.encoding");

  for (const field f : {field::student_key, field::date, field::code}) {
    if (!s.col(f)) {
      fail("settings.mapping." + std::string(field_name(f)), "required (map it, or choose a profile that does)");
    }
  }
  if (s.col(field::lesson) && (s.col(field::lesson_from) || s.col(field::lesson_to))) {
    fail("settings.mapping.lesson", "map either lesson or lesson_from/lesson_to, not both");
  }
  if (s.col(field::lesson_to) && !s.col(field::lesson_from)) {
    fail("settings.mapping.lesson_to", "needs lesson_from");
  }
  if (s.col(field::end) && !s.col(field::start)) fail("settings.mapping.end", "needs start");

  if (doc.contains("school")) {
    s.default_school = sdk::read_school(doc["school"], "settings.school");
  }
  if (!s.col(field::brin) && !s.default_school) {
    fail("settings.school", "required when the mapping has no brin column");
  }

  if (doc.contains("school_year")) {
    const std::string& y = expect_string(doc["school_year"], "settings.school_year");
    check_school_year(y, "settings.school_year");
    s.school_year = y;
  }

  if (!doc.contains("codes")) fail("settings.codes", "required (source absence code -> category)");
  const json& codes = doc["codes"];
  if (!codes.is_object() || codes.empty()) fail("settings.codes", "must be a non-empty object (code -> category)");
  for (const auto& [code, value] : codes.items()) {
    const std::string p = "settings.codes." + code;
    const std::string key = ascii_lower(trim(code));
    if (key.empty()) fail(p, "the code must not be empty");
    const std::string& name = expect_string(value, p);
    const auto c = category_of(name);
    if (!c) fail(p, "unknown category '" + name + "' (known: " + known_categories() + ")");
    if (!s.codes.emplace(key, *c).second) {
      fail(p, "the same code appears twice (codes are matched case-insensitively after trimming)");
    }
  }

  if (doc.contains("deleted_values")) {
    const json& dv = doc["deleted_values"];
    if (!dv.is_array() || dv.empty()) fail("settings.deleted_values", "must be a non-empty array of strings");
    s.deleted_values.clear();
    for (std::size_t i = 0; i < dv.size(); ++i) {
      const std::string p = "settings.deleted_values[" + std::to_string(i) + "]";
      const std::string v = ascii_lower(trim(expect_string(dv[i], p)));
      if (v.empty()) fail(p, "must not be empty");
      s.deleted_values.push_back(v);
    }
  }
  return s;
}

}  // namespace schakel::connectors::attendance
