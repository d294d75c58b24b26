#include "sdq.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "schakel/plugin.hpp"

namespace sdq = schakel::connectors::jgz_fhir::sdq;
using sdq::band;
using sdq::scale;
using sdq::severity;
using sdq::version;

namespace {

/**
 * A questionnaire written out as on paper: `items` holds items 1–25 in order ('0', '1', '2', '.' for
 * unanswered; spaces group them by five and are skipped); `difficulties` is one character
 * ('0'–'3' or '.'); `impact` the five impact answers (distress, home, friendships, classroom, leisure).
 */
sdq::answers form(std::string_view items, char difficulties = '.', std::string_view impact = ".....") {
  sdq::answers a;
  std::size_t n = 0;
  for (char c : items) {
    if (c == ' ') continue;
    if (n >= sdq::item_count) throw std::logic_error("too many items in test form");
    if (c != '.') a.items[n] = c - '0';
    ++n;
  }
  if (n != sdq::item_count) throw std::logic_error("test form needs 25 items");
  if (difficulties != '.') a.difficulties = difficulties - '0';
  if (impact.size() != sdq::impact_item_count) throw std::logic_error("test form needs 5 impact answers");
  for (std::size_t i = 0; i < impact.size(); ++i) {
    if (impact[i] != '.') a.impact[i] = impact[i] - '0';
  }
  return a;
}

/** Expected value/prorated/band of one score; `value` -1 means missing. */
void expect_score(const sdq::scores& s, scale sc, int value, bool prorated, std::optional<band> b) {
  SCOPED_TRACE(std::string(sdq::scale_name(sc)));
  const sdq::score& one = s[sc];
  if (value < 0) {
    EXPECT_FALSE(one.value.has_value());
    EXPECT_FALSE(one.band.has_value());
    return;
  }
  ASSERT_TRUE(one.value.has_value());
  EXPECT_EQ(*one.value, value);
  EXPECT_EQ(one.prorated, prorated);
  EXPECT_EQ(one.band, b);
}

constexpr band N = band::normal;
constexpr band B = band::borderline;
constexpr band A = band::abnormal;
constexpr int missing = -1;

// Questionnaires shared by several tests. Item → subscale: E 3 8 13 16 24; C 5 7r 12 18 22;
// H 2 10 15 21r 25r; Pe 6 11r 14r 19 23; P 1 4 9 17 20 (r: scored 2 − answer).

// Q2: a well-adjusted adolescent.
//   1-5: 2 0 0 2 0 | 6-10: 0 2 1 2 1 | 11-15: 2 0 0 2 1 | 16-20: 1 2 0 0 1 | 21-25: 2 0 0 0 2
//   E  = i3 0 + i8 1 + i13 0 + i16 1 + i24 0                  = 2
//   C  = i5 0 + i7r (2-2) 0 + i12 0 + i18 0 + i22 0           = 0
//   H  = i2 0 + i10 1 + i15 1 + i21r (2-2) 0 + i25r (2-2) 0   = 2
//   Pe = i6 0 + i11r (2-2) 0 + i14r (2-2) 0 + i19 0 + i23 0   = 0
//   P  = i1 2 + i4 2 + i9 2 + i17 2 + i20 1                   = 9
//   total = 2+0+2+0 = 4; difficulties "no" → impact 0.
constexpr std::string_view q2_items = "20020 02121 20021 12001 20002";

}  // namespace

// ---- complete hand-scored questionnaires ---------------------------------------------------------

TEST(sdq_questionnaire, q1_all_not_true_self) {
  // Q1 (self 11–17): every item answered 0 ("not true"), difficulties "no".
  //   E  = 0+0+0+0+0 = 0
  //   C  = i5 0 + i7r 2 + 0 + 0 + 0 = 2
  //   H  = 0 + 0 + 0 + i21r 2 + i25r 2 = 4
  //   Pe = 0 + i11r 2 + i14r 2 + 0 + 0 = 4
  //   P  = 0
  //   total = 0+2+4+4 = 10; impact 0.
  //   Self bands: E normal, C 2 ≤ 3 normal, H 4 ≤ 5 normal, Pe 4 borderline (4–5), P 0 ≤ 4 abnormal,
  //   total 10 ≤ 15 normal, impact 0 normal → worst abnormal → concern.
  const auto s = sdq::score_answers(form("00000 00000 00000 00000 00000", '0'), version::self_11_17);
  expect_score(s, scale::emotional, 0, false, N);
  expect_score(s, scale::conduct, 2, false, N);
  expect_score(s, scale::hyperactivity, 4, false, N);
  expect_score(s, scale::peer, 4, false, B);
  expect_score(s, scale::prosocial, 0, false, A);
  expect_score(s, scale::total, 10, false, N);
  expect_score(s, scale::impact, 0, false, N);
  EXPECT_EQ(s.severity, severity::concern);
}

TEST(sdq_questionnaire, q2_well_adjusted_self_and_parent) {
  // Q2 above: all normal in both versions (parent: E 2 ≤ 3, C 0 ≤ 2, H 2 ≤ 5, Pe 0 ≤ 2, P 9 ≥ 6,
  // total 4 ≤ 13, impact 0) → info.
  for (version v : {version::self_11_17, version::parent}) {
    SCOPED_TRACE(std::string(sdq::version_name(v)));
    const auto s = sdq::score_answers(form(q2_items, '0'), v);
    EXPECT_EQ(s.version, v);
    expect_score(s, scale::emotional, 2, false, N);
    expect_score(s, scale::conduct, 0, false, N);
    expect_score(s, scale::hyperactivity, 2, false, N);
    expect_score(s, scale::peer, 0, false, N);
    expect_score(s, scale::prosocial, 9, false, N);
    expect_score(s, scale::total, 4, false, N);
    expect_score(s, scale::impact, 0, false, N);
    EXPECT_EQ(s.severity, severity::info);
  }
}

