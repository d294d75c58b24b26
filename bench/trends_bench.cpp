// Disclosure control for one school's weekly release (issue 7): 40 classes in 6 leerjaren, 50 weeks
// of (week, class) base points = 2,000 points, about 3,000 cells published by earlier releases, and
// ~140 candidates (week, month and year to date at school, leerjaar and class level).
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "trends/disclosure.hpp"
#include "trends/release_plan.hpp"

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

// One whole release as the releaser makes it (release_plan.hpp): a school of 40 classes of 30 students
// in 6 leerjaren, three measures (absent students, absence hours, a 3-category distribution), 32
// sealed weeks, every cell released earlier this school year rebuilt as students, and the week,
// month and year-to-date candidates of week 33 decided together. Earlier releases are made by the
// same code, so the history is one it produced itself.
struct school_year {
  schakel::trends::settings config;
  schakel::trends::release_input in;
  std::size_t earlier_cells = 0;

  school_year() {
    using namespace schakel::trends;
    using nlohmann::json;
    config.k = 10;
    for (const auto& [name, kind] :
         {std::pair{"absent", measure_kind::students}, std::pair{"hours", measure_kind::hours},
          std::pair{"reason", measure_kind::distribution}}) {
      measure m;
      m.name = name;
      m.kind = kind;
      config.measures.push_back(m);
    }
    config.measures[2].categories = {"sick", "authorised", "unauthorised"};
    in.config = &config;
    for (int c = 0; c < classes; ++c)
      in.enrolment["c" + std::to_string(c)] = {
          {"leerjaar", leerjaar_of(c) + 1},
          {"history", json::array({{{"from", "2026-08-01"}, {"students", class_size}}})}};
    std::mt19937_64 rng(2026);
    days monday{};
    parse_day("2026-08-31", monday);
    for (int w = 0; w <= release_week; ++w, monday += days::duration{7}) {
      json rows = {{"absent", json::array()}, {"hours", json::array()}, {"reason", json::array()}};
      const std::string day = format_day(monday) + "T10:00:00Z";
      for (int c = 0; c < classes; ++c)
        for (int s = 0; s < class_size; ++s) {
          if (rng() % 8 != 0) continue;  // an eighth of the students is absent in a week
          const std::string cls = "c" + std::to_string(c), ref = cls + "-s" + std::to_string(s);
          const int lj = leerjaar_of(c) + 1;
          rows["absent"].push_back({cls, lj, ref, 1, day});
          rows["hours"].push_back({cls, lj, ref, static_cast<double>(1 + rng() % 12), day});
          const char* cat[] = {"sick", "authorised", "unauthorised"};
          rows["reason"].push_back({cls, lj, ref, cat[rng() % 3], day});
        }
      in.weeks.push_back(monday);
      in.week_data.push_back({{"m", rows}});
      in.windows = windows_closing(monday, config.windows, config.school_year_start);
      if (w == release_week) break;
      for (const auto& p : plan_release(in)) {
        if (!p.released) continue;
        json c = {{"measure", p.m->name},
                  {"level", std::string(to_string(p.g.lvl))},
                  {"_kind", std::string(to_string(p.win.kind))},
                  {"_window", p.win.key},
                  {"_first", format_day(p.win.first)},
                  {"_last", format_day(p.win.last)}};
        if (p.g.lvl != level::school) c["leerjaar"] = std::to_string(p.g.leerjaar);
        if (p.g.lvl == level::class_group) c["class"] = p.g.klass;
        if (!p.category.empty()) c["category"] = p.category;
        in.earlier.push_back(std::move(c));
      }
    }
    earlier_cells = in.earlier.size();
  }
};

void bm_plan_release(benchmark::State& state) {
  static const school_year year;
  std::size_t released = 0, cells = 0;
  for (auto _ : state) {
    const auto plan = schakel::trends::plan_release(year.in);
    cells = plan.size();
    released = 0;
    for (const auto& p : plan) released += p.released;
    benchmark::DoNotOptimize(released);
  }
  state.counters["candidates"] = static_cast<double>(cells);
  state.counters["released"] = static_cast<double>(released);
  state.counters["earlier_cells"] = static_cast<double>(year.earlier_cells);
}
BENCHMARK(bm_plan_release)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
