// Disclosure control for one school's weekly release (issue 7): 40 classes in 6 leerjaren, 50 weeks
// of (week, class) base points = 2,000 points, about 3,000 cells published by earlier releases, and
// ~140 candidates (week, month and year to date at school, leerjaar and class level).
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "trends/disclosure.hpp"

namespace {

using schakel::trends::disclosure_auditor;

constexpr int classes = 40;
constexpr int weeks = 50;
constexpr int class_size = 30;
constexpr int release_week = 32;  // weeks 0..31 were released before

int leerjaar_of(int cls) {
  return cls * 6 / classes;
}
std::size_t point(int week, int cls) {
  return static_cast<std::size_t>(week * classes + cls);
}

/** Students absent in (week, class): each of the class's students with probability 1/2. */
std::vector<std::vector<std::string>> absences() {
  std::mt19937_64 rng(2026);
  std::vector<std::vector<std::string>> out;
  for (int week = 0; week < weeks; ++week) {
    for (int cls = 0; cls < classes; ++cls) {
      std::vector<std::string> who;
      for (int s = 0; s < class_size; ++s) {
        if (rng() % 2 != 0) continue;
        std::string key = "c";  // built by appends: g++ 12 -O3 warns falsely on chained operator+
        key += std::to_string(cls);
        key += "-s";
        key += std::to_string(s);
        who.push_back(std::move(key));
      }
      out.push_back(std::move(who));
    }
  }
  return out;
}

/** One release's candidates, coarse first: school, leerjaren, classes, for each window kind. */
std::vector<disclosure_auditor::candidate> release(int week) {
  std::vector<std::pair<int, int>> windows{{week, week}, {0, week}};        // week, year to date
  if (week % 4 == 0 && week > 0) windows.emplace_back(week - 4, week - 1);  // the month just ended
  std::vector<disclosure_auditor::candidate> out;
  for (auto [first, last] : windows) {
    auto cell = [&](auto in_group, std::int64_t enrolled) {
      disclosure_auditor::candidate c;
      for (int w = first; w <= last; ++w) {
        for (int cls = 0; cls < classes; ++cls) {
          if (in_group(cls)) c.points.push_back(point(w, cls));
        }
      }
      c.denominator = enrolled;
      out.push_back(std::move(c));
    };
    cell([](int) { return true; }, classes * class_size);
    for (int lj = 0; lj < 6; ++lj) cell([lj](int cls) { return leerjaar_of(cls) == lj; }, 7 * class_size);
    for (int k = 0; k < classes; ++k) cell([k](int cls) { return cls == k; }, class_size);
  }
  return out;
}

struct history {
  std::vector<std::vector<std::string>> points = absences();
  std::vector<std::vector<std::size_t>> published;
  disclosure_auditor before{10};  // the auditor as it stands before this week's release

  history() {
    for (const auto& p : points) before.add_point(p);
    // Earlier releases decided the same way, so the history is one the auditor itself produced.
    for (int week = 0; week < release_week; ++week) {
      const auto cells = release(week);
      const auto d = before.decide(cells);
      for (std::size_t i = 0; i < cells.size(); ++i) {
        if (d[i].released) published.push_back(cells[i].points);
      }
    }
  }
};

const history& shared_history() {
  static const history h;
  return h;
}

// Rebuilding the auditor from the store: 2,000 points and every earlier published cell.
void bm_load_history(benchmark::State& state) {
  const auto& h = shared_history();
  for (auto _ : state) {
    disclosure_auditor a(10);
    for (const auto& p : h.points) a.add_point(p);
    for (const auto& c : h.published) a.add_published(c);
    benchmark::DoNotOptimize(a.published_count());
  }
  state.counters["published"] = static_cast<double>(h.published.size());
}
BENCHMARK(bm_load_history)->Unit(benchmark::kMillisecond);

// Deciding this week's release on a copy of the loaded auditor (the copy is not timed).
void bm_decide_release(benchmark::State& state) {
  const auto& h = shared_history();
  const auto cells = release(release_week);
  std::size_t released = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto a = h.before;
    state.ResumeTiming();
    const auto d = a.decide(cells);
    released = 0;
    for (const auto& x : d) released += x.released;
    benchmark::DoNotOptimize(released);
  }
  state.counters["candidates"] = static_cast<double>(cells.size());
  state.counters["released"] = static_cast<double>(released);
  state.counters["published_before"] = static_cast<double>(h.published.size());
}
BENCHMARK(bm_decide_release)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