TEST(sdq_questionnaire, q3_high_difficulties_self_with_impact) {
  // Q3 (self 11–17):
  //   1-5: 0 2 2 1 2 | 6-10: 2 0 2 0 2 | 11-15: 0 1 2 1 2 | 16-20: 2 1 1 2 0 | 21-25: 0 1 1 2 1
  //   E  = i3 2 + i8 2 + i13 2 + i16 2 + i24 2                  = 10
  //   C  = i5 2 + i7r (2-0) 2 + i12 1 + i18 1 + i22 1           = 7
  //   H  = i2 2 + i10 2 + i15 2 + i21r (2-0) 2 + i25r (2-1) 1   = 9
  //   Pe = i6 2 + i11r (2-0) 2 + i14r (2-1) 1 + i19 2 + i23 1   = 8
  //   P  = i1 0 + i4 1 + i9 0 + i17 1 + i20 0                   = 2
  //   total = 10+7+9+8 = 34
  //   difficulties 3 (severe); impact answers 3 2 3 1 0 → 2+1+2+0+0 = 5
  //   Self: every score abnormal → concern.
  const auto s = sdq::score_answers(form("02212 20202 01212 21120 01121", '3', "32310"), version::self_11_17);
  expect_score(s, scale::emotional, 10, false, A);
  expect_score(s, scale::conduct, 7, false, A);
  expect_score(s, scale::hyperactivity, 9, false, A);
  expect_score(s, scale::peer, 8, false, A);
  expect_score(s, scale::prosocial, 2, false, A);
  expect_score(s, scale::total, 34, false, A);
  expect_score(s, scale::impact, 5, false, A);
  EXPECT_EQ(s.severity, severity::concern);
}

namespace {
// Q4:
//   1-5: 1 1 2 1 1 | 6-10: 0 1 1 1 1 | 11-15: 1 1 1 2 0 | 16-20: 2 1 1 1 1 | 21-25: 2 0 1 0 1
//   E  = i3 2 + i8 1 + i13 1 + i16 2 + i24 0                  = 6
//   C  = i5 1 + i7r (2-1) 1 + i12 1 + i18 1 + i22 0           = 4
//   H  = i2 1 + i10 1 + i15 0 + i21r (2-2) 0 + i25r (2-1) 1   = 3
//   Pe = i6 0 + i11r (2-1) 1 + i14r (2-2) 0 + i19 1 + i23 1   = 3
//   P  = i1 1 + i4 1 + i9 1 + i17 1 + i20 1                   = 5
//   total = 6+4+3+3 = 16
//   difficulties 1 (minor); impact answers 2 1 0 1 0 → 1+0+0+0+0 = 1
constexpr std::string_view q4_items = "11211 01111 11120 21111 20101";
}  // namespace

TEST(sdq_questionnaire, q4_borderline_self) {
  // Self: E 6 borderline, C 4 borderline, H 3 normal, Pe 3 normal, P 5 borderline, total 16
  // borderline (16–19), impact 1 borderline → attention.
  const auto s = sdq::score_answers(form(q4_items, '1', "21010"), version::self_11_17);
  expect_score(s, scale::emotional, 6, false, B);
  expect_score(s, scale::conduct, 4, false, B);
  expect_score(s, scale::hyperactivity, 3, false, N);
  expect_score(s, scale::peer, 3, false, N);
  expect_score(s, scale::prosocial, 5, false, B);
  expect_score(s, scale::total, 16, false, B);
  expect_score(s, scale::impact, 1, false, B);
  EXPECT_EQ(s.severity, severity::attention);
}

TEST(sdq_questionnaire, q4_same_answers_on_parent_form_band_differently) {
  // Parent: E 6 ≥ 5 abnormal, C 4 ≥ 4 abnormal, H 3 normal, Pe 3 borderline, P 5 borderline,
  // total 16 borderline (14–16), impact 1 borderline → concern (self gave attention).
  const auto s = sdq::score_answers(form(q4_items, '1', "21010"), version::parent);
  expect_score(s, scale::emotional, 6, false, A);
  expect_score(s, scale::conduct, 4, false, A);
  expect_score(s, scale::hyperactivity, 3, false, N);
  expect_score(s, scale::peer, 3, false, B);
  expect_score(s, scale::prosocial, 5, false, B);
  expect_score(s, scale::total, 16, false, B);
  expect_score(s, scale::impact, 1, false, B);
  EXPECT_EQ(s.severity, severity::concern);
}

TEST(sdq_questionnaire, q5_prorated_subscales_self) {
  // Q5 (self 11–17), '.' unanswered:
  //   1-5: 2 1 1 2 2 | 6-10: 0 . . . 1 | 11-15: . 2 1 2 1 | 16-20: 0 2 . . 1 | 21-25: 1 0 1 0 0
  //   E  = i3 1 + i8 . + i13 1 + i16 0 + i24 0: 4 answered, sum 2 → 2/4·5 = 2.5 → 3 (half up)
  //   C  = i5 2 + i7 . + i12 2 + i18 . + i22 0: 3 answered, sum 4 → 4/3·5 = 6.67 → 7
  //   H  = i2 1 + i10 1 + i15 1 + i21r (2-1) 1 + i25r (2-0) 2 = 6 (complete)
  //   Pe = i6 0 + i11 . + i14r (2-2) 0 + i19 . + i23 1: 3 answered, sum 1 → 1.67 → 2
  //   P  = i1 2 + i4 2 + i9 . + i17 2 + i20 1: 4 answered, sum 7 → 8.75 → 9
  //   total = 3+7+6+2 = 18 (prorated, since parts are); difficulties unanswered → impact missing
  //   Self: E 3 normal, C 7 abnormal, H 6 borderline, Pe 2 normal, P 9 normal, total 18 borderline → concern.
  const auto s = sdq::score_answers(form("21122 0...1 .2121 02..1 10100"), version::self_11_17);
  expect_score(s, scale::emotional, 3, true, N);
  expect_score(s, scale::conduct, 7, true, A);
  expect_score(s, scale::hyperactivity, 6, false, B);
  expect_score(s, scale::peer, 2, true, N);
  expect_score(s, scale::prosocial, 9, true, N);
  expect_score(s, scale::total, 18, true, B);
  expect_score(s, scale::impact, missing, false, std::nullopt);
  EXPECT_EQ(s.severity, severity::concern);
}

