// Faults that heal, end to end with the real daemon: a disk that filled up and has room again, a
// partner that answers 200 with a large body, and drop-folder entries that are no export file.
#include <sys/stat.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "hub_fixture.hpp"

namespace schakel::test {
namespace fs = std::filesystem;
namespace {

using namespace std::chrono_literals;

struct heal_test : ::testing::Test {
  temp_dir dir{"schakel-heal"};
};

// ---- a partner's 200 with a large body ---------------------------------------------------------

TEST_F(heal_test, a_partner_answering_200_with_a_large_body_gets_each_event_once_and_nothing_is_dead_lettered) {
  // Four times the 64 KiB the hub reads of an answer.
  receiver_process receiver(dir.path(), {"--ok-body-bytes", std::to_string(256 * 1024)});
  hub_options o;
  o.webhook_url = receiver.url();
  o.max_attempts = 3;
  hub_process hub(dir.path());
  hub.start(hub_config(hub.data_dir(), o));
  ASSERT_EQ(hub.post_records(absence_records(5)).status, 200u) << hub.log();
  ASSERT_TRUE(wait_until([&] { return receiver.events().size() >= 5; }, 20s)) << hub.log();
  // Each of the five arrives once, and the hub counts five successes, no retry.
  ASSERT_TRUE(wait_until(
      [&] {
        return metrics_text(hub.port())
                   .find("schakel_deliveries_total{subscription=\"partner\",outcome=\"ok\",node=\"test-node\"} 5\n") !=
               std::string::npos;
      },
      10s))
      << metrics_text(hub.port());
  EXPECT_EQ(receiver.events().size(), 5u);
  EXPECT_EQ(receiver.distinct_events(), 5u);
  const std::string log = hub.log();
  EXPECT_TRUE(log_events(log, "delivery.dead_lettered").empty()) << log;
  EXPECT_TRUE(log_events(log, "delivery.retry_summary").empty()) << log;
}

// ---- drop-folder entries that are no export file -----------------------------------------------

TEST_F(heal_test, a_fifo_a_symlink_and_a_hard_link_in_the_drop_folder_are_refused_and_sigterm_stops_promptly) {
  const fs::path drop_dir = dir / "drop";
  const fs::path outside = dir / "elsewhere.json";
  hub_options o;
  o.webhook_url = "http://127.0.0.1:9/webhook";
  auto cfg = hub_config(dir / "data", o);
  cfg["connectors"][0]["drop_folder"] = {{"path", drop_dir.string()}, {"poll_interval", "50ms"}, {"settle", "0ms"}};
  hub_process hub(dir.path());
  hub.start(cfg);

  std::ofstream(outside) << absence_records(1);
  ASSERT_EQ(::mkfifo((drop_dir / "pipe.json").c_str(), 0600), 0) << std::strerror(errno);
  fs::create_symlink(outside, drop_dir / "link.json");
  fs::create_hard_link(outside, drop_dir / "hard.json");

  ASSERT_TRUE(wait_until([&] { return log_events(hub.log(), "drop.refused").size() == 3; }, 20s)) << hub.log();
  std::set<std::string> reasons;
  for (const auto& e : log_events(hub.log(), "drop.refused")) reasons.insert(e.value("reason", ""));
  EXPECT_EQ(reasons, (std::set<std::string>{"a symbolic link", "not a regular file (a FIFO)",
                                            "a file with 2 hard links (exactly one is accepted)"}));
  // The log line comes first, the move into quarantine/ right after it.
  EXPECT_TRUE(wait_until([&] { return fs::is_fifo(fs::symlink_status(drop_dir / "quarantine" / "pipe.json")); }));
  EXPECT_TRUE(log_events(hub.log(), "drop.ingested").empty()) << hub.log();

  // A FIFO that keeps appearing (a writer that never opens it) does not hold up the stop either.
  ASSERT_EQ(::mkfifo((drop_dir / "again.json").c_str(), 0600), 0);
  ASSERT_TRUE(wait_until([&] { return log_events(hub.log(), "drop.refused").size() == 4; }, 20s)) << hub.log();
  ASSERT_EQ(::mkfifo((drop_dir / "late.json").c_str(), 0600), 0);
  const auto before = std::chrono::steady_clock::now();
  const auto code = hub.process().terminate(SIGTERM, 10s);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << hub.log();
}

}  // namespace
}  // namespace schakel::test
