#include "cli/link_commands.hpp"

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace schakel::cli {
namespace {

using json = nlohmann::json;

// All pass the 11-test; "12345672" is the 8-digit form of 012345672.
const std::string bsn_a = "111222333";
const std::string bsn_b = "123456782";
const std::string bsn_8 = "12345672";
const std::string not_a_bsn = "111222334";  // one digit off: fails the 11-test

std::string joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) out += e + "\n";
  return out;
}

TEST(parse_link_csv, reads_a_semicolon_table_with_headers_in_any_case_and_order) {
  const auto r = parse_link_csv(
      "Student_Key;BSN;Brin;Vestiging\nL-1001;" + bsn_a + ";12AB;00\nL-1002;" + bsn_b + ";34CD;01\n", "links.csv");
  EXPECT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].line, 2u);
  EXPECT_EQ(r.rows[0].bsn, bsn_a);
  EXPECT_EQ(r.rows[0].brin, "12AB");
  EXPECT_EQ(r.rows[0].vestiging, "00");
  EXPECT_EQ(r.rows[0].student_key, "L-1001");
  EXPECT_EQ(r.rows[1].line, 3u);
  EXPECT_EQ(r.rows[1].student_key, "L-1002");
}

TEST(parse_link_csv, detects_a_comma_from_the_header_and_keeps_semicolons_in_values) {
  const auto r = parse_link_csv("bsn,brin,student_key\n" + bsn_a + ",12AB,a;b\n", "links.csv");
  EXPECT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].student_key, "a;b");
  EXPECT_EQ(r.rows[0].brin, "12AB");
}

TEST(parse_link_csv, accepts_a_bom_crlf_blank_lines_spaces_and_quotes) {
  const auto r = parse_link_csv("\xEF\xBB\xBF\"bsn\";\"brin\";\"student_key\"\r\n\r\n \"" + bsn_a +
                                    "\" ; 12AB ;\"key \"\"x\"\"; 7\"\r\n" + bsn_b + ";34CD;K2;\r\n",
                                "links.csv");
  EXPECT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].line, 3u) << "blank lines still count";
  EXPECT_EQ(r.rows[0].bsn, bsn_a);
  EXPECT_EQ(r.rows[0].brin, "12AB");
  EXPECT_EQ(r.rows[0].student_key, "key \"x\"; 7");
  EXPECT_EQ(r.rows[1].student_key, "K2") << "a trailing delimiter is tolerated";
}

TEST(parse_link_csv, a_missing_column_is_one_error_naming_that_header_and_no_rows) {
  const auto r = parse_link_csv("bsn;brin\n" + bsn_a + ";12AB\n" + bsn_b + ";12AB\n", "links.csv");
  ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
  EXPECT_TRUE(r.errors[0].starts_with("links.csv:1: student_key: missing column")) << r.errors[0];
  EXPECT_TRUE(r.rows.empty());
}

TEST(parse_link_csv, a_bad_bsn_names_file_line_and_column_and_the_good_lines_are_kept) {
  const auto r = parse_link_csv(
      "bsn;brin;student_key\n" + bsn_a + ";12AB;K1\n" + not_a_bsn + ";12AB;K2\n12345;12AB;K3\n" + bsn_b + ";12AB;K4\n",
      "links.csv");
  ASSERT_EQ(r.errors.size(), 2u) << joined(r.errors);
  EXPECT_EQ(r.errors[0], "links.csv:3: bsn: not a BSN (8 or 9 digits passing the 11-test)");
  EXPECT_EQ(r.errors[1], "links.csv:4: bsn: not a BSN (8 or 9 digits passing the 11-test)");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].line, 2u);
  EXPECT_EQ(r.rows[1].line, 5u);
}

TEST(parse_link_csv, an_eight_digit_bsn_is_accepted_and_a_second_line_for_the_same_bsn_refused) {
  const auto r = parse_link_csv("bsn,brin,student_key\n" + bsn_8 + ",12AB,K1\n0" + bsn_8 + ",12AB,K2\n", "t.csv");
  ASSERT_EQ(r.rows.size(), 1u) << joined(r.errors);
  EXPECT_EQ(r.rows[0].bsn, bsn_8);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "t.csv:3: bsn: the same BSN as line 2 (one link per BSN)");
}

