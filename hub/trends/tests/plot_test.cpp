#include "trends/plot.hpp"

#include <png.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace schakel::trends {
namespace {

using json = nlohmann::json;
namespace ps = plot_style;

/** A released cell or a suppressed one for class 2B, in a weekly release of 12AB00 for ISO week `week`. */
json weekly_release(int week, bool suppressed, bool noisy = false) {
  // Week 40 of 2026 starts on Monday 2026-09-28; later weeks stay within October and November.
  const int start_day = 28 + (week - 40) * 7;  // days after 2026-09-00
  auto date = [](int day_of_sept) {
    int month = 9, day = day_of_sept;
    for (const int len : {30, 31, 30}) {
      if (day <= len) break;
      day -= len;
      ++month;
    }
    char buf[48];
    std::snprintf(buf, sizeof buf, "2026-%02d-%02d", month, day);
    return std::string(buf);
  };
  json cell = {{"measure", "students_concern"}, {"level", "class"}, {"leerjaar", "2"}, {"class", "2B"}};
  if (suppressed) {
    cell["status"] = "suppressed";
    cell["reason"] = "below_k";
  } else {
    const int value = 4 + (week % 5) * 3;
    cell["status"] = "released";
    cell["value"] = value;
    cell["denominator"] = 28;
    cell["rate"] = static_cast<double>(value) / 28;
    cell["noisy"] = noisy;
  }
  json other = {{"measure", "students_concern"}, {"level", "class"}, {"leerjaar", "2"},   {"class", "2C"},
                {"status", "released"},          {"value", 27},      {"denominator", 27}, {"rate", 1.0}};
  return {{"school", "12AB00"},
          {"window",
           {{"kind", "week"},
            {"key", "2026-W" + std::to_string(week)},
            {"first", date(start_day)},
            {"last", date(start_day + 6)}}},
          {"released_at", "2026-12-01T02:00:00Z"},
          {"disclosure", {{"k", 10}, {"noise", nullptr}}},
          {"measures", json::array({{{"name", "students_concern"}, {"kind", "students"}, {"unit", "students"}}})},
          {"cells", json::array({other, cell})}};
}

/** Eight weeks (2026-W40..W47), in a scrambled order; the 3rd and 6th are suppressed when asked. */
json eight_weeks(bool with_suppressed) {
  json doc = {{"releases", json::array()}};
  for (const int week : {45, 40, 47, 42, 41, 44, 46, 43}) {
    const bool suppressed = with_suppressed && (week == 42 || week == 45);
    doc["releases"].push_back(weekly_release(week, suppressed, week == 46));
  }
  return doc;
}

plot_request class_2b() {
  plot_request req;
  req.school = "12AB00";
  req.level = "class";
  req.klass = "2B";
  req.measure = "students_concern";
  return req;
}

struct rgb_image {
  unsigned width = 0, height = 0;
  std::vector<unsigned char> pixels;  // RGB
  bool near(unsigned x, unsigned y, std::string_view hex, int tolerance = 12) const {
    const auto channel = [&](std::size_t i) { return std::stoi(std::string(hex.substr(1 + 2 * i, 2)), nullptr, 16); };
    const std::size_t at = (static_cast<std::size_t>(y) * width + x) * 3;
    for (std::size_t i = 0; i < 3; ++i)
      if (std::abs(static_cast<int>(pixels[at + i]) - channel(i)) > tolerance) return false;
    return true;
  }
  /** Pixels of colour `hex` in [x0, x1) × [y0, y1). */
  int count(std::string_view hex, unsigned x0, unsigned x1, unsigned y0, unsigned y1, int tolerance = 12) const {
    int n = 0;
    for (unsigned y = y0; y < y1 && y < height; ++y)
      for (unsigned x = x0; x < x1 && x < width; ++x) n += near(x, y, hex, tolerance) ? 1 : 0;
    return n;
  }
};

/** Renders `svg` with rsvg-convert and decodes the PNG; a missing tool fails the test. */
rgb_image rasterise(const std::string& svg) {
  test::temp_dir dir("schakel-plot");
  const auto svg_path = dir / "plot.svg", png_path = dir / "plot.png";
  std::ofstream(svg_path) << svg;
  const std::string cmd = "rsvg-convert -f png -o '" + png_path.string() + "' '" + svg_path.string() + "'";
  const int rc = std::system(cmd.c_str());
  if (rc != 0) throw std::runtime_error("rsvg-convert failed or is missing (Debian librsvg2-bin): " + cmd);
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_file(&image, png_path.c_str()) == 0)
    throw std::runtime_error(std::string("cannot read the PNG: ") + image.message);
  image.format = PNG_FORMAT_RGB;
  rgb_image out;
  out.width = image.width;
  out.height = image.height;
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  if (png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr) == 0)
    throw std::runtime_error(std::string("cannot decode the PNG: ") + image.message);
  return out;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(render_trend_svg, suppressed_weeks_are_marked_in_their_own_slot_and_nowhere_else) {
  const std::string svg = render_trend_svg(eight_weeks(true), class_2b());
  const auto png = rasterise(svg);
  ASSERT_EQ(png.width, static_cast<unsigned>(ps::width));
  ASSERT_EQ(png.height, static_cast<unsigned>(ps::height));

  const double slot = (ps::plot_right - ps::plot_left) / 8.0;
  for (int i = 0; i < 8; ++i) {
    const auto x0 = static_cast<unsigned>(ps::plot_left + i * slot + 1);
    const auto x1 = static_cast<unsigned>(ps::plot_left + (i + 1) * slot - 1);
    const int marker = png.count(ps::suppressed_marker, x0, x1, ps::plot_top, ps::plot_bottom);
    const int band = png.count(ps::suppressed_band, x0, x1, ps::plot_top, ps::plot_bottom, 4);
    if (i == 2 || i == 5) {
      EXPECT_GT(marker, 10) << "week " << i + 1 << " is suppressed: its × must show";
      EXPECT_GT(band, 500) << "week " << i + 1 << " is suppressed: its band must show";
    } else {
      EXPECT_EQ(marker, 0) << "week " << i + 1 << " is released";
      EXPECT_EQ(band, 0) << "week " << i + 1 << " is released";
    }
  }
  EXPECT_GT(png.count(ps::series, ps::plot_left, ps::plot_right, ps::plot_top, ps::plot_bottom), 200)
      << "the line and the points";
  EXPECT_GT(png.count(ps::suppressed_marker, 0, ps::width, 0, ps::plot_top), 0) << "the legend explains the ×";
}

