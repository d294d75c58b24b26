#include "mapper.hpp"

#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/text.hpp"

namespace schakel::connectors::attendance {
using namespace schakel::connectors::text;  // the shared CSV/date helpers read as this connector's own
namespace {

using nlohmann::json;

constexpr std::string_view type_recorded = "nl.schakel.attendance.absence.recorded";
constexpr std::string_view type_deleted = "nl.schakel.attendance.absence.deleted";
constexpr std::string_view type_snapshot = "nl.schakel.attendance.snapshot.completed";

constexpr std::size_t idx(field f) noexcept {
  return static_cast<std::size_t>(f);
}

/** One record's values: trimmed, non-empty cells of the mapped fields (absent otherwise). */
using record_values = std::array<std::optional<std::string>, field_count>;
/** What a rejection names for each field: the CSV column or the JSON pointer. */
using field_labels = std::array<std::string, field_count>;

struct snapshot_info {
  std::string id;
  date from;
  date to;
};

struct school_tally {
  school where;
  std::int64_t records = 0;
  bool incomplete = false;  ///< a row of this school was rejected: no snapshot.completed for it
};

/** State of one ingest call. */
class run {
 public:
  run(const settings& s, sdk::ingest_context& ctx) : s_(s), ctx_(ctx) {}

  void start_snapshot(snapshot_info info) {
    snapshot_ = std::move(info);
    // Without a brin column every record belongs to the default school, so even an empty
    // export is a complete statement about it.
    if (!s_.col(field::brin) && s_.default_school) tally(*s_.default_school);
  }

  void map_record(const record_values& v, const field_labels& labels, std::int64_t index);

  /** A record refused before its school is known (ragged row, bad JSON line, …). */
  void reject_unattributed(std::int64_t index, std::string_view field, std::string_view reason) {
    unattributed_rejection_ = true;
    ctx_.reject(index, field, reason);
  }

  void finish(std::int64_t next_index) {
    if (!snapshot_ || unattributed_rejection_) return;
    for (const school_tally& t : schools_) {
      if (t.incomplete) continue;
      json signal = {
          {"type", type_snapshot},
          {"observed_at", snapshot_->to.iso() + "T00:00:00Z"},
          {"subject", {{"school", school_json(t.where)}}},
          {"content",
           {{"domain", "attendance"},
            {"indicator", "snapshot"},
            {"value", t.records},
            {"severity", "info"},
            {"instrument", "absence-registration"},
            {"evidence", {{"snapshot", snapshot_->id}, {"from", snapshot_->from.iso()}, {"to", snapshot_->to.iso()}}}}},
          {"governance", governance("ordinary")}};
      ctx_.emit(signal.dump(), next_index);
    }
  }

 private:
  static json school_json(const school& sc) {
    json out = {{"brin", sc.brin}};
    if (!sc.vestiging.empty()) out["vestiging"] = sc.vestiging;
    return out;
  }
  static json governance(std::string_view category) {
    return {{"data_category", category}, {"legal_basis_hints", json::array({"public_task"})}};
  }

  school_tally& tally(const school& sc) {
    for (school_tally& t : schools_) {
      if (t.where.brin == sc.brin && t.where.vestiging == sc.vestiging) return t;
    }
    schools_.push_back({sc, 0, false});
    return schools_.back();
  }

