// The audit chain under the SQLite engine's group commit: jobs that fail inside a shared transaction
// leave no trace in the chain.
#include "storage/store.hpp"

#include <future>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "audit/audit.hpp"
#include "storage/tests/store_fixture.hpp"

namespace schakel::storage {
namespace {

using test_support::timeout;

// Group commit in the SQLite engine (the chain itself is in the conformance suite).
using privacy_store_test = test_support::sqlite_store_test;

// Jobs sharing one transaction: the failing ones (an unknown unit, an entry without action) must not
// leave a gap in seq or a prev_hash of a record that was rolled back.
TEST_F(privacy_store_test, a_failing_job_rolls_back_the_chain_head_too) {
  auto s = open();
  std::promise<void> gate;
  auto gate_f = gate.get_future().share();
  std::promise<void> held;
  s->append({}, {}, [&](std::error_code) {
    held.set_value();
    gate_f.wait_for(timeout);
  });
  held.get_future().wait();
  const auto before = s->stats();

  std::vector<std::promise<std::error_code>> results(4);
  auto done = [&](int i) { return [&results, i](std::error_code ec) { results[i].set_value(ec); }; };
  s->append_audit({entry("admin.read", "R1")}, done(0));
  // Appends its record, then fails on the unknown unit: the record must vanish with the job.
  s->drop_members(424242, {1}, "consent withdrawn", {entry("delivery.dropped", "GONE")}, done(1));
  audit::entry bad = entry("admin.read", "R2");
  bad.action.clear();
  s->append_audit({entry("admin.read", "R2a"), bad}, done(2));  // the first entry is written, then the job fails
  s->append_audit({entry("admin.read", "R3")}, done(3));
  gate.set_value();
  std::vector<std::error_code> ec;
  for (auto& p : results) {
    auto f = p.get_future();
    ec.push_back(wait(f));
  }
  EXPECT_FALSE(ec[0]);
  EXPECT_EQ(ec[1], storage_errc::not_found);
  EXPECT_EQ(ec[2], storage_errc::invalid_argument);
  EXPECT_FALSE(ec[3]);
  EXPECT_EQ(s->stats().commits - before.commits, 1u) << "all four shared one transaction";

  auto rs = records(*s);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[1].seq, 2) << "no gap where the failed jobs were";
  EXPECT_EQ(rs[1].prev_hash, rs[0].hash);
  EXPECT_NE(rs[1].text.find("R3"), std::string::npos);
  EXPECT_TRUE(verify(*s).ok) << verify(*s).reason;

  // The head is rebuilt from the file on open.
  s->close();
  auto r = open();
  ASSERT_FALSE(append_audit(*r, {entry("admin.read", "R4")}));
  rs = records(*r);
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[2].seq, 3);
  EXPECT_TRUE(verify(*r).ok) << verify(*r).reason;
}

}  // namespace
}  // namespace schakel::storage
