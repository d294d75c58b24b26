#pragma once
/**
 * Regional trends from the command line (docs/trends.md), against a running hub's admin API:
 *
 *   schakel enrolment import --config X [--ca-file F] FILE.csv          POST /v1/enrolment (batches)
 *   schakel trends export --config X [--ca-file F] [--school S] [--window week|month|year_to_date]
 *                         [--from D] [--to D] [--out FILE]              GET /v1/trends → CSV
 *   schakel trends plot --config X [--ca-file F] --school S [--leerjaar L | --class C] --measure M
 *                       [--category C] [--window week] [--value] --out FILE.svg   GET /v1/trends → SVG
 *
 * Exit codes: 0 done; 1 the hub was reached but some lines were refused (import) or there is
 * nothing to plot; 2 a configuration, file or transport error, or an answer the CLI cannot use.
 * The logic is in free functions taking the transport, so it is tested without a hub.
 */
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "cli/admin_client.hpp"
#include "trends/enrolment.hpp"
#include "trends/plot.hpp"

namespace schakel::cli {

/** Sends one request to the admin API (method, path with query, body); throws std::runtime_error when unreachable. */
using admin_caller =
    std::function<admin_reply(const std::string& method, const std::string& path, const std::string& body)>;

/**
 * Prints the parser's errors on `err`, then posts the good rows to POST /v1/enrolment in batches of
 * at most `batch` classes. A 422 whose `errors[]` point into `classes` (e.g. "/classes/3/students")
 * is printed as `FILE:LINE: students: reason` for the line that class came from; the hub records
 * nothing of a refused batch, so the batch is sent again without the refused classes. A 422 that
 * names no class refuses every line of the batch. The summary `N class(es) recorded, K line(s)
 * refused` goes to `out`. Returns 0 when nothing was refused, 1 otherwise, 2 when the hub cannot be
 * reached or refuses the request as a whole (401, 5xx, ...): the rest is then not sent, and the
 * summary says where it stopped.
 */
int import_enrolment(const trends::enrolment_csv& parsed, std::string_view file_label, const admin_caller& call,
                     std::ostream& out, std::ostream& err, std::size_t batch = trends::max_enrolment_batch);

/** What `trends export` and `trends plot` ask GET /v1/trends for; empty members are left out. */
struct trends_query {
  std::string school;
  std::string window;  ///< week | month | year_to_date
  std::string from;    ///< YYYY-MM-DD
  std::string to;      ///< YYYY-MM-DD
};

/** "/v1/trends?school=…&window=…&from=…&to=…" with the given members, percent-encoded. */
std::string trends_path(const trends_query& q);

/**
 * GET /v1/trends and the CSV (trends_csv) written to `out_file`, or to `out` when it is empty.
 * Errors on `err`; returns 0, or 2 (transport, HTTP status, malformed answer, unwritable file).
 */
int export_trends(const trends_query& q, const std::string& out_file, const admin_caller& call, std::ostream& out,
                  std::ostream& err);

/**
 * GET /v1/trends for req's school and window kind, and the SVG (render_trend_svg) written to
 * `out_file`. Returns 0; 1 when nothing matches the request (the message says what was asked); 2 on
 * a transport, HTTP, answer or file error.
 */
int plot_trends(const trends::plot_request& req, const std::string& out_file, const admin_caller& call,
                std::ostream& err);

/** The `enrolment` and `trends` command groups. */
class trend_commands {
 public:
  /** Adds the subcommands to `app`. */
  explicit trend_commands(CLI::App& app);
  /** True when one of them was chosen on the command line. */
  bool selected() const;
  /** Runs the chosen one; the process exit code. Does not throw. */
  int run();

 private:
  CLI::App* enrolment_ = nullptr;
  CLI::App* import_ = nullptr;
  CLI::App* trends_ = nullptr;
  CLI::App* export_ = nullptr;
  CLI::App* plot_ = nullptr;
  std::string config_;
  std::string ca_file_;
  std::string csv_file_;
  std::string out_file_;
  trends_query query_;
  trends::plot_request plot_req_;
  bool value_ = false;
};

}  // namespace schakel::cli