TEST(sdq_questionnaire, q6_two_answered_makes_subscale_and_total_missing) {
  // Q6 = Q2 with items 2, 10 and 15 unanswered:
  //   1-5: 2 . 0 2 0 | 6-10: 0 2 1 2 . | 11-15: 2 0 0 2 . | 16-20: 1 2 0 0 1 | 21-25: 2 0 0 0 2
  //   H has only i21r and i25r → 2 answered → missing, so total missing.
  //   E 2, C 0, Pe 0, P 9 as in Q2. difficulties 1 with impact 0 0 0 0 0 → 0.
  //   Severity from the scores present: all normal → info.
  const auto s = sdq::score_answers(form("2.020 0212. 2002. 12001 20002", '1', "00000"), version::self_11_17);
  expect_score(s, scale::emotional, 2, false, N);
  expect_score(s, scale::conduct, 0, false, N);
  expect_score(s, scale::hyperactivity, missing, false, std::nullopt);
  expect_score(s, scale::peer, 0, false, N);
  expect_score(s, scale::prosocial, 9, false, N);
  expect_score(s, scale::total, missing, false, std::nullopt);
  expect_score(s, scale::impact, 0, false, N);
  EXPECT_EQ(s.severity, severity::info);
}

TEST(sdq_questionnaire, q7_empty_form_has_no_scores_and_no_severity) {
  const auto s = sdq::score_answers(form("..... ..... ..... ..... ....."), version::parent);
  for (scale sc : sdq::all_scales) expect_score(s, sc, missing, false, std::nullopt);
  EXPECT_FALSE(s.severity.has_value());
}

namespace {
// Q8:
//   1-5: 2 1 1 1 1 | 6-10: 1 1 1 2 1 | 11-15: 1 0 1 1 1 | 16-20: 1 2 0 0 2 | 21-25: 1 1 0 0 1
//   E  = i3 1 + i8 1 + i13 1 + i16 1 + i24 0                  = 4
//   C  = i5 1 + i7r (2-1) 1 + i12 0 + i18 0 + i22 1           = 3
//   H  = i2 1 + i10 1 + i15 1 + i21r (2-1) 1 + i25r (2-1) 1   = 5
//   Pe = i6 1 + i11r (2-1) 1 + i14r (2-1) 1 + i19 0 + i23 0   = 3
//   P  = i1 2 + i4 1 + i9 2 + i17 2 + i20 2                   = 9
//   total = 4+3+5+3 = 15
//   difficulties 2 (definite); impact answers 1 2 0 3 1 → 0+1+0+2+0 = 3
constexpr std::string_view q8_items = "21111 11121 10111 12002 11001";
}  // namespace

TEST(sdq_questionnaire, q8_parent_mid_range) {
  // Parent: E 4 borderline, C 3 borderline, H 5 normal, Pe 3 borderline, P 9 normal,
  // total 15 borderline, impact 3 abnormal → concern.
  const auto s = sdq::score_answers(form(q8_items, '2', "12031"), version::parent);
  expect_score(s, scale::emotional, 4, false, B);
  expect_score(s, scale::conduct, 3, false, B);
  expect_score(s, scale::hyperactivity, 5, false, N);
  expect_score(s, scale::peer, 3, false, B);
  expect_score(s, scale::prosocial, 9, false, N);
  expect_score(s, scale::total, 15, false, B);
  expect_score(s, scale::impact, 3, false, A);
  EXPECT_EQ(s.severity, severity::concern);
}

TEST(sdq_questionnaire, q8_self_form_is_normal_except_impact) {
  // Self: E 4, C 3, H 5, Pe 3, total 15 all normal, P 9 normal, impact 3 abnormal → concern.
  const auto s = sdq::score_answers(form(q8_items, '2', "12031"), version::self_11_17);
  for (scale sc :
       {scale::emotional, scale::conduct, scale::hyperactivity, scale::peer, scale::prosocial, scale::total}) {
    EXPECT_EQ(s[sc].band, N) << sdq::scale_name(sc);
  }
  EXPECT_EQ(s.impact.band, A);
  EXPECT_EQ(s.severity, severity::concern);
}

