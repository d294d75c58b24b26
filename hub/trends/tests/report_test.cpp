#include "trends/report.hpp"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace schakel::trends {
namespace {

using json = nlohmann::json;

json sample_document() {
  return json::parse(R"({"releases": [
    {"school": "12AB00",
     "window": {"kind": "week", "key": "2026-W40", "first": "2026-09-28", "last": "2026-10-04"},
     "released_at": "2026-10-07T02:00:00Z",
     "disclosure": {"k": 10, "noise": null},
     "measures": [{"name": "students_concern", "kind": "students", "unit": "students"},
                  {"name": "sdq_band", "kind": "distribution", "unit": "students"}],
     "cells": [
       {"measure": "students_concern", "level": "school", "status": "released",
        "value": 40, "denominator": 310, "rate": 0.129, "noisy": false},
       {"measure": "students_concern", "level": "class", "leerjaar": "2", "class": "2B", "status": "suppressed",
        "reason": "below_k", "detail": "fewer than 10"},
       {"measure": "sdq_band", "category": "abnormal", "level": "leerjaar", "leerjaar": "2", "status": "released",
        "value": 12, "denominator": 28, "rate": 0.4286, "noisy": true}]},
    {"school": "12AB00",
     "window": {"kind": "month", "key": "2026-10", "first": "2026-09-28", "last": "2026-11-01"},
     "disclosure": {"k": 10, "noise": {"epsilon": 0.5}},
     "cells": [
       {"measure": "absence, \"authorised\"", "level": "class", "class": "2B", "status": "released", "value": 12.5}]}
  ]})");
}

TEST(trends_csv, writes_a_header_and_one_crlf_line_per_cell) {
  const std::string csv = trends_csv(sample_document());
  EXPECT_EQ(csv,
            "school,window_kind,window,first,last,measure,category,level,leerjaar,class,status,value,denominator,rate,"
            "noisy,reason\r\n"
            "12AB00,week,2026-W40,2026-09-28,2026-10-04,students_concern,,school,,,released,40,310,0.129,false,\r\n"
            "12AB00,week,2026-W40,2026-09-28,2026-10-04,students_concern,,class,2,2B,suppressed,,,,,below_k\r\n"
            "12AB00,week,2026-W40,2026-09-28,2026-10-04,sdq_band,abnormal,leerjaar,2,,released,12,28,0.4286,true,\r\n"
            "12AB00,month,2026-10,2026-09-28,2026-11-01,\"absence, \"\"authorised\"\"\",,class,,2B,released,12.5,,,"
            "false,\r\n");
}

TEST(trends_csv, an_empty_release_list_is_just_the_header) {
  EXPECT_EQ(trends_csv(json::parse(R"({"releases": []})")), std::string(trends_csv_header) + "\r\n");
}

TEST(trend_rows, carries_the_window_unit_and_indexes) {
  const auto rows = trend_rows(sample_document());
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[2].unit, "students");
  EXPECT_EQ(rows[2].category, "abnormal");
  EXPECT_TRUE(rows[2].noisy);
  EXPECT_EQ(rows[1].reason, "below_k");
  EXPECT_EQ(rows[1].detail, "fewer than 10");
  EXPECT_TRUE(rows[1].value.is_null());
  EXPECT_EQ(rows[3].release_index, 1u);
  EXPECT_EQ(rows[3].cell_index, 0u);
  EXPECT_EQ(rows[3].unit, "") << "the second release lists no measures";
  EXPECT_EQ(rows[0].released_at, "2026-10-07T02:00:00Z");
}

/** The message trends_csv throws for `doc`, or "" when it does not throw. */
std::string refusal(const json& doc) {
  try {
    (void)trends_csv(doc);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(trends_csv, a_malformed_document_is_refused_naming_the_place) {
  EXPECT_EQ(refusal(json::array()), "document: must be a JSON object with a releases array");
  EXPECT_EQ(refusal(json::object()), "releases: required: an array");

  auto doc = sample_document();
  doc["releases"][1]["cells"][0]["status"] = "pending";
  EXPECT_EQ(refusal(doc), "releases[1].cells[0].status: must be \"released\" or \"suppressed\"");

  doc = sample_document();
  doc["releases"][0]["cells"][1]["value"] = 3;  // a suppressed cell must not leak its number
  EXPECT_EQ(refusal(doc), "releases[0].cells[1].value: present on a suppressed cell (it must carry only its reason)");

  doc = sample_document();
  doc["releases"][0]["cells"][1].erase("reason");
  EXPECT_EQ(refusal(doc), "releases[0].cells[1].reason: required");

  doc = sample_document();
  doc["releases"][0]["cells"][0].erase("value");
  EXPECT_EQ(refusal(doc), "releases[0].cells[0].value: required for a released cell");

  doc = sample_document();
  doc["releases"][0]["cells"][0]["rate"] = "13%";
  EXPECT_EQ(refusal(doc), "releases[0].cells[0].rate: must be a number");

  doc = sample_document();
  doc["releases"][0]["window"]["kind"] = "day";
  EXPECT_EQ(refusal(doc), "releases[0].window.kind: must be \"week\", \"month\" or \"year_to_date\"");

  doc = sample_document();
  doc["releases"][1]["window"]["first"] = "2026-09-31";
  EXPECT_EQ(refusal(doc), "releases[1].window.first: not a date (YYYY-MM-DD)");

  doc = sample_document();
  doc["releases"][0]["cells"][2]["level"] = "class";
  EXPECT_EQ(refusal(doc), "releases[0].cells[2].class: required at level class");

  doc = sample_document();
  doc["releases"][0]["cells"][0]["noisy"] = "yes";
  EXPECT_EQ(refusal(doc), "releases[0].cells[0].noisy: must be true or false");

  doc = sample_document();
  doc["releases"][1].erase("school");
  EXPECT_EQ(refusal(doc), "releases[1].school: required");
}

}  // namespace
}  // namespace schakel::trends