  const settings& s_;
  sdk::ingest_context& ctx_;
  std::optional<snapshot_info> snapshot_;
  std::vector<school_tally> schools_;
  bool unattributed_rejection_ = false;
};

bool is_deleted_value(const settings& s, std::string_view v) {
  const std::string lower = ascii_lower(trim(v));
  for (const auto& d : s.deleted_values) {
    if (d == lower) return true;
  }
  return false;
}

std::optional<bool> parse_bool(std::string_view v) {
  const std::string_view t = trim(v);
  for (const char* y : {"ja", "j", "yes", "y", "true", "1"}) {
    if (iequals(t, y)) return true;
  }
  for (const char* n : {"nee", "n", "no", "false", "0"}) {
    if (iequals(t, n)) return false;
  }
  return std::nullopt;
}

/** `3` or `1-3` (spaces allowed around the dash). */
std::optional<std::pair<int, int>> parse_lesson_range(std::string_view v) {
  const std::string_view t = trim(v);
  const std::size_t dash = t.find('-');
  if (dash == std::string_view::npos) {
    const auto one = parse_count(t, 99);
    if (!one) return std::nullopt;
    return std::pair{*one, *one};
  }
  const auto from = parse_count(t.substr(0, dash), 99);
  const auto to = parse_count(t.substr(dash + 1), 99);
  if (!from || !to) return std::nullopt;
  return std::pair{*from, *to};
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

void run::map_record(const record_values& v, const field_labels& labels, std::int64_t index) {
  auto get = [&](field f) -> const std::optional<std::string>& { return v[idx(f)]; };

  // A deletion by record id alone: the source knows which registration it deleted, not whose or of
  // which day. The hub completes it from the record it stored under that id (or refuses it), so no
  // school, student or date is needed here, nor read.
  if (const auto& del = get(field::deleted), &rid = get(field::record_id);
      del && rid && is_deleted_value(s_, *del) && (!get(field::student_key) || !get(field::date))) {
    if (utf8_length(*rid) > 128) {
      return reject_unattributed(index, labels[idx(field::record_id)], "record id is longer than 128 characters");
    }
    json signal = {{"type", type_deleted},
                   {"source", {{"record_id", *rid}}},
                   {"content",
                    {{"domain", "attendance"},
                     {"indicator", "absence"},
                     {"severity", "info"},
                     {"instrument", "absence-registration"},
                     {"evidence", {{"reason", "deleted_in_source"}}}}},
                   {"governance", governance("ordinary")}};
    ctx_.emit(signal.dump(), index);
    return;
  }

  // The school comes first, so every later rejection can be charged to it (snapshot completeness).
  school where;
  if (const auto& brin = get(field::brin)) {
    where.brin = ascii_lower(*brin);
    for (char& c : where.brin) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    if (!sdk::is_brin(where.brin)) {
      reject_unattributed(index, labels[idx(field::brin)], "brin is not 4 characters (digits or capital letters)");
      return;
    }
  } else if (s_.default_school) {
    where = *s_.default_school;
  } else {
    reject_unattributed(index, labels[idx(field::brin)], "brin missing and settings.school is not set");
    return;
  }
  if (const auto& vest = get(field::vestiging)) {
    // Spreadsheets drop leading zeros ("0" for "00"), so one digit is padded.
    const auto n = parse_count(*vest, 99);
    if (!n || vest->size() > 2) {
      reject_unattributed(index, labels[idx(field::vestiging)], "vestiging is not 1 or 2 digits");
      return;
    }
    where.vestiging = std::string(*n < 10 ? "0" : "") + std::to_string(*n);
  } else if (get(field::brin) && s_.default_school && s_.default_school->brin == where.brin) {
    where.vestiging = s_.default_school->vestiging;
  }

  auto reject = [&](field f, std::string_view reason) {
    tally(where).incomplete = true;
    ctx_.reject(index, labels[idx(f)], reason);
  };

  const auto& student = get(field::student_key);
  if (!student) return reject(field::student_key, "required value missing");
  if (utf8_length(*student) > 64) return reject(field::student_key, "student key is longer than 64 characters");

  const auto& date_text = get(field::date);
  if (!date_text) return reject(field::date, "required value missing");
  const auto day = parse_date(*date_text);
  if (!day) return reject(field::date, "date is not a valid date (expected dd-mm-jjjj or YYYY-MM-DD)");
  if (snapshot_ && (*day < snapshot_->from || snapshot_->to < *day)) {
    return reject(field::date, "date is outside the snapshot's from-to range");
  }

  // Lesson numbers.
  std::optional<int> lesson_from, lesson_to;
  if (const auto& l = get(field::lesson)) {
    const auto range = parse_lesson_range(*l);
    if (!range) return reject(field::lesson, "lesson is not a lesson number 0-99 or a range like 1-3");
    lesson_from = range->first;
    lesson_to = range->second;
  } else if (const auto& lf = get(field::lesson_from)) {
    lesson_from = parse_count(*lf, 99);
    if (!lesson_from) return reject(field::lesson_from, "lesson_from is not a lesson number 0-99");
    lesson_to = lesson_from;
    if (const auto& lt = get(field::lesson_to)) {
      lesson_to = parse_count(*lt, 99);
      if (!lesson_to) return reject(field::lesson_to, "lesson_to is not a lesson number 0-99");
    }
  }
  if (lesson_from && *lesson_to < *lesson_from) {
    return reject(s_.col(field::lesson) ? field::lesson : field::lesson_to, "lesson range ends before it starts");
  }

  // Clock times.
  std::optional<int> start, end;
  if (const auto& t = get(field::start)) {
    start = parse_time(*t);
    if (!start) return reject(field::start, "start is not a valid time (expected HH:MM)");
  }
  if (const auto& t = get(field::end)) {
    end = parse_time(*t);
    if (!end) return reject(field::end, "end is not a valid time (expected HH:MM)");
    if (!start) return reject(field::start, "end time given without a start time");
    if (*end <= *start) return reject(field::end, "end time is not after start time");
  }

  std::string record_id;
  if (const auto& rid = get(field::record_id)) {
    if (utf8_length(*rid) > 128) return reject(field::record_id, "record id is longer than 128 characters");
    record_id = *rid;
  } else {
    // Identity without the code: a correction (sick -> authorised) replaces the earlier record.
    const std::string anchor =
        lesson_from ? std::to_string(*lesson_from) : (start ? format_time(*start) : std::string());
    record_id = "h:" + fnv1a64_hex(*student + "|" + day->iso() + "|" + anchor);
  }

  json subject = {{"school", school_json(where)}, {"student_key", *student}};
  const std::string observed_at = day->iso() + "T" + format_time(start.value_or(0)) + ":00Z";

  if (const auto& del = get(field::deleted); del && is_deleted_value(s_, *del)) {
    json signal = {{"type", type_deleted},
                   {"source", {{"record_id", record_id}}},
                   {"observed_at", observed_at},
                   {"subject", std::move(subject)},
                   {"content",
                    {{"domain", "attendance"},
                     {"indicator", "absence"},
                     {"severity", "info"},
                     {"instrument", "absence-registration"},
                     {"evidence", {{"date", day->iso()}, {"reason", "deleted_in_source"}}}}},
                   {"governance", governance("ordinary")}};
    tally(where);
    ctx_.emit(signal.dump(), index);
    return;
  }

  const auto& code = get(field::code);
  if (!code) return reject(field::code, "required value missing");
  const auto hit = s_.codes.find(ascii_lower(*code));
  if (hit == s_.codes.end()) return reject(field::code, "unknown absence code (not in settings.codes)");
  const category cat = hit->second;

  std::optional<int> lessons, minutes;
  if (lesson_from) lessons = *lesson_to - *lesson_from + 1;
  if (const auto& n = get(field::lessons)) {
    lessons = parse_count(*n, 99);
    if (!lessons) return reject(field::lessons, "lessons is not a whole number 0-99");
  }
  if (start && end) minutes = *end - *start;
  if (const auto& n = get(field::minutes)) {
    minutes = parse_count(*n, 1440);
    if (!minutes) return reject(field::minutes, "minutes is not a whole number 0-1440");
  }

  if (const auto& c = get(field::class_name)) {
    if (utf8_length(*c) > 32) return reject(field::class_name, "class is longer than 32 characters");
    subject["class"] = *c;
  }
  if (const auto& l = get(field::leerjaar)) {
    const auto n = parse_count(*l, 6);
    if (!n || *n < 1) return reject(field::leerjaar, "leerjaar is not a whole number 1-6");
    subject["leerjaar"] = *n;
  }
  if (const auto& y = get(field::school_year)) {
    const bool ok = y->size() == 9 && (*y)[4] == '-' && parse_count(y->substr(0, 4), 9999) &&
                    parse_count(y->substr(5), 9999) &&
                    *parse_count(y->substr(5), 9999) == *parse_count(y->substr(0, 4), 9999) + 1;
    if (!ok) return reject(field::school_year, "school year is not YYYY-YYYY with consecutive years");
    subject["school_year"] = *y;
  } else if (s_.school_year) {
    subject["school_year"] = *s_.school_year;
  }

  json evidence = {{"date", day->iso()}, {"category", category_name(cat)}, {"code", *code}};
  if (lesson_from) {
    evidence["lesson_from"] = *lesson_from;
    evidence["lesson_to"] = *lesson_to;
  }
  if (start) evidence["start"] = format_time(*start);
  if (end) evidence["end"] = format_time(*end);
  if (lessons) evidence["lessons"] = *lessons;
  if (minutes) evidence["minutes"] = *minutes;
  if (!lessons && !minutes) evidence["whole_day"] = true;
  if (snapshot_) evidence["snapshot"] = snapshot_->id;
  if (const auto& b = get(field::birth_date)) {
    // Only the age leaves the connector; the birth date itself is never emitted.
    const auto born = parse_date(*b);
    if (!born) return reject(field::birth_date, "birth date is not a valid date (expected dd-mm-jjjj or YYYY-MM-DD)");
    const int age = age_on(*born, *day);
    if (age < 0) return reject(field::birth_date, "birth date is after the absence date");
    evidence["age"] = age;
  }
  if (const auto& b = get(field::basic_qualification)) {
    const auto q = parse_bool(*b);
    if (!q) return reject(field::basic_qualification, "basic qualification is not ja/nee, true/false or 1/0");
    evidence["basic_qualification"] = *q;
  }

  json content = {
      {"domain", "attendance"}, {"indicator", "absence"}, {"severity", "info"}, {"instrument", "absence-registration"}};
  if (lessons) {
    content["value"] = *lessons;
    content["unit"] = "lessons";
  } else if (minutes) {
    content["value"] = *minutes;
    content["unit"] = "minutes";
  }
  content["evidence"] = std::move(evidence);

  json signal = {
      {"type", type_recorded},         {"source", {{"record_id", record_id}}},
      {"observed_at", observed_at},    {"subject", std::move(subject)},
      {"content", std::move(content)}, {"governance", governance(cat == category::sick ? "health" : "ordinary")}};
  ++tally(where).records;
  ctx_.emit(signal.dump(-1, ' ', false, json::error_handler_t::replace), index);
}

// ---------------------------------------------------------------------------------------------
// Encodings

/** The body as UTF-8 text, or the offset of its first invalid byte. */
struct decoded_body {
  std::string converted;     ///< filled when converted from Windows-1252
  std::string_view text;     ///< the UTF-8 text (BOM removed)
  std::size_t offset = 0;    ///< byte offset of `text` in the original body
  bool check_lines = false;  ///< declared UTF-8 without a whole-body check: validate per line
};

decoded_body decode(std::string_view body, encoding enc) {
  decoded_body out;
  const bool bom = has_utf8_bom(body);
  if (bom) {
    body.remove_prefix(3);
    out.offset = 3;
  }
  if (enc == encoding::automatic) {
    // A BOM declares UTF-8; without one, valid UTF-8 is taken as UTF-8 and anything else as the
    // Windows code page school administration exports use.
    if (bom || invalid_utf8_at(body) == std::string_view::npos) {
      enc = encoding::utf8;
    } else {
      enc = encoding::windows1252;
    }
  }
  if (enc == encoding::windows1252) {
    out.converted = windows1252_to_utf8(body);
    out.text = out.converted;
  } else {
    out.text = body;
    out.check_lines = true;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// CSV

std::string line_ref(std::int64_t line) {
  return "line " + std::to_string(line);
}

std::optional<snapshot_info> parse_directive(std::string_view line, std::int64_t line_no, std::string_view body,
                                             sdk::ingest_context& ctx) {
  std::string_view rest = line.substr(std::string_view("#snapshot").size());
  std::optional<date> from, to;
  while (true) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t' || rest.front() == ';' ||
                             rest.front() == ',' || rest.front() == '\r')) {
      rest.remove_prefix(1);
    }
    if (rest.empty()) break;
    std::size_t end = 0;
    while (end < rest.size() && rest[end] != ' ' && rest[end] != '\t' && rest[end] != ';' && rest[end] != ',' &&
           rest[end] != '\r') {
      ++end;
    }
    const std::string_view token = rest.substr(0, end);
    rest.remove_prefix(end);
    const std::size_t eq = token.find('=');
    const std::string_view key = token.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : token.substr(eq + 1);
    if (key != "from" && key != "to") {
      ctx.fail(line_ref(line_no) + ": snapshot directive has an unknown key (expected from=<date> to=<date>)");
      return std::nullopt;
    }
    const auto d = parse_date(value);
    if (!d) {
      ctx.fail(line_ref(line_no) + ": snapshot " + std::string(key) +
               " is not a valid date (expected dd-mm-jjjj or YYYY-MM-DD)");
      return std::nullopt;
    }
    (key == "from" ? from : to) = d;
  }
  if (!from || !to) {
    ctx.fail(line_ref(line_no) + ": snapshot directive needs from=<date> and to=<date>");
    return std::nullopt;
  }
  if (*to < *from) {
    ctx.fail(line_ref(line_no) + ": snapshot directive's to is before its from");
    return std::nullopt;
  }
  return snapshot_info{fnv1a64_hex(body), *from, *to};
}

void ingest_csv(const settings& s, std::string_view body, sdk::ingest_context& ctx) {
  const decoded_body dec = decode(body, s.encoding);
  const std::string_view text = dec.text;
  run state(s, ctx);

  std::int64_t line_no = 0;
  std::size_t pos = 0;
  auto next_line = [&](std::string_view& line, std::size_t& at) {
    if (pos > text.size()) return false;
    const std::size_t nl = text.find('\n', pos);
    at = pos;
    line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    return true;
  };

  std::string_view line;
  std::size_t line_at = 0;
  bool have_header = false;
  bool have_directive = false;
  while (next_line(line, line_at)) {
    if (dec.check_lines) {
      if (const std::size_t bad = invalid_utf8_at(line); bad != std::string_view::npos) {
        ctx.fail("body is not valid UTF-8 at byte " + std::to_string(dec.offset + line_at + bad) + " (" +
                 line_ref(line_no) + ", before the header row; settings.encoding is utf-8)");
        return;
      }
    }
    const std::string_view t = trim(line);
    if (t.empty()) continue;
    if (t.front() == '#') {
      if (t.substr(0, 9) == "#snapshot") {
        if (have_directive) {
          ctx.fail(line_ref(line_no) + ": a second snapshot directive");
          return;
        }
        auto snap = parse_directive(t, line_no, body, ctx);
        if (!snap) return;
        state.start_snapshot(std::move(*snap));
        have_directive = true;
      }
      continue;  // other '#' lines before the header are comments
    }
    have_header = true;
    break;
  }
  if (!have_header) {
    ctx.fail("no header row (the body is empty or holds only comments)");
    return;
  }

  const char delimiter = s.delimiter != 0 ? s.delimiter : detect_delimiter(line);
  const split_result header = split_csv_line(line, delimiter);
  if (!header.error.empty()) {
    ctx.fail(line_ref(line_no) + " (header row): " + header.error);
    return;
  }
  std::array<std::optional<std::size_t>, field_count> position;
  field_labels labels;
  for (std::size_t f = 0; f < field_count; ++f) {
    const auto& col = s.columns[f];
    if (!col) continue;
    labels[f] = col->name;
    for (std::size_t i = 0; i < header.cells.size(); ++i) {
      if (!iequals(trim(header.cells[i]), col->name)) continue;
      if (position[f]) {
        ctx.fail(line_ref(line_no) + " (header row): column '" + col->name + "' appears more than once");
        return;
      }
      position[f] = i;
    }
    const auto fld = static_cast<field>(f);
    const bool required = fld == field::student_key || fld == field::date || fld == field::code;
    if (!position[f] && (required || !col->from_profile)) {
      ctx.fail(line_ref(line_no) + " (header row): missing " + (required ? "required " : "") + "column '" + col->name +
               "' (settings.mapping." + std::string(field_name(fld)) + ")");
      return;
    }
  }
  const std::size_t width = header.cells.size();

  std::int64_t last_line = line_no;
  while (next_line(line, line_at)) {
    if (trim(line).empty()) continue;
    last_line = line_no;
    if (dec.check_lines) {
      if (const std::size_t bad = invalid_utf8_at(line); bad != std::string_view::npos) {
        state.reject_unattributed(line_no, "",
                                  "row is not valid UTF-8 at byte " + std::to_string(dec.offset + line_at + bad) +
                                      " of the body (settings.encoding is utf-8)");
        continue;
      }
    }
    split_result row = split_csv_line(line, delimiter);
    if (!row.error.empty()) {
      state.reject_unattributed(line_no, "", row.error);
      continue;
    }
    bool all_empty = true;
    for (const auto& c : row.cells) all_empty = all_empty && trim(c).empty();
    if (all_empty) continue;  // spreadsheet filler rows such as ";;;;"
    if (row.cells.size() != width) {
      state.reject_unattributed(
          line_no, "", "row has " + std::to_string(row.cells.size()) + " fields, header has " + std::to_string(width));
      continue;
    }
    record_values values;
    for (std::size_t f = 0; f < field_count; ++f) {
      if (!position[f]) continue;
      const std::string_view cell = trim(row.cells[*position[f]]);
      if (!cell.empty()) values[f] = std::string(cell);
    }
    state.map_record(values, labels, line_no);
  }
  state.finish(last_line + 1);
}

// ---------------------------------------------------------------------------------------------
// JSON

/** A scalar as text; nullopt for null; sets `bad` for arrays and objects. */
std::optional<std::string> scalar_text(const json& v, bool& bad) {
  switch (v.type()) {
    case json::value_t::null:
      return std::nullopt;
    case json::value_t::string:
      return v.get<std::string>();
    case json::value_t::boolean:
      return std::string(v.get<bool>() ? "true" : "false");
    case json::value_t::number_integer:
      return std::to_string(v.get<std::int64_t>());
    case json::value_t::number_unsigned:
      return std::to_string(v.get<std::uint64_t>());
    case json::value_t::number_float: {
      const double d = v.get<double>();
      if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 1e15) {
        return std::to_string(static_cast<std::int64_t>(d));
      }
      return v.dump();
    }
    default:
      bad = true;
      return std::nullopt;
  }
}

class json_reader {
 public:
  json_reader(const settings& s, run& state) : s_(s), state_(state) {
    for (std::size_t f = 0; f < field_count; ++f) {
      if (s.columns[f]) labels_[f] = json_pointer_of(s.columns[f]->name);
    }
  }