TEST(sdq_questionnaire, q9_all_somewhat_true_with_missing_impact_item) {
  // Q9 (parent): every item 1.
  //   E = 5; C = i5 1 + i7r (2-1) 1 + 1 + 1 + 1 = 5; H = 1+1+1 + i21r 1 + i25r 1 = 5;
  //   Pe = 1 + i11r 1 + i14r 1 + 1 + 1 = 5; P = 5; total = 20.
  //   difficulties 2 but the friendships answer is missing → impact missing (not prorated).
  //   Parent: E 5 abnormal, C 5 abnormal, H 5 normal, Pe 5 abnormal, P 5 borderline, total 20 abnormal.
  const auto s = sdq::score_answers(form("11111 11111 11111 11111 11111", '2', "22.22"), version::parent);
  expect_score(s, scale::emotional, 5, false, A);
  expect_score(s, scale::conduct, 5, false, A);
  expect_score(s, scale::hyperactivity, 5, false, N);
  expect_score(s, scale::peer, 5, false, A);
  expect_score(s, scale::prosocial, 5, false, B);
  expect_score(s, scale::total, 20, false, A);
  expect_score(s, scale::impact, missing, false, std::nullopt);
  EXPECT_EQ(s.severity, severity::concern);

  // Self reading of the same scores: E 5 normal, C 5 abnormal, H 5 normal, Pe 5 borderline.
  const auto self = sdq::score_answers(form("11111 11111 11111 11111 11111", '2', "22.22"), version::self_11_17);
  EXPECT_EQ(self.emotional.band, N);
  EXPECT_EQ(self.conduct.band, A);
  EXPECT_EQ(self.peer.band, B);
}

TEST(sdq_questionnaire, q10_all_certainly_true_parent_impact_ignored_when_no_difficulties) {
  // Q10 (parent): every item 2.
  //   E = 10; C = 2 + i7r 0 + 2 + 2 + 2 = 8; H = 2+2+2 + i21r 0 + i25r 0 = 6;
  //   Pe = 2 + i11r 0 + i14r 0 + 2 + 2 = 6; P = 10; total = 10+8+6+6 = 30.
  //   difficulties "no" → impact 0 although impact answers (all "a great deal") are present.
  //   Parent: E abnormal, C abnormal, H 6 borderline, Pe abnormal, P normal, total abnormal, impact normal.
  const auto s = sdq::score_answers(form("22222 22222 22222 22222 22222", '0', "33333"), version::parent);
  expect_score(s, scale::emotional, 10, false, A);
  expect_score(s, scale::conduct, 8, false, A);
  expect_score(s, scale::hyperactivity, 6, false, B);
  expect_score(s, scale::peer, 6, false, A);
  expect_score(s, scale::prosocial, 10, false, N);
  expect_score(s, scale::total, 30, false, A);
  expect_score(s, scale::impact, 0, false, N);
  EXPECT_EQ(s.severity, severity::concern);
}

TEST(sdq_questionnaire, q11_maximum_impact_self) {
  // Q11 (self) = Q2's items, difficulties 3, every impact answer "a great deal" (3 → 2 each) → 10.
  //   Scores as Q2 (all normal) but impact 10 abnormal → concern.
  const auto s = sdq::score_answers(form(q2_items, '3', "33333"), version::self_11_17);
  expect_score(s, scale::total, 4, false, N);
  expect_score(s, scale::impact, 10, false, A);
  EXPECT_EQ(s.severity, severity::concern);
}

TEST(sdq_questionnaire, q12_prorated_parent_with_rounding_down) {
  // Q12 (parent):
  //   1-5: 2 0 . 2 1 | 6-10: 0 2 0 . 1 | 11-15: 2 . 1 . 0 | 16-20: 0 2 0 0 1 | 21-25: 1 0 0 . 2
  //   E  = i3 . + i8 0 + i13 1 + i16 0 + i24 .: 3 answered, sum 1 → 1.67 → 2
  //   C  = i5 1 + i7r (2-2) 0 + i12 . + i18 0 + i22 0: 4 answered, sum 1 → 1.25 → 1
  //   H  = i2 0 + i10 1 + i15 0 + i21r (2-1) 1 + i25r (2-2) 0 = 2 (complete)
  //   Pe = i6 0 + i11r (2-2) 0 + i14 . + i19 0 + i23 0: 4 answered, sum 0 → 0
  //   P  = i1 2 + i4 2 + i9 . + i17 2 + i20 1: 4 answered, sum 7 → 8.75 → 9
  //   total = 2+1+2+0 = 5 (prorated). difficulties "no" → impact 0.
  //   Parent: all normal → info.
  const auto s = sdq::score_answers(form("20.21 020.1 2.1.0 02001 100.2", '0'), version::parent);
  expect_score(s, scale::emotional, 2, true, N);
  expect_score(s, scale::conduct, 1, true, N);
  expect_score(s, scale::hyperactivity, 2, false, N);
  expect_score(s, scale::peer, 0, true, N);
  expect_score(s, scale::prosocial, 9, true, N);
  expect_score(s, scale::total, 5, true, N);
  expect_score(s, scale::impact, 0, false, N);
  EXPECT_EQ(s.severity, severity::info);
}

// ---- prorating per subscale ----------------------------------------------------------------------

namespace {
constexpr std::array<std::array<int, 5>, 5> items_of = {
    {{3, 8, 13, 16, 24}, {5, 7, 12, 18, 22}, {2, 10, 15, 21, 25}, {6, 11, 14, 19, 23}, {1, 4, 9, 17, 20}}};
constexpr std::array<scale, 5> subscales = {scale::emotional, scale::conduct, scale::hyperactivity, scale::peer,
                                            scale::prosocial};
bool reversed(int item) {
  return item == 7 || item == 11 || item == 14 || item == 21 || item == 25;
}

/** Only subscale `k` answered: the first items get the given SCORED values (reversal undone here). */
sdq::answers only(std::size_t k, std::initializer_list<int> scored) {
  sdq::answers a;
  std::size_t i = 0;
  for (int v : scored) {
    const int item = items_of[k][i++];
    a.items[static_cast<std::size_t>(item - 1)] = reversed(item) ? 2 - v : v;
  }
  return a;
}
}  // namespace

