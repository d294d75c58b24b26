// Random school histories released week by week through plan_release and attacked (attacker.hpp):
// small classes (5..14 students, k = 5), two leerjaren, three or four classes, the school year's
// first weeks up to one or two weeks past August (so months and years to date close), joiners,
// leavers and class moves, and three measures (students, hours, a distribution). Seeded, so every
// run sees the same histories; a failure names its seed.
//
// Release build only: a few hundred histories, each released five to seven times.
#include "attacker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace schakel::trends::attack {
namespace {

// SCHAKEL_ATTACKER_HISTORIES=n runs more (or fewer) histories and pairs.
const int histories =
    std::getenv("SCHAKEL_ATTACKER_HISTORIES") ? std::atoi(std::getenv("SCHAKEL_ATTACKER_HISTORIES")) : 200;
// SCHAKEL_ATTACKER_K=n explores another k (classes have k..3k-1 students: 5..14 for the default 5).
const int k = std::getenv("SCHAKEL_ATTACKER_K") ? std::atoi(std::getenv("SCHAKEL_ATTACKER_K")) : 5;

class dice {
 public:
  explicit dice(std::uint64_t seed) : gen_(seed) {}
  int below(int n) { return static_cast<int>(gen_() % static_cast<std::uint64_t>(n)); }
  bool chance(double p) { return static_cast<double>(gen_() >> 11) * 0x1.0p-53 < p; }