  void record(const json& rec, std::int64_t index) {
    if (!rec.is_object()) {
      state_.reject_unattributed(index, "", "record is not a JSON object");
      return;
    }
    record_values values;
    for (std::size_t f = 0; f < field_count; ++f) {
      if (!s_.columns[f]) continue;
      const auto it = rec.find(s_.columns[f]->name);
      if (it == rec.end()) continue;
      bool bad = false;
      auto text = scalar_text(*it, bad);
      if (bad) {
        state_.reject_unattributed(index, labels_[f], "expected a string, number or boolean");
        return;
      }
      if (text) {
        const std::string_view t = trim(*text);
        if (!t.empty()) values[f] = std::string(t);
      }
    }
    state_.map_record(values, labels_, index);
  }

 private:
  const settings& s_;
  run& state_;
  field_labels labels_;
};

/** `{"from": …, "to": …}` -> snapshot, or fail. */
std::optional<snapshot_info> snapshot_of(const json& snap, std::string_view where, std::string_view body,
                                         sdk::ingest_context& ctx) {
  if (!snap.is_object()) {
    ctx.fail(std::string(where) + " must be an object with from and to");
    return std::nullopt;
  }
  std::optional<date> from, to;
  for (const char* key : {"from", "to"}) {
    const auto it = snap.find(key);
    if (it == snap.end() || !it->is_string()) {
      ctx.fail(std::string(where) + "/" + key + " must be a date string");
      return std::nullopt;
    }
    const auto d = parse_date(it->get<std::string>());
    if (!d) {
      ctx.fail(std::string(where) + "/" + key + " is not a valid date (expected dd-mm-jjjj or YYYY-MM-DD)");
      return std::nullopt;
    }
    (std::string_view(key) == "from" ? from : to) = d;
  }
  if (*to < *from) {
    ctx.fail(std::string(where) + "/to is before /from");
    return std::nullopt;
  }
  return snapshot_info{fnv1a64_hex(body), *from, *to};
}

void ingest_json(const settings& s, std::string_view body, bool ndjson, sdk::ingest_context& ctx) {
  const decoded_body dec = decode(body, s.encoding);
  if (dec.check_lines && s.encoding == encoding::utf8) {
    if (const std::size_t bad = invalid_utf8_at(dec.text); bad != std::string_view::npos) {
      ctx.fail("body is not valid UTF-8 at byte " + std::to_string(dec.offset + bad) + " (settings.encoding is utf-8)");
      return;
    }
  }
  const std::string_view text = dec.text;
  run state(s, ctx);
  json_reader reader(s, state);

  if (ndjson) {
    std::int64_t line_no = 0;
    std::size_t pos = 0;
    bool first = true;
    std::int64_t next_index = 0;
    while (pos <= text.size()) {
      const std::size_t nl = text.find('\n', pos);
      const std::string_view line = trim(text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos));
      const std::int64_t index = line_no++;
      pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
      if (line.empty()) continue;
      next_index = index + 1;
      if (const std::size_t at = sdk::json_too_deep_at(line, max_json_depth)) {
        state.reject_unattributed(index, "", "JSON nested too deeply at byte " + std::to_string(at) + " of the line");
        first = false;
        continue;
      }
      json rec = json::parse(line, nullptr, false);
      if (rec.is_discarded()) {
        state.reject_unattributed(index, "", "line is not valid JSON");
        first = false;
        continue;
      }
      if (first && rec.is_object() && rec.size() == 1 && rec.contains("snapshot")) {
        auto snap = snapshot_of(rec["snapshot"], "/snapshot", body, ctx);
        if (!snap) return;
        state.start_snapshot(std::move(*snap));
        first = false;
        continue;
      }
      first = false;
      reader.record(rec, index);
    }
    state.finish(next_index);
    return;
  }