TEST(sdq_prorating, four_answered_half_rounds_up_in_every_subscale) {
  for (std::size_t k = 0; k < 5; ++k) {
    SCOPED_TRACE(std::string(sdq::scale_name(subscales[k])));
    // sum 2 of 4 → 2.5 → 3; sum 6 of 4 → 7.5 → 8
    auto s = sdq::score_answers(only(k, {1, 0, 1, 0}), version::self_11_17);
    EXPECT_EQ(s[subscales[k]].value, 3);
    EXPECT_TRUE(s[subscales[k]].prorated);
    s = sdq::score_answers(only(k, {2, 2, 1, 1}), version::self_11_17);
    EXPECT_EQ(s[subscales[k]].value, 8);
    // sum 1 of 4 → 1.25 → 1; sum 3 of 4 → 3.75 → 4; sum 8 of 4 → 10
    EXPECT_EQ(sdq::score_answers(only(k, {0, 1, 0, 0}), version::parent)[subscales[k]].value, 1);
    EXPECT_EQ(sdq::score_answers(only(k, {1, 1, 0, 1}), version::parent)[subscales[k]].value, 4);
    EXPECT_EQ(sdq::score_answers(only(k, {2, 2, 2, 2}), version::parent)[subscales[k]].value, 10);
  }
}

TEST(sdq_prorating, three_answered_in_every_subscale) {
  for (std::size_t k = 0; k < 5; ++k) {
    SCOPED_TRACE(std::string(sdq::scale_name(subscales[k])));
    // sum 1 of 3 → 1.67 → 2; sum 2 → 3.33 → 3; sum 5 → 8.33 → 8; sum 6 → 10; sum 0 → 0
    const auto s = sdq::score_answers(only(k, {0, 1, 0}), version::self_11_17);
    EXPECT_EQ(s[subscales[k]].value, 2);
    EXPECT_TRUE(s[subscales[k]].prorated);
    EXPECT_EQ(sdq::score_answers(only(k, {1, 0, 1}), version::self_11_17)[subscales[k]].value, 3);
    EXPECT_EQ(sdq::score_answers(only(k, {2, 1, 2}), version::self_11_17)[subscales[k]].value, 8);
    EXPECT_EQ(sdq::score_answers(only(k, {2, 2, 2}), version::self_11_17)[subscales[k]].value, 10);
    EXPECT_EQ(sdq::score_answers(only(k, {0, 0, 0}), version::self_11_17)[subscales[k]].value, 0);
  }
}

TEST(sdq_prorating, two_or_fewer_answered_is_missing_and_total_follows) {
  for (std::size_t k = 0; k < 5; ++k) {
    SCOPED_TRACE(std::string(sdq::scale_name(subscales[k])));
    const auto s = sdq::score_answers(only(k, {2, 2}), version::self_11_17);
    EXPECT_FALSE(s[subscales[k]].value.has_value());
    EXPECT_FALSE(sdq::score_answers(only(k, {1}), version::self_11_17)[subscales[k]].value.has_value());
  }
  // Q2 complete but items 3 and 8 (emotional) removed → emotional 3 of 5 … then 13 too → 2 of 5.
  auto a = form(q2_items, '0');
  a.items[2].reset();
  a.items[7].reset();
  auto s = sdq::score_answers(a, version::self_11_17);
  EXPECT_EQ(s.emotional.value, 2);  // i13 0 + i16 1 + i24 0 = 1 of 3 → 1.67 → 2
  EXPECT_EQ(s.total.value, 4);
  EXPECT_TRUE(s.total.prorated);
  a.items[12].reset();
  s = sdq::score_answers(a, version::self_11_17);
  EXPECT_FALSE(s.emotional.value.has_value());
  EXPECT_FALSE(s.total.value.has_value());
  EXPECT_FALSE(s.total.band.has_value());
  EXPECT_EQ(s.prosocial.value, 9);  // the others are still scored
}

TEST(sdq_prorating, prosocial_missing_does_not_affect_total) {
  auto a = form(q2_items, '0');
  for (int item : {1, 4, 9}) a.items[static_cast<std::size_t>(item - 1)].reset();
  const auto s = sdq::score_answers(a, version::self_11_17);
  EXPECT_FALSE(s.prosocial.value.has_value());
  EXPECT_EQ(s.total.value, 4);
  EXPECT_FALSE(s.total.prorated);
}

// ---- each reverse item on its own ----------------------------------------------------------------
// Q2 has every reversed item answered 2 ("certainly true" = scored 0). Changing just that item to 0
// must raise its own subscale by 2 and nothing else but the total.

namespace {
void expect_only_changed(int item, scale changed, int base_value) {
  auto a = form(q2_items, '0');
  ASSERT_EQ(a.items[static_cast<std::size_t>(item - 1)], 2);
  a.items[static_cast<std::size_t>(item - 1)] = 0;
  const auto base = sdq::score_answers(form(q2_items, '0'), version::self_11_17);
  const auto s = sdq::score_answers(a, version::self_11_17);
  EXPECT_EQ(s[changed].value, base_value + 2);
  EXPECT_EQ(s.total.value, *base.total.value + 2);
  for (scale sc : subscales) {
    if (sc != changed) {
      EXPECT_EQ(s[sc].value, base[sc].value) << sdq::scale_name(sc);
    }
  }
}
}  // namespace

TEST(sdq_reverse, item_7_conduct) {
  expect_only_changed(7, scale::conduct, 0);
}
TEST(sdq_reverse, item_11_peer) {
  expect_only_changed(11, scale::peer, 0);
}
TEST(sdq_reverse, item_14_peer) {
  expect_only_changed(14, scale::peer, 0);
}
TEST(sdq_reverse, item_21_hyperactivity) {
  expect_only_changed(21, scale::hyperactivity, 2);
}
TEST(sdq_reverse, item_25_hyperactivity) {
  expect_only_changed(25, scale::hyperactivity, 2);
}