TEST(parse_link_csv, an_empty_student_key_or_brin_is_refused_by_column) {
  const auto r = parse_link_csv("bsn;brin;student_key\n" + bsn_a + ";12AB;\n" + bsn_b + ";;K\n", "links.csv");
  EXPECT_TRUE(r.rows.empty());
  ASSERT_EQ(r.errors.size(), 2u) << joined(r.errors);
  EXPECT_EQ(r.errors[0], "links.csv:2: student_key: empty (required)");
  EXPECT_EQ(r.errors[1], "links.csv:3: brin: empty (required)");
}

TEST(parse_link_csv, vestiging_is_optional_and_may_be_part_of_the_brin) {
  const auto without = parse_link_csv("bsn;brin;student_key\n" + bsn_a + ";12AB;K1\n", "a.csv");
  ASSERT_EQ(without.rows.size(), 1u) << joined(without.errors);
  EXPECT_EQ(without.rows[0].vestiging, "");
  EXPECT_FALSE(link_request_body(without.rows[0])["school"].contains("vestiging"));

  const auto empty_cell = parse_link_csv("bsn;brin;vestiging;student_key\n" + bsn_a + ";12AB;;K1\n", "b.csv");
  ASSERT_EQ(empty_cell.rows.size(), 1u) << joined(empty_cell.errors);
  EXPECT_EQ(empty_cell.rows[0].vestiging, "");

  const auto combined = parse_link_csv("bsn;brin;student_key\n" + bsn_a + ";12AB01;K1\n", "c.csv");
  ASSERT_EQ(combined.rows.size(), 1u) << joined(combined.errors);
  EXPECT_EQ(combined.rows[0].brin, "12AB");
  EXPECT_EQ(combined.rows[0].vestiging, "01");
  EXPECT_EQ(link_request_body(combined.rows[0]),
            json({{"bsn", bsn_a}, {"school", {{"brin", "12AB"}, {"vestiging", "01"}}}, {"student_key", "K1"}}));

  const auto bad = parse_link_csv("bsn;brin;vestiging;student_key\n" + bsn_a + ";12AB;1X;K1\n", "d.csv");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0], "d.csv:2: vestiging: not a vestiging number (2 digits, or empty)");

  // The signal schema's BRIN is capitals: a link for 12ab would never meet a report.
  const auto lower = parse_link_csv("bsn;brin;student_key\n" + bsn_a + ";12ab;K1\n" + bsn_b + ";12AB0X;K2\n", "e.csv");
  EXPECT_TRUE(lower.rows.empty());
  ASSERT_EQ(lower.errors.size(), 2u) << joined(lower.errors);
  EXPECT_EQ(lower.errors[0], "e.csv:2: brin: not a BRIN (4 capital letters or digits, e.g. 12AB)");
  EXPECT_EQ(lower.errors[1], "e.csv:3: brin: not a BRIN (4 capital letters or digits, e.g. 12AB)");
}

TEST(parse_link_csv, structural_errors_name_the_line_and_counts_only) {
  const auto r = parse_link_csv("bsn;brin;student_key\n" + bsn_a + ";12AB\n\"" + bsn_b + ";12AB;K\n", "x.csv");
  EXPECT_TRUE(r.rows.empty());
  ASSERT_EQ(r.errors.size(), 2u) << joined(r.errors);
  EXPECT_EQ(r.errors[0], "x.csv:2: line: 2 field(s) where the header has 3");
  EXPECT_EQ(r.errors[1], "x.csv:3: line: a quote is not closed");

  const auto empty = parse_link_csv("\xEF\xBB\xBF\r\n", "e.csv");
  ASSERT_EQ(empty.errors.size(), 1u);
  EXPECT_TRUE(empty.errors[0].starts_with("e.csv:1: header: missing")) << empty.errors[0];
}

