#include "common/text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace txt = schakel::connectors::text;

namespace {

TEST(connector_text, fnv_and_utf8_and_split) {
  EXPECT_EQ(txt::fnv1a64_hex(""), "cbf29ce484222325");
  EXPECT_EQ(txt::fnv1a64_hex("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(txt::invalid_utf8_at("ab\xC3\xA9"), std::string_view::npos);
  EXPECT_EQ(txt::invalid_utf8_at("ab\xC0\xAF"), 2u);         // overlong
  EXPECT_EQ(txt::invalid_utf8_at("\xED\xA0\x80"), 0u);       // surrogate
  EXPECT_EQ(txt::invalid_utf8_at("x\xF4\x90\x80\x80"), 1u);  // above U+10FFFF
  EXPECT_EQ(txt::invalid_utf8_at("x\xE2\x82"), 1u);          // truncated
  EXPECT_EQ(txt::windows1252_to_utf8("\x80\x81\x9F\xA0\xFF"), "\u20ac\u0081\u0178\u00a0\u00ff");

  const auto r = txt::split_csv_line(R"(a;"b;c";"d""e";;)", ';');
  EXPECT_TRUE(r.error.empty());
  EXPECT_EQ(r.cells, (std::vector<std::string>{"a", "b;c", "d\"e", "", ""}));
  EXPECT_FALSE(txt::split_csv_line(R"(a;"b"c;d)", ';').error.empty());
  EXPECT_EQ(txt::detect_delimiter("a,b;\"c;d;e\",f"), ',');
  EXPECT_EQ(txt::parse_time("8:05"), 485);
  EXPECT_EQ(txt::parse_time("08:05:30"), 485);
  EXPECT_FALSE(txt::parse_time("24:00"));
  EXPECT_FALSE(txt::parse_time("8:5"));
}

TEST(connector_text, dates_counts_and_ages) {
  EXPECT_EQ(txt::parse_date("3-2-2026")->iso(), "2026-02-03");
  EXPECT_EQ(txt::parse_date("2026-02-03")->iso(), "2026-02-03");
  EXPECT_FALSE(txt::parse_date("31-04-2026"));
  EXPECT_FALSE(txt::parse_date("3-2/2026"));
  EXPECT_FALSE(txt::parse_date("3-2-0026"));
  EXPECT_EQ(txt::parse_count("012", 100), 12);
  EXPECT_FALSE(txt::parse_count("101", 100));
  EXPECT_FALSE(txt::parse_count("-1", 100));
  EXPECT_EQ(txt::age_on(txt::date{2010, 3, 1}, txt::date{2026, 3, 1}), 16);
  EXPECT_EQ(txt::age_on(txt::date{2010, 3, 1}, txt::date{2026, 2, 28}), 15);
  EXPECT_EQ(txt::trim(" \tx y\r"), "x y");
  EXPECT_TRUE(txt::iequals("BRIN", "brin"));
}

}  // namespace
