// The real daemon keys its audit chain and signs checkpoints into keys_dir: one on a clean shutdown
// covering the final head, more at the configured interval, and `schakel audit verify` uses them to
// find an older copy of the database put back in place.
#include <chrono>
#include <fstream>

#include <gtest/gtest.h>

#include "audit/checkpoint.hpp"
#include "hub_fixture.hpp"

namespace schakel::test {
namespace fs = std::filesystem;
namespace {

using namespace std::chrono_literals;

struct audit_checkpoint_test : ::testing::Test {
  temp_dir dir{"schakel-audit-cp"};
  hub_process hub{dir.path()};
  fs::path keys_dir = hub.data_dir().parent_path() / "keys";  // where hub_config() puts it
  fs::path checkpoints = keys_dir / "audit-checkpoints.log";

  nlohmann::json config(std::int64_t interval_seconds = 3600) {
    auto cfg = hub_config(hub.data_dir(), {});
    cfg.erase("subscriptions");  // nothing is delivered here: the trail's records are admin reads
    cfg["audit"] = {{"checkpoint_interval_seconds", interval_seconds}};
    return cfg;
  }

  /** An audited admin read: one record on the trail. */
  void audited_read() {
    const auto r = send(hub.port(), as_role("operator", "GET", "/v1/deadletters"));
    ASSERT_EQ(r.status, 200u) << r.body;
  }

  std::vector<audit::checkpoint> lines() {
    std::vector<audit::checkpoint> out;
    for (const auto& l : audit::read_checkpoints(checkpoints))
      if (l.value) out.push_back(*l.value);
    return out;
  }

  cli_result verify(const std::string& name) {
    return run_schakel(dir.path(), {"audit", "verify", "--config", hub.config_file().string()}, name);
  }
};

TEST_F(audit_checkpoint_test, a_clean_shutdown_signs_the_final_head_and_verify_checks_against_it) {
  hub.start(config());
  audited_read();
  audited_read();
  ASSERT_EQ(hub.process().terminate(), 0) << hub.log();
  // keys_dir, apart from the data directory, holds everything the chain needs.
  for (const char* f : {"audit.key", "audit-checkpoint.key", "audit-checkpoint.pub", "audit-checkpoints.log"})
    EXPECT_TRUE(fs::exists(keys_dir / f)) << f;
  EXPECT_EQ(permission_bits(keys_dir / "audit.key"), 0600u);
  EXPECT_EQ(permission_bits(keys_dir / "audit-checkpoint.key"), 0600u);
  EXPECT_FALSE(fs::exists(hub.data_dir() / "audit.key")) << "no audit secret beside the database";

  const auto cps = lines();
  ASSERT_GE(cps.size(), 2u) << "one at start, one at shutdown";
  // marker (1) + two reads: the shutdown checkpoint covers record 3, the start one only the marker.
  EXPECT_EQ(cps.front().seq, 1);
  EXPECT_EQ(cps.back().seq, 3);
  EXPECT_EQ(cps.back().keyed_from, 2);
  EXPECT_TRUE(audit::checkpoint_verifier::load(keys_dir / "audit-checkpoint.pub").verify(cps.back()));
  const auto written = log_events(hub.log(), "audit.checkpoint_written");
  ASSERT_FALSE(written.empty());
  EXPECT_EQ(written.back().value("seq", 0), 3);

  const auto v = verify("verify");
  EXPECT_EQ(v.exit, 0) << v.output;
  EXPECT_NE(v.output.find("audit trail intact: 3 records (seq 1..3)"), std::string::npos) << v.output;
  EXPECT_NE(v.output.find(": record 3, node "), std::string::npos) << v.output;
  EXPECT_EQ(v.output.find("newer than the latest checkpoint"), std::string::npos) << v.output;
}

TEST_F(audit_checkpoint_test, checkpoints_follow_the_head_at_the_interval) {
  hub.start(config(1));
  audited_read();
  // The head moved to record 2; within a few intervals a checkpoint covers it, without a shutdown.
  ASSERT_TRUE(wait_until([&] { return !lines().empty() && lines().back().seq >= 2; }, 20s));
  EXPECT_EQ(lines().back().seq, 2);
  const auto count = lines().size();
  ASSERT_EQ(hub.process().terminate(), 0) << hub.log();
  EXPECT_EQ(lines().size(), count) << "an unmoved head is not signed again at shutdown";
}

TEST_F(audit_checkpoint_test, an_older_copy_of_the_database_is_found_even_after_the_hub_ran_on_it) {
  const fs::path db = hub.data_dir() / "schakel.db";
  const fs::path old = dir.path() / "backup.db";
  hub.start(config());
  audited_read();
  ASSERT_EQ(hub.process().terminate(), 0) << hub.log();
  fs::copy_file(db, old);  // a backup: records 1..2
  hub.start(config());
  audited_read();
  audited_read();
  ASSERT_EQ(hub.process().terminate(), 0) << hub.log();  // signed: record 4

  fs::copy_file(old, db, fs::copy_options::overwrite_existing);
  auto v = verify("verify-restored");
  EXPECT_EQ(v.exit, 1) << v.output;
  EXPECT_NE(v.output.find("audit trail truncated: the database ends at record 2"), std::string::npos) << v.output;

  // The hub starts on the restored copy: it says so, and signs the new head; verify still finds it.
  hub.start(config());
  EXPECT_FALSE(log_events(hub.log(), "audit.behind_checkpoint").empty()) << hub.log();
  audited_read();
  audited_read();
  audited_read();
  ASSERT_EQ(hub.process().terminate(), 0) << hub.log();
  v = verify("verify-rolled-back");
  EXPECT_EQ(v.exit, 1) << v.output;
  EXPECT_NE(v.output.find("audit trail rolled back: record 4 differs from what checkpoint line"), std::string::npos)
      << v.output;
}

}  // namespace
}  // namespace schakel::test