 private:
  std::mt19937_64 gen_;
};

/** Classes, students and who is in which class when; no signals yet. */
school_history random_school(std::uint64_t seed) {
  dice d(seed);
  school_history h;
  const int year = 2024 + d.below(6);
  const days first = school_year_first_week(std::to_string(year) + "-" + std::to_string(year + 1), "08-01");
  // August has four or five weeks; one or two more cross into September.
  const int n_weeks = static_cast<int>(month_weeks(first).size()) + 1 + d.below(2);
  for (int i = 0; i < n_weeks; ++i) h.weeks.push_back(first + days::duration{7 * i});
  const days end = h.weeks.back() + days::duration{6};
  const auto some_day = [&] { return first + days::duration{d.below(static_cast<int>((end - first).count()) + 1)}; };

  h.add_class("1A", 1);
  h.add_class("1B", 1);
  h.add_class("2A", 2);
  if (d.chance(0.5)) h.add_class("2B", 2);
  std::vector<std::string> classes;
  for (const auto& [c, lj] : h.class_leerjaar) classes.push_back(c);
  const auto some_class = [&] { return classes[static_cast<std::size_t>(d.below(static_cast<int>(classes.size())))]; };

  for (const auto& c : classes) h.enrol_many(c, first - days::duration{30}, k + d.below(2 * k));
  const int at_start = static_cast<int>(h.placements.size());
  for (int i = d.below(3); i > 0; --i) h.enrol(some_class(), some_day());  // joiners
  for (int i = 1 + d.below(2); i > 0; --i) {                               // movers
    const int s = d.below(at_start);
    const std::string from = h.class_on(s, first), to = some_class();
    if (to != from) h.place(s, to, some_day());
  }
  for (int i = d.below(2); i > 0; --i) h.place(d.below(at_start), "", some_day());  // leavers
  return h;
}

/** Absences of the students who signal at all (a random share; the rest stay silent). */
void add_random_signals(school_history& h, std::uint64_t seed) {
  dice d(seed);
  const double active = 0.25 + d.below(50) / 100.0;
  static const char* const reasons[] = {"sick", "sick", "sick", "authorised", "authorised", "unauthorised"};
  for (std::size_t s = 0; s < h.placements.size(); ++s) {
    if (!d.chance(active)) continue;
    const int student = static_cast<int>(s);
    for (const days monday : h.weeks) {
      if (!d.chance(0.6)) continue;
      std::set<std::string> used;
      for (int e = 1 + d.below(2); e > 0; --e) {
        const days day = monday + days::duration{d.below(5)};
        if (h.class_on(student, day).empty()) continue;
        const std::string at = moment(day, 8 * 60 + d.below(8 * 60));
        if (!used.insert(at).second) continue;  // one moment, one event: "latest" is never a tie
        h.signals.push_back({student, at, absent, 0, ""});
        if (d.chance(0.8))
          h.signals.push_back({student, at, absence_hours, d.chance(0.1) ? 0.0 : 1.0 + d.below(6), ""});
        if (d.chance(0.7)) h.signals.push_back({student, at, reason_measure, 0, reasons[d.below(6)]});
      }
    }
  }
}

school_history random_history(std::uint64_t seed) {
  auto h = random_school(seed);
  add_random_signals(h, seed * 7919 + 17);
  return h;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool combines(const leak& l) {
  return l.what != leak::kind::reason;
}

TEST(attacker_random_histories, nothing_about_fewer_than_k_students_is_derivable) {
  const auto s = test_settings(k);
  const auto t0 = std::chrono::steady_clock::now();
  int releasing = 0, control_leaky = 0, control_combining = 0;
  std::size_t cells = 0, released_nonzero = 0, control_leaks = 0;
  // SCHAKEL_ATTACKER_SEED=n replays one history and prints its decisions (to study a failure).
  const char* only = std::getenv("SCHAKEL_ATTACKER_SEED");
  for (int seed = only ? std::atoi(only) : 1; seed <= (only ? std::atoi(only) : histories); ++seed) {
    const auto h = random_history(static_cast<std::uint64_t>(seed));

    run_options fixed;
    const auto log = run_releases(h, s, fixed);
    const auto seen = observe(h, s, log, exposure::suppressed_only);
    ASSERT_TRUE(seen.disagreements.empty())
        << "seed " << seed << ": plan_release and the ground truth disagree:\n  " << seen.disagreements.front();
    const auto leaks = find_leaks(seen.oracle);
    EXPECT_TRUE(leaks.empty()) << "seed " << seed << ": " << describe(leaks);
    if (only) std::printf("%s\nreleased:%s\n", describe(leaks, 100).c_str(), describe(log).c_str());
    std::size_t nonzero = 0;
    for (const auto& c : seen.oracle.cells) {
      ++cells;
      if (c.released && c.value > 0) ++nonzero;
    }
    released_nonzero += nonzero;
    if (nonzero > 0) ++releasing;

    run_options control;
    control.combination_checks = false;
    const auto found = find_leaks(observe(h, s, run_releases(h, s, control), exposure::hub_reason).oracle);
    control_leaks += found.size();
    if (!found.empty()) ++control_leaky;
    if (std::any_of(found.begin(), found.end(), combines)) ++control_combining;
  }
  if (only) return;
  std::printf(
      "[attacker] %d histories, %zu cells, %zu released with a value > 0 (in %d histories); control: leaks in %d "
      "histories (%zu leaks), in %d by combining cells (not only a reason); %.1f s\n",
      histories, cells, released_nonzero, releasing, control_leaky, control_leaks, control_combining,
      seconds_since(t0));
  // The histories must release something for "no leak" to mean anything, and the control must show
  // that the attacker finds what the checks prevent, by combining cells, not only by reading reasons.
  EXPECT_GE(releasing, histories * 3 / 4);
  EXPECT_GE(control_combining, histories / 4);
}

// Under noise, whether a cell is released may depend only on public facts and the noisy value. With
// noise that ignores the exact value (a function of the cell's name only), two histories with the
// same classes and enrolment but different signals must get the same decisions, cell for cell.
std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 14695981039346656037ull;
  for (const unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

noise_fn rigged_noise() {
  return [](const std::string& cell, measure_kind, double, double) {
    return static_cast<double>(fnv1a(cell) % (2 * k + 1));
  };
}

/** Every cell's name and whether it was released, release by release. */
std::vector<std::pair<std::string, bool>> statuses(const release_log& log) {
  std::vector<std::pair<std::string, bool>> out;
  for (const auto& r : log.releases)
    for (const auto& c : r.cells) out.emplace_back(cell_id(c.win, *c.m, c.g, c.category), c.released);
  return out;
}

/** How many of the pairs got different decisions; counts the cells (of the first of each pair) and
 *  how many of them were released. */
int pairs_that_differ(bool noise_decides_on_exact, std::size_t& cells, std::size_t& released) {
  auto s = test_settings(k);
  s.noise = noise_settings{1.0, 1000.0};
  run_options o;
  o.noise = rigged_noise();
  o.noise_decides_on_exact = noise_decides_on_exact;
  int differ = 0;
  for (int pair = 1; pair <= histories; ++pair) {
    auto first = random_school(static_cast<std::uint64_t>(pair));
    auto second = first;
    add_random_signals(first, static_cast<std::uint64_t>(pair) * 31 + 1);
    add_random_signals(second, static_cast<std::uint64_t>(pair) * 31 + 2);
    const auto a = statuses(run_releases(first, s, o));
    const auto b = statuses(run_releases(second, s, o));
    cells += a.size();
    released += static_cast<std::size_t>(std::count_if(a.begin(), a.end(), [](const auto& c) { return c.second; }));
    if (a == b) continue;
    ++differ;
    if (!noise_decides_on_exact) {
      std::string first_difference;
      for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        if (a[i] != b[i]) {
          first_difference =
              a[i].first + " released " + std::to_string(a[i].second) + " vs " + std::to_string(b[i].second);
          break;
        }
      ADD_FAILURE() << "pair " << pair << ": decisions depend on the exact counts: "
                    << (a.size() != b.size() ? "different cells" : first_difference);
    }
  }
  return differ;
}

TEST(attacker_random_histories, under_noise_what_is_released_does_not_depend_on_exact_counts) {
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t cells = 0, released = 0, control_cells = 0, control_released = 0;
  const int fixed = pairs_that_differ(false, cells, released);
  const int control = pairs_that_differ(true, control_cells, control_released);
  std::printf(
      "[attacker] noise: %d pairs, %zu cells per side, %zu released; decisions differ in %d pairs, control "
      "(deciding on exact counts) %d; %.1f s\n",
      histories, cells, released, fixed, control, seconds_since(t0));
  EXPECT_EQ(fixed, 0);
  // Equal decisions mean something only if both kinds occur.
  EXPECT_GT(released, cells / 10);
  EXPECT_LT(released, cells - cells / 10);
  EXPECT_GT(control, 0) << "the control should show decisions that follow the exact counts";
}

}  // namespace
}  // namespace schakel::trends::attack
