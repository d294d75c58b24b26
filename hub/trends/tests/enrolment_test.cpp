#include "trends/enrolment.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace schakel::trends {
namespace {

using json = nlohmann::json;

std::string joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) out += e + "\n";
  return out;
}

std::string joined(const std::vector<std::pair<std::string, std::string>>& errors) {
  std::string out;
  for (const auto& [at, why] : errors) out += at + ": " + why + "\n";
  return out;
}

TEST(parse_enrolment_csv, reads_columns_in_any_order_and_case_with_optional_ones) {
  const auto r = parse_enrolment_csv(
      "Students;CLASS;Leerjaar;BRIN;Vestiging;Valid-From;remark\n28;2B;2;12AB;00;2026-08-15;x\n31;3a_x;3;12AB;;;\n",
      "enrol.csv");
  EXPECT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].line, 2u);
  EXPECT_EQ(r.rows[0].brin, "12AB");
  EXPECT_EQ(r.rows[0].vestiging, "00");
  EXPECT_EQ(r.rows[0].klass, "2B");
  EXPECT_EQ(r.rows[0].leerjaar, "2");
  EXPECT_EQ(r.rows[0].students, 28);
  EXPECT_EQ(r.rows[0].valid_from, "2026-08-15");
  EXPECT_EQ(r.rows[1].klass, "3a_x");
  EXPECT_EQ(r.rows[1].vestiging, "");
  EXPECT_EQ(r.rows[1].valid_from, "") << "no date: the hub uses today";
}

TEST(parse_enrolment_csv, accepts_bom_crlf_blank_lines_quotes_spaces_and_a_combined_brin) {
  const auto r = parse_enrolment_csv(
      "\xEF\xBB\xBF\"brin\",\"class\",\"leerjaar\",\"students\"\r\n\r\n \"12AB01\" , \"2-B\" , 2 "
      ",\"0\"\r\n34CD,1A,1,2000,\r\n",
      "e.csv");
  EXPECT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].line, 3u) << "blank lines still count";
  EXPECT_EQ(r.rows[0].brin, "12AB");
  EXPECT_EQ(r.rows[0].vestiging, "01");
  EXPECT_EQ(r.rows[0].klass, "2-B");
  EXPECT_EQ(r.rows[0].students, 0);
  EXPECT_EQ(r.rows[1].students, 2000) << "a trailing delimiter is tolerated";
}

TEST(parse_enrolment_csv, each_bad_line_gives_one_error_naming_file_line_and_column) {
  const auto r = parse_enrolment_csv(
      "brin;vestiging;class;leerjaar;students;valid_from\n"
      "12ab;00;2B;2;28;\n"                       // 2: lower-case brin
      "12AB;0;2B;2;28;\n"                        // 3: vestiging
      "12AB;00;;2;28;\n"                         // 4: class empty
      "12AB;00;2B/C;2;28;\n"                     // 5: class characters
      "12AB;00;ABCDEFGHIJKLMNOPQ;2;28;\n"        // 6: class too long
      "12AB;00;2B;7;28;\n"                       // 7: leerjaar
      "12AB;00;2B;2;2001;\n"                     // 8: too many students
      "12AB;00;2B;2;-1;\n"                       // 9: negative
      "12AB;00;2B;2;28.5;\n"                     // 10: not whole
      "12AB;00;2B;2;99999999999999999999999;\n"  // 11: overflows
      "12AB;00;2B;2;28;2026-02-29\n"             // 12: no such date
      "12AB;00;2B;2;28;2028-02-29\n"             // 13: good (leap year)
      "12AB;00;2B;2;29;2028-02-29\n"             // 14: same key as 13
      "12AB;00;2B;2;29;2028-03-01\n"             // 15: good, another date
      "12AB;00;2B;2\n"                           // 16: field count
      "\"12AB;00;2B;2;28;\n",                    // 17: open quote
      "enrol.csv");
  ASSERT_EQ(r.rows.size(), 2u) << joined(r.errors);
  EXPECT_EQ(r.rows[0].line, 13u);
  EXPECT_EQ(r.rows[1].line, 15u);
  const std::vector<std::string> expected{
      "enrol.csv:2: brin: not a BRIN (4 capital letters or digits, e.g. 12AB)",
      "enrol.csv:3: vestiging: not a vestiging number (2 digits, or empty)",
      "enrol.csv:4: class: empty (required)",
      "enrol.csv:5: class: not a class name (1-16 letters, digits, _ or -)",
      "enrol.csv:6: class: not a class name (1-16 letters, digits, _ or -)",
      "enrol.csv:7: leerjaar: not a leerjaar (a digit 1-6)",
      "enrol.csv:8: students: out of range (0-2000)",
      "enrol.csv:9: students: not a whole number",
      "enrol.csv:10: students: not a whole number",
      "enrol.csv:11: students: out of range (0-2000)",
      "enrol.csv:12: valid_from: not a date (YYYY-MM-DD), or empty for today",
      "enrol.csv:14: class: the same school, class and valid_from as line 13",
      "enrol.csv:16: line: 4 field(s) where the header has 6",
      "enrol.csv:17: line: a quote is not closed",
  };
  EXPECT_EQ(r.errors, expected);
}

