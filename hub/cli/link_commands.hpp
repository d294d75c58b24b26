#pragma once
/**
 * Linking JGZ reports to students from the command line (docs/linking.md, "API and CLI"):
 * `schakel links import --config X [--ca-file F] FILE.csv` and `schakel parked list --config X [--json]`.
 * Both talk to a running hub's admin API (POST /v1/links, GET /v1/parked).
 *
 * Privacy: a linking table holds BSNs and student keys. Nothing here ever writes a value from the
 * file to stdout or stderr; errors name the file, the line and the column, and say why.
 */
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/admin_client.hpp"

namespace schakel::cli {

/** One good line of a linking table; `line` is the 1-based line number in the file (the header is 1). */
struct link_row {
  std::size_t line = 0;
  std::string bsn;
  std::string brin;
  std::string vestiging;  ///< empty when the file has no such column or leaves it empty
  std::string student_key;
};

/** What a linking table parsed into: the good rows, and one `FILE:LINE: column: reason` per bad line. */
struct link_csv {
  std::vector<link_row> rows;
  std::vector<std::string> errors;
};

/**
 * Parses a linking table export. A header row is required naming `bsn`, `brin` and `student_key`
 * (and optionally `vestiging`), in any order and case; other columns are ignored. The delimiter, `;`
 * or `,`, is taken from the header. A UTF-8 BOM, CRLF line ends, blank lines, surrounding spaces and
 * double-quoted fields are accepted. A `brin` of 6 characters with no vestiging is read as BRIN +
 * vestiging. Each bad line gives exactly one error, `file_label:LINE: column: reason`, and never the
 * value; a header that lacks a column gives one error per missing column on line 1 and no rows.
 * A BSN must be 8 or 9 digits passing the 11-test; a second line for the same BSN is refused.
 */
link_csv parse_link_csv(std::string_view text, std::string_view file_label);

/** The POST /v1/links body for one row. */
nlohmann::json link_request_body(const link_row& row);

/** Posts one body to /v1/links and returns the reply; throws std::runtime_error on a transport error. */
using link_poster = std::function<admin_reply(const std::string& body)>;

/**
 * Sends every row through `post`, then prints the summary
 * `N link(s) recorded, M parked report(s) moved on, K line(s) refused` on `out`; K counts the lines
 * the parser refused (printed here on `err`) plus those the API refused with 422 (printed the same
 * way). Returns 0 when K == 0, 1 otherwise, 2 when the hub cannot be reached or refuses the request
 * as a whole (401, 5xx, ...): the rest of the file is then not sent, and the summary says so.
 */
int import_links(const link_csv& parsed, std::string_view file_label, const link_poster& post, std::ostream& out,
                 std::ostream& err);

/**
 * Prints a GET /v1/parked answer as a table (id, instance, type, received_at), or
 * "no reports are waiting for a link" when there are none. False when the answer is malformed.
 */
bool print_parked(const nlohmann::json& answer, std::ostream& out);

/** The `links` and `parked` command groups. */
class link_commands {
 public:
  /** Adds the subcommands to `app`. */
  explicit link_commands(CLI::App& app);
  /** True when one of them was chosen on the command line. */
  bool selected() const;
  /** Runs the chosen one; the process exit code (2 on a configuration or transport error). Does not throw. */
  int run();

 private:
  int run_import();
  int run_parked();

  CLI::App* links_ = nullptr;
  CLI::App* import_ = nullptr;
  CLI::App* parked_ = nullptr;
  CLI::App* parked_list_ = nullptr;
  std::string config_;
  std::string ca_file_;
  std::string csv_file_;
  bool json_ = false;
};

}  // namespace schakel::cli
