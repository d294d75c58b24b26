// Large ingests are parsed and validated off the network threads: health checks keep answering
// while megabytes of records are worked through.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "hub_fixture.hpp"

namespace schakel::test {
namespace {

using namespace std::chrono_literals;

struct bounded_ingest_test : ::testing::Test {
  temp_dir dir{"schakel-bounded-ingest"};
};

}  // namespace

TEST_F(bounded_ingest_test, large_ingests_do_not_hold_up_health_checks) {
  hub_options o;
  o.webhook_url = "http://127.0.0.1:9/webhook";
  o.max_body_bytes = 16 * 1024 * 1024;
  o.read_timeout = "60s";
  hub_process hub(dir.path());
  hub.start(hub_config(hub.data_dir(), o));

  // About 5 MB each, and at least as many at once as the hub has network threads.
  const std::string body = absence_records(55000);
  const unsigned parallel = std::max(2u, std::thread::hardware_concurrency());
  std::atomic<unsigned> finished{0};
  std::atomic<unsigned> accepted{0};
  std::vector<std::thread> ingests;
  for (unsigned i = 0; i < parallel; ++i)
    ingests.emplace_back([&] {
      if (hub.post_records(body).status == 200) ++accepted;
      ++finished;
    });

  // Probe /healthz for as long as the ingests run; the slowest answer is what a monitor would see.
  std::chrono::steady_clock::duration slowest{};
  int probes = 0;
  while (finished < parallel) {
    const auto started = std::chrono::steady_clock::now();
    const auto r = send(hub.port(), {"GET", "/healthz"});
    const auto took = std::chrono::steady_clock::now() - started;
    if (finished < parallel) {  // an answer after the ingests ended says nothing
      slowest = std::max(slowest, took);
      ++probes;
      EXPECT_EQ(r.status, 200u);
    }
  }
  for (auto& t : ingests) t.join();
  EXPECT_EQ(accepted, parallel);
  EXPECT_GE(probes, 3) << "the ingests ended before the health checks could be timed";
  EXPECT_LT(slowest, 500ms) << std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count() << " ms";
}

}  // namespace schakel::test