TEST(render_trend_svg, without_suppressed_weeks_there_is_no_marker_colour_at_all) {
  const auto png = rasterise(render_trend_svg(eight_weeks(false), class_2b()));
  ASSERT_EQ(png.width, static_cast<unsigned>(ps::width));
  EXPECT_EQ(png.count(ps::suppressed_marker, 0, png.width, 0, png.height), 0);
  EXPECT_GT(png.count(ps::series, ps::plot_left, ps::plot_right, ps::plot_top, ps::plot_bottom), 200);
}

TEST(render_trend_svg, the_document_orders_windows_breaks_the_line_and_explains_suppression) {
  const std::string svg = render_trend_svg(eight_weeks(true), class_2b());
  EXPECT_TRUE(
      svg.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
                      "version=\"1.1\" width=\"720\" height=\"360\" viewBox=\"0 0 720 360\""))
      << svg.substr(0, 200);
  EXPECT_EQ(occurrences(svg, "<polyline"), 3u) << "runs W40-41, W43-44, W46-47";
  EXPECT_EQ(occurrences(svg, "<circle"), 6u + 2u) << "six points and two legend symbols (released, noisy)";
  EXPECT_EQ(occurrences(svg, "fill=\"#ffffff\" stroke=\"#1f77b4\""), 2u) << "W46 is noisy: hollow, and its legend";
  EXPECT_NE(svg.find("<title>2026-W42 (2026-10-12 to 2026-10-18): suppressed, below_k: fewer than k students "
                     "counted</title>"),
            std::string::npos);
  EXPECT_NE(svg.find("<title>2026-W45 ("), std::string::npos);
  // Window labels in order of their first day although the releases came scrambled.
  std::size_t at = 0;
  for (int week = 40; week <= 47; ++week) {
    const auto next = svg.find(">2026-W" + std::to_string(week) + "</text>", at);
    ASSERT_NE(next, std::string::npos) << week;
    at = next;
  }
  EXPECT_NE(svg.find("students_concern · class 2B of school 12AB00 · week windows"), std::string::npos);
  EXPECT_NE(svg.find("%</text>"), std::string::npos) << "a rate is drawn as a percentage";
  EXPECT_EQ(svg.find("2C"), std::string::npos) << "another class's cells are not drawn";
}

