// Fuzzes the enrolment parsers: the bytes as an enrolment CSV and, when they parse as JSON, as a
// POST /v1/enrolment body. Invariants: no crash or sanitizer report; every CSV error reads
// "LABEL:LINE: column: reason" with a line inside the file; a line gives a row or errors, never both;
// every row (CSV or JSON) satisfies the documented field rules; no two rows share a key; the rows
// of a CSV survive enrolment_request_body → parse_enrolment_json unchanged; JSON errors carry a
// pointer ("" or "/...") and a reason.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "trends/enrolment.hpp"

namespace {

namespace tr = schakel::trends;

bool valid_row(const tr::enrolment_row& r) {
  if (r.brin.size() != 4) return false;
  for (const char c : r.brin)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return false;
  if (!r.vestiging.empty() && (r.vestiging.size() != 2 || r.vestiging[0] < '0' || r.vestiging[0] > '9' ||
                               r.vestiging[1] < '0' || r.vestiging[1] > '9'))
    return false;
  if (r.klass.empty() || r.klass.size() > 16) return false;
  for (const char c : r.klass)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '-'))
      return false;
  if (r.leerjaar.size() != 1 || r.leerjaar[0] < '1' || r.leerjaar[0] > '6') return false;
  if (r.students < 0 || r.students > tr::max_class_students) return false;
  return r.valid_from.empty() || tr::is_iso_date(r.valid_from);
}

std::string key_of(const tr::enrolment_row& r) {
  return r.brin + "|" + r.vestiging + "|" + r.klass + "|" + r.valid_from;
}

void check_csv(std::string_view text) {
  constexpr std::string_view label = "fuzz.csv";
  const auto parsed = tr::parse_enrolment_csv(text, label);
  std::size_t lines = 1;
  for (const char c : text) lines += c == '\n' ? 1 : 0;

  std::set<std::size_t> error_lines;
  for (const auto& e : parsed.errors) {
    if (!e.starts_with(label) || e.size() <= label.size() + 1 || e[label.size()] != ':') std::abort();
    std::size_t i = label.size() + 1, line = 0, digits = 0;
    while (i < e.size() && e[i] >= '0' && e[i] <= '9' && digits < 12) line = line * 10 + (e[i++] - '0'), ++digits;
    if (digits == 0 || line == 0 || line > lines) std::abort();
    if (e.compare(i, 2, ": ") != 0) std::abort();
    const auto column_end = e.find(": ", i + 2);
    if (column_end == std::string::npos || column_end == i + 2 || column_end + 2 >= e.size()) std::abort();
    error_lines.insert(line);
  }
  std::set<std::string> keys;
  std::size_t previous = 0;
  for (const auto& row : parsed.rows) {
    if (!valid_row(row) || row.line <= previous || row.line > lines || error_lines.count(row.line) != 0) std::abort();
    previous = row.line;
    if (!keys.insert(key_of(row)).second) std::abort();
  }
  if (parsed.rows.empty() || parsed.rows.size() > tr::max_enrolment_batch) return;
  const auto back = tr::parse_enrolment_json(tr::enrolment_request_body(parsed.rows));
  if (!back.errors.empty() || back.rows.size() != parsed.rows.size()) std::abort();
  for (std::size_t i = 0; i < back.rows.size(); ++i) {
    const auto& a = parsed.rows[i];
    const auto& b = back.rows[i];
    if (a.brin != b.brin || a.vestiging != b.vestiging || a.klass != b.klass || a.leerjaar != b.leerjaar ||
        a.students != b.students || a.valid_from != b.valid_from || b.line != i)
      std::abort();
  }
}

void check_json(std::string_view text) {
  const auto body = nlohmann::json::parse(text, nullptr, false);
  if (body.is_discarded()) return;
  const auto parsed = tr::parse_enrolment_json(body);
  for (const auto& [pointer, reason] : parsed.errors) {
    if (!pointer.empty() && pointer[0] != '/') std::abort();
    if (reason.empty()) std::abort();
    (void)nlohmann::json::json_pointer(pointer);  // throws (and the fuzzer reports it) if not a valid pointer
  }
  std::set<std::string> keys;
  for (const auto& row : parsed.rows) {
    if (!valid_row(row) || !keys.insert(key_of(row)).second) std::abort();
  }
  if (parsed.rows.size() > tr::max_enrolment_batch) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_csv(text);
  check_json(text);
  return 0;
}
