#include "mapper.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "common/body.hpp"
#include "common/text.hpp"

namespace schakel::connectors::observations {
namespace {

using nlohmann::json;
namespace txt = schakel::connectors::text;

// Every key a record may carry. Anything else is refused: free text must not arrive under another
// name than `note`, where the length limit and the school-only rule apply.
constexpr std::array<std::string_view, 9> record_keys = {
    "student_key", "category", "severity", "observer_role", "observed_at", "class", "leerjaar", "record_id", "note"};

constexpr std::array<std::string_view, 4> severities = {"info", "attention", "concern", "urgent"};

constexpr std::string_view unknown_field_reason = "unknown field; free text is only accepted in `note`";

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

bool digits_at(std::string_view s, std::size_t at, std::size_t n) noexcept {
  if (at + n > s.size()) return false;
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(at), s.begin() + static_cast<std::ptrdiff_t>(at + n),
                     is_digit);
}

int number_at(std::string_view s, std::size_t at, std::size_t n) noexcept {
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

/** A `YYYY-MM-DD` at the start of `s` that names a real calendar date. */
bool calendar_date_at_start(std::string_view s) noexcept {
  if (s.size() < 10 || !digits_at(s, 0, 4) || s[4] != '-' || !digits_at(s, 5, 2) || s[7] != '-' ||
      !digits_at(s, 8, 2)) {
    return false;
  }
  const int y = number_at(s, 0, 4);
  const int m = number_at(s, 5, 2);
  const int d = number_at(s, 8, 2);
  if (m < 1 || m > 12 || d < 1) return false;
  static constexpr std::array<int, 12> days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= days[static_cast<std::size_t>(m - 1)] + ((m == 2 && leap) ? 1 : 0);
}

/**
 * Whether `s` holds a control character: C0 (which includes \n and \t), DEL, C1, or the Unicode
 * line and paragraph separators — every field is one line. `s` is valid UTF-8 (the JSON parser
 * guarantees it), so C1 controls are exactly the pairs C2 80..C2 9F.
 */
bool has_control(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x20 || b == 0x7F) return true;
    if (b == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return true;
    if (b == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      return true;
    }
  }
  return false;
}

/** Unicode code points in valid UTF-8 (the unit the signal schema's maxLength counts). */
std::size_t code_points(std::string_view s) noexcept {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

/** A key shown as the rejection's field only when it looks like a field name, not like text. */
bool identifier_like(std::string_view key) noexcept {
  if (key.empty() || key.size() > 64) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-' || c == '.';
  });
}

/** What a record's string field must be; checked in this order. */
struct text_rule {
  std::size_t max_code_points;
  bool trim;
};

class record_mapper {
 public:
  explicit record_mapper(const settings& s) : s_(s) {}

