#include "receiver_core.hpp"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

namespace schakel::receiver {
namespace {

int failures_in(status_script& script, int n) {
  int failed = 0;
  for (int i = 0; i < n; ++i) failed += script.next() == 500 ? 1 : 0;
  return failed;
}

TEST(status_script, answers_200_without_a_script) {
  status_script script(options{});
  EXPECT_EQ(failures_in(script, 1000), 0);
}

TEST(status_script, keeps_fail_first_and_the_sequence_before_the_rate) {
  options o;
  o.fail_first = 2;
  o.status_sequence = {503, 200, 429};
  o.fail_rate = 0;
  status_script script(o);
  EXPECT_EQ(script.next(), 500u);
  EXPECT_EQ(script.next(), 500u);
  EXPECT_EQ(script.next(), 503u);
  EXPECT_EQ(script.next(), 200u);
  EXPECT_EQ(script.next(), 429u);
  EXPECT_EQ(script.next(), 200u);
}

// A soak run's flaky partner: about the asked share fails, not every n-th request, and the same
// seed gives the same answers so a run can be repeated.
TEST(status_script, fails_the_asked_share_at_random_and_repeatably) {
  options o;
  o.fail_rate = 0.1;
  o.fail_seed = 7;
  status_script a(o), b(o);
  std::vector<unsigned> first, second;
  for (int i = 0; i < 20000; ++i) {
    first.push_back(a.next());
    second.push_back(b.next());
  }
  EXPECT_EQ(first, second);
  const auto failed = std::count(first.begin(), first.end(), 500u);
  EXPECT_GT(failed, 1800);
  EXPECT_LT(failed, 2200);
  // Random, so two failures in a row happen (1 % of pairs); an every-tenth rule never does that.
  int runs = 0;
  for (std::size_t i = 1; i < first.size(); ++i) runs += first[i] == 500u && first[i - 1] == 500u ? 1 : 0;
  EXPECT_GT(runs, 50);
}

}  // namespace
}  // namespace schakel::receiver
