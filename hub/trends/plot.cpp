#include "trends/plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "trends/report.hpp"

namespace schakel::trends {
namespace {

using json = nlohmann::json;
namespace ps = plot_style;

std::string escaped(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters are not allowed in XML 1.0; they cannot come from a sane document anyway.
        out += (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') ? ' ' : c;
    }
  }
  return out;
}

std::string fixed(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string group_phrase(const plot_request& req) {
  if (req.level == "class") return "class " + req.klass + " of school " + req.school;
  if (req.level == "leerjaar") return "leerjaar " + req.leerjaar + " of school " + req.school;
  return "school " + req.school;
}

std::string measure_phrase(const plot_request& req) {
  return req.category.empty() ? req.measure : req.measure + " (category " + req.category + ")";
}

std::string kind_phrase(std::string_view kind) {
  return kind == "year_to_date" ? "year-to-date" : std::string(kind);
}

/** Why a window was held back, in words, for the tooltip. */
std::string reason_text(std::string_view reason) {
  static const std::map<std::string_view, std::string_view> words{
      {"below_k", "fewer than k students counted"},
      {"complement_below_k", "nearly the whole group counted"},
      {"group_below_k", "fewer than k students enrolled"},
      {"no_enrolment", "enrolment unknown"},
      {"enrolment_inconsistent", "more students counted than enrolled"},
      {"secondary", "would let another suppressed cell be recovered"},
      {"difference", "would reveal the difference with an earlier release"},
      {"complement_secondary", "would let nearly a whole group be computed"},
      {"suppressed", "held back by disclosure control"},
      {"budget_exhausted", "the privacy budget is spent"},
  };
  const auto it = words.find(reason);
  return it == words.end() ? std::string(reason) : std::string(reason) + ": " + std::string(it->second);
}

bool matches(const trend_row& row, const plot_request& req) {
  if (row.school != req.school || row.window_kind != req.window_kind || row.measure != req.measure ||
      row.category != req.category || row.level != req.level)
    return false;
  if (req.level == "leerjaar") return row.leerjaar == req.leerjaar;
  if (req.level == "class") return row.klass == req.klass && (req.leerjaar.empty() || row.leerjaar == req.leerjaar);
  return true;
}

/** Tick spacing of 1, 2, 2.5 or 5 × 10^n giving 3 or 4 intervals from 0 (or below) to the top. */
struct y_scale {
  double lo = 0, hi = 1, step = 0.25;
  int decimals = 0;
};

y_scale scale_for(double lo, double hi) {
  lo = std::min(lo, 0.0);
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / 4;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  y_scale s;
  s.step = 10 * mag;
  for (const double m : {1.0, 2.0, 2.5, 5.0}) {
    if (m * mag >= raw * (1 - 1e-9)) {
      s.step = m * mag;
      break;
    }
  }
  s.lo = std::floor(lo / s.step + 1e-9) * s.step;
  s.hi = std::ceil(hi / s.step - 1e-9) * s.step;
  if (s.hi <= s.lo) s.hi = s.lo + s.step;
  const double frac = s.step - std::floor(s.step);
  s.decimals = s.step >= 1 && frac < 1e-9 ? 0 : (std::abs(s.step * 10 - std::round(s.step * 10)) < 1e-9 ? 1 : 2);
  if (s.step < 0.01) s.decimals = static_cast<int>(std::ceil(-std::log10(s.step))) + 1;
  return s;
}

struct point {
  std::string key;
  std::string first;
  std::string last;
  bool released = false;
  double y = 0;  // in plot units (percent when a rate)
  bool noisy = false;
  std::string value_text;  // the tooltip
  std::string reason;
};

}  // namespace

std::string render_trend_svg(const json& doc, const plot_request& req) {
  if (req.school.empty()) throw std::invalid_argument("plot: a school is required");
  if (req.measure.empty()) throw std::invalid_argument("plot: a measure is required");
  if (req.level != "school" && req.level != "leerjaar" && req.level != "class")
    throw std::invalid_argument("plot: level must be school, leerjaar or class");
  if (req.level == "leerjaar" && req.leerjaar.empty()) throw std::invalid_argument("plot: a leerjaar is required");
  if (req.level == "class" && req.klass.empty()) throw std::invalid_argument("plot: a class is required");
  if (req.window_kind != "week" && req.window_kind != "month" && req.window_kind != "year_to_date")
    throw std::invalid_argument("plot: the window kind must be week, month or year_to_date");

  // One cell per window: the latest release of it.
  std::map<std::string, const trend_row*> by_window;
  const auto rows = trend_rows(doc);
  std::string unit;
  for (const auto& row : rows) {
    if (!matches(row, req)) continue;
    auto& slot = by_window[row.window_key];
    if (slot == nullptr || row.released_at >= slot->released_at) slot = &row;
  }
  if (by_window.empty())
    throw std::invalid_argument("no cells for measure " + measure_phrase(req) + " at " + group_phrase(req) + " in " +
                                kind_phrase(req.window_kind) + " windows");

  for (const auto& [key, row] : by_window)
    if (!row->unit.empty()) unit = row->unit;
  // A rate of a count is a share of the enrolled students (drawn as %); a rate of hours is hours per student.
  const bool share = req.rate && unit != "hours";
  std::vector<point> points;
  for (const auto& [key, row] : by_window) {
    point p;
    p.key = key;
    p.first = row->first;
    p.last = row->last;
    p.released = row->released;
    if (row->released) {
      p.noisy = row->noisy;
      const double value = row->value.get<double>();
      if (req.rate) {
        double rate = 0;
        if (row->rate.is_number()) {
          rate = row->rate.get<double>();
        } else if (row->denominator.is_number() && row->denominator.get<double>() > 0) {
          rate = value / row->denominator.get<double>();
        } else {
          throw std::invalid_argument("releases[" + std::to_string(row->release_index) + "].cells[" +
                                      std::to_string(row->cell_index) +
                                      "]: no rate and no denominator; plot the value instead");
        }
        p.y = share ? rate * 100 : rate;
        p.value_text = share ? fixed(p.y, 1) + "%" : fixed(p.y, 2) + " " + unit + " per student";
        if (row->denominator.is_number())
          p.value_text += " (" + row->value.dump() + " of " + row->denominator.dump() + ")";
      } else {
        p.y = value;
        p.value_text = row->value.dump();
      }
      if (p.noisy) p.value_text += ", with noise added";
    } else {
      p.reason = row->reason;
    }
    points.push_back(std::move(p));
  }
  std::sort(points.begin(), points.end(),
            [](const point& a, const point& b) { return std::tie(a.first, a.key) < std::tie(b.first, b.key); });

  double lo = 0, hi = 0;
  bool any_noisy = false, any_suppressed = false;
  for (const auto& p : points) {
    if (p.released) {
      lo = std::min(lo, p.y);
      hi = std::max(hi, p.y);
    }
    any_noisy = any_noisy || (p.released && p.noisy);
    any_suppressed = any_suppressed || !p.released;
  }
  if (hi <= lo) hi = lo + (req.rate ? 10 : 1);
  const y_scale ys = scale_for(lo, hi);

  const double left = ps::plot_left, right = ps::plot_right, top = ps::plot_top, bottom = ps::plot_bottom;
  const double slot = (right - left) / static_cast<double>(points.size());
  const auto x_of = [&](std::size_t i) { return left + (static_cast<double>(i) + 0.5) * slot; };
  const auto y_of = [&](double v) { return bottom - (v - ys.lo) / (ys.hi - ys.lo) * (bottom - top); };
  const std::string pct = share ? "%" : "";

  const std::string title =
      measure_phrase(req) + " · " + group_phrase(req) + " · " + kind_phrase(req.window_kind) + " windows";
  std::string svg;
  svg += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + std::to_string(ps::width) +
         "\" height=\"" + std::to_string(ps::height) + "\" viewBox=\"0 0 " + std::to_string(ps::width) + " " +
         std::to_string(ps::height) + "\" font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\">\n";
  svg += "<title>" + escaped(title) + "</title>\n";
  svg +=
      "<defs><pattern id=\"suppressed-hatch\" patternUnits=\"userSpaceOnUse\" width=\"8\" height=\"8\">"
      "<rect width=\"8\" height=\"8\" fill=\"" +
      std::string(ps::suppressed_band) + "\"/><path d=\"M-2,2 L2,-2 M0,8 L8,0 M6,10 L10,6\" stroke=\"" +
      std::string(ps::suppressed_hatch) + "\" stroke-width=\"1.5\"/></pattern></defs>\n";
  svg += "<rect x=\"0\" y=\"0\" width=\"" + std::to_string(ps::width) + "\" height=\"" + std::to_string(ps::height) +
         "\" fill=\"" + std::string(ps::background) + "\"/>\n";
  svg += "<text x=\"" + fixed(ps::width / 2.0) + "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" fill=\"" +
         std::string(ps::ink) + "\">" + escaped(title) + "</text>\n";

  // Y axis: grid lines and tick labels.
  svg += "<g class=\"y-axis\" font-size=\"11\" fill=\"" + std::string(ps::ink) + "\">\n";
  const int ticks = static_cast<int>(std::lround((ys.hi - ys.lo) / ys.step));
  for (int t = 0; t <= ticks; ++t) {
    const double v = ys.lo + t * ys.step;
    const double y = y_of(v);
    svg += "<line x1=\"" + fixed(left) + "\" y1=\"" + fixed(y) + "\" x2=\"" + fixed(right) + "\" y2=\"" + fixed(y) +
           "\" stroke=\"" + std::string(ps::grid) + "\" stroke-width=\"1\"/>";
    svg += "<text x=\"" + fixed(left - 6) + "\" y=\"" + fixed(y + 4) + "\" text-anchor=\"end\">" +
           fixed(std::abs(v) < 1e-12 ? 0.0 : v, ys.decimals) + pct + "</text>\n";
  }
  const std::string y_label = share      ? std::string("share of enrolled students (%)")
                              : req.rate ? unit + " per enrolled student"
                                         : (unit.empty() ? std::string("value") : unit);
  svg += "<text transform=\"translate(18," + fixed((top + bottom) / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         escaped(y_label) + "</text>\n</g>\n";

  // Suppressed windows first, so the series is drawn over the band edges.
  svg += "<g class=\"suppressed\">\n";
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (p.released) continue;
    const double x0 = left + static_cast<double>(i) * slot, cx = x_of(i), cy = (top + bottom) / 2;
    const double arm = std::clamp(slot / 4, 2.5, 6.0);
    svg += "<g><title>" +
           escaped(p.key + " (" + p.first + " to " + p.last + "): suppressed, " + reason_text(p.reason)) + "</title>";
    svg += "<rect x=\"" + fixed(x0 + 1) + "\" y=\"" + fixed(top) + "\" width=\"" + fixed(std::max(slot - 2, 1.0)) +
           "\" height=\"" + fixed(bottom - top) + "\" fill=\"url(#suppressed-hatch)\"/>";
    svg += "<path d=\"M" + fixed(cx - arm) + "," + fixed(cy - arm) + " L" + fixed(cx + arm) + "," + fixed(cy + arm) +
           " M" + fixed(cx - arm) + "," + fixed(cy + arm) + " L" + fixed(cx + arm) + "," + fixed(cy - arm) +
           "\" stroke=\"" + std::string(ps::suppressed_marker) + "\" stroke-width=\"3\" stroke-linecap=\"round\"/>";
    svg += "</g>\n";
  }
  svg += "</g>\n";

  // The series: one polyline per run of released windows.
  svg += "<g class=\"series\" fill=\"none\" stroke=\"" + std::string(ps::series) +
         "\" stroke-width=\"2\" stroke-linejoin=\"round\">\n";
  for (std::size_t i = 0; i < points.size();) {
    std::size_t j = i;
    while (j < points.size() && points[j].released) ++j;
    if (j - i >= 2) {
      svg += "<polyline points=\"";
      for (std::size_t k = i; k < j; ++k) svg += (k > i ? " " : "") + fixed(x_of(k)) + "," + fixed(y_of(points[k].y));
      svg += "\"/>\n";
    }
    i = j == i ? i + 1 : j;
  }
  svg += "</g>\n<g class=\"points\">\n";
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (!p.released) continue;
    svg += "<circle cx=\"" + fixed(x_of(i)) + "\" cy=\"" + fixed(y_of(p.y)) + "\" r=\"4\" fill=\"" +
           (p.noisy ? std::string(ps::background) : std::string(ps::series)) + "\" stroke=\"" +
           std::string(ps::series) + "\" stroke-width=\"2\"><title>" + escaped(p.key + ": " + p.value_text) +
           "</title></circle>\n";
  }
  svg += "</g>\n";