  void map(const json& record, std::int64_t index, sdk::ingest_context& ctx) const {
    if (!record.is_object()) return ctx.reject(index, "", "record is not a JSON object");
    for (const auto& [key, value] : record.items()) {
      if (std::find(record_keys.begin(), record_keys.end(), key) != record_keys.end()) continue;
      if (identifier_like(key)) return ctx.reject(index, txt::json_pointer_of(key), unknown_field_reason);
      // A key that reads like text may itself be personal data: say where, not what.
      return ctx.reject(index, "",
                        "unknown field (its name is not shown: not a plain field name); free text is only "
                        "accepted in `note`");
    }

    std::string reason;
    const auto reject = [&](std::string_view key) { ctx.reject(index, txt::json_pointer_of(key), reason); };

    const auto student_key = required_text(record, "student_key", {64, true}, reason);
    if (!student_key) return reject("student_key");
    const auto category_id = required_text(record, "category", {64, false}, reason);
    if (!category_id) return reject("category");
    const category* cat = s_.find_category(*category_id);
    if (cat == nullptr) {
      const auto& built_in = built_in_catalogue();
      const bool known =
          std::any_of(built_in.begin(), built_in.end(), [&](const category& c) { return c.id == *category_id; });
      reason = known ? "category not enabled for this instance (settings.categories)"
                     : "not a category of the catalogue or of settings.extra_categories";
      return reject("category");
    }
    const auto severity = required_text(record, "severity", {16, false}, reason);
    if (!severity) return reject("severity");
    if (std::find(severities.begin(), severities.end(), *severity) == severities.end()) {
      reason = "must be one of info | attention | concern | urgent";
      return reject("severity");
    }
    const auto role = required_text(record, "observer_role", {32, false}, reason);
    if (!role) return reject("observer_role");
    if (!s_.role_enabled(*role)) {
      const bool known = std::find(all_roles.begin(), all_roles.end(), *role) != all_roles.end();
      reason = known ? "observer role not enabled for this instance (settings.roles)"
                     : "not an observer role (mentor | teacher | caretaker | canteen_staff | youth_worker | "
                       "care_coordinator | other_staff)";
      return reject("observer_role");
    }
    const auto observed_text = required_text(record, "observed_at", {64, false}, reason);
    if (!observed_text) return reject("observed_at");
    const auto observed_at = observed_at_of(*observed_text);
    if (!observed_at) {
      reason = "not a date (YYYY-MM-DD) or an RFC 3339 date-time with a time zone";
      return reject("observed_at");
    }

    json subject = {{"school", {{"brin", s_.school_of_signals.brin}}}};
    if (!s_.school_of_signals.vestiging.empty()) subject["school"]["vestiging"] = s_.school_of_signals.vestiging;
    subject["student_key"] = *student_key;

    bool bad = false;
    if (const auto cls = optional_text(record, "class", {16, true}, reason, bad)) subject["class"] = *cls;
    if (bad) return reject("class");
    if (const auto it = record.find("leerjaar"); it != record.end() && !it->is_null()) {
      if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 6) {
        reason = "must be a whole number from 1 to 6";
        return reject("leerjaar");
      }
      subject["leerjaar"] = it->get<std::int64_t>();
    }
    const auto record_id = optional_text(record, "record_id", {128, false}, reason, bad);
    if (bad) return reject("record_id");
    const auto note = read_note(record, reason, bad);
    if (bad) return reject("note");

    json content = {{"domain", cat->domain},
                    {"indicator", "observation." + cat->id},
                    {"severity", *severity},
                    {"instrument", observation_instrument},
                    {"evidence", {{"category", cat->id}, {"observer_role", *role}}}};
    if (note) content["note"] = *note;

    json source = json::object();
    if (record_id) source["record_id"] = *record_id;

    const json signal = {
        {"type", observation_type},      {"source", std::move(source)},
        {"observed_at", *observed_at},   {"subject", std::move(subject)},
        {"content", std::move(content)}, {"governance", {{"data_category", cat->health ? "health" : "ordinary"}}}};
    ctx.emit(signal.dump(), index);
  }

 private:
  /** A string field's text after the rule's checks; nullopt with `reason` set when it breaks one. */
  static std::optional<std::string> checked_text(const json& v, text_rule rule, std::string& reason) {
    if (!v.is_string()) {
      reason = "must be a string";
      return std::nullopt;
    }
    std::string_view text = v.get_ref<const std::string&>();
    if (has_control(text)) {
      reason = "contains a control character or line break";
      return std::nullopt;
    }
    if (rule.trim) text = txt::trim(text);
    if (text.empty()) {
      reason = "empty";
      return std::nullopt;
    }
    if (code_points(text) > rule.max_code_points) {
      reason = "longer than " + std::to_string(rule.max_code_points) + " characters";
      return std::nullopt;
    }
    return std::string(text);
  }

  static std::optional<std::string> required_text(const json& record, std::string_view key, text_rule rule,
                                                  std::string& reason) {
    const auto it = record.find(key);
    if (it == record.end() || it->is_null()) {
      reason = "missing";
      return std::nullopt;
    }
    return checked_text(*it, rule, reason);
  }

  /** Absent or null: nullopt with `bad` false. Present and broken: nullopt with `bad` true. */
  static std::optional<std::string> optional_text(const json& record, std::string_view key, text_rule rule,
                                                  std::string& reason, bool& bad) {
    bad = false;
    const auto it = record.find(key);
    if (it == record.end() || it->is_null()) return std::nullopt;
    auto text = checked_text(*it, rule, reason);
    bad = !text;
    return text;
  }

  std::optional<std::string> read_note(const json& record, std::string& reason, bool& bad) const {
    bad = false;
    const auto it = record.find("note");
    if (it == record.end() || it->is_null()) return std::nullopt;
    // Blank is "no note" even where notes are off: a staff system that always sends the key
    // carries no free text in it.
    if (it->is_string() && txt::trim(it->get_ref<const std::string&>()).empty() &&
        !has_control(it->get_ref<const std::string&>())) {
      return std::nullopt;
    }
    if (s_.note_max_length == 0) {
      bad = true;
      reason = "notes are not accepted by this instance (settings.note_max_length is 0)";
      return std::nullopt;
    }
    if (it->is_string() && txt::invalid_utf8_at(it->get_ref<const std::string&>()) != std::string_view::npos) {
      bad = true;
      reason = "not valid UTF-8";
      return std::nullopt;
    }
    auto text = checked_text(*it, {static_cast<std::size_t>(s_.note_max_length), true}, reason);
    bad = !text;
    return text;
  }

  const settings& s_;
};

}  // namespace