TEST(sdq_reverse, a_forward_item_is_not_reversed) {
  // Control: item 5 (conduct, forward) from 0 to 2 also adds 2 — same direction as the raw answer.
  auto a = form(q2_items, '0');
  a.items[4] = 2;
  EXPECT_EQ(sdq::score_answers(a, version::self_11_17).conduct.value, 2);
  // and the reversed item 7 answered 1 scores 1 either way.
  a = form(q2_items, '0');
  a.items[6] = 1;
  EXPECT_EQ(sdq::score_answers(a, version::self_11_17).conduct.value, 1);
}

// ---- band boundaries -----------------------------------------------------------------------------

namespace {
struct boundary {
  scale sc;
  int first_max;  // normal_max (prosocial: abnormal_max)
  int borderline_max;
};
// Written out from domain.md §2, not from the code's defaults.
constexpr std::array<boundary, 7> self_table = {{{scale::total, 15, 19},
                                                 {scale::emotional, 5, 6},
                                                 {scale::conduct, 3, 4},
                                                 {scale::hyperactivity, 5, 6},
                                                 {scale::peer, 3, 5},
                                                 {scale::prosocial, 4, 5},
                                                 {scale::impact, 0, 1}}};
constexpr std::array<boundary, 7> parent_table = {{{scale::total, 13, 16},
                                                   {scale::emotional, 3, 4},
                                                   {scale::conduct, 2, 3},
                                                   {scale::hyperactivity, 5, 6},
                                                   {scale::peer, 2, 3},
                                                   {scale::prosocial, 4, 5},
                                                   {scale::impact, 0, 1}}};

void check_boundaries(const std::array<boundary, 7>& table, version v) {
  const auto& cut = sdq::default_settings().cutoffs(v);
  for (const auto& b : table) {
    SCOPED_TRACE(std::string(sdq::version_name(v)) + " " + std::string(sdq::scale_name(b.sc)));
    if (b.sc == scale::prosocial) {
      EXPECT_EQ(sdq::classify(b.sc, 0, cut), A);
      EXPECT_EQ(sdq::classify(b.sc, b.first_max, cut), A);
      EXPECT_EQ(sdq::classify(b.sc, b.first_max + 1, cut), B);
      EXPECT_EQ(sdq::classify(b.sc, b.borderline_max, cut), B);
      EXPECT_EQ(sdq::classify(b.sc, b.borderline_max + 1, cut), N);
      EXPECT_EQ(sdq::classify(b.sc, 10, cut), N);
    } else {
      EXPECT_EQ(sdq::classify(b.sc, 0, cut), N);
      EXPECT_EQ(sdq::classify(b.sc, b.first_max, cut), N);
      EXPECT_EQ(sdq::classify(b.sc, b.first_max + 1, cut), B);
      EXPECT_EQ(sdq::classify(b.sc, b.borderline_max, cut), B);
      EXPECT_EQ(sdq::classify(b.sc, b.borderline_max + 1, cut), A);
      EXPECT_EQ(sdq::classify(b.sc, sdq::scale_max(b.sc), cut), A);
    }
  }
}
}  // namespace

TEST(sdq_bands, every_default_boundary_self_11_17) {
  check_boundaries(self_table, version::self_11_17);
}
TEST(sdq_bands, every_default_boundary_parent) {
  check_boundaries(parent_table, version::parent);
}

TEST(sdq_bands, boundaries_through_scoring) {
  // Emotional alone (scored through the whole pipeline): self 5 normal / 6 borderline / 7 abnormal;
  // parent 3 normal / 4 borderline / 5 abnormal.
  auto emotional = [](int sum, version v) {
    sdq::answers a;
    const std::array<int, 5> items = {3, 8, 13, 16, 24};
    // Fill item by item, two points each, so `sum` is reached exactly with no prorating.
    for (std::size_t i = 0; i < 5; ++i) {
      a.items[static_cast<std::size_t>(items[i] - 1)] = std::clamp(sum - 2 * static_cast<int>(i), 0, 2);
    }
    return sdq::score_answers(a, v).emotional;
  };
  EXPECT_EQ(emotional(5, version::self_11_17).band, N);
  EXPECT_EQ(emotional(6, version::self_11_17).band, B);
  EXPECT_EQ(emotional(7, version::self_11_17).band, A);
  EXPECT_EQ(emotional(3, version::parent).band, N);
  EXPECT_EQ(emotional(4, version::parent).band, B);
  EXPECT_EQ(emotional(5, version::parent).value, 5);
  EXPECT_EQ(emotional(5, version::parent).band, A);
}

// ---- impact --------------------------------------------------------------------------------------

TEST(sdq_impact, scoring_of_each_answer) {
  auto impact = [](char difficulties, std::string_view items) {
    return sdq::score_answers(form(q2_items, difficulties, items), version::self_11_17).impact;
  };
  EXPECT_EQ(impact('1', "00000").value, 0);
  EXPECT_EQ(impact('1', "11111").value, 0);   // only a little counts 0
  EXPECT_EQ(impact('1', "22222").value, 5);   // quite a lot counts 1
  EXPECT_EQ(impact('1', "33333").value, 10);  // a great deal counts 2
  EXPECT_EQ(impact('2', "30000").value, 2);
  EXPECT_EQ(impact('3', "00002").value, 1);
  EXPECT_EQ(impact('0', ".....").value, 0);              // "no difficulties": nothing else needed
  EXPECT_FALSE(impact('.', "33333").value.has_value());  // the gate question unanswered
  EXPECT_FALSE(impact('1', "0000.").value.has_value());  // a partial supplement is not guessed
  EXPECT_FALSE(impact('1', "0000.").prorated);
}

