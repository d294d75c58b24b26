#include "privacy/bsn.hpp"

#include <gtest/gtest.h>

namespace schakel::privacy {
namespace {

using nlohmann::json;
using paths = std::vector<std::string>;

TEST(is_bsn, valid_numbers) {
  // 111222333: 9*1+8*1+7*1+6*2+5*2+4*2+3*3+2*3 - 3 = 66 = 6*11.
  EXPECT_TRUE(is_bsn("111222333"));
  // 123456782: 9+16+21+24+25+24+21+16 - 2 = 154 = 14*11.
  EXPECT_TRUE(is_bsn("123456782"));
  // 8 digits, padded to 012345672: 0+8+14+18+20+20+18+14 - 2 = 110 = 10*11.
  EXPECT_TRUE(is_bsn("12345672"));
}

TEST(is_bsn, invalid_numbers) {
  EXPECT_FALSE(is_bsn("111222334"));  // 66 - 1 = 65, remainder 10
  EXPECT_FALSE(is_bsn("123456789"));  // 156 - 9 = 147, remainder 4
  // Onderwijsnummer: 101234564 -> 9+0+7+12+15+16+15+12 - 4 = 82, remainder 5.
  EXPECT_FALSE(is_bsn("101234564"));
  EXPECT_FALSE(is_bsn("000000000"));  // sum 0 but all zeros
  EXPECT_FALSE(is_bsn("00000000"));
  EXPECT_FALSE(is_bsn("1234567"));     // 7 digits
  EXPECT_FALSE(is_bsn("0111222333"));  // 10 digits
  EXPECT_FALSE(is_bsn("11122233a"));
  EXPECT_FALSE(is_bsn(" 11122233"));
  EXPECT_FALSE(is_bsn(""));
}

TEST(find_bsn_fields, plain_and_nested_values) {
  const json signal = {
      {"subject", {{"student_key", "111222333"}, {"class", "3B"}}},
      {"content", {{"note", "lln 111222333 ziek"}, {"list", {"x", "123456782"}}, {"n", 111222333}}},
  };
  EXPECT_EQ(find_bsn_fields(signal, {}), (paths{"content.list.1", "content.n", "content.note", "subject.student_key"}));
}

TEST(find_bsn_fields, longer_runs_dates_and_near_misses_not_counted) {
  const json signal = {{"content",
                        {{"iban_part", "0111222333"},  // 10 digits containing a BSN: one longer run
                         {"date", "2026-11-23"},
                         {"phone", "06-11122233x"},  // run 11122233 -> 011122233: 8+7+6+10+8+6+6 - 3 = 48, rest 4
                         {"bad", "111222334"},
                         {"big", 1112223330},
                         {"score", 111222333.0}}}};
  EXPECT_TRUE(find_bsn_fields(signal, {}).empty());
}

TEST(find_bsn_fields, eight_digit_run_in_text) {
  const json signal = {{"content", {{"note", "bsn:12345672."}}}};
  EXPECT_EQ(find_bsn_fields(signal, {}), paths{"content.note"});
}

TEST(find_bsn_fields, exemptions_exact_and_prefix) {
  const json signal = {
      {"content",
       {{"record_no", "111222333"},
        {"evidence", {{"a", "111222333"}, {"b", {{"c", 123456782}}}}},
        {"evidence_other", "111222333"}}},
  };
  EXPECT_EQ(find_bsn_fields(signal, {"content.record_no", "content.evidence.*"}), paths{"content.evidence_other"});
  EXPECT_EQ(find_bsn_fields(signal, {"content.evidence"}), (paths{"content.evidence_other", "content.record_no"}));
  // An exact path does not exempt a sibling that merely starts with the same text.
  EXPECT_EQ(find_bsn_fields(signal, {"content.evidence.a"}),
            (paths{"content.evidence.b.c", "content.evidence_other", "content.record_no"}));
}

TEST(find_bsn_fields, hub_fields_skipped) {
  const json signal = {
      {"id", "111222333"},
      {"schema_version", 111222333},
      {"received_at", "111222333"},
      {"source", {{"connector", "111222333"}, {"instance", "111222333"}, {"record", "111222333"}}},
      {"derived_from", {"111222333"}},
  };
  EXPECT_EQ(find_bsn_fields(signal, {}), (paths{"derived_from.0", "source.record"}));
}

TEST(find_bsn_fields, deep_nesting_does_not_overflow) {
  json node = "111222333";
  for (int i = 0; i < 100000; ++i) {
    json outer = json::array();
    outer.push_back(std::move(node));
    node = std::move(outer);
  }
  json signal = json::object();
  signal["content"] = std::move(node);  // moved, not copied: copying is recursive
  const auto found = find_bsn_fields(signal, {});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].size(), std::string("content").size() + std::size_t{100000} * 2);
}

}  // namespace
}  // namespace schakel::privacy

namespace schakel::privacy {

TEST(find_bsn_fields, a_signal_id_holding_a_passing_digit_run_is_not_a_bsn) {
  // 26 Crockford characters with "111222333" inside: a ULID such as derived_from holds, not a BSN.
  const std::string ulid = "01JDZ3K7QA111222333BCDEFGH";
  ASSERT_EQ(ulid.size(), 26u);
  const nlohmann::json signal = {{"derived_from", {ulid}},
                                 {"content", {{"evidence", {{"alert", ulid}, {"note", "lln 111222333"}}}}}};
  EXPECT_EQ(find_bsn_fields(signal, {}), std::vector<std::string>{"content.evidence.note"});
  // Not an id: lowercase, a character outside Crockford's alphabet, or one character more.
  EXPECT_FALSE(find_bsn_fields({{"x", "01jdz3k7qa111222333bcdefgh"}}, {}).empty());
  EXPECT_FALSE(find_bsn_fields({{"x", "01JDZ3K7QA111222333BCDEFGU"}}, {}).empty());
  EXPECT_FALSE(find_bsn_fields({{"x", ulid + "A"}}, {}).empty());
}

}  // namespace schakel::privacy
