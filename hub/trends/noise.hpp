#pragma once
/**
 * Laplace noise and the per-partner privacy budget for regional trends (issue 7, docs/trends.md).
 *
 * With noise on, every released value is value + Laplace(0, sensitivity / epsilon), rounded; the
 * partner's epsilon per school year is capped by a budget kept in a ledger. Rounding the output (to a
 * whole student, to 0.1 hour) also blunts the known floating-point attacks on textbook Laplace
 * sampling (Mironov 2012), which read the low bits of an unrounded double.
 */
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace schakel::trends {

/**
 * Laplace sampler. Releases use from_os(): every draw takes its bits from the kernel's CSPRNG, so no
 * generator state exists that could be recovered from released values. A seeded sampler (mt19937_64)
 * is deterministic, for tests only.
 */
class laplace_noise {
 public:
  explicit laplace_noise(std::uint64_t seed);
  /** Draws from getrandom(2); throws std::runtime_error if the kernel's source fails. */
  static laplace_noise from_os();
  /** One Laplace(0, scale) sample by inverse CDF on a uniform in the open interval (0, 1). scale > 0. */
  double draw(double scale);

 private:
  laplace_noise() = default;
  std::uint64_t next_bits();

  std::optional<std::mt19937_64> seeded_;
  std::array<std::uint64_t, 8> buffer_{};  // OS bits not used yet, read 64 bytes at a time
  std::size_t buffered_ = 0;
};

/** sensitivity / epsilon; throws std::invalid_argument if either is <= 0 (or not finite). */
double laplace_scale(double sensitivity, double epsilon);

/** round(value + draw), clamped at 0: a noisy count of students. */
std::int64_t noisy_count(std::int64_t value, double scale, laplace_noise& rng);

/** value + draw, clamped at 0 and rounded to 0.1: a noisy total (hours). */
double noisy_total(double value, double scale, laplace_noise& rng);

/**
 * Epsilon spent per partner subscription and school year. Serialises to and from JSON so the lead can
 * keep it in the store:
 *
 *     {"entries": [{"subscription": "ggd-regio", "school_year": "2026-2027", "spent": 1.5}]}
 *
 * Budget comparisons allow 1e-9 of slack, so that ten charges of 0.1 fit a budget of 1.0 despite
 * binary rounding.
 */
class budget_ledger {
 public:
  /** Throws std::invalid_argument naming the bad field (e.g. "entries[2].spent"). */
  static budget_ledger from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;

  /** Epsilon spent so far; 0 for a pair never charged. */
  double spent(const std::string& subscription, const std::string& school_year) const;

  /**
   * Charges `epsilon` when spent + epsilon <= budget and returns true; otherwise charges nothing and
   * returns false. Throws std::invalid_argument for epsilon <= 0 or a negative budget (or not finite).
   */
  bool try_charge(const std::string& subscription, const std::string& school_year, double epsilon, double budget);

 private:
  std::map<std::pair<std::string, std::string>, double> spent_;  // (subscription, school year) → epsilon
};

}  // namespace schakel::trends