// ---- settings ------------------------------------------------------------------------------------

TEST(sdq_settings, defaults_equal_the_documented_json) {
  const auto from_text = sdq::parse_settings(std::string_view{});
  const auto& d = sdq::default_settings();
  for (scale sc : sdq::all_scales) {
    EXPECT_EQ(from_text.self_11_17[sc].lower_max, d.self_11_17[sc].lower_max);
    EXPECT_EQ(from_text.parent[sc].borderline_max, d.parent[sc].borderline_max);
    EXPECT_TRUE(d.counts_for_severity(sc));
  }
  const auto j = sdq::default_settings_json();
  EXPECT_EQ(j["cutoffs"]["self_11_17"]["total"]["normal_max"], 15);
  EXPECT_EQ(j["cutoffs"]["parent"]["prosocial"]["abnormal_max"], 4);
  EXPECT_EQ(j["severity_from"].size(), 7u);
}

TEST(sdq_settings, partial_override_merges_over_defaults_dutch_norms) {
  // A stricter emotional norm for self-report only; everything else stays default.
  const auto s = sdq::parse_settings(
      std::string_view(R"({"cutoffs": {"self_11_17": {"emotional": {"normal_max": 4, "borderline_max": 5}}}})"));
  EXPECT_EQ(s.self_11_17[scale::emotional].lower_max, 4);
  EXPECT_EQ(s.self_11_17[scale::emotional].borderline_max, 5);
  EXPECT_EQ(s.self_11_17[scale::total].lower_max, 15);
  EXPECT_EQ(s.parent[scale::emotional].lower_max, 3);

  // Q4 (E 6) was borderline on the default self norms, abnormal on these.
  const auto scored = sdq::score_answers(form(q4_items, '1', "21010"), version::self_11_17, s);
  EXPECT_EQ(scored.emotional.band, A);
  EXPECT_EQ(scored.severity, severity::concern);

  // Only one of the two numbers given: the other stays the default.
  const auto half =
      sdq::parse_settings(std::string_view(R"({"cutoffs": {"parent": {"prosocial": {"abnormal_max": 3}}}})"));
  EXPECT_EQ(half.parent[scale::prosocial].lower_max, 3);
  EXPECT_EQ(half.parent[scale::prosocial].borderline_max, 5);
  EXPECT_EQ(sdq::classify(scale::prosocial, 4, half.parent), B);
}

TEST(sdq_settings, empty_borderline_band_is_allowed) {
  const auto s = sdq::parse_settings(
      std::string_view(R"({"cutoffs": {"parent": {"total": {"normal_max": 16, "borderline_max": 16}}}})"));
  EXPECT_EQ(sdq::classify(scale::total, 16, s.parent), N);
  EXPECT_EQ(sdq::classify(scale::total, 17, s.parent), A);
}

