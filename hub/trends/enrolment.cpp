#include "trends/enrolment.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <optional>

#include "common/csv_table.hpp"
#include "common/school_id.hpp"
#include "trends/windows.hpp"

namespace schakel::trends {
namespace {

using json = nlohmann::json;

constexpr std::string_view expected_columns =
    "the header needs brin, class, leerjaar, students; vestiging and valid_from are optional";

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), is_digit);
}

/** A problem with one row: the CSV column it is about and why (never the value). */
struct problem {
  std::string_view column;
  std::string reason;
};

constexpr std::string_view required = "empty (required)";

std::optional<problem> check_brin(enrolment_row& row, bool allow_combined) {
  if (allow_combined) split_combined_school_code(row.brin, row.vestiging);
  if (row.brin.empty()) return problem{"brin", std::string(required)};
  if (!is_brin(row.brin)) return problem{"brin", "not a BRIN (4 capital letters or digits, e.g. 12AB)"};
  if (!row.vestiging.empty() && !is_vestiging(row.vestiging))
    return problem{"vestiging", "not a vestiging number (2 digits, or empty)"};
  return std::nullopt;
}

std::optional<problem> check_class(const enrolment_row& row) {
  if (row.klass.empty()) return problem{"class", std::string(required)};
  if (row.klass.size() > 16 || !std::all_of(row.klass.begin(), row.klass.end(), [](char c) {
        return is_digit(c) || is_upper(c) || is_lower(c) || c == '_' || c == '-';
      }))
    return problem{"class", "not a class name (1-16 letters, digits, _ or -)"};
  return std::nullopt;
}

std::optional<problem> check_leerjaar(const enrolment_row& row) {
  if (row.leerjaar.empty()) return problem{"leerjaar", std::string(required)};
  if (row.leerjaar.size() != 1 || row.leerjaar[0] < '1' || row.leerjaar[0] > '6')
    return problem{"leerjaar", "not a leerjaar (a digit 1-6)"};
  return std::nullopt;
}

std::string students_range() {
  return "out of range (0-" + std::to_string(max_class_students) + ")";
}

std::optional<problem> check_valid_from(const enrolment_row& row) {
  if (!row.valid_from.empty() && !is_iso_date(row.valid_from))
    return problem{"valid_from", "not a date (YYYY-MM-DD), or empty for today"};
  return std::nullopt;
}

/** brin + vestiging + class + valid_from: a school records one number per class per date. */
std::string row_key(const enrolment_row& row) {
  return row.brin + '\x1f' + row.vestiging + '\x1f' + row.klass + '\x1f' + row.valid_from;
}

/** JSON pointer token escaping (RFC 6901). */
std::string pointer_token(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

}  // namespace

bool is_iso_date(std::string_view s) {
  // The calendar arithmetic lives in windows.cpp; enrolment only adds that dates before 1900 are typos.
  days d{};
  return parse_day(std::string(s), d) && s.substr(0, 4) >= "1900";
}

enrolment_csv parse_enrolment_csv(std::string_view text, std::string_view file_label) {
  enum column { brin_col, vestiging_col, class_col, leerjaar_col, students_col, valid_from_col, column_count };
  constexpr std::array<csv::column, column_count> columns{
      {{"brin"}, {"vestiging", false}, {"class"}, {"leerjaar"}, {"students"}, {"valid_from", false}}};
  auto table = csv::read_table(text, file_label, columns, expected_columns);
  enrolment_csv result;
  result.errors = std::move(table.errors);
  std::map<std::string, std::size_t> line_of_key;
  for (auto& rec : table.records) {
    if (!rec.error.empty()) {
      result.errors.push_back(std::move(rec.error));
      continue;
    }
    enrolment_row row;
    row.line = rec.line;
    row.brin = std::move(rec.fields[brin_col]);
    row.vestiging = std::move(rec.fields[vestiging_col]);
    row.klass = std::move(rec.fields[class_col]);
    row.leerjaar = std::move(rec.fields[leerjaar_col]);
    row.valid_from = std::move(rec.fields[valid_from_col]);
    std::optional<problem> bad = check_brin(row, true);
    if (!bad) bad = check_class(row);
    if (!bad) bad = check_leerjaar(row);
    if (!bad) {
      const std::string& students = rec.fields[students_col];
      std::int64_t n = -1;
      const auto [end_ptr, ec] = std::from_chars(students.data(), students.data() + students.size(), n);
      if (students.empty())
        bad = problem{"students", std::string(required)};
      else if (!all_digits(students) || (ec != std::errc() && ec != std::errc::result_out_of_range) ||
               end_ptr != students.data() + students.size())
        bad = problem{"students", "not a whole number"};
      else if (ec == std::errc::result_out_of_range || n > max_class_students)
        bad = problem{"students", students_range()};
      else
        row.students = n;
    }
    if (!bad) bad = check_valid_from(row);
    if (bad) {
      result.errors.push_back(csv::located(file_label, rec.line, bad->column, bad->reason));
      continue;
    }
    if (const auto [it, fresh] = line_of_key.emplace(row_key(row), rec.line); !fresh) {
      result.errors.push_back(
          csv::located(file_label, rec.line, "class",
                       "the same school, class and valid_from as line " + std::to_string(it->second)));
      continue;
    }
    result.rows.push_back(std::move(row));
  }
  return result;
}

namespace {

/** Where a CSV column lives in one class of the JSON body. */
std::string member_of(std::string_view column) {
  if (column == "brin" || column == "vestiging") return "/school/" + std::string(column);
  return "/" + std::string(column);
}

/** A string member, or nullopt with a problem when present with another type. */
std::optional<problem> read_string(const json& obj, std::string_view key, std::string& out) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return problem{key, "must be a string"};
  out = it->get<std::string>();
  return std::nullopt;
}