  if (const std::size_t at = sdk::json_too_deep_at(text, max_json_depth)) {
    ctx.fail("JSON nested deeper than " + std::to_string(max_json_depth) + " levels at byte " +
             std::to_string(dec.offset + at));
    return;
  }
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    // e.what() quotes the text around the error: only the offset goes out.
    ctx.fail("invalid JSON at byte " + std::to_string(dec.offset + e.byte));
    return;
  } catch (const json::exception&) {
    ctx.fail("invalid JSON: a number is out of range");
    return;
  }
  const json* records = &doc;
  if (doc.is_object()) {
    const auto it = doc.find("records");
    if (it == doc.end() || !it->is_array()) {
      ctx.fail("a JSON object body needs a \"records\" array");
      return;
    }
    records = &*it;
    if (const auto snap_it = doc.find("snapshot"); snap_it != doc.end()) {
      auto snap = snapshot_of(*snap_it, "/snapshot", body, ctx);
      if (!snap) return;
      state.start_snapshot(std::move(*snap));
    }
  } else if (!doc.is_array()) {
    ctx.fail("the JSON body must be an array of records or an object with a \"records\" array");
    return;
  }
  std::int64_t index = 0;
  for (const json& rec : *records) reader.record(rec, index++);
  state.finish(index);
}

}  // namespace

