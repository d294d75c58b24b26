// The real daemon keys its audit chain and signs checkpoints into keys_dir: one on a clean shutdown
// covering the final head, more at the configured interval, and `schakel audit verify` uses them to
// find an older copy of the database put back in place.
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

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

/** The witness's accepted checkpoints, in arrival order (the receiver checked each signature). */
std::vector<std::pair<std::string, audit::checkpoint>> witnessed(const receiver_process& witness) {
  std::vector<std::pair<std::string, audit::checkpoint>> out;
  for (const auto& e : witness.events())
    if (auto c = audit::from_line(e.at("event").dump())) out.emplace_back(e.value("webhook_id", ""), *c);
  return out;
}

/** The value of the series `name` whose labels include `label` (e.g. outcome="failed"); -1 when absent. */
double series_value(const std::string& metrics, const std::string& name, const std::string& label) {
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(name + "{", 0) == 0 && line.find(label) != std::string::npos)
      return std::stod(line.substr(line.rfind(' ') + 1));
  return -1;
}

struct audit_witness_test : audit_checkpoint_test {
  nlohmann::json config_with_witness(const std::string& url, std::int64_t interval_seconds = 3600) {
    auto cfg = config(interval_seconds);
    cfg["node"] = "node-a";
    cfg["audit"]["witness"] = loopback_webhook(url);
    return cfg;
  }
};

TEST_F(audit_witness_test, the_witness_holds_every_signed_head_up_to_the_final_one) {
  receiver_process witness(made(dir / "witness"), {});
  hub.start(config_with_witness(witness.url(), 1));
  audited_read();
  ASSERT_TRUE(wait_until([&] { return !witnessed(witness).empty() && witnessed(witness).back().second.seq >= 2; }, 20s))
      << hub.log();
  audited_read();
  ASSERT_EQ(hub.process().terminate(), 0) << hub.log();

  const auto file = lines();
  const auto got = witnessed(witness);
  ASSERT_FALSE(file.empty());
  ASSERT_FALSE(got.empty());
  // The clean shutdown's checkpoint reached the witness before the hub exited: both end on record 3.
  EXPECT_EQ(file.back().seq, 3);
  EXPECT_EQ(got.back().second.seq, file.back().seq);
  EXPECT_EQ(got.back().second.head, file.back().head);
  EXPECT_EQ(got.back().second.signature, file.back().signature);
  const auto verifier = audit::checkpoint_verifier::load(keys_dir / "audit-checkpoint.pub");
  for (const auto& [id, c] : got) {
    EXPECT_TRUE(verifier.verify(c)) << id;
    EXPECT_EQ(id, "ckpt_node-a_" + std::to_string(c.seq));
    EXPECT_EQ(c.node, "node-a");
  }
  // What the witness holds is what the file holds: nothing else travels.
  for (const auto& [id, c] : got) {
    bool in_file = false;
    for (const auto& f : file) in_file = in_file || (f.seq == c.seq && f.signature == c.signature);
    EXPECT_TRUE(in_file) << id;
  }
}

TEST_F(audit_witness_test, a_failing_witness_is_retried_logged_and_counted_and_then_gets_the_newest) {
  // Two answers of 500, then 200: the hub keeps the checkpoint and tries again, 1 s then 2 s later.
  receiver_process witness(made(dir / "witness"), {"--fail-first", "2"});
  hub.start(config_with_witness(witness.url()));
  // The receiver records before it answers: the hub's side is done once it logs the recovery.
  ASSERT_TRUE(wait_until([&] { return !log_events(hub.log(), "audit.witness_recovered").empty(); }, 20s)) << hub.log();
  ASSERT_FALSE(witnessed(witness).empty());
  EXPECT_EQ(witnessed(witness).back().second.seq, 1) << "the start checkpoint: the marker record";
  const auto failed = log_events(hub.log(), "audit.witness_failed");
  ASSERT_FALSE(failed.empty()) << hub.log();
  EXPECT_EQ(failed.front().value("status", 0), 500);
  EXPECT_EQ(failed.front().value("seq", 0), 1);
  EXPECT_EQ(hub.log().find(witness.url()), std::string::npos) << "the URL may carry a token: never logged";
  const std::string metrics = metrics_text(hub.port());
  EXPECT_GE(series_value(metrics, "schakel_audit_witness_total", "outcome=\"failed\""), 2) << metrics;
  EXPECT_GE(series_value(metrics, "schakel_audit_witness_total", "outcome=\"ok\""), 1) << metrics;
  EXPECT_NE(metrics.find("schakel_audit_witness_seq"), std::string::npos) << metrics;
}

