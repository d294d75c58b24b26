#include "common/csv_table.hpp"

#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace schakel::csv {
namespace {

constexpr std::array<column, 3> columns{{{"name"}, {"size"}, {"valid_from", false}}};
constexpr std::string_view hint = "the header needs name, size; valid_from is optional";

std::string joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) out += e + "\n";
  return out;
}

TEST(csv_read_table, yields_the_fields_in_column_order_whatever_the_header_order) {
  const auto t = read_table("Size;extra;NAME;Valid-From\n3;x;a;2024-01-01\n4;y;b;\n", "t.csv", columns, hint);
  EXPECT_TRUE(t.errors.empty()) << joined(t.errors);
  ASSERT_EQ(t.records.size(), 2u);
  EXPECT_EQ(t.records[0].line, 2u);
  EXPECT_TRUE(t.records[0].error.empty());
  EXPECT_EQ(t.records[0].fields, (std::vector<std::string>{"a", "3", "2024-01-01"}));
  EXPECT_EQ(t.records[1].line, 3u);
  EXPECT_EQ(t.records[1].fields, (std::vector<std::string>{"b", "4", ""}));
}

TEST(csv_read_table, gives_an_optional_column_the_header_lacks_as_empty) {
  const auto t = read_table("name,size\na,1\n", "t.csv", columns, hint);
  EXPECT_TRUE(t.errors.empty()) << joined(t.errors);
  ASSERT_EQ(t.records.size(), 1u);
  EXPECT_EQ(t.records[0].fields, (std::vector<std::string>{"a", "1", ""}));
}

TEST(csv_read_table, accepts_a_bom_crlf_blank_lines_spaces_quotes_and_trailing_delimiters) {
  const auto t = read_table("\xEF\xBB\xBF\"name\";\"size\"\r\n\r\n \" a;\"\"b\"\" \" ; 7 ;;\r\n  \t\r\nc;8\r\n",
                            "t.csv", columns, hint);
  EXPECT_TRUE(t.errors.empty()) << joined(t.errors);
  ASSERT_EQ(t.records.size(), 2u);
  EXPECT_EQ(t.records[0].line, 3u) << "blank lines still count";
  EXPECT_EQ(t.records[0].fields[0], " a;\"b\" ") << "a quoted field is kept as is";
  EXPECT_EQ(t.records[0].fields[1], "7");
  EXPECT_EQ(t.records[1].line, 5u);
  EXPECT_EQ(t.records[1].fields[0], "c");
}

TEST(csv_read_table, reports_unreadable_lines_in_place_and_reads_on) {
  const auto t = read_table("name;size\na;1;x\n\"b;2\nc;3\n", "t.csv", columns, hint);
  EXPECT_TRUE(t.errors.empty()) << joined(t.errors);
  ASSERT_EQ(t.records.size(), 3u);
  EXPECT_EQ(t.records[0].error, "t.csv:2: line: 3 field(s) where the header has 2");
  EXPECT_TRUE(t.records[0].fields.empty());
  EXPECT_EQ(t.records[1].error, "t.csv:3: line: a quote is not closed");
  EXPECT_TRUE(t.records[2].error.empty());
  EXPECT_EQ(t.records[2].fields[0], "c");
}

TEST(csv_read_table, names_each_missing_and_each_doubled_column_of_the_header) {
  const auto t = read_table("\n\nsize;Size;other\na;1;2\n", "t.csv", columns, hint);
  EXPECT_TRUE(t.records.empty());
  EXPECT_EQ(t.errors, (std::vector<std::string>{
                          "t.csv:3: size: the column appears twice in the header",
                          "t.csv:3: name: missing column in the header (" + std::string(hint) + ")",
                      }));
}

TEST(csv_read_table, refuses_a_header_with_an_open_quote) {
  const auto t = read_table("\"name;size\na;1\n", "t.csv", columns, hint);
  EXPECT_TRUE(t.records.empty());
  EXPECT_EQ(t.errors, (std::vector<std::string>{"t.csv:1: header: a quote is not closed"}));
}

TEST(csv_read_table, says_an_empty_file_has_no_header) {
  for (const std::string_view text : {"", "\xEF\xBB\xBF", "\r\n \n"}) {
    const auto t = read_table(text, "t.csv", columns, hint);
    EXPECT_TRUE(t.records.empty());
    EXPECT_EQ(t.errors,
              (std::vector<std::string>{"t.csv:1: header: missing; the file is empty (" + std::string(hint) + ")"}));
  }
}

TEST(csv_read_table, a_header_only_file_has_no_records_and_no_errors) {
  const auto t = read_table("name,size", "t.csv", columns, hint);
  EXPECT_TRUE(t.errors.empty());
  EXPECT_TRUE(t.records.empty());
}

TEST(csv_detect_delimiter, counts_outside_quotes_and_prefers_a_comma_on_a_tie) {
  EXPECT_EQ(detect_delimiter("a;b,c;d"), ';');
  EXPECT_EQ(detect_delimiter("\"a;b;c\",d,e"), ',');
  EXPECT_EQ(detect_delimiter("a;b,c"), ',');
  EXPECT_EQ(detect_delimiter("abc"), ',');
}

TEST(csv_split_fields, trims_unquoted_fields_and_unescapes_quotes) {
  const auto f = split_fields(" a ;\"b;\"\"c\"\"\" ; \"\" ;", ';');
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(*f, (std::vector<std::string>{"a", "b;\"c\"", "", ""}));
  EXPECT_FALSE(split_fields("a;\"b", ';').has_value());
  EXPECT_EQ(*split_fields("\"ab\"cd,e", ','), (std::vector<std::string>{"abcd", "e"}))
      << "text after a closing quote is kept";
}

TEST(csv_column_name, folds_case_spaces_and_dashes) {
  EXPECT_EQ(column_name("  Valid From "), "valid_from");
  EXPECT_EQ(column_name("STUDENT-KEY"), "student_key");
  EXPECT_EQ(column_name("\xC3\x89N"), "\xC3\x89n") << "only ASCII letters are folded";
}

TEST(csv_located, is_label_line_column_reason) {
  EXPECT_EQ(located("in.csv", 12, "bsn", "empty (required)"), "in.csv:12: bsn: empty (required)");
}

}  // namespace
}  // namespace schakel::csv
