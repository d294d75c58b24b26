#include "metrics/metrics.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace schakel::metrics {
namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string render_labels(const labels& l, const std::string& extra_key = {}, const std::string& extra_value = {}) {
  if (l.empty() && extra_key.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : l) {
    if (!first) out += ',';
    first = false;
    out += k + "=\"" + escape_label(v) + "\"";
  }
  if (!extra_key.empty()) {
    if (!first) out += ',';
    out += extra_key + "=\"" + extra_value + "\"";
  }
  out += '}';
  return out;
}

std::string format_number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream os;
  os.precision(12);
  os << v;
  return os.str();
}

bool snake_word(const std::string& s) {
  if (s.empty() || s.front() < 'a' || s.front() > 'z') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

bool ends_with(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

void check_naming(std::string_view type, const std::string& name, const labels& l) {
  // The naming rules of docs/observability.md, enforced where every series is born so a new metric
  // cannot drift from them; a violation is a programming error and shows at the first start.
  auto refuse = [&](const std::string& why) {
    throw std::invalid_argument("metric " + name + ": " + why + " (see docs/observability.md)");
  };
  if (name.rfind("schakel_", 0) != 0 || !snake_word(name)) refuse("names are schakel_<noun>_<unit> in snake_case");
  const bool total = ends_with(name, "_total");
  if (type == "counter" && !total) refuse("a counter's name ends in _total");
  if (type != "counter" && total) refuse("only counters end in _total");
  for (const auto& [key, value] : l) {
    if (!snake_word(key)) refuse("label " + key + " is not snake_case");
    // Prometheus sets instance and job on every scraped series; a label of ours with either name
    // would be renamed exported_<name> and break every query written against the docs.
    if (key == "instance" || key == "job") refuse("label " + key + " is Prometheus's own; a connector is `connector`");
  }
}

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void histogram::observe(double v) {
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double old = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}

histogram::snapshot histogram::take() const {
  snapshot s;
  s.bounds = bounds_;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

registry::registry(labels constant) : constant_(std::move(constant)) {
  const std::string rendered = render_labels(constant_);
  if (!rendered.empty()) constant_text_ = rendered.substr(1, rendered.size() - 2);
  for (const auto& [key, value] : constant_)
    if (!snake_word(key) || key == "instance" || key == "job")
      throw std::invalid_argument("constant metric label " + key + " is not snake_case or is Prometheus's own");
}

void registry::check_own_labels(const std::string& name, const labels& l) const {
  for (const auto& [key, value] : l)
    for (const auto& [ck, cv] : constant_)
      if (key == ck)
        throw std::invalid_argument("metric " + name + ": label " + key + " is set on every series already");
}

std::string registry::full_labels(const std::string& own) const {
  if (constant_text_.empty()) return own;
  if (own.empty()) return "{" + constant_text_ + "}";
  return own.substr(0, own.size() - 1) + "," + constant_text_ + "}";
}

std::vector<double> registry::default_latency_bounds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

counter& registry::get_counter(const std::string& name, const std::string& help, const labels& l) {
  check_naming("counter", name, l);
  check_own_labels(name, l);
  const std::string key = render_labels(l);
  {
    std::shared_lock lock(mutex_);
    auto f = families_.find(name);
    if (f != families_.end()) {
      auto c = f->second.counters.find(key);
      if (c != f->second.counters.end()) return *c->second;
    }
  }
  std::unique_lock lock(mutex_);
  auto& fam = families_[name];
  fam.help = help;
  fam.type = "counter";
  auto& slot = fam.counters[key];
  if (!slot) slot = std::make_unique<counter>();
  return *slot;
}

histogram& registry::get_histogram(const std::string& name, const std::string& help, const labels& l,
                                   std::vector<double> bounds) {
  check_naming("histogram", name, l);
  check_own_labels(name, l);
  const std::string key = render_labels(l);
  {
    std::shared_lock lock(mutex_);
    auto f = families_.find(name);
    if (f != families_.end()) {
      auto h = f->second.histograms.find(key);
      if (h != f->second.histograms.end()) return *h->second;
    }
  }
  std::unique_lock lock(mutex_);
  auto& fam = families_[name];
  fam.help = help;
  fam.type = "histogram";
  auto& slot = fam.histograms[key];
  if (!slot) slot = std::make_unique<histogram>(std::move(bounds));
  return *slot;
}

void registry::add_gauge(const std::string& name, const std::string& help, const labels& l,
                         std::function<double()> read) {
  check_naming("gauge", name, l);
  check_own_labels(name, l);
  std::unique_lock lock(mutex_);
  auto& fam = families_[name];
  fam.help = help;
  fam.type = "gauge";
  fam.gauges[render_labels(l)] = std::move(read);
}

std::string registry::render() const {
  std::shared_lock lock(mutex_);
  std::string out;
  for (const auto& [name, fam] : families_) {
    out += "# HELP " + name + " " + fam.help + "\n# TYPE " + name + " " + fam.type + "\n";
    for (const auto& [key, c] : fam.counters) out += name + full_labels(key) + " " + std::to_string(c->value()) + "\n";
    for (const auto& [key, g] : fam.gauges) out += name + full_labels(key) + " " + format_number(g()) + "\n";
    for (const auto& [key, h] : fam.histograms) {
      auto s = h->take();
      const std::string all = full_labels(key);
      // Re-open the label set to append `le`.
      std::string base = all.empty() ? "{" : all.substr(0, all.size() - 1) + ",";
      for (std::size_t i = 0; i < s.bounds.size(); ++i)
        out += name + "_bucket" + base + "le=\"" + format_number(s.bounds[i]) + "\"} " +
               std::to_string(s.cumulative[i]) + "\n";
      out += name + "_bucket" + base + "le=\"+Inf\"} " + std::to_string(s.count) + "\n";
      out += name + "_sum" + all + " " + format_number(s.sum) + "\n";
      out += name + "_count" + all + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

}  // namespace schakel::metrics