TEST(parse_enrolment_csv, a_missing_column_or_empty_file_is_refused_on_line_one) {
  const auto r = parse_enrolment_csv("brin,class\n12AB,2B\n", "e.csv");
  EXPECT_TRUE(r.rows.empty());
  ASSERT_EQ(r.errors.size(), 2u) << joined(r.errors);
  EXPECT_TRUE(r.errors[0].starts_with("e.csv:1: leerjaar: missing column in the header")) << r.errors[0];
  EXPECT_TRUE(r.errors[1].starts_with("e.csv:1: students: missing column in the header")) << r.errors[1];

  const auto twice = parse_enrolment_csv("brin,class,leerjaar,students,Class\n", "t.csv");
  ASSERT_EQ(twice.errors.size(), 1u);
  EXPECT_EQ(twice.errors[0], "t.csv:1: class: the column appears twice in the header");

  const auto empty = parse_enrolment_csv("\xEF\xBB\xBF\r\n\r\n", "empty.csv");
  ASSERT_EQ(empty.errors.size(), 1u);
  EXPECT_TRUE(empty.errors[0].starts_with("empty.csv:1: header: missing")) << empty.errors[0];
}

TEST(parse_enrolment_csv, errors_never_quote_a_value) {
  const auto r = parse_enrolment_csv(
      "brin;class;leerjaar;students;valid_from\nQZ9X7;2B;2;28;\n12AB;Z%Q;2;28;\n12AB;2B;9;28;\n12AB;2B;2;1777x;\n"
      "12AB;2B;2;28;2026-13-45\n",
      "e.csv");
  ASSERT_EQ(r.errors.size(), 5u) << joined(r.errors);
  const auto all = joined(r.errors);
  for (const char* value : {"QZ9X7", "Z%Q", "9", "1777", "2026-13-45"})
    EXPECT_EQ(all.find(value), std::string::npos) << value << " in:\n" << all;
}

TEST(parse_enrolment_json, reads_classes_with_the_body_default_and_their_own_valid_from) {
  const auto body = json::parse(R"({"valid_from": "2026-08-15", "classes": [
      {"school": {"brin": "12AB", "vestiging": "00"}, "class": "2B", "leerjaar": "2", "students": 28},
      {"school": {"brin": "12AB"}, "class": "3C", "leerjaar": 3, "students": 0, "valid_from": "2027-01-01"}]})");
  const auto r = parse_enrolment_json(body);
  EXPECT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].line, 0u);
  EXPECT_EQ(r.rows[0].vestiging, "00");
  EXPECT_EQ(r.rows[0].valid_from, "2026-08-15");
  EXPECT_EQ(r.rows[1].line, 1u);
  EXPECT_EQ(r.rows[1].leerjaar, "3");
  EXPECT_EQ(r.rows[1].vestiging, "");
  EXPECT_EQ(r.rows[1].valid_from, "2027-01-01");
}

