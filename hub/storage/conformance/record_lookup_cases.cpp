// find_records: the stored record behind a deletion that names only its source record id. Registered
// only for engines that override the lookup (SCHAKEL_STORAGE_CONFORMANCE_RECORD_LOOKUP).
#include <future>
#include <string>
#include <vector>

#include "common/signal.hpp"
#include "storage/conformance/fixture.hpp"

namespace schakel::storage::conformance {
namespace {

using state = stored_record::state;

constexpr std::int64_t day_ms = 86'400'000;

signal_row record(const std::string& id, const std::string& instance, const std::string& record_id,
                  const std::string& student) {
  const std::string json = R"({"id":")" + id + R"(","source":{"instance":")" + instance + R"(","record_id":")" +
                           record_id + R"("},"subject":{"student_key":")" + student + R"("}})";
  return {id, "nl.schakel.attendance.absence.recorded", instance, json};
}

std::vector<stored_record> find(store& s, const std::string& instance, std::vector<std::string> ids) {
  using result = std::pair<std::error_code, std::vector<stored_record>>;
  std::promise<result> p;
  auto f = p.get_future();
  s.find_records(instance, std::move(ids), {}, [&p](std::error_code ec, std::vector<stored_record> found) {
    p.set_value({ec, std::move(found)});
  });
  auto [ec, found] = calls::wait_for(f, result{std::make_error_code(std::errc::timed_out), {}});
  EXPECT_FALSE(ec) << ec.message();
  return found;
}

TEST_P(store_record_lookup, finds_the_latest_version_of_a_record_of_that_instance_only) {
  auto s = open();
  ASSERT_FALSE(append(*s,
                      {record("A1", "school", "R-1", "S-old"), record("B1", "other", "R-1", "S-other"),
                       record("A2", "school", "R-1", "S-new"), record("A3", "school", "R-2", "S-2")},
                      {}));
  const auto found = find(*s, "school", {"R-1", "R-2", "R-9"});
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].what, state::found);
  EXPECT_NE(found[0].json.find("\"A2\""), std::string::npos) << "the correction, not the first version";
  EXPECT_EQ(found[1].what, state::found);
  EXPECT_NE(found[1].json.find("S-2"), std::string::npos);
  EXPECT_EQ(found[2].what, state::unknown);
  EXPECT_TRUE(found[2].json.empty());
  EXPECT_EQ(find(*s, "nobody", {"R-1"}).at(0).what, state::unknown) << "another instance's ids are not ours";
}

TEST_P(store_record_lookup, a_record_retention_purged_reads_as_purged_not_as_unknown) {
  auto s = open();
  ASSERT_FALSE(append(*s, {record("A1", "school", "R-1", "S-1"), record("A2", "school", "R-2", "S-2")}, {}));
  retention_plan plan;
  plan.default_days = 1;
  const auto now = schakel::now_ms();
  ASSERT_EQ(s->purge(plan, now + 2 * day_ms).signals, 2);
  const auto found = find(*s, "school", {"R-1", "R-3"});
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].what, state::purged);
  EXPECT_TRUE(found[0].json.empty());
  EXPECT_EQ(found[1].what, state::unknown);
  EXPECT_EQ(find(*s, "other", {"R-1"}).at(0).what, state::unknown) << "tombstones are per instance";
}

}  // namespace
}  // namespace schakel::storage::conformance

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(store_record_lookup);
