#pragma once
/**
 * Header-driven CSV tables, as schools export them from spreadsheets: the linking table
 * (`schakel links import`) and the enrolment file (`schakel enrolment import`) read their lines
 * through here, so both accept the same files and word their errors the same way.
 *
 * Errors are `LABEL:LINE: column: reason` and never quote a cell's value.
 */
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace schakel::csv {

/** A column the caller reads, by its canonical name (lower case, `_` for spaces and dashes). */
struct column {
  std::string_view name;
  bool required = true;
};

/** One data line. */
struct record {
  std::size_t line = 0;             ///< 1-based line in the file (the header counts)
  std::vector<std::string> fields;  ///< one per requested column, "" for an optional column the header lacks
  /** Non-empty when the line cannot be read (an open quote, a wrong field count): the whole
      `LABEL:LINE: line: reason` error; `fields` is then empty. */
  std::string error;
};

/** A read table: header errors (then no records), or the data lines in file order. */
struct table {
  std::vector<std::string> errors;
  std::vector<record> records;
};

/**
 * Reads `text` as a CSV table whose first non-blank line is a header naming `columns` in any order
 * and case (spaces and dashes count as `_`); other header columns are ignored. The delimiter, `;` or
 * `,`, is the more frequent one outside quotes in the header (`,` on a tie). A UTF-8 BOM, CRLF, blank
 * lines, spaces around fields and double-quoted fields (`""` for a quote; a field never spans lines)
 * are accepted, and so are empty fields past the header's count (trailing delimiters).
 *
 * The header gives one error per column it names twice and per required column it lacks, each
 * `LABEL:LINE: column: ...` with `header_hint` (e.g. "the header needs a, b; c is optional") in the
 * latter; an empty file gives one error on line 1. Each data line that cannot be split or has
 * another number of fields than the header becomes a record with its error.
 */
table read_table(std::string_view text, std::string_view label, std::span<const column> columns,
                 std::string_view header_hint);

/** `label:line: column: reason`, the form of every error about a table's line. */
std::string located(std::string_view label, std::size_t line, std::string_view column, std::string_view reason);

/** Trims spaces and tabs on both ends. */
std::string_view trim(std::string_view s);

/** A header cell's canonical name: trimmed, ASCII lower case, spaces and dashes as `_` ("Valid-From" → valid_from). */
std::string column_name(std::string_view s);

/** `;` when it occurs more often than `,` outside quotes in `header`, else `,`. */
char detect_delimiter(std::string_view header);

/**
 * The fields of one line split on `delim`, or nullopt when a quote is not closed. Unquoted fields
 * are trimmed; a quoted one is kept as is (`""` is a quote), and text after its closing quote is
 * appended, as spreadsheets do.
 */
std::optional<std::vector<std::string>> split_fields(std::string_view line, char delim);

}  // namespace schakel::csv