TEST(parse_link_csv, no_error_message_ever_quotes_a_value) {
  // Every kind of bad line, and a file without a header whose first line is data.
  const std::string long_key(65, 'Z');
  const std::string text = "bsn;brin;vestiging;student_key\n" + not_a_bsn + ";12AB;00;SECRETKEY1\n" + bsn_a +
                           ";BRINX;00;SECRETKEY2\n" + bsn_b + ";12AB;7Q;SECRETKEY3\n" + bsn_8 + ";12AB;00;" + long_key +
                           "\n" + bsn_a + ";12AB;00;SECRETKEY4\n" + bsn_a + ";12AB;00;SECRETKEY5\n" + bsn_b + ";12AB\n";
  const auto r = parse_link_csv(text, "links.csv");
  ASSERT_EQ(r.errors.size(), 6u) << joined(r.errors);
  const auto headerless = parse_link_csv(bsn_a + ";12AB;SECRETKEY6\n" + bsn_a + ";12AB;SECRETKEY6\n", "h.csv");
  ASSERT_FALSE(headerless.errors.empty());
  const auto all = joined(r.errors) + joined(headerless.errors);
  for (const std::string& value :
       {not_a_bsn, bsn_a, bsn_b, bsn_8, long_key, std::string("SECRETKEY"), std::string("BRINX"), std::string("7Q")})
    EXPECT_EQ(all.find(value), std::string::npos) << value << " in:\n" << all;
}

// The import loop against a fake hub.
struct fake_hub {
  std::vector<json> received;
  std::vector<admin_reply> replies;  // given in order; 201 {"linked":1,"unparked":0} when exhausted
  admin_reply operator()(const std::string& body) {
    received.push_back(json::parse(body));
    if (received.size() <= replies.size()) return replies[received.size() - 1];
    return {201, R"({"linked":1,"unparked":0,"refused":0})"};
  }
};

TEST(import_links, posts_every_good_line_and_sums_up) {
  const auto parsed = parse_link_csv(
      "bsn;brin;student_key\n" + bsn_a + ";12AB;K1\n" + not_a_bsn + ";12AB;K2\n" + bsn_b + ";12AB;K3\n", "links.csv");
  fake_hub hub;
  hub.replies = {{201, R"({"linked":1,"unparked":2,"refused":0})"}, {201, R"({"linked":1,"unparked":1,"refused":0})"}};
  std::ostringstream out, err;
  const int rc = import_links(
      parsed, "links.csv", [&](const std::string& b) { return hub(b); }, out, err);
  EXPECT_EQ(rc, 1);
  ASSERT_EQ(hub.received.size(), 2u);
  EXPECT_EQ(hub.received[0]["bsn"], bsn_a);
  EXPECT_EQ(hub.received[1]["student_key"], "K3");
  EXPECT_EQ(out.str(), "2 link(s) recorded, 3 parked report(s) moved on, 1 line(s) refused\n");
  EXPECT_EQ(err.str(), "links.csv:3: bsn: not a BSN (8 or 9 digits passing the 11-test)\n");
}

TEST(import_links, a_clean_file_exits_zero) {
  const auto parsed = parse_link_csv("bsn,brin,student_key\n" + bsn_a + ",12AB,K1\n", "ok.csv");
  fake_hub hub;
  std::ostringstream out, err;
  EXPECT_EQ(import_links(
                parsed, "ok.csv", [&](const std::string& b) { return hub(b); }, out, err),
            0);
  EXPECT_EQ(out.str(), "1 link(s) recorded, 0 parked report(s) moved on, 0 line(s) refused\n");
  EXPECT_EQ(err.str(), "");
}