  // Axes and window labels; with many windows only every n-th is labelled.
  svg += "<g class=\"x-axis\" font-size=\"11\" fill=\"" + std::string(ps::ink) + "\">\n";
  svg += "<line x1=\"" + fixed(left) + "\" y1=\"" + fixed(bottom) + "\" x2=\"" + fixed(right) + "\" y2=\"" +
         fixed(bottom) + "\" stroke=\"" + std::string(ps::ink) + "\" stroke-width=\"1\"/>";
  svg += "<line x1=\"" + fixed(left) + "\" y1=\"" + fixed(top) + "\" x2=\"" + fixed(left) + "\" y2=\"" + fixed(bottom) +
         "\" stroke=\"" + std::string(ps::ink) + "\" stroke-width=\"1\"/>\n";
  constexpr std::size_t max_labels = 10;
  const std::size_t every = (points.size() + max_labels - 1) / max_labels;
  for (std::size_t i = 0; i < points.size(); i += every) {
    svg += "<line x1=\"" + fixed(x_of(i)) + "\" y1=\"" + fixed(bottom) + "\" x2=\"" + fixed(x_of(i)) + "\" y2=\"" +
           fixed(bottom + 4) + "\" stroke=\"" + std::string(ps::ink) + "\" stroke-width=\"1\"/>";
    svg += "<text x=\"" + fixed(x_of(i)) + "\" y=\"" + fixed(bottom + 18) + "\" text-anchor=\"middle\">" +
           escaped(points[i].key) + "</text>\n";
  }
  svg += "</g>\n";

