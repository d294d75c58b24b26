#include "trends/noise.hpp"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <stdexcept>

namespace schakel::trends {

namespace {

constexpr double budget_slack = 1e-9;

bool positive_finite(double x) {
  return std::isfinite(x) && x > 0;
}

}  // namespace

laplace_noise::laplace_noise(std::uint64_t seed) : seeded_(std::in_place, seed) {}

laplace_noise laplace_noise::from_os() {
  return laplace_noise();
}

std::uint64_t laplace_noise::next_bits() {
  if (seeded_) return (*seeded_)();
  if (buffered_ == 0) {
    auto* bytes = reinterpret_cast<unsigned char*>(buffer_.data());
    std::size_t got = 0;
    while (got < sizeof(buffer_)) {
      const ssize_t n = ::getrandom(bytes + got, sizeof(buffer_) - got, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("laplace_noise: the kernel's random source failed");
      got += static_cast<std::size_t>(n);
    }
    buffered_ = buffer_.size();
  }
  return buffer_[--buffered_];
}

double laplace_noise::draw(double scale) {
  if (!positive_finite(scale)) throw std::invalid_argument("laplace_noise: scale must be a positive number");
  // 53 random bits centred in their interval: u lies strictly inside (0, 1), so the log below is finite.
  const double u = (static_cast<double>(next_bits() >> 11) + 0.5) * 0x1.0p-53;
  const double v = u - 0.5;  // (-0.5, 0.5)
  const double magnitude = -scale * std::log1p(-2.0 * std::fabs(v));
  return v < 0 ? -magnitude : magnitude;
}

double laplace_scale(double sensitivity, double epsilon) {
  if (!positive_finite(sensitivity)) throw std::invalid_argument("laplace_scale: sensitivity must be > 0");
  if (!positive_finite(epsilon)) throw std::invalid_argument("laplace_scale: epsilon must be > 0");
  return sensitivity / epsilon;
}

std::int64_t noisy_count(std::int64_t value, double scale, laplace_noise& rng) {
  const double x = std::round(static_cast<double>(value) + rng.draw(scale));
  return x <= 0 ? 0 : static_cast<std::int64_t>(x);
}

double noisy_total(double value, double scale, laplace_noise& rng) {
  const double x = value + rng.draw(scale);
  if (!(x > 0)) return 0.0;
  return std::round(x * 10.0) / 10.0;
}

budget_ledger budget_ledger::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("budget_ledger: the document must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (key != "entries") throw std::invalid_argument("budget_ledger: unknown field \"" + key + "\"");
  }
  if (!j.contains("entries") || !j["entries"].is_array()) {
    throw std::invalid_argument("budget_ledger: entries must be an array");
  }
  budget_ledger out;
  const auto& entries = j["entries"];
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const std::string at = "budget_ledger: entries[" + std::to_string(i) + "]";
    if (!e.is_object()) throw std::invalid_argument(at + " must be an object");
    for (const auto& [key, value] : e.items()) {
      if (key != "subscription" && key != "school_year" && key != "spent") {
        std::string message = at;
        message += " has an unknown field \"";
        message += key;
        message += '"';
        throw std::invalid_argument(message);
      }
    }
    for (const char* field : {"subscription", "school_year"}) {
      if (!e.contains(field) || !e[field].is_string() || e[field].get_ref<const std::string&>().empty()) {
        throw std::invalid_argument(at + "." + field + " must be a non-empty string");
      }
    }
    if (!e.contains("spent") || !e["spent"].is_number() || !std::isfinite(e["spent"].get<double>()) ||
        e["spent"].get<double>() < 0) {
      throw std::invalid_argument(at + ".spent must be a number >= 0");
    }
    auto key = std::make_pair(e["subscription"].get<std::string>(), e["school_year"].get<std::string>());
    if (!out.spent_.emplace(std::move(key), e["spent"].get<double>()).second) {
      throw std::invalid_argument(at + " repeats an earlier subscription and school_year");
    }
  }
  return out;
}

nlohmann::json budget_ledger::to_json() const {
  auto entries = nlohmann::json::array();
  for (const auto& [key, spent] : spent_) {
    entries.push_back({{"subscription", key.first}, {"school_year", key.second}, {"spent", spent}});
  }
  return {{"entries", std::move(entries)}};
}

double budget_ledger::spent(const std::string& subscription, const std::string& school_year) const {
  const auto it = spent_.find({subscription, school_year});
  return it == spent_.end() ? 0.0 : it->second;
}

bool budget_ledger::try_charge(const std::string& subscription, const std::string& school_year, double epsilon,
                               double budget) {
  if (!positive_finite(epsilon)) throw std::invalid_argument("budget_ledger: epsilon must be > 0");
  if (!std::isfinite(budget) || budget < 0) throw std::invalid_argument("budget_ledger: budget must be >= 0");
  const double now = spent(subscription, school_year);
  if (now + epsilon > budget + budget_slack) return false;
  spent_[{subscription, school_year}] = now + epsilon;
  return true;
}

}  // namespace schakel::trends
