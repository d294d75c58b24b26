#include "cli/trend_commands.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"
#include "trends/report.hpp"

namespace schakel::cli {
namespace {

using json = nlohmann::json;

/** A fake admin API: records requests, answers from a script (then 201). */
struct fake_hub {
  struct request {
    std::string method, path;
    json body;
  };
  std::vector<request> received;
  std::vector<admin_reply> replies;
  admin_reply operator()(const std::string& method, const std::string& path, const std::string& body) {
    received.push_back({method, path, body.empty() ? json() : json::parse(body)});
    if (received.size() <= replies.size()) return replies[received.size() - 1];
    return {201, R"({"recorded": 1})"};
  }
  admin_caller caller() {
    return [this](const std::string& m, const std::string& p, const std::string& b) { return (*this)(m, p, b); };
  }
};

std::string enrolment_file(int classes) {
  std::string text = "brin;vestiging;class;leerjaar;students\n";
  for (int i = 0; i < classes; ++i) text += "12AB;00;C" + std::to_string(i) + ";1;" + std::to_string(20 + i) + "\n";
  return text;
}

TEST(import_enrolment, posts_batches_and_sums_up) {
  const auto parsed = trends::parse_enrolment_csv(enrolment_file(5), "e.csv");
  ASSERT_EQ(parsed.rows.size(), 5u);
  fake_hub hub;
  std::ostringstream out, err;
  EXPECT_EQ(import_enrolment(parsed, "e.csv", hub.caller(), out, err, 2), 0);
  ASSERT_EQ(hub.received.size(), 3u) << "5 classes in batches of 2";
  EXPECT_EQ(hub.received[0].method, "POST");
  EXPECT_EQ(hub.received[0].path, "/v1/enrolment");
  EXPECT_EQ(hub.received[0].body["classes"].size(), 2u);
  EXPECT_EQ(hub.received[2].body["classes"].size(), 1u);
  EXPECT_EQ(hub.received[2].body["classes"][0]["class"], "C4");
  EXPECT_EQ(hub.received[1].body["classes"][0],
            json::parse(R"({"school": {"brin": "12AB", "vestiging": "00"}, "class": "C2", "leerjaar": "1",
                            "students": 22})"));
  EXPECT_EQ(out.str(), "5 class(es) recorded, 0 line(s) refused\n");
  EXPECT_EQ(err.str(), "");
}

TEST(import_enrolment, a_422_is_mapped_back_to_the_file_line_and_the_rest_is_sent_again) {
  // Line 2 is refused by the parser; C1..C4 are lines 3..6.
  const auto parsed = trends::parse_enrolment_csv(
      "brin;vestiging;class;leerjaar;students\n12AB;00;C0;9;1\n12AB;00;C1;1;21\n12AB;00;C2;1;22\n12AB;00;C3;1;23\n"
      "12AB;00;C4;1;24\n",
      "e.csv");
  ASSERT_EQ(parsed.rows.size(), 4u);
  fake_hub hub;
  hub.replies = {{422, R"({"title": "Unprocessable", "detail": "2 classes refused", "errors": [
          {"field": "/classes/2/school/brin", "reason": "no such school in the configuration"},
          {"field": "/classes/1/students", "reason": "more than the school's capacity"},
          {"field": "/classes/99/students", "reason": "out of this batch: ignored"}]})"},
                 {201, R"({"recorded": 2})"}};
  std::ostringstream out, err;
  EXPECT_EQ(import_enrolment(parsed, "e.csv", hub.caller(), out, err), 1);
  ASSERT_EQ(hub.received.size(), 2u);
  EXPECT_EQ(hub.received[0].body["classes"].size(), 4u);
  ASSERT_EQ(hub.received[1].body["classes"].size(), 2u) << "sent again without the two refused classes";
  EXPECT_EQ(hub.received[1].body["classes"][0]["class"], "C1");
  EXPECT_EQ(hub.received[1].body["classes"][1]["class"], "C4");
  EXPECT_EQ(err.str(),
            "e.csv:2: leerjaar: not a leerjaar (a digit 1-6)\n"
            "e.csv:4: students: more than the school's capacity\n"
            "e.csv:5: brin: no such school in the configuration\n");
  EXPECT_EQ(out.str(), "2 class(es) recorded, 3 line(s) refused\n");
}

