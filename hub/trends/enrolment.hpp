#pragma once
/**
 * Enrolment: how many students each class has, the denominators of trend rates (docs/trends.md).
 * It arrives as a CSV file (`schakel enrolment import`) or as the body of `POST /v1/enrolment`.
 *
 * Enrolment is not personal data, but like every import in the hub its errors name the place (file
 * and line, or JSON pointer) and the column, and never quote a cell's value.
 */
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace schakel::trends {

/** The most classes one `POST /v1/enrolment` body may carry; the CLI sends batches of this size. */
inline constexpr std::size_t max_enrolment_batch = 500;
/** The most students a class may have; more is taken for a typing error. */
inline constexpr std::int64_t max_class_students = 2000;

/** One class's enrolment. */
struct enrolment_row {
  /** CSV: the 1-based line in the file (the header is 1). JSON: the 0-based index in `classes`. */
  std::size_t line = 0;
  std::string brin;           ///< 4 of [0-9A-Z]
  std::string vestiging;      ///< 2 digits, or empty
  std::string klass;          ///< 1-16 of [0-9A-Za-z_-]
  std::string leerjaar;       ///< "1".."6"
  std::int64_t students = 0;  ///< 0..max_class_students
  std::string valid_from;     ///< YYYY-MM-DD, or empty: the hub then uses the day it records it
};

/** A parsed enrolment CSV: the good rows, and one `LABEL:LINE: column: reason` per bad line. */
struct enrolment_csv {
  std::vector<enrolment_row> rows;
  std::vector<std::string> errors;
};

/**
 * Parses an enrolment CSV. A header is required naming `brin`, `class`, `leerjaar` and `students`,
 * and optionally `vestiging` and `valid_from`, in any order and case (spaces and dashes count as
 * `_`); other columns are ignored. The delimiter, `;` or `,`, is the more frequent one in the header.
 * A UTF-8 BOM, CRLF, blank lines, spaces around fields and double-quoted fields ("" for a quote) are
 * accepted. A 6-character brin with no (or an empty) vestiging is read as BRIN + vestiging.
 *
 * Each bad line gives exactly one error, `file_label:LINE: column: reason`, and no row; a second line
 * for the same brin + vestiging + class + valid_from is refused as such. A header that lacks a column
 * gives one error per missing column on its line and no rows; an empty file one error on line 1.
 */
enrolment_csv parse_enrolment_csv(std::string_view text, std::string_view file_label);

/** A parsed `POST /v1/enrolment` body: the good classes and (JSON pointer, reason) per bad one. */
struct enrolment_body {
  std::vector<enrolment_row> rows;
  std::vector<std::pair<std::string, std::string>> errors;
};

/**
 * Reads `{"valid_from"?: "YYYY-MM-DD", "classes": [{"school": {"brin": "12AB", "vestiging"?: "00"},
 * "class": "2B", "leerjaar": "2" (or 2), "students": 28, "valid_from"?: "YYYY-MM-DD"}]}`. A class
 * without its own valid_from takes the body's. Unknown members are refused (they are usually typing
 * errors), as are more than max_enrolment_batch classes and two classes with the same key.
 *
 * Each bad class gives one error whose pointer names the member, e.g. ("/classes/3/students",
 * "an integer 0..2000"); errors about the body as a whole point at "" or "/valid_from" and then no
 * row is returned. The daemon answers any error with a 422 and records nothing.
 */
enrolment_body parse_enrolment_json(const nlohmann::json& body);

/** The body the CLI posts for `rows` (at most max_enrolment_batch): each class carries its own valid_from. */
nlohmann::json enrolment_request_body(const std::vector<enrolment_row>& rows);

/** True for an existing calendar date written YYYY-MM-DD (years 1900-9999). */
bool is_iso_date(std::string_view s);

}  // namespace schakel::trends
