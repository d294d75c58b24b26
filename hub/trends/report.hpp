#pragma once
/**
 * Reading a released trends document (model.hpp) as flat rows, and the CSV export of
 * `schakel trends export`.
 *
 * Both check the document first and throw std::invalid_argument naming the place, e.g.
 * "releases[2].cells[5].status: must be \"released\" or \"suppressed\"". A suppressed cell that
 * carries a value, denominator or rate is refused as malformed rather than written out: the export
 * never shows a number the hub decided to hold back.
 */
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace schakel::trends {

/** One cell of one release, with its release's school and window. */
struct trend_row {
  std::size_t release_index = 0;  ///< position in "releases", for messages
  std::size_t cell_index = 0;     ///< position in that release's "cells"
  std::string school;             ///< BRIN + vestiging as released, e.g. "12AB00"
  std::string window_kind;        ///< "week" | "month" | "year_to_date"
  std::string window_key;         ///< e.g. "2026-W40"
  std::string first;              ///< YYYY-MM-DD
  std::string last;               ///< YYYY-MM-DD
  std::string released_at;        ///< as released (may be empty)
  std::string measure;
  std::string unit;      ///< from the release's "measures", empty when not listed
  std::string category;  ///< empty unless a distribution measure
  std::string level;     ///< "school" | "leerjaar" | "class"
  std::string leerjaar;  ///< may be empty
  std::string klass;     ///< may be empty
  bool released = false;
  nlohmann::json value;        ///< a number when released, else null
  nlohmann::json denominator;  ///< a number or null
  nlohmann::json rate;         ///< a number or null
  bool noisy = false;
  std::string reason;  ///< suppressed only
  std::string detail;  ///< suppressed only, may be empty
};

/** Every cell of `released_document` in document order; throws std::invalid_argument when malformed. */
std::vector<trend_row> trend_rows(const nlohmann::json& released_document);

/** The CSV header line's column names, in order. */
inline constexpr const char* trends_csv_header =
    "school,window_kind,window,first,last,measure,category,level,leerjaar,class,status,value,denominator,rate,noisy,"
    "reason";

/**
 * The document as CSV (RFC 4180): the header, then one line per cell in document order, every line
 * ending in CRLF; fields holding `,`, `"`, CR or LF are quoted. Released cells give value,
 * denominator, rate (empty when absent) and noisy ("true"/"false") and an empty reason; suppressed
 * cells give empty value, denominator, rate and noisy, and their reason. Throws std::invalid_argument
 * when the document is malformed.
 */
std::string trends_csv(const nlohmann::json& released_document);

}  // namespace schakel::trends