TEST(import_enrolment, a_422_naming_no_class_refuses_the_batch) {
  const auto parsed = trends::parse_enrolment_csv(enrolment_file(2), "e.csv");
  fake_hub hub;
  hub.replies = {{422, R"({"detail": "valid_from: before the school year", "errors": [{"field": "/valid_from",
                          "reason": "before the school year"}]})"}};
  std::ostringstream out, err;
  EXPECT_EQ(import_enrolment(parsed, "e.csv", hub.caller(), out, err), 1);
  EXPECT_EQ(hub.received.size(), 1u);
  EXPECT_EQ(err.str(),
            "e.csv:2: line: refused by the hub (HTTP 422): valid_from: before the school year\n"
            "e.csv:3: line: refused by the hub (HTTP 422): valid_from: before the school year\n");
  EXPECT_EQ(out.str(), "0 class(es) recorded, 2 line(s) refused\n");
}

TEST(import_enrolment, an_unreachable_hub_or_a_refused_token_stops_with_exit_2) {
  const auto parsed = trends::parse_enrolment_csv(enrolment_file(4), "e.csv");
  {
    fake_hub hub;
    int calls = 0;
    std::ostringstream out, err;
    const int rc = import_enrolment(
        parsed, "e.csv",
        [&](const std::string& m, const std::string& p, const std::string& b) -> admin_reply {
          if (++calls == 2) throw std::runtime_error("127.0.0.1:1: Connection refused");
          return hub(m, p, b);
        },
        out, err, 2);
    EXPECT_EQ(rc, 2);
    EXPECT_EQ(err.str(), "schakel: cannot reach the hub: 127.0.0.1:1: Connection refused\n");
    EXPECT_EQ(out.str(),
              "2 class(es) recorded, 0 line(s) refused; stopped at line 4: it and the lines after it were not sent\n");
  }
  {
    fake_hub hub;
    hub.replies = {{401, R"({"detail": "the admin token is required"})"}};
    std::ostringstream out, err;
    EXPECT_EQ(import_enrolment(parsed, "e.csv", hub.caller(), out, err, 2), 2);
    EXPECT_EQ(hub.received.size(), 1u) << "the rest of the file is not sent";
    EXPECT_EQ(err.str(), "schakel: the hub answered HTTP 401: the admin token is required\n");
    EXPECT_NE(out.str().find("stopped at line 2"), std::string::npos) << out.str();
  }
}

const char* const released_document = R"({"releases": [
  {"school": "12AB00", "window": {"kind": "week", "key": "2026-W40", "first": "2026-09-28", "last": "2026-10-04"},
   "released_at": "2026-10-07T02:00:00Z", "disclosure": {"k": 10, "noise": null},
   "measures": [{"name": "students_concern", "kind": "students", "unit": "students"}],
   "cells": [{"measure": "students_concern", "level": "class", "leerjaar": "2", "class": "2B", "status": "released",
              "value": 12, "denominator": 28, "rate": 0.4286, "noisy": false}]},
  {"school": "12AB00", "window": {"kind": "week", "key": "2026-W41", "first": "2026-10-05", "last": "2026-10-11"},
   "released_at": "2026-10-14T02:00:00Z", "disclosure": {"k": 10, "noise": null},
   "cells": [{"measure": "students_concern", "level": "class", "leerjaar": "2", "class": "2B", "status": "suppressed",
              "reason": "below_k"}]}]})";

TEST(trends_path, includes_only_the_given_filters_percent_encoded) {
  EXPECT_EQ(trends_path({}), "/v1/trends");
  EXPECT_EQ(trends_path({"12AB00", "week", "2026-09-01", "2026-12-31"}),
            "/v1/trends?school=12AB00&window=week&from=2026-09-01&to=2026-12-31");
  EXPECT_EQ(trends_path({"12 AB&x", "", "", "2026-12-31"}), "/v1/trends?school=12%20AB%26x&to=2026-12-31");
}

TEST(export_trends, writes_the_csv_to_stdout_or_a_file) {
  fake_hub hub;
  hub.replies = {{200, released_document}, {200, released_document}};
  std::ostringstream out, err;
  EXPECT_EQ(export_trends({"12AB00", "week", "", ""}, "", hub.caller(), out, err), 0);
  EXPECT_EQ(hub.received.at(0).method, "GET");
  EXPECT_EQ(hub.received.at(0).path, "/v1/trends?school=12AB00&window=week");
  const std::string expected = trends::trends_csv(json::parse(released_document));
  EXPECT_EQ(out.str(), expected);
  EXPECT_NE(expected.find("suppressed,,,,,below_k\r\n"), std::string::npos) << expected;

  test::temp_dir dir("schakel-trend-cli");
  const auto file = (dir / "trends.csv").string();
  std::ostringstream out2, err2;
  EXPECT_EQ(export_trends({}, file, hub.caller(), out2, err2), 0);
  EXPECT_EQ(out2.str(), "");
  std::ifstream in(file, std::ios::binary);
  std::stringstream written;
  written << in.rdbuf();
  EXPECT_EQ(written.str(), expected);
  EXPECT_EQ(err2.str(), "schakel: " + file + ": 2 cell(s) written\n");
  EXPECT_FALSE(std::filesystem::exists(file + ".tmp"));
}