TEST_F(audit_witness_test, a_witness_away_at_shutdown_gets_the_final_head_at_the_next_start) {
  std::string away_url;
  {
    receiver_process gone(made(dir / "gone"), {});
    away_url = gone.url();
  }  // nothing listens there any more
  hub.start(config_with_witness(away_url));
  audited_read();
  ASSERT_TRUE(wait_until([&] { return !log_events(hub.log(), "audit.witness_failed").empty(); }, 20s)) << hub.log();
  const auto stopping = std::chrono::steady_clock::now();
  ASSERT_EQ(hub.process().terminate(), 0) << hub.log();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 4s) << "a failing witness does not hold up the stop";
  const auto final_head = lines().back();
  EXPECT_EQ(final_head.seq, 2);

  receiver_process witness(made(dir / "witness"), {});
  hub.start(config_with_witness(witness.url()));
  ASSERT_TRUE(wait_until([&] { return !witnessed(witness).empty(); }, 20s)) << hub.log();
  EXPECT_EQ(witnessed(witness).front().second.seq, final_head.seq);
  EXPECT_EQ(witnessed(witness).front().second.signature, final_head.signature);
  ASSERT_EQ(hub.process().terminate(), 0) << hub.log();
}

TEST_F(audit_witness_test, the_witness_copy_finds_a_rollback_that_the_local_file_no_longer_shows) {
  receiver_process witness(made(dir / "witness"), {});
  const fs::path db = hub.data_dir() / "schakel.db";
  hub.start(config_with_witness(witness.url()));
  audited_read();
  ASSERT_EQ(hub.process().terminate(), 0) << hub.log();
  fs::copy_file(db, dir / "backup.db");  // records 1..2, and the checkpoint file of that moment
  fs::copy_file(checkpoints, dir / "backup-checkpoints.log");
  hub.start(config_with_witness(witness.url()));
  audited_read();
  audited_read();
  ASSERT_EQ(hub.process().terminate(), 0) << hub.log();
  ASSERT_EQ(witnessed(witness).back().second.seq, 4);

  // Someone who holds keys_dir as well puts both back: the local file agrees with the old copy.
  fs::copy_file(dir / "backup.db", db, fs::copy_options::overwrite_existing);
  fs::copy_file(dir / "backup-checkpoints.log", checkpoints, fs::copy_options::overwrite_existing);
  auto v = verify("verify-local");
  EXPECT_EQ(v.exit, 0) << v.output;

  // The witness's copy does not.
  const fs::path witness_log = dir / "witness-checkpoints.log";
  {
    std::ofstream out(witness_log);
    for (const auto& [id, c] : witnessed(witness)) out << audit::to_line(c) << "\n";
  }
  v = run_schakel(dir.path(),
                  {"audit", "verify", "--config", hub.config_file().string(), "--checkpoints", witness_log.string()},
                  "verify-witness");
  EXPECT_EQ(v.exit, 1) << v.output;
  EXPECT_NE(v.output.find("audit trail truncated: the database ends at record 2"), std::string::npos) << v.output;
  EXPECT_NE(v.output.find("witness-checkpoints.log"), std::string::npos) << v.output;
}

}  // namespace
}  // namespace schakel::test