connector::connector(std::string_view settings_json) : settings_(parse_settings(settings_json)) {}
connector::connector(settings s) : settings_(std::move(s)) {}

void connector::ingest(std::string_view body, std::string_view content_type, sdk::ingest_context& ctx) const {
  switch (choose_format(content_type, body)) {
    case body_format::csv:
      ingest_csv(settings_, body, ctx);
      return;
    case body_format::json:
      ingest_json(settings_, body, false, ctx);
      return;
    case body_format::ndjson:
      ingest_json(settings_, body, true, ctx);
      return;
  }
}

sdk::emitted_signals connector::emits() const {
  // Every key map_record and finish can write; a key that depends on the export's columns is listed
  // because some profile has that column.
  return {
      {std::string(type_recorded),
       {{"domain", "indicator", "severity", "instrument", "value", "unit"},
        {"date", "category", "code", "lesson_from", "lesson_to", "start", "end", "lessons", "minutes", "whole_day",
         "snapshot", "age", "basic_qualification"}}},
      {std::string(type_deleted), {{"domain", "indicator", "severity", "instrument"}, {"date", "reason"}}},
      {std::string(type_snapshot),
       {{"domain", "indicator", "value", "severity", "instrument"}, {"snapshot", "from", "to"}}},
  };
}

}  // namespace schakel::connectors::attendance
