#include "trends/noise.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace schakel::trends {
namespace {

std::vector<double> draws(std::uint64_t seed, double scale, int n) {
  laplace_noise rng(seed);
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(rng.draw(scale));
  return out;
}

TEST(laplace_noise, a_fixed_seed_gives_the_same_sequence) {
  EXPECT_EQ(draws(42, 2.0, 1000), draws(42, 2.0, 1000));
  EXPECT_NE(draws(42, 2.0, 10), draws(43, 2.0, 10));
}

TEST(laplace_noise, os_samplers_differ) {
  auto a = laplace_noise::from_os();
  auto b = laplace_noise::from_os();
  std::vector<double> x, y;
  for (int i = 0; i < 4; ++i) {
    x.push_back(a.draw(1.0));
    y.push_back(b.draw(1.0));
  }
  EXPECT_NE(x, y);  // equal only if the kernel repeated 4 × 53 bits
}

// Laplace(0, b): mean 0 (sd of the sample mean sqrt(2)·b/sqrt(n)), E|x| = b (|x| is exponential, sd
// b/sqrt(n)), variance 2b² (x² has variance 20b⁴), P(|x| > b) = 1/e. Tolerances are 5 standard errors.
void expect_laplace(const std::vector<double>& x, double b) {
  const auto n = static_cast<double>(x.size());
  double sum = 0, sum_abs = 0, sum_sq = 0;
  int beyond_b = 0, positive = 0;
  for (double v : x) {
    ASSERT_TRUE(std::isfinite(v));
    sum += v;
    sum_abs += std::fabs(v);
    sum_sq += v * v;
    beyond_b += std::fabs(v) > b;
    positive += v > 0;
  }
  const double root_n = std::sqrt(n);
  const double mean = sum / n;
  EXPECT_LT(std::fabs(mean), 5 * std::sqrt(2.0) * b / root_n);
  EXPECT_NEAR(sum_abs / n, b, 5 * b / root_n);
  const double variance = sum_sq / n - mean * mean;
  EXPECT_NEAR(variance, 2 * b * b, 5 * std::sqrt(20.0) * b * b / root_n);
  const double p = std::exp(-1.0);
  EXPECT_NEAR(beyond_b / n, p, 5 * std::sqrt(p * (1 - p) / n));
  EXPECT_NEAR(positive / n, 0.5, 5 * 0.5 / root_n);
}

class laplace_moments : public ::testing::TestWithParam<double> {};

TEST_P(laplace_moments, match_the_distribution) {
  expect_laplace(draws(20260928, GetParam(), 200000), GetParam());
}

// What releases use: not reproducible, so the same moments with the same 5-standard-error bounds
// (all five hold together except about once in 300,000 runs).
TEST(laplace_noise, the_os_sampler_matches_the_distribution_too) {
  auto rng = laplace_noise::from_os();
  std::vector<double> x;
  for (int i = 0; i < 200000; ++i) x.push_back(rng.draw(3.0));
  expect_laplace(x, 3.0);
}

INSTANTIATE_TEST_SUITE_P(scale, laplace_moments, ::testing::Values(1.0, 2.0, 10.0));

TEST(laplace_noise, rejects_a_scale_that_is_not_positive) {
  laplace_noise rng(1);
  EXPECT_THROW(rng.draw(0.0), std::invalid_argument);
  EXPECT_THROW(rng.draw(-1.0), std::invalid_argument);
  EXPECT_THROW(rng.draw(std::nan("")), std::invalid_argument);
}

TEST(laplace_scale, is_sensitivity_over_epsilon) {
  EXPECT_DOUBLE_EQ(laplace_scale(1, 0.5), 2.0);
  EXPECT_DOUBLE_EQ(laplace_scale(3, 1.5), 2.0);
  EXPECT_THROW(laplace_scale(0, 1), std::invalid_argument);
  EXPECT_THROW(laplace_scale(1, 0), std::invalid_argument);
  EXPECT_THROW(laplace_scale(-1, 1), std::invalid_argument);
  EXPECT_THROW(laplace_scale(1, -0.5), std::invalid_argument);
}

TEST(noisy_count, is_never_negative_and_is_noisy) {
  laplace_noise rng(5);
  int zeros = 0, above = 0;
  for (int i = 0; i < 10000; ++i) {
    const auto v = noisy_count(0, 5.0, rng);
    ASSERT_GE(v, 0);
    zeros += v == 0;
    above += v > 0;
  }
  EXPECT_GT(zeros, 4000);  // about half the draws are negative and clamp to 0
  EXPECT_GT(above, 4000);
}

TEST(noisy_count, rounds_to_a_whole_count) {
  laplace_noise rng(6);
  EXPECT_EQ(noisy_count(100, 1e-9, rng), 100);
  double sum = 0;
  for (int i = 0; i < 20000; ++i) sum += static_cast<double>(noisy_count(1000, 2.0, rng));
  EXPECT_NEAR(sum / 20000, 1000.0, 0.1);  // unbiased away from the clamp
}

TEST(noisy_total, clamps_and_rounds_to_a_tenth) {
  laplace_noise rng(7);
  EXPECT_DOUBLE_EQ(noisy_total(12.34, 1e-9, rng), 12.3);
  for (int i = 0; i < 10000; ++i) {
    const double v = noisy_total(3.0, 4.0, rng);
    ASSERT_GE(v, 0.0);
    ASSERT_NEAR(v * 10, std::round(v * 10), 1e-6);
  }
}

TEST(budget_ledger, charges_until_the_budget_and_refuses_without_charging) {
  budget_ledger ledger;
  EXPECT_EQ(ledger.spent("ggd", "2026-2027"), 0.0);
  EXPECT_TRUE(ledger.try_charge("ggd", "2026-2027", 0.5, 1.0));
  EXPECT_TRUE(ledger.try_charge("ggd", "2026-2027", 0.5, 1.0));
  EXPECT_DOUBLE_EQ(ledger.spent("ggd", "2026-2027"), 1.0);
  EXPECT_FALSE(ledger.try_charge("ggd", "2026-2027", 0.1, 1.0));
  EXPECT_DOUBLE_EQ(ledger.spent("ggd", "2026-2027"), 1.0);
  // Another year and another partner have budgets of their own.
  EXPECT_TRUE(ledger.try_charge("ggd", "2027-2028", 0.7, 1.0));
  EXPECT_FALSE(ledger.try_charge("ggd", "2027-2028", 0.7, 1.0));
  EXPECT_DOUBLE_EQ(ledger.spent("ggd", "2027-2028"), 0.7);
  EXPECT_TRUE(ledger.try_charge("wijkteam", "2026-2027", 1.0, 1.0));
}

TEST(budget_ledger, ten_tenths_fit_a_budget_of_one) {
  budget_ledger ledger;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(ledger.try_charge("p", "2026-2027", 0.1, 1.0)) << i;
  EXPECT_FALSE(ledger.try_charge("p", "2026-2027", 0.1, 1.0));
}

TEST(budget_ledger, rejects_bad_charges) {
  budget_ledger ledger;
  EXPECT_THROW(ledger.try_charge("p", "y", 0.0, 1.0), std::invalid_argument);
  EXPECT_THROW(ledger.try_charge("p", "y", -0.1, 1.0), std::invalid_argument);
  EXPECT_THROW(ledger.try_charge("p", "y", 0.1, -1.0), std::invalid_argument);
  EXPECT_EQ(ledger.spent("p", "y"), 0.0);
}

TEST(budget_ledger, round_trips_json) {
  budget_ledger ledger;
  ASSERT_TRUE(ledger.try_charge("ggd", "2026-2027", 0.1, 5.0));
  ASSERT_TRUE(ledger.try_charge("ggd", "2026-2027", 0.2, 5.0));
  ASSERT_TRUE(ledger.try_charge("wijkteam", "2025-2026", 1.25, 5.0));
  const auto j = ledger.to_json();
  ASSERT_TRUE(j.at("entries").is_array());
  EXPECT_EQ(j.at("entries").size(), 2u);
  const auto back = budget_ledger::from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(back.spent("ggd", "2026-2027"), ledger.spent("ggd", "2026-2027"));  // bit for bit
  EXPECT_EQ(back.spent("wijkteam", "2025-2026"), 1.25);
  EXPECT_EQ(back.to_json(), j);
  EXPECT_EQ(budget_ledger::from_json(nlohmann::json::parse(R"({"entries": []})")).to_json(), budget_ledger{}.to_json());
}

void expect_rejected(const std::string& text, const std::string& field) {
  try {
    budget_ledger::from_json(nlohmann::json::parse(text));
    ADD_FAILURE() << "accepted: " << text;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

TEST(budget_ledger, rejects_malformed_json_naming_the_field) {
  expect_rejected("[]", "object");
  expect_rejected("{}", "entries");
  expect_rejected(R"({"entries": {}})", "entries");
  expect_rejected(R"({"entries": [], "extra": 1})", "extra");
  expect_rejected(R"({"entries": [7]})", "entries[0]");
  expect_rejected(R"({"entries": [{"school_year": "2026-2027", "spent": 1}]})", "entries[0].subscription");
  expect_rejected(R"({"entries": [{"subscription": "g", "school_year": 2026, "spent": 1}]})", "entries[0].school_year");
  expect_rejected(R"({"entries": [{"subscription": "g", "school_year": "y", "spent": 1},
                                  {"subscription": "h", "school_year": "y", "spent": -0.5}]})",
                  "entries[1].spent");
  expect_rejected(R"({"entries": [{"subscription": "g", "school_year": "y", "spent": "1"}]})", "entries[0].spent");
  expect_rejected(R"({"entries": [{"subscription": "g", "school_year": "y", "spent": 1, "note": 2}]})", "note");
  expect_rejected(R"({"entries": [{"subscription": "g", "school_year": "y", "spent": 1},
                                  {"subscription": "g", "school_year": "y", "spent": 2}]})",
                  "entries[1]");
}

}  // namespace
}  // namespace schakel::trends