TEST(render_trend_svg, the_y_axis_has_four_or_five_labelled_ticks) {
  for (const bool rate : {true, false}) {
    auto req = class_2b();
    req.rate = rate;
    const std::string svg = render_trend_svg(eight_weeks(true), req);
    const auto axis = svg.substr(svg.find("<g class=\"y-axis\""),
                                 svg.find("<g class=\"suppressed\"") - svg.find("<g class=\"y-axis\""));
    const auto ticks = occurrences(axis, "text-anchor=\"end\"");
    EXPECT_GE(ticks, 4u) << axis;
    EXPECT_LE(ticks, 5u) << axis;
    EXPECT_EQ(occurrences(axis, "%</text>") > 0, rate);
    if (!rate) {
      EXPECT_NE(axis.find(">students</text>"), std::string::npos) << "the measure's unit labels the axis";
    }
  }
}

TEST(render_trend_svg, text_from_the_document_is_escaped) {
  json doc = {{"releases", json::array()}};
  auto release = weekly_release(40, false);
  release["school"] = "<S&'\">";
  release["window"]["key"] = "W<1>";
  release["cells"][1]["measure"] = "a<b&c";
  doc["releases"].push_back(release);
  auto req = class_2b();
  req.school = "<S&'\">";
  req.measure = "a<b&c";
  const std::string svg = render_trend_svg(doc, req);
  EXPECT_NE(svg.find("a&lt;b&amp;c"), std::string::npos);
  EXPECT_NE(svg.find("&lt;S&amp;&apos;&quot;&gt;"), std::string::npos);
  EXPECT_NE(svg.find(">W&lt;1&gt;</text>"), std::string::npos);
  EXPECT_EQ(svg.find("a<b"), std::string::npos);
  EXPECT_EQ(svg.find("<S&"), std::string::npos);
}

TEST(render_trend_svg, the_latest_release_of_a_window_wins_and_a_missing_rate_comes_from_the_denominator) {
  json doc = {{"releases", json::array()}};
  auto first = weekly_release(40, true);
  first["released_at"] = "2026-10-07T02:00:00Z";
  auto again = weekly_release(40, false);
  again["released_at"] = "2026-10-14T02:00:00Z";
  again["cells"][1].erase("rate");
  again["cells"][1]["value"] = 7;
  doc["releases"] = json::array({again, first});
  const std::string svg = render_trend_svg(doc, class_2b());
  EXPECT_EQ(svg.find("url(#suppressed-hatch)"), std::string::npos) << "the later release replaced the suppressed one";
  EXPECT_NE(svg.find("<title>2026-W40: 25.0% (7 of 28)</title>"), std::string::npos) << svg;

  again["cells"][1].erase("denominator");
  doc["releases"] = json::array({again});
  try {
    (void)render_trend_svg(doc, class_2b());
    ADD_FAILURE() << "a rate without rate or denominator is refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "releases[0].cells[1]: no rate and no denominator; plot the value instead");
  }
  auto by_value = class_2b();
  by_value.rate = false;
  EXPECT_NE(render_trend_svg(doc, by_value).find("<title>2026-W40: 7</title>"), std::string::npos);
}

TEST(render_trend_svg, nothing_to_draw_or_an_incomplete_request_is_a_clear_error) {
  const auto message = [](const json& doc, const plot_request& req) -> std::string {
    try {
      (void)render_trend_svg(doc, req);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  auto req = class_2b();
  req.measure = "absence_hours";
  EXPECT_EQ(message(eight_weeks(true), req),
            "no cells for measure absence_hours at class 2B of school 12AB00 in week windows");
  req = class_2b();
  req.window_kind = "month";
  EXPECT_EQ(message(eight_weeks(true), req),
            "no cells for measure students_concern at class 2B of school 12AB00 in month windows");
  req = class_2b();
  req.level = "leerjaar";
  req.leerjaar = "2";
  req.category = "abnormal";
  EXPECT_EQ(message(eight_weeks(true), req),
            "no cells for measure students_concern (category abnormal) at leerjaar 2 of school 12AB00 in week windows");
  req = class_2b();
  req.klass.clear();
  EXPECT_EQ(message(eight_weeks(true), req), "plot: a class is required");
  EXPECT_EQ(message(json::object(), class_2b()), "releases: required: an array");
}

}  // namespace
}  // namespace schakel::trends
