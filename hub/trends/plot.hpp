#pragma once
/**
 * The trend plot of `schakel trends plot`: one measure of one group of one school across the
 * windows of a released document (model.hpp), as a standalone SVG 1.1 document.
 *
 * Windows are placed side by side in the order of their first day, one equal slot each (a window
 * the document lacks is not drawn). Released values are filled circles joined by a line; a noisy
 * value (differential privacy noise added) is a hollow circle. A suppressed window is never left
 * blank, which would read as "no data" or invite interpolation: its whole slot is a hatched grey
 * band with a red × in the middle, and a tooltip (`<title>`) gives the reason. The line is broken
 * across it.
 */
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace schakel::trends {

/** Fixed geometry and colours, so tests (and readers of the picture) can rely on them. */
namespace plot_style {
inline constexpr int width = 720;   ///< px; also the viewBox
inline constexpr int height = 360;  ///< px
/** The plot area; the title, legend, axis labels and window labels lie outside it. */
inline constexpr int plot_left = 72;
inline constexpr int plot_right = 700;
inline constexpr int plot_top = 60;
inline constexpr int plot_bottom = 300;

inline constexpr std::string_view background = "#ffffff";
inline constexpr std::string_view ink = "#333333";               ///< text, axes, ticks
inline constexpr std::string_view grid = "#f0f0f0";              ///< horizontal grid lines
inline constexpr std::string_view series = "#1f77b4";            ///< the line and the points (blue)
inline constexpr std::string_view suppressed_band = "#dddddd";   ///< band behind a suppressed window
inline constexpr std::string_view suppressed_hatch = "#bbbbbb";  ///< its diagonal hatching
/** The × on a suppressed window (red); used nowhere else, also not in the legend unless one is drawn. */
inline constexpr std::string_view suppressed_marker = "#d62728";
}  // namespace plot_style

/** Which series to draw. */
struct plot_request {
  std::string school;                ///< as in the document, e.g. "12AB00"
  std::string level = "school";      ///< "school" | "leerjaar" | "class"
  std::string leerjaar;              ///< required at level leerjaar; at level class it narrows when set
  std::string klass;                 ///< required at level class
  std::string measure;               ///< a measure name
  std::string category;              ///< distribution measures only
  std::string window_kind = "week";  ///< "week" | "month" | "year_to_date"
  bool rate = true;                  ///< y = rate (drawn as %), else the value in the measure's unit
};

/**
 * The SVG for `req` (720×360). When one window was released more than once the latest released_at
 * wins. Throws std::invalid_argument when the document is malformed (see report.hpp), the request
 * is incomplete, nothing matches ("no cells for measure students_concern at class 2B of school
 * 12AB00 in week windows"), or a rate is asked for a released cell that has neither rate nor
 * denominator. All text from the document is escaped.
 */
std::string render_trend_svg(const nlohmann::json& released_document, const plot_request& req);

}  // namespace schakel::trends
