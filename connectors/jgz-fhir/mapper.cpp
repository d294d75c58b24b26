#include "mapper.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "fhir.hpp"
#include "sdq.hpp"

namespace schakel::connectors::jgz_fhir {
namespace {

using nlohmann::json;

constexpr std::size_t max_record_id = 128;
constexpr std::size_t max_student_key = 64;
constexpr std::size_t max_code_value = 64;
constexpr std::size_t max_unit = 32;

constexpr std::string_view unlinkable_reason =
    "no identifier this instance can link (configure link.student_systems or link.bsn)";

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/** C0 controls, DEL and C1 controls (valid UTF-8 from the JSON parser: C1 is C2 80..C2 9F). */
bool has_control(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x20 || b == 0x7F) return true;
    if (b == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return true;
  }
  return false;
}

std::size_t code_points(std::string_view s) noexcept {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

/** A string usable as a one-line signal field of at most `max` code points. */
bool usable_text(const json& v, std::size_t max) {
  if (!v.is_string()) return false;
  const std::string& s = v.get_ref<const std::string&>();
  return !s.empty() && code_points(s) <= max && !has_control(s);
}

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string string_member(const json& object, std::string_view key) {
  const json* v = member(object, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

json school_json(const school& s) {
  json out = {{"brin", s.brin}};
  if (!s.vestiging.empty()) out["vestiging"] = s.vestiging;
  return out;
}

/** source.record_id: the resource id, else the entry's fullUrl when it fits the schema. */
json source_of(const fhir::entry& e) {
  json source = json::object();
  const json* id = member(e.resource, "id");
  if (id != nullptr && usable_text(*id, max_record_id)) {
    source["record_id"] = *id;
  } else if (!e.full_url.empty() && usable_text(e.full_url, max_record_id)) {
    source["record_id"] = e.full_url;
  }
  return source;
}

/** One record's first problem: where and why. */
struct problem {
  std::string field;
  std::string reason;
};

/** An SDQ answer as a number: valueInteger, valueCoding.code of digits, or a whole valueDecimal. */
std::optional<int> answer_number(const fhir::answer& a) {
  // Anything outside this clamp is out of range anyway; clamping keeps the int conversion defined.
  constexpr double clamp = 1000;
  if (a.value_type == "valueInteger" && a.value.is_number_integer()) {
    const auto v = a.value.get<std::int64_t>();
    return static_cast<int>(std::clamp<std::int64_t>(v, -1000, 1000));
  }
  if (a.value_type == "valueDecimal" && a.value.is_number()) {
    const double d = a.value.get<double>();
    if (!std::isfinite(d) || std::floor(d) != d) return std::nullopt;
    return static_cast<int>(std::clamp(d, -clamp, clamp));
  }
  if (a.value_type == "valueCoding") {
    const json* code = member(a.value, "code");
    if (code == nullptr || !code->is_string()) return std::nullopt;
    const std::string& text = code->get_ref<const std::string&>();
    if (text.empty() || text.size() > 3 || !std::all_of(text.begin(), text.end(), is_digit)) return std::nullopt;
    return std::stoi(text);
  }
  return std::nullopt;
}

/** Puts `value` at `target` in `a`; false when that question already has an answer. */
bool place(sdq::answers& a, const sdq_target& target, int value) {
  std::optional<int>* slot = nullptr;
  switch (target.what) {
    case sdq_target::kind::item:
      slot = &a.items.at(static_cast<std::size_t>(target.number - 1));
      break;
    case sdq_target::kind::difficulties:
      slot = &a.difficulties;
      break;
    case sdq_target::kind::impact:
      slot = &a.impact.at(static_cast<std::size_t>(target.number));
      break;
  }
  if (slot->has_value()) return false;
  *slot = value;
  return true;
}

class document_mapper {
 public:
  document_mapper(const settings& s, const fhir::document& doc, sdk::ingest_context& ctx)
      : s_(s), doc_(doc), ctx_(ctx) {}

  void map(const fhir::entry& e) const {
    std::optional<problem> p;
    if (e.resource_type == "QuestionnaireResponse") {
      p = map_questionnaire_response(e);
    } else if (e.resource_type == "Observation") {
      p = map_observation(e);
    }
    // Patients carry no signal of their own: they are read by link() for the entries naming them.
    if (p) ctx_.reject(e.index, p->field, p->reason);
  }

 private:
  /** subject.school and subject.student_key for `e`'s subject, or the problem. */
  std::optional<problem> link(const fhir::entry& e, json& subject) const {
    const std::string at = e.path + ".subject";
    const json& subj = e.resource.at("subject");  // the reader requires it
    std::vector<fhir::identifier> candidates;
    if (member(subj, "reference") != nullptr) {
      const fhir::entry* target = fhir::resolve(doc_, subj);
      if (target != nullptr && target->resource_type != "Patient") {
        return problem{at + ".reference", "does not point at a Patient"};
      }
      if (target != nullptr) {
        candidates = fhir::identifiers(*target);
      } else if (member(subj, "identifier") == nullptr) {
        return problem{at, "reference does not resolve to exactly one Patient entry of this document"};
      }
    }
    // A logical reference (subject.identifier) names the patient directly.
    if (const json* ident = member(subj, "identifier"); ident != nullptr) {
      const std::string value = string_member(*ident, "value");
      if (!value.empty()) candidates.push_back({string_member(*ident, "system"), value});
    }

    for (const auto& c : candidates) {
      const auto sys = s_.student_systems.find(c.system);
      if (sys == s_.student_systems.end()) continue;
      if (!usable_text(c.value, max_student_key)) {
        return problem{at, "the student number is longer than 64 characters or holds a control character"};
      }
      subject = {{"school", school_json(sys->second)}, {"student_key", c.value}};
      return std::nullopt;
    }
    if (s_.link_bsn) {
      for (const auto& c : candidates) {
        if (!fhir::is_bsn_system(c.system)) continue;
        // A number failing the 11-test would pass the hub's screen unhashed and link to a wrong key.
        if (!is_bsn(c.value)) return problem{at, "the BSN identifier is not 8 or 9 digits passing the 11-test"};
        subject = {{"school", school_json(*s_.bsn_school)}, {"student_key", c.value}};
        return std::nullopt;
      }
    }
    return problem{at, std::string(unlinkable_reason)};
  }

  std::optional<problem> map_questionnaire_response(const fhir::entry& e) const {
    const std::string status = string_member(e.resource, "status");
    if (status == "entered-in-error") return problem{e.path + ".status", "entered in error"};
    if (status != "completed" && status != "amended") {
      return problem{e.path + ".status", "not completed (only completed or amended responses are scored)"};
    }
    const sdq_questionnaire* q = s_.find_questionnaire(string_member(e.resource, "questionnaire"));
    if (q == nullptr)
      return problem{e.path + ".questionnaire", "questionnaire not configured (settings.sdq.questionnaires)"};

    json subject;
    if (auto p = link(e, subject)) return p;

    sdq::answers answers;
    for (const fhir::answer& a : fhir::answers(e)) {
      const auto target = q->items.find(a.link_id);
      if (target == q->items.end()) continue;  // not an SDQ question (a group, a demographic item …)
      const auto number = answer_number(a);
      if (!number) {
        return problem{a.path, "must be valueInteger, valueCoding with a numeric code, or a whole valueDecimal"};
      }
      // The scorer's own range check on this one answer, so its message lands on this answer's path.
      sdq::answers one;
      place(one, target->second, *number);
      if (const auto errors = sdq::validate(one); !errors.empty()) return problem{a.path, errors.front()};
      if (!place(answers, target->second, *number)) {
        return problem{a.path, "a second answer to the same SDQ question (" + sdq_target_name(target->second) + ")"};
      }
    }
    const sdq::scores scores = sdq::score_answers(answers, q->version, s_.scoring);

    json content = {{"domain", "health"},
                    {"indicator", sdq_indicator},
                    {"severity", scores.severity ? sdq::severity_name(*scores.severity) : "info"},
                    {"instrument", "sdq-" + std::string(sdq::version_name(q->version))},
                    {"evidence", sdq::to_json(scores)}};
    if (scores.total.value) content["value"] = *scores.total.value;

    json signal = {{"type", sdq_signal_type},
                   {"source", source_of(e)},
                   {"subject", std::move(subject)},
                   {"content", std::move(content)},
                   {"governance", {{"data_category", "health"}, {"legal_basis_hints", {"consent"}}}}};
    if (const auto when = observed_at_of(string_member(e.resource, "authored"))) signal["observed_at"] = *when;
    ctx_.emit(signal.dump(), e.index);
    return std::nullopt;
  }

  std::optional<problem> map_observation(const fhir::entry& e) const {
    const std::string status = string_member(e.resource, "status");
    if (status == "entered-in-error") return problem{e.path + ".status", "entered in error"};
    if (status != "final" && status != "amended" && status != "corrected") {
      return problem{e.path + ".status", "not final (only final, amended or corrected observations are mapped)"};
    }
    const observation_rule* rule = nullptr;
    const json* codings = member(*member(e.resource, "code"), "coding");
    for (const json& coding : *codings) {
      const observation_rule* r = s_.find_rule(string_member(coding, "system"), string_member(coding, "code"));
      if (r == nullptr || r == rule) continue;
      // Two rules for one Observation would make its signal a guess.
      if (rule != nullptr) return problem{e.path + ".code", "the codings match more than one observation rule"};
      rule = r;
    }
    if (rule == nullptr) return problem{e.path + ".code", "no observation rule for this code"};

    json subject;
    if (auto p = link(e, subject)) return p;

    json content = {{"domain", rule->domain},
                    {"indicator", rule->indicator},
                    {"severity", rule->severity},
                    {"instrument", "jgz-observation"},
                    {"evidence", {{"code", rule->code}, {"system", rule->system}}}};
    if (const json* v = member(e.resource, "valueInteger"); v != nullptr && v->is_number()) {
      content["value"] = *v;
    } else if (const json* b = member(e.resource, "valueBoolean"); b != nullptr && b->is_boolean()) {
      content["value"] = *b;
    } else if (const json* qty = member(e.resource, "valueQuantity"); qty != nullptr) {
      if (const json* n = member(*qty, "value"); n != nullptr && n->is_number()) {
        content["value"] = *n;
        if (const json* unit = member(*qty, "unit"); unit != nullptr && usable_text(*unit, max_unit)) {
          content["unit"] = *unit;
        }
      }
    } else if (const json* cc = member(e.resource, "valueCodeableConcept"); cc != nullptr) {
      const json* list = member(*cc, "coding");
      if (list != nullptr && list->is_array() && !list->empty()) {
        if (const json* code = member(list->front(), "code"); code != nullptr && usable_text(*code, max_code_value)) {
          content["value"] = *code;
        }
      }
    }

    json signal = {{"type", rule->type},
                   {"source", source_of(e)},
                   {"subject", std::move(subject)},
                   {"content", std::move(content)},
                   {"governance", {{"data_category", "health"}}}};
    std::string when = string_member(e.resource, "effectiveDateTime");
    if (when.empty()) when = string_member(e.resource, "effectiveInstant");
    if (const auto at = observed_at_of(when)) signal["observed_at"] = *at;
    ctx_.emit(signal.dump(), e.index);
    return std::nullopt;
  }

  const settings& s_;
  const fhir::document& doc_;
  sdk::ingest_context& ctx_;
};

}  // namespace

bool is_fhir_json_media_type(std::string_view content_type) noexcept {
  const std::string_view media = trim(content_type.substr(0, content_type.find(';')));
  return iequals(media, "application/fhir+json") || iequals(media, "application/json");
}

std::optional<std::string> observed_at_of(std::string_view text) {
  if (!fhir::is_date_time(text) || text.size() < 10) return std::nullopt;
  if (text.size() == 10) return std::string(text) + "T00:00:00Z";
  // A full dateTime (the reader checked the calendar, the time and the zone); the schema allows at
  // most 9 fraction digits, FHIR any number.
  std::string out(text);
  if (out.size() > 19 && out[19] == '.') {
    std::size_t end = 20;
    while (end < out.size() && is_digit(out[end])) ++end;
    if (end - 20 > 9) out.erase(29, end - 29);
  }
  return out;
}

bool is_bsn(std::string_view digits) noexcept {
  if ((digits.size() != 8 && digits.size() != 9) || !std::all_of(digits.begin(), digits.end(), is_digit)) {
    return false;
  }
  std::array<int, 9> d{};
  const std::size_t pad = 9 - digits.size();
  for (std::size_t i = 0; i < digits.size(); ++i) d[pad + i] = digits[i] - '0';
  if (std::all_of(d.begin(), d.end(), [](int x) { return x == 0; })) return false;
  int sum = 0;
  for (std::size_t i = 0; i < 8; ++i) sum += static_cast<int>(9 - i) * d[i];
  sum -= d[8];
  return ((sum % 11) + 11) % 11 == 0;
}

connector::connector(std::string_view settings_json) : settings_(parse_settings(settings_json)) {}
connector::connector(settings s) : settings_(std::move(s)) {}

void connector::ingest(std::string_view body, std::string_view content_type, sdk::ingest_context& ctx) const {
  if (!is_fhir_json_media_type(content_type)) {
    return ctx.fail("unsupported content type: this connector accepts application/fhir+json or application/json");
  }
  const fhir::document doc = fhir::read(body);
  if (!doc.readable) {
    // The reader's issues name a path and a fixed reason, never a value.
    std::string reason = "unreadable FHIR document";
    for (const auto& i : doc.issues) {
      if (i.index >= 0) continue;
      reason = i.path.empty() ? i.reason : i.path + ": " + i.reason;
      break;
    }
    return ctx.fail(reason);
  }
  for (const auto& i : doc.issues) ctx.reject(i.index, i.path, i.reason);
  const document_mapper mapper(settings_, doc, ctx);
  for (const auto& e : doc.entries) mapper.map(e);
}

sdk::emitted_signals connector::emits() const {
  sdk::emitted_signals out;
  auto& sdq_shape = out[std::string(sdq_signal_type)];
  sdq_shape.content = {"domain", "indicator", "severity", "instrument", "value"};
  // The evidence keys are the ones the scorer writes, whatever the answers were.
  const nlohmann::json keys = sdq::to_json(sdq::scores{});
  for (const auto& [key, value] : keys.items()) sdq_shape.evidence.insert(key);
  for (const auto& rule : settings_.observations) {
    auto& shape = out[rule.type];
    shape.content = {"domain", "indicator", "severity", "instrument", "value", "unit"};
    shape.evidence = {"code", "system"};
  }
  return out;
}

}  // namespace schakel::connectors::jgz_fhir