/** One class of the body, checked in the order a reader would fix them; the first problem wins. */
std::optional<std::pair<std::string, std::string>> read_class(const json& c, const std::string& default_from,
                                                              enrolment_row& row) {
  if (!c.is_object()) return std::pair<std::string, std::string>{"", "must be an object"};
  for (const auto& [key, value] : c.items()) {
    if (key != "school" && key != "class" && key != "leerjaar" && key != "students" && key != "valid_from")
      return std::pair<std::string, std::string>{"/" + pointer_token(key), "unknown member"};
  }
  const auto school = c.find("school");
  if (school == c.end() || school->is_null())
    return std::pair<std::string, std::string>{"/school", "required: {\"brin\": ..., \"vestiging\"?: ...}"};
  if (!school->is_object()) return std::pair<std::string, std::string>{"/school", "must be an object"};
  for (const auto& [key, value] : school->items()) {
    if (key != "brin" && key != "vestiging")
      return std::pair<std::string, std::string>{"/school/" + pointer_token(key), "unknown member"};
  }
  auto bad = read_string(*school, "brin", row.brin);
  if (!bad) bad = read_string(*school, "vestiging", row.vestiging);
  if (bad) return std::pair<std::string, std::string>{"/school/" + std::string(bad->column), bad->reason};
  if (!bad) bad = check_brin(row, false);
  if (!bad) bad = read_string(c, "class", row.klass);
  if (!bad) bad = check_class(row);
  if (!bad) {
    const auto it = c.find("leerjaar");
    if (it != c.end() && it->is_number_integer()) {
      const auto n = it->get<std::int64_t>();
      row.leerjaar = n >= 1 && n <= 6 ? std::to_string(n) : "x";  // "x" fails the check below
    } else if (it != c.end() && !it->is_null() && !it->is_string()) {
      bad = problem{"leerjaar", "must be a string or an integer"};
    } else {
      bad = read_string(c, "leerjaar", row.leerjaar);
    }
  }
  if (!bad) bad = check_leerjaar(row);
  if (!bad) {
    const auto it = c.find("students");
    if (it == c.end() || it->is_null())
      bad = problem{"students", "required"};
    else if (!it->is_number_integer())
      bad = problem{"students", "must be an integer (0-" + std::to_string(max_class_students) + ")"};
    else if (it->is_number_unsigned() ? it->get<std::uint64_t>() > static_cast<std::uint64_t>(max_class_students)
                                      : (it->get<std::int64_t>() < 0 || it->get<std::int64_t>() > max_class_students))
      bad = problem{"students", students_range()};
    else
      row.students = it->get<std::int64_t>();
  }
  if (!bad) {
    row.valid_from = default_from;
    bad = read_string(c, "valid_from", row.valid_from);
  }
  if (!bad) bad = check_valid_from(row);
  if (bad) return std::pair<std::string, std::string>{member_of(bad->column), bad->reason};
  return std::nullopt;
}

}  // namespace

enrolment_body parse_enrolment_json(const json& body) {
  enrolment_body result;
  if (!body.is_object()) {
    result.errors.emplace_back("", "the body must be a JSON object with a classes array");
    return result;
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "classes" && key != "valid_from") result.errors.emplace_back("/" + pointer_token(key), "unknown member");
  }
  std::string default_from;
  if (const auto it = body.find("valid_from"); it != body.end() && !it->is_null()) {
    if (!it->is_string() || !is_iso_date(it->get_ref<const std::string&>()))
      result.errors.emplace_back("/valid_from", "not a date (YYYY-MM-DD); leave it out for today");
    else
      default_from = it->get<std::string>();
  }
  const auto classes = body.find("classes");
  if (classes == body.end() || !classes->is_array())
    result.errors.emplace_back("/classes", "required: an array of classes");
  else if (classes->empty())
    result.errors.emplace_back("/classes", "empty; give at least one class");
  else if (classes->size() > max_enrolment_batch)
    result.errors.emplace_back("/classes",
                               "more than " + std::to_string(max_enrolment_batch) + " classes; send them in batches");
  if (!result.errors.empty()) return result;

  std::map<std::string, std::size_t> index_of_key;
  for (std::size_t i = 0; i < classes->size(); ++i) {
    const std::string at = "/classes/" + std::to_string(i);
    enrolment_row row;
    row.line = i;
    if (const auto bad = read_class((*classes)[i], default_from, row)) {
      result.errors.emplace_back(at + bad->first, bad->second);
      continue;
    }
    if (const auto [it, fresh] = index_of_key.emplace(row_key(row), i); !fresh) {
      result.errors.emplace_back(at, "the same school, class and valid_from as /classes/" + std::to_string(it->second));
      continue;
    }
    result.rows.push_back(std::move(row));
  }
  return result;
}

json enrolment_request_body(const std::vector<enrolment_row>& rows) {
  json classes = json::array();
  for (const auto& row : rows) {
    json school = {{"brin", row.brin}};
    if (!row.vestiging.empty()) school["vestiging"] = row.vestiging;
    json c = {
        {"school", std::move(school)}, {"class", row.klass}, {"leerjaar", row.leerjaar}, {"students", row.students}};
    if (!row.valid_from.empty()) c["valid_from"] = row.valid_from;
    classes.push_back(std::move(c));
  }
  return {{"classes", std::move(classes)}};
}

}  // namespace schakel::trends