bool is_json_media_type(std::string_view content_type) noexcept {
  const std::string_view media = txt::trim(content_type.substr(0, content_type.find(';')));
  if (txt::iequals(media, "application/json")) return true;
  constexpr std::string_view prefix = "application/";
  constexpr std::string_view suffix = "+json";
  return media.size() > prefix.size() + suffix.size() && txt::iequals(media.substr(0, prefix.size()), prefix) &&
         txt::iequals(media.substr(media.size() - suffix.size()), suffix);
}

std::optional<std::string> observed_at_of(std::string_view s) {
  if (!calendar_date_at_start(s)) return std::nullopt;
  if (s.size() == 10) return std::string(s) + "T00:00:00Z";
  // The signal schema's timestamp pattern: [Tt]HH:MM:SS[.f{1,9}]([Zz]|±HH:MM), HH <= 23, SS <= 60.
  if (s.size() < 20 || (s[10] != 'T' && s[10] != 't') || !digits_at(s, 11, 2) || s[13] != ':' || !digits_at(s, 14, 2) ||
      s[16] != ':' || !digits_at(s, 17, 2)) {
    return std::nullopt;
  }
  if (number_at(s, 11, 2) > 23 || number_at(s, 14, 2) > 59 || number_at(s, 17, 2) > 60) return std::nullopt;
  std::size_t i = 19;
  if (s[i] == '.') {
    const std::size_t start = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start || i - start > 9) return std::nullopt;
  }
  if (i + 1 == s.size() && (s[i] == 'Z' || s[i] == 'z')) return std::string(s);
  if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && digits_at(s, i + 1, 2) && s[i + 3] == ':' &&
      digits_at(s, i + 4, 2) && number_at(s, i + 1, 2) <= 23 && number_at(s, i + 4, 2) <= 59) {
    return std::string(s);
  }
  return std::nullopt;
}

connector::connector(std::string_view settings_json) : settings_(parse_settings(settings_json)) {}
connector::connector(settings s) : settings_(std::move(s)) {}

void connector::ingest(std::string_view body, std::string_view content_type, sdk::ingest_context& ctx) const {
  if (!is_json_media_type(content_type)) {
    return ctx.fail("unsupported content type: this connector accepts application/json only");
  }
  if (const std::size_t deep = sdk::json_too_deep_at(body, max_json_depth); deep != 0) {
    return ctx.fail("JSON nested deeper than " + std::to_string(max_json_depth) + " levels at byte " +
                    std::to_string(deep));
  }
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::parse_error& e) {
    // e.what() quotes the text around the error: only the offset goes out.
    return ctx.fail("invalid JSON at byte " + std::to_string(e.byte));
  } catch (const json::exception&) {
    return ctx.fail("invalid JSON: a number is out of range");
  }

  const record_mapper mapper(settings_);
  const json* records = &doc;
  if (doc.is_object()) {
    const auto wrapped = doc.find("observations");
    if (wrapped == doc.end()) return mapper.map(doc, 0, ctx);
    if (doc.size() != 1) {
      return ctx.fail("a body with `observations` must hold nothing else (the observations go inside the array)");
    }
    if (!wrapped->is_array()) return ctx.fail("/observations must be an array of observation objects");
    records = &*wrapped;
  }
  if (!records->is_array()) {
    return ctx.fail("the body must be an observation object, an array of them, or {\"observations\": [...]}");
  }
  for (std::size_t i = 0; i < records->size(); ++i) mapper.map((*records)[i], static_cast<std::int64_t>(i), ctx);
}

sdk::emitted_signals connector::emits() const {
  return {{std::string(observation_type),
           {{"domain", "indicator", "severity", "instrument", "note"}, {"category", "observer_role"}}}};
}

}  // namespace schakel::connectors::observations