TEST(parse_enrolment_json, each_bad_class_gives_one_pointer_at_the_member) {
  const auto body = json::parse(R"({"classes": [
      {"school": {"brin": "12AB"}, "class": "2B", "leerjaar": "2", "students": 2001},
      {"school": {"brin": "12AB00"}, "class": "2B", "leerjaar": "2", "students": 1},
      {"school": {"brin": "12AB", "vestiging": 1}, "class": "2B", "leerjaar": "2", "students": 1},
      {"school": "12AB", "class": "2B", "leerjaar": "2", "students": 1},
      {"school": {"brin": "12AB"}, "class": "2B", "leerjaar": 0, "students": 1},
      {"school": {"brin": "12AB"}, "class": "2B", "leerjaar": "2", "students": 1.5},
      {"school": {"brin": "12AB"}, "class": "2B", "leerjaar": "2", "students": 1, "valid_from": "15-08-2026"},
      {"school": {"brin": "12AB"}, "class": "2B", "leerjaar": "2", "studnets": 1},
      {"school": {"brin": "12AB"}, "class": "4A", "leerjaar": "4", "students": 30},
      {"school": {"brin": "12AB"}, "class": "4A", "leerjaar": "4", "students": 31},
      {"school": {"brin": "12AB"}, "leerjaar": "4", "students": 31},
      7]})");
  const auto r = parse_enrolment_json(body);
  ASSERT_EQ(r.rows.size(), 1u) << joined(r.errors);
  EXPECT_EQ(r.rows[0].line, 8u);
  const std::vector<std::pair<std::string, std::string>> expected{
      {"/classes/0/students", "out of range (0-2000)"},
      {"/classes/1/school/brin", "not a BRIN (4 capital letters or digits, e.g. 12AB)"},
      {"/classes/2/school/vestiging", "must be a string"},
      {"/classes/3/school", "must be an object"},
      {"/classes/4/leerjaar", "not a leerjaar (a digit 1-6)"},
      {"/classes/5/students", "must be an integer (0-2000)"},
      {"/classes/6/valid_from", "not a date (YYYY-MM-DD), or empty for today"},
      {"/classes/7/studnets", "unknown member"},
      {"/classes/9", "the same school, class and valid_from as /classes/8"},
      {"/classes/10/class", "empty (required)"},
      {"/classes/11", "must be an object"},
  };
  EXPECT_EQ(r.errors, expected);
}

TEST(parse_enrolment_json, body_level_errors_return_no_rows) {
  EXPECT_EQ(parse_enrolment_json(json::array()).errors.at(0).first, "");
  const auto no_classes = parse_enrolment_json(json::parse(R"({"valid_from": "2026-02-30", "x/y": 1})"));
  EXPECT_TRUE(no_classes.rows.empty());
  const std::vector<std::pair<std::string, std::string>> expected{
      {"/x~1y", "unknown member"},
      {"/valid_from", "not a date (YYYY-MM-DD); leave it out for today"},
      {"/classes", "required: an array of classes"}};
  EXPECT_EQ(no_classes.errors, expected);
  EXPECT_EQ(parse_enrolment_json(json::parse(R"({"classes": []})")).errors.at(0).first, "/classes");

  json big = {{"classes", json::array()}};
  for (std::size_t i = 0; i <= max_enrolment_batch; ++i)
    big["classes"].push_back(
        {{"school", {{"brin", "12AB"}}}, {"class", "C" + std::to_string(i)}, {"leerjaar", "1"}, {"students", 1}});
  const auto r = parse_enrolment_json(big);
  EXPECT_TRUE(r.rows.empty());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].first, "/classes");
}

TEST(enrolment_request_body, round_trips_through_the_json_parser) {
  const auto csv = parse_enrolment_csv(
      "brin;vestiging;class;leerjaar;students;valid_from\n12AB;00;2B;2;28;2026-08-15\n12AB;;3C;3;30;\n", "e.csv");
  ASSERT_EQ(csv.rows.size(), 2u) << joined(csv.errors);
  const auto body = enrolment_request_body(csv.rows);
  EXPECT_EQ(body, json::parse(R"({"classes": [
      {"school": {"brin": "12AB", "vestiging": "00"}, "class": "2B", "leerjaar": "2", "students": 28,
       "valid_from": "2026-08-15"},
      {"school": {"brin": "12AB"}, "class": "3C", "leerjaar": "3", "students": 30}]})"));
  const auto back = parse_enrolment_json(body);
  ASSERT_TRUE(back.errors.empty()) << joined(back.errors);
  ASSERT_EQ(back.rows.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back.rows[i].brin, csv.rows[i].brin);
    EXPECT_EQ(back.rows[i].vestiging, csv.rows[i].vestiging);
    EXPECT_EQ(back.rows[i].klass, csv.rows[i].klass);
    EXPECT_EQ(back.rows[i].leerjaar, csv.rows[i].leerjaar);
    EXPECT_EQ(back.rows[i].students, csv.rows[i].students);
    EXPECT_EQ(back.rows[i].valid_from, csv.rows[i].valid_from);
  }
}

TEST(is_iso_date, checks_shape_month_lengths_and_leap_years) {
  EXPECT_TRUE(is_iso_date("2026-08-15"));
  EXPECT_TRUE(is_iso_date("2000-02-29"));
  EXPECT_FALSE(is_iso_date("1900-02-29"));
  EXPECT_FALSE(is_iso_date("2026-04-31"));
  EXPECT_FALSE(is_iso_date("2026-8-15"));
  EXPECT_FALSE(is_iso_date("2026-00-10"));
  EXPECT_FALSE(is_iso_date("2026-01-00"));
  EXPECT_FALSE(is_iso_date("2026/01/10"));
  EXPECT_FALSE(is_iso_date(""));
}

}  // namespace
}  // namespace schakel::trends
