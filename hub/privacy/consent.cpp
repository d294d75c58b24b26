#include "privacy/consent.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <string_view>
#include <utility>

#include "common/school_id.hpp"

namespace schakel::privacy {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<consent_kind, std::string_view>, 4> kind_names = {{
    {consent_kind::consent, "consent"},
    {consent_kind::withdrawal, "withdrawal"},
    {consent_kind::objection, "objection"},
    {consent_kind::objection_withdrawal, "objection_withdrawal"},
}};
constexpr std::array<std::pair<consenter, std::string_view>, 2> consenter_names = {{
    {consenter::parent, "parent"},
    {consenter::student, "student"},
}};

template <typename E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& names, E value) {
  for (const auto& [v, n] : names) {
    if (v == value) return n;
  }
  return {};
}

template <typename E, std::size_t N>
std::optional<E> value_of(const std::array<std::pair<E, std::string_view>, N>& names, std::string_view name) {
  for (const auto& [v, n] : names) {
    if (n == name) return v;
  }
  return std::nullopt;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/** A real calendar date written exactly YYYY-MM-DD. */
std::optional<std::chrono::year_month_day> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  for (const std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!is_digit(text[i])) return std::nullopt;
  }
  const auto num = [&text](std::size_t pos, std::size_t len) {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  const std::chrono::year_month_day ymd{std::chrono::year{num(0, 4)},
                                        std::chrono::month{static_cast<unsigned>(num(5, 2))},
                                        std::chrono::day{static_cast<unsigned>(num(8, 2))}};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

/** Record order for "latest": the store's time, then its id (ids grow). */
bool recorded_before(const consent_record& a, const consent_record& b) {
  if (a.recorded_ms != b.recorded_ms) return a.recorded_ms < b.recorded_ms;
  return a.id < b.id;
}

bool in_scope(const consent_record& r, const delivery_question& q) {
  return (!r.partner.empty() && r.partner == q.partner) || (!r.purpose.empty() && r.purpose == q.purpose);
}

/** The latest record by `who`, in scope of `q`, whose kind is one of `a`/`b`; nullptr when none. */
const consent_record* latest(const std::vector<consent_record>& records, const delivery_question& q, consenter who,
                             consent_kind a, consent_kind b) {
  const consent_record* best = nullptr;
  for (const auto& r : records) {
    if (r.given_by != who || (r.kind != a && r.kind != b) || !in_scope(r, q)) continue;
    // On an exact tie the later element wins, so the caller's order breaks it deterministically.
    if (best == nullptr || !recorded_before(r, *best)) best = &r;
  }
  return best;
}

/** A string field: absent -> nullopt with no error; present but not a string -> error. */
std::optional<std::string> string_field(const json& body, const char* name, std::string& error, bool& present) {
  present = false;
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  present = true;
  if (!it->is_string()) {
    error = std::string(name) + ": must be a string";
    return std::nullopt;
  }
  return it->get<std::string>();
}

bool plain_field_name(const std::string& name) {
  return !name.empty() && name.size() <= 32 &&
         std::all_of(name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

}  // namespace

json to_json(const consent_record& r) {
  json j = {
      {"id", r.id},
      {"kind", name_of(kind_names, r.kind)},
      {"given_by", name_of(consenter_names, r.given_by)},
      {"given_on", r.given_on},
      {"birth_date", r.birth_date},
      {"recorded_ms", r.recorded_ms},
  };
  if (!r.partner.empty()) j["partner"] = r.partner;
  if (!r.purpose.empty()) j["purpose"] = r.purpose;
  if (!r.expires_on.empty()) j["expires_on"] = r.expires_on;
  return j;
}

std::optional<consent_record> consent_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto str = [&j](const char* name, std::string& out, bool required) {
    const auto it = j.find(name);
    if (it == j.end()) return !required;
    if (!it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  const auto int64 = [&j](const char* name, std::int64_t& out) {
    const auto it = j.find(name);
    if (it == j.end()) return true;
    if (!it->is_number_integer()) return false;
    out = it->get<std::int64_t>();
    return true;
  };
  consent_record r;
  std::string kind;
  std::string given_by;
  if (!str("kind", kind, true) || !str("given_by", given_by, true) || !str("given_on", r.given_on, true) ||
      !str("partner", r.partner, false) || !str("purpose", r.purpose, false) ||
      !str("expires_on", r.expires_on, false) || !str("birth_date", r.birth_date, false) || !int64("id", r.id) ||
      !int64("recorded_ms", r.recorded_ms)) {
    return std::nullopt;
  }
  const auto k = value_of(kind_names, kind);
  const auto g = value_of(consenter_names, given_by);
  if (!k || !g) return std::nullopt;
  // A record without a scope, or with both, would match deliveries nobody consented to.
  if (r.partner.empty() == r.purpose.empty()) return std::nullopt;
  r.kind = *k;
  r.given_by = *g;
  return r;
}

std::optional<consent_request> parse_consent_request(const json& body, const std::string& today, std::string& error) {
  error.clear();
  const auto refuse = [&error](std::string message) {
    error = std::move(message);
    return std::nullopt;
  };
  const auto today_ymd = parse_date(today);
  if (!today_ymd) return refuse("today: not a date (YYYY-MM-DD)");
  if (!body.is_object()) return refuse("body: must be a JSON object");

  static constexpr std::array<std::string_view, 9> known = {
      "school", "student_key", "birth_date", "kind", "given_by", "partner", "purpose", "given_on", "expires_on"};
  for (const auto& [name, value] : body.items()) {
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    // A misspelt "expires_on" must not silently become consent without end. The name is echoed only
    // when it looks like a field name: a client could send anything as a key.
    return refuse(plain_field_name(name) ? name + ": unknown field" : std::string("body: unknown field"));
  }

  consent_request req;
  bool present = false;

  const auto school = string_field(body, "school", error, present);
  if (!error.empty()) return std::nullopt;
  if (!present) return refuse("school: missing");
  if (!is_school_id(*school)) return refuse("school: not a BRIN (4 characters 0-9/A-Z, optionally 2 digits vestiging)");
  req.school = *school;

  const auto student_key = string_field(body, "student_key", error, present);
  if (!error.empty()) return std::nullopt;
  if (!present) return refuse("student_key: missing");
  if (student_key->empty() || student_key->size() > 64) return refuse("student_key: must be 1..64 characters");
  req.student_key = *student_key;

  const auto birth_date = string_field(body, "birth_date", error, present);
  if (!error.empty()) return std::nullopt;
  if (!present) return refuse("birth_date: missing");
  if (!parse_date(*birth_date)) return refuse("birth_date: not a real date (YYYY-MM-DD)");
  if (*birth_date > today) return refuse("birth_date: after today");
  const int age = age_on(*birth_date, today);
  if (age < 0 || age >= 30) return refuse("birth_date: 30 years or more ago (Schakel serves pupils)");
  req.record.birth_date = *birth_date;

  const auto kind = string_field(body, "kind", error, present);
  if (!error.empty()) return std::nullopt;
  if (!present) return refuse("kind: missing");
  const auto k = value_of(kind_names, *kind);
  if (!k) return refuse("kind: must be consent, withdrawal, objection or objection_withdrawal");
  req.record.kind = *k;

  const auto given_by = string_field(body, "given_by", error, present);
  if (!error.empty()) return std::nullopt;
  if (!present) return refuse("given_by: missing");
  const auto g = value_of(consenter_names, *given_by);
  if (!g) return refuse("given_by: must be parent or student");
  req.record.given_by = *g;

  bool has_partner = false;
  bool has_purpose = false;
  const auto partner = string_field(body, "partner", error, has_partner);
  if (!error.empty()) return std::nullopt;
  const auto purpose = string_field(body, "purpose", error, has_purpose);
  if (!error.empty()) return std::nullopt;
  if (has_partner == has_purpose) return refuse("partner: give exactly one of partner and purpose");
  if (has_partner) {
    if (partner->empty() || partner->size() > 128) return refuse("partner: must be 1..128 characters");
    req.record.partner = *partner;
  } else {
    if (purpose->empty() || purpose->size() > 128) return refuse("purpose: must be 1..128 characters");
    req.record.purpose = *purpose;
  }

  const auto given_on = string_field(body, "given_on", error, present);
  if (!error.empty()) return std::nullopt;
  if (!present) return refuse("given_on: missing");
  if (!parse_date(*given_on)) return refuse("given_on: not a real date (YYYY-MM-DD)");
  if (*given_on > today) return refuse("given_on: after today");
  req.record.given_on = *given_on;

  const auto expires_on = string_field(body, "expires_on", error, present);
  if (!error.empty()) return std::nullopt;
  if (present && !expires_on->empty()) {
    if (req.record.kind != consent_kind::consent) return refuse("expires_on: only for kind consent");
    if (!parse_date(*expires_on)) return refuse("expires_on: not a real date (YYYY-MM-DD)");
    if (*expires_on < *given_on) return refuse("expires_on: before given_on");
    req.record.expires_on = *expires_on;
  }
  return req;
}

int age_on(const std::string& birth_date, const std::string& on) {
  const auto b = parse_date(birth_date);
  const auto d = parse_date(on);
  if (!b || !d) return -1;
  if (*d < *b) return -1;  // not born yet: no meaningful age
  int years = static_cast<int>(d->year()) - static_cast<int>(b->year());
  // Birthday not reached yet this year. A 29 February child compares against (2, 29): on 28 February
  // of a common year it is not yet reached, on 1 March it is, so they turn a year older on 1 March.
  if (std::pair(static_cast<unsigned>(d->month()), static_cast<unsigned>(d->day())) <
      std::pair(static_cast<unsigned>(b->month()), static_cast<unsigned>(b->day()))) {
    --years;
  }
  return years;
}

std::vector<consenter> required_consenters(legal_framework framework, int age) {
  // A negative (unknown) age falls in the youngest bracket; evaluate() refuses unknown ages anyway.
  if (framework == legal_framework::wgbo) {
    if (age < 12) return {consenter::parent};
    if (age < 16) return {consenter::parent, consenter::student};
    return {consenter::student};
  }
  if (age < 16) return {consenter::parent};
  return {consenter::student};
}

consent_verdict evaluate(const std::vector<consent_record>& records, const delivery_question& q) {
  if (!parse_date(q.date)) return {false, "delivery date invalid"};

  if (q.objection_applies) {
    // Either party's objection stops delivery. AVG art. 21 is the data subject's right; for a child
    // under 16 the parent exercises it, but we do not silence a 16+ student's objection nor a
    // parent's objection made on a minor's behalf: when in doubt, do not disclose.
    for (const consenter who : {consenter::parent, consenter::student}) {
      const auto* r = latest(records, q, who, consent_kind::objection, consent_kind::objection_withdrawal);
      if (r != nullptr && r->kind == consent_kind::objection && r->given_on <= q.date) return {false, "objection"};
    }
  }
  if (!q.needs_consent) return {true, "no consent needed"};

  const consent_record* with_birth = nullptr;
  for (const auto& r : records) {
    if (r.birth_date.empty()) continue;
    if (with_birth == nullptr || !recorded_before(r, *with_birth)) with_birth = &r;
  }
  const int age = with_birth == nullptr ? -1 : age_on(with_birth->birth_date, q.date);
  if (age < 0) return {false, "birth date unknown"};

  for (const consenter who : required_consenters(q.framework, age)) {
    const bool parent = who == consenter::parent;
    const auto* r = latest(records, q, who, consent_kind::consent, consent_kind::withdrawal);
    if (r == nullptr) return {false, parent ? "no consent from parent" : "no consent from student"};
    if (r->kind == consent_kind::withdrawal) {
      return {false, parent ? "consent withdrawn by parent" : "consent withdrawn by student"};
    }
    if (r->given_on > q.date) return {false, "consent not yet in effect"};
    if (!r->expires_on.empty() && q.date > r->expires_on) return {false, "consent expired"};
  }
  return {true, "consent"};
}

void consent_registry::add(const std::string& subject_ref, consent_record r) {
  const std::lock_guard lock(mutex_);
  by_subject_[subject_ref].push_back(std::move(r));
  ++count_;
}

std::vector<consent_record> consent_registry::records(const std::string& subject_ref) const {
  const std::lock_guard lock(mutex_);
  const auto it = by_subject_.find(subject_ref);
  return it == by_subject_.end() ? std::vector<consent_record>{} : it->second;
}

std::size_t consent_registry::size() const {
  const std::lock_guard lock(mutex_);
  return count_;
}

}  // namespace schakel::privacy