  // Legend, between the title and the plot area; entries only for what the plot shows.
  svg += "<g class=\"legend\" font-size=\"11\" fill=\"" + std::string(ps::ink) + "\">\n";
  double lx = left;
  const double ly = 44;
  svg += "<line x1=\"" + fixed(lx) + "\" y1=\"" + fixed(ly) + "\" x2=\"" + fixed(lx + 20) + "\" y2=\"" + fixed(ly) +
         "\" stroke=\"" + std::string(ps::series) + "\" stroke-width=\"2\"/><circle cx=\"" + fixed(lx + 10) +
         "\" cy=\"" + fixed(ly) + "\" r=\"4\" fill=\"" + std::string(ps::series) + "\"/><text x=\"" + fixed(lx + 26) +
         "\" y=\"" + fixed(ly + 4) + "\">released</text>\n";
  lx += 100;
  if (any_noisy) {
    svg += "<circle cx=\"" + fixed(lx + 10) + "\" cy=\"" + fixed(ly) + "\" r=\"4\" fill=\"" +
           std::string(ps::background) + "\" stroke=\"" + std::string(ps::series) +
           "\" stroke-width=\"2\"/><text x=\"" + fixed(lx + 20) + "\" y=\"" + fixed(ly + 4) +
           "\">released, noise added</text>\n";
    lx += 160;
  }
  if (any_suppressed) {
    svg += "<rect x=\"" + fixed(lx) + "\" y=\"" + fixed(ly - 7) +
           "\" width=\"20\" height=\"14\" fill=\"url(#suppressed-hatch)\"/><path d=\"M" + fixed(lx + 6) + "," +
           fixed(ly - 4) + " L" + fixed(lx + 14) + "," + fixed(ly + 4) + " M" + fixed(lx + 6) + "," + fixed(ly + 4) +
           " L" + fixed(lx + 14) + "," + fixed(ly - 4) + "\" stroke=\"" + std::string(ps::suppressed_marker) +
           "\" stroke-width=\"2\"/><text x=\"" + fixed(lx + 26) + "\" y=\"" + fixed(ly + 4) +
           "\">suppressed (reason in tooltip)</text>\n";
  }
  svg += "</g>\n</svg>\n";
  return svg;
}

}  // namespace schakel::trends