TEST(export_trends, a_malformed_answer_or_an_http_error_is_exit_2_with_a_clear_message) {
  const auto run = [](admin_reply reply, std::string& err_text) {
    fake_hub hub;
    hub.replies = {std::move(reply)};
    std::ostringstream out, err;
    const int rc = export_trends({}, "", hub.caller(), out, err);
    err_text = err.str();
    EXPECT_EQ(out.str(), "") << "nothing half-written";
    return rc;
  };
  std::string err;
  EXPECT_EQ(run({200, "<html>"}, err), 2);
  EXPECT_EQ(err, "schakel: the hub's answer to GET /v1/trends is not JSON\n");
  EXPECT_EQ(run({200, R"({"releases": [{"school": "12AB00"}]})"}, err), 2);
  EXPECT_EQ(err,
            "schakel: the hub's answer to GET /v1/trends is not a trends document: releases[0].window: "
            "required: an object\n");
  EXPECT_EQ(run({403, R"({"detail": "trends are not enabled"})"}, err), 2);
  EXPECT_EQ(err, "schakel: the hub answered HTTP 403: trends are not enabled\n");
  fake_hub unreachable;
  std::ostringstream out, err2;
  EXPECT_EQ(export_trends(
                {}, "",
                [](const std::string&, const std::string&, const std::string&) -> admin_reply {
                  throw std::runtime_error("hub.example:8443: timed out");
                },
                out, err2),
            2);
  EXPECT_EQ(err2.str(), "schakel: cannot reach the hub: hub.example:8443: timed out\n");
}

TEST(plot_trends, writes_an_svg_or_says_what_matched_nothing) {
  test::temp_dir dir("schakel-trend-cli");
  const auto file = (dir / "plot.svg").string();
  trends::plot_request req;
  req.school = "12AB00";
  req.level = "class";
  req.klass = "2B";
  req.measure = "students_concern";
  {
    fake_hub hub;
    hub.replies = {{200, released_document}};
    std::ostringstream err;
    EXPECT_EQ(plot_trends(req, file, hub.caller(), err), 0) << err.str();
    EXPECT_EQ(hub.received.at(0).path, "/v1/trends?school=12AB00&window=week");
    std::ifstream in(file);
    std::stringstream svg;
    svg << in.rdbuf();
    EXPECT_EQ(svg.str(), trends::render_trend_svg(json::parse(released_document), req));
    EXPECT_NE(svg.str().find("suppressed, below_k"), std::string::npos);
  }
  {
    fake_hub hub;
    hub.replies = {{200, released_document}};
    auto other = req;
    other.klass = "3C";
    std::ostringstream err;
    EXPECT_EQ(plot_trends(other, (dir / "none.svg").string(), hub.caller(), err), 1);
    EXPECT_EQ(err.str(),
              "schakel: nothing to plot: no cells for measure students_concern at class 3C of school 12AB00 in week "
              "windows\n");
    EXPECT_FALSE(std::filesystem::exists(dir / "none.svg"));
  }
  {
    fake_hub hub;
    hub.replies = {{200, R"({"releases": {}})"}};
    std::ostringstream err;
    EXPECT_EQ(plot_trends(req, file, hub.caller(), err), 2);
    EXPECT_EQ(err.str(),
              "schakel: the hub's answer to GET /v1/trends is not a trends document: releases: required: "
              "an array\n");
  }
}

TEST(trend_commands, parses_the_command_lines) {
  CLI::App app;
  trend_commands cmds(app);
  EXPECT_NO_THROW(
      app.parse("trends plot -c hub.yaml --school 12AB00 --class 2B --measure students_concern --value --out x.svg"));
  EXPECT_TRUE(cmds.selected());

  CLI::App both;
  trend_commands cmds2(both);
  EXPECT_THROW(both.parse("trends plot -c hub.yaml --school 12AB00 --measure m --class 2B --leerjaar 2"),
               CLI::ParseError)
      << "--class and --leerjaar exclude each other";

  CLI::App bad_date;
  trend_commands cmds3(bad_date);
  EXPECT_THROW(bad_date.parse("trends export -c hub.yaml --from 2026-13-01"), CLI::ParseError);

  CLI::App other;
  trend_commands cmds4(other);
  other.add_subcommand("version");
  other.parse("version");
  EXPECT_FALSE(cmds4.selected());
}

}  // namespace
}  // namespace schakel::cli
