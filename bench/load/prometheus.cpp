#include "prometheus.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>

namespace schakel::load {

namespace {

double parse_number(std::string_view s) {
  if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  try {
    return std::stod(std::string(s));
  } catch (const std::exception&) {
    return std::numeric_limits<double>::quiet_NaN();
  }
}

}  // namespace

scrape scrape::parse(std::string_view text) {
  scrape out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line.front() == '#') continue;
    sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = std::string(line.substr(0, i));
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const std::size_t eq = line.find('=', i);
        if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') break;
        std::string key(line.substr(i, eq - i));
        std::string value;
        std::size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value += line[j] == 'n' ? '\n' : line[j];
          } else {
            value += line[j];
          }
        }
        s.labels.emplace_back(std::move(key), std::move(value));
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i < line.size()) ++i;  // '}'
    }
    while (i < line.size() && line[i] == ' ') ++i;
    std::size_t end = line.find(' ', i);  // an optional timestamp follows
    s.value = parse_number(line.substr(i, end == std::string_view::npos ? line.size() - i : end - i));
    if (!s.name.empty() && !std::isnan(s.value)) out.samples_.push_back(std::move(s));
  }
  return out;
}

bool scrape::matches(const sample& s, const label_set& filter) {
  return std::all_of(filter.begin(), filter.end(),
                     [&](const auto& f) { return std::find(s.labels.begin(), s.labels.end(), f) != s.labels.end(); });
}

double scrape::sum(std::string_view name, const label_set& filter) const {
  double total = 0;
  for (const auto& s : samples_)
    if (s.name == name && matches(s, filter)) total += s.value;
  return total;
}

bucket_histogram scrape::histogram(std::string_view base, const label_set& filter) const {
  const std::string bucket_name = std::string(base) + "_bucket";
  std::map<double, double> by_bound;
  for (const auto& s : samples_) {
    if (s.name != bucket_name || !matches(s, filter)) continue;
    auto le = std::find_if(s.labels.begin(), s.labels.end(), [](const auto& l) { return l.first == "le"; });
    if (le == s.labels.end()) continue;
    by_bound[parse_number(le->second)] += s.value;
  }
  bucket_histogram h;
  h.buckets.assign(by_bound.begin(), by_bound.end());
  h.count = sum(std::string(base) + "_count", filter);
  h.sum = sum(std::string(base) + "_sum", filter);
  return h;
}

bucket_histogram bucket_histogram::minus(const bucket_histogram& earlier) const {
  bucket_histogram d = *this;
  for (auto& [le, c] : d.buckets) {
    auto it = std::find_if(earlier.buckets.begin(), earlier.buckets.end(),
                           [le = le](const auto& b) { return b.first == le; });
    if (it != earlier.buckets.end()) c -= it->second;
  }
  d.count -= earlier.count;
  d.sum -= earlier.sum;
  return d;
}

double bucket_histogram::last_finite_bound() const {
  double bound = 0;
  for (const auto& b : buckets)
    if (!std::isinf(b.first)) bound = b.first;
  return bound;
}

double bucket_histogram::quantile(double q) const {
  if (buckets.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double total = buckets.back().second;
  if (total <= 0) return std::numeric_limits<double>::quiet_NaN();
  const double rank = q * total;
  double lower = 0, below = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    const auto [le, cum] = buckets[i];
    if (cum >= rank) {
      if (std::isinf(le)) return std::numeric_limits<double>::infinity();  // beyond the last finite bound
      const double in_bucket = cum - below;
      if (in_bucket <= 0) return le;
      return lower + (le - lower) * (rank - below) / in_bucket;
    }
    lower = le;
    below = cum;
  }
  return lower;
}

}  // namespace schakel::load