TEST(import_links, the_hubs_422_is_reported_with_the_line_and_csv_column_never_a_value) {
  const auto parsed =
      parse_link_csv("bsn;brin;student_key\n" + bsn_a + ";12AB;K1\n" + bsn_b + ";12AB;K2\n", "links.csv");
  fake_hub hub;
  hub.replies = {
      {422,
       R"({"detail":"school/brin: required, 4 characters","errors":[{"field":"/school/brin","reason":"required, 4 characters"}]})"},
      // A hub that (wrongly) echoed a value: the CLI still does not print it.
      {422, R"({"errors":[{"field":"/bsn","reason":"bad )" + bsn_b + R"("}]})"}};
  std::ostringstream out, err;
  EXPECT_EQ(import_links(
                parsed, "links.csv", [&](const std::string& b) { return hub(b); }, out, err),
            1);
  EXPECT_EQ(err.str(),
            "links.csv:2: brin: required, 4 characters\n"
            "links.csv:3: line: refused by the hub (HTTP 422)\n");
  EXPECT_EQ(out.str(), "0 link(s) recorded, 0 parked report(s) moved on, 2 line(s) refused\n");
}

TEST(import_links, a_transport_error_or_a_refused_token_stops_with_exit_2) {
  const auto parsed =
      parse_link_csv("bsn;brin;student_key\n" + bsn_a + ";12AB;K1\n" + bsn_b + ";12AB;K2\n", "links.csv");
  {
    fake_hub hub;
    hub.replies = {{201, R"({"linked":1,"unparked":0})"}};
    int calls = 0;
    std::ostringstream out, err;
    const int rc = import_links(
        parsed, "links.csv",
        [&](const std::string& b) -> admin_reply {
          if (++calls == 2) throw std::runtime_error("127.0.0.1:1: Connection refused");
          return hub(b);
        },
        out, err);
    EXPECT_EQ(rc, 2);
    EXPECT_NE(err.str().find("cannot reach the hub: 127.0.0.1:1: Connection refused"), std::string::npos) << err.str();
    EXPECT_NE(out.str().find("1 link(s) recorded"), std::string::npos) << out.str();
    EXPECT_NE(out.str().find("stopped at line 3"), std::string::npos) << out.str();
  }
  {
    fake_hub hub;
    hub.replies = {{401, R"({"detail":"the admin token is required"})"}};
    std::ostringstream out, err;
    EXPECT_EQ(import_links(
                  parsed, "links.csv", [&](const std::string& b) { return hub(b); }, out, err),
              2);
    EXPECT_EQ(hub.received.size(), 1u) << "the rest of the file is not sent";
    EXPECT_EQ(err.str(), "schakel: the hub answered HTTP 401: the admin token is required\n");
  }
}

TEST(print_parked, prints_a_table_the_empty_message_or_refuses_a_malformed_answer) {
  std::ostringstream table;
  ASSERT_TRUE(print_parked(json::parse(R"({"parked":[
      {"id":"01J0AAAAAAAAAAAAAAAAAAAAAA","instance":"jgz-fhir","type":"nl.schakel.jgz.sdq.scored","received_at":"2026-09-01T10:00:00.000Z"},
      {"id":"01J0BBBBBBBBBBBBBBBBBBBBBB","instance":"src","type":"t","received_at":"2026-09-02T10:00:00.000Z"}]})"),
                           table));
  EXPECT_EQ(table.str(),
            "ID                          INSTANCE  TYPE                       RECEIVED_AT\n"
            "01J0AAAAAAAAAAAAAAAAAAAAAA  jgz-fhir  nl.schakel.jgz.sdq.scored  2026-09-01T10:00:00.000Z\n"
            "01J0BBBBBBBBBBBBBBBBBBBBBB  src       t                          2026-09-02T10:00:00.000Z\n"
            "2 report(s) waiting for a link\n");
  std::ostringstream empty;
  ASSERT_TRUE(print_parked(json::parse(R"({"parked":[]})"), empty));
  EXPECT_EQ(empty.str(), "no reports are waiting for a link\n");
  std::ostringstream bad;
  EXPECT_FALSE(print_parked(json::parse(R"({"dead_letters":[]})"), bad));
  EXPECT_FALSE(print_parked(json::parse(R"({"parked":[1]})"), bad));
}

}  // namespace
}  // namespace schakel::cli