namespace {
std::string settings_error(std::string_view text) {
  try {
    sdq::parse_settings(text);
  } catch (const schakel::sdk::config_error& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST(sdq_settings, each_error_names_its_path) {
  EXPECT_EQ(settings_error("[1]"), "settings: must be an object");
  EXPECT_EQ(settings_error("{"), "settings: not valid JSON");
  EXPECT_EQ(settings_error(R"({"cutof": {}})"), "settings.cutof: unknown field");
  EXPECT_EQ(settings_error(R"({"cutoffs": {"teacher": {}}})"), "settings.cutoffs.teacher: unknown field");
  EXPECT_EQ(settings_error(R"({"cutoffs": {"self_11_17": {"total": {"normal_mx": 1}}}})"),
            "settings.cutoffs.self_11_17.total.normal_mx: unknown field");
  EXPECT_EQ(settings_error(R"({"cutoffs": {"parent": {"prosocial": {"normal_max": 1}}}})"),
            "settings.cutoffs.parent.prosocial.normal_max: unknown field");
  EXPECT_EQ(settings_error(R"({"cutoffs": {"parent": {"peer": 3}}})"),
            "settings.cutoffs.parent.peer: must be an object");
  EXPECT_EQ(settings_error(R"({"cutoffs": {"parent": {"peer": {"normal_max": "2"}}}})"),
            "settings.cutoffs.parent.peer.normal_max: must be a whole number");
  EXPECT_EQ(settings_error(R"({"cutoffs": {"parent": {"peer": {"normal_max": 2.5}}}})"),
            "settings.cutoffs.parent.peer.normal_max: must be a whole number");
  EXPECT_EQ(settings_error(R"({"cutoffs": {"self_11_17": {"total": {"borderline_max": 41}}}})"),
            "settings.cutoffs.self_11_17.total.borderline_max: must be between 0 and 40");
  EXPECT_EQ(settings_error(R"({"cutoffs": {"self_11_17": {"emotional": {"normal_max": 11}}}})"),
            "settings.cutoffs.self_11_17.emotional.normal_max: must be between 0 and 10");
  EXPECT_EQ(settings_error(R"({"cutoffs": {"parent": {"impact": {"normal_max": -1}}}})"),
            "settings.cutoffs.parent.impact.normal_max: must be between 0 and 10");
  EXPECT_EQ(settings_error(R"({"cutoffs": {"self_11_17": {"emotional": {"normal_max": 7}}}})"),
            "settings.cutoffs.self_11_17.emotional.borderline_max: must not be below normal_max");
  EXPECT_EQ(settings_error(R"({"cutoffs": {"parent": {"prosocial": {"abnormal_max": 6}}}})"),
            "settings.cutoffs.parent.prosocial.borderline_max: must not be below abnormal_max");
  EXPECT_EQ(settings_error(R"({"severity_from": "total"})"), "settings.severity_from: must be an array of score names");
  EXPECT_EQ(settings_error(R"({"severity_from": []})"), "settings.severity_from: must name at least one score");
  EXPECT_EQ(settings_error(R"({"severity_from": ["total", "sleep"]})"),
            "settings.severity_from[1]: must be one of emotional | conduct | hyperactivity | peer | prosocial | "
            "total | impact");
  EXPECT_EQ(settings_error(R"({"severity_from": ["total", "impact", "total"]})"),
            "settings.severity_from[2]: listed twice");
}

TEST(sdq_settings, errors_never_quote_the_value) {
  const std::string e = settings_error(R"({"cutoffs": {"self_11_17": {"total": {"normal_max": 987654}}}})");
  EXPECT_NE(e, "no error");
  EXPECT_EQ(e.find("987654"), std::string::npos);
}

TEST(sdq_settings, nested_path_prefixes_errors) {
  const auto over = nlohmann::json::parse(R"({"cutoffs": {"parent": {"peer": {"normal_max": 99}}}})");
  try {
    sdq::parse_settings(over, "settings.sdq");
    FAIL() << "expected config_error";
  } catch (const schakel::sdk::config_error& e) {
    EXPECT_STREQ(e.what(), "settings.sdq.cutoffs.parent.peer.normal_max: must be between 0 and 10");
  }
}

// ---- severity ------------------------------------------------------------------------------------

TEST(sdq_severity, restricted_severity_from) {
  // Q8 on the parent form: total 15 borderline, impact 3 abnormal, E/C/Pe borderline.
  const auto a = form(q8_items, '2', "12031");
  auto only = [&](std::string_view list) {
    const auto s = sdq::parse_settings(nlohmann::json{{"severity_from", nlohmann::json::parse(list)}});
    return sdq::score_answers(a, version::parent, s).severity;
  };
  EXPECT_EQ(only(R"(["total"])"), severity::attention);
  EXPECT_EQ(only(R"(["total", "impact"])"), severity::concern);
  EXPECT_EQ(only(R"(["hyperactivity", "prosocial"])"), severity::info);
  // On the self form the same answers are normal except impact.
  const auto s = sdq::parse_settings(
      nlohmann::json{{"severity_from",
                      nlohmann::json::array({"total", "emotional", "conduct", "hyperactivity", "peer", "prosocial"})}});
  EXPECT_EQ(sdq::score_answers(a, version::self_11_17, s).severity, severity::info);
  // Bands of excluded scores are still reported.
  EXPECT_EQ(sdq::score_answers(a, version::self_11_17, s).impact.band, A);
}

TEST(sdq_severity, missing_scores_do_not_count_and_all_missing_gives_none) {
  // Q9: impact missing; restricted to impact alone → no severity; to impact + hyperactivity → info.
  const auto a = form("11111 11111 11111 11111 11111", '2', "22.22");
  auto with = [&](nlohmann::json list) {
    return sdq::score_answers(a, version::parent, sdq::parse_settings(nlohmann::json{{"severity_from", list}}))
        .severity;
  };
  EXPECT_FALSE(with(nlohmann::json::array({"impact"})).has_value());
  EXPECT_EQ(with(nlohmann::json::array({"impact", "hyperactivity"})), severity::info);
  EXPECT_EQ(with(nlohmann::json::array({"impact", "prosocial"})), severity::attention);
}

// ---- validation and evidence ---------------------------------------------------------------------

TEST(sdq_validate, out_of_range_answers_are_named_without_values) {
  sdq::answers a = form(q2_items, '1', "00000");
  EXPECT_TRUE(sdq::validate(a).empty());
  a.items[6] = 3;
  a.items[24] = -1;
  a.difficulties = 4;
  a.impact[1] = 7;
  const auto errors = sdq::validate(a);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0], "item 7: must be 0, 1 or 2");
  EXPECT_EQ(errors[1], "item 25: must be 0, 1 or 2");
  EXPECT_EQ(errors[2], "difficulties: must be 0, 1, 2 or 3");
  EXPECT_EQ(errors[3], "impact 2 (home): must be 0, 1, 2 or 3");
  try {
    sdq::score_answers(a, version::self_11_17);
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "item 7: must be 0, 1 or 2");
  }
}

TEST(sdq_evidence, flat_scalar_object_with_every_score) {
  const auto s = sdq::score_answers(form("21122 0...1 .2121 02..1 10100"), version::self_11_17);  // Q5
  const auto j = sdq::to_json(s);
  ASSERT_TRUE(j.is_object());
  EXPECT_LE(j.size(), 32u);
  EXPECT_EQ(j.size(), 22u);  // version, severity, 7 values, 7 bands, 6 prorated flags
  for (const auto& [key, value] : j.items()) EXPECT_TRUE(value.is_primitive()) << key;
  EXPECT_EQ(j["version"], "self_11_17");
  EXPECT_EQ(j["emotional"], 3);
  EXPECT_EQ(j["emotional_band"], "normal");
  EXPECT_EQ(j["emotional_prorated"], true);
  EXPECT_EQ(j["hyperactivity_prorated"], false);
  EXPECT_EQ(j["conduct_band"], "abnormal");
  EXPECT_EQ(j["total"], 18);
  EXPECT_EQ(j["total_band"], "borderline");
  EXPECT_TRUE(j["impact"].is_null());
  EXPECT_TRUE(j["impact_band"].is_null());
  EXPECT_FALSE(j.contains("impact_prorated"));
  EXPECT_EQ(j["severity"], "concern");

  const auto empty = sdq::to_json(sdq::score_answers(sdq::answers{}, version::parent));
  EXPECT_EQ(empty["version"], "parent");
  EXPECT_TRUE(empty["total"].is_null());
  EXPECT_TRUE(empty["severity"].is_null());
}
