// A large unit staged in parts (a drop-folder file, docs/drop-folder.md): invisible until it is
// published with its mark in one transaction, discarded on request, gone after a restart. Registered
// only for engines that stage (SCHAKEL_STORAGE_CONFORMANCE_STAGING).
#include <string>
#include <vector>

#include "common/signal.hpp"
#include "storage/conformance/fixture.hpp"

namespace schakel::storage::conformance {
namespace {

std::error_code stage(store& s, const std::string& key, std::vector<signal_row> sigs, std::vector<outbox_item> items,
                      std::vector<parked_signal> parked = {}) {
  return calls::call(
      [&](auto done) { s.stage_part(key, std::move(sigs), std::move(items), std::move(parked), std::move(done)); });
}

std::error_code publish(store& s, const std::string& key, std::vector<std::size_t>* progress = nullptr) {
  std::vector<state_write> mark{{"schakel.drop:test", key, "{}", false}};
  return calls::call([&](auto done) {
    s.publish_staged(
        key, std::move(mark),
        [progress](std::size_t moved) {
          if (progress) progress->push_back(moved);
        },
        std::move(done));
  });
}

std::vector<signal_row> signals(int from, int to) {
  std::vector<signal_row> out;
  for (int i = from; i < to; ++i) out.push_back(calls::sig("S" + std::to_string(i)));
  return out;
}

TEST_P(store_staging, staged_parts_are_invisible_until_published_with_the_mark_in_staging_order) {
  auto s = open();
  ASSERT_FALSE(stage(*s, "digest-a", signals(0, 1500), {item("officer", "S0")}));
  ASSERT_FALSE(stage(*s, "digest-a", signals(1500, 2500), {item("officer", "S2000")},
                     {{"P1", "nl.schakel.jgz.sdq.scored", "jgz", "jgz", "hash", 1, R"({"id":"P1"})"}}));
  // Another file staged meanwhile stays apart.
  ASSERT_FALSE(stage(*s, "digest-b", signals(9000, 9001), {}));

  EXPECT_EQ(s->signal_count(), 0);
  EXPECT_TRUE(s->read_signals_after(0, 10).empty());
  EXPECT_EQ(s->outbox_depth("officer"), 0);
  EXPECT_TRUE(s->list_parked().empty());
  EXPECT_FALSE(s->state_get("schakel.drop:test", "digest-a"));

  std::vector<std::size_t> progress;
  ASSERT_FALSE(publish(*s, "digest-a", &progress));
  EXPECT_EQ(s->signal_count(), 2500);
  EXPECT_EQ(s->outbox_depth("officer"), 2);
  EXPECT_EQ(s->list_parked().size(), 1u);
  EXPECT_TRUE(s->state_get("schakel.drop:test", "digest-a"));
  const auto log = s->read_signals_after(0, 3000);
  ASSERT_EQ(log.size(), 2500u);
  for (std::size_t i = 0; i < log.size(); ++i) ASSERT_EQ(log[i].id, "S" + std::to_string(i));
  // Moved in bounded steps, and told so.
  ASSERT_GT(progress.size(), 1u) << "a large file is moved in more than one step";
  EXPECT_EQ(progress.back(), 2500u);
  for (std::size_t i = 1; i < progress.size(); ++i) EXPECT_LT(progress[i - 1], progress[i]);

  // Published once: a second publish of the same key finds nothing left to move.
  ASSERT_FALSE(publish(*s, "digest-a"));
  EXPECT_EQ(s->signal_count(), 2500);

  // The other file is still staged, untouched.
  ASSERT_FALSE(publish(*s, "digest-b"));
  EXPECT_EQ(s->signal_count(), 2501);
}

// The privacy gate names each partner's event itself (a stand-in, never the hub's signal id); a file's
// events must reach the outbox with that name, as an appended event does.
TEST_P(store_staging, a_staged_item_keeps_the_webhook_id_the_gate_chose) {
  auto s = open();
  auto chosen = item("officer", "S0");
  chosen.webhook_id = "msg_thepartnersownstandin";
  ASSERT_FALSE(stage(*s, "digest-a", signals(0, 1), {chosen}));
  ASSERT_FALSE(publish(*s, "digest-a"));
  auto [unit, due] = next(*s, "officer", 0, schakel::now_ms());
  ASSERT_TRUE(unit);
  EXPECT_EQ(unit->webhook_id, "msg_thepartnersownstandin");
}

TEST_P(store_staging, a_discarded_unit_leaves_nothing_and_a_restart_forgets_what_was_staged) {
  {
    auto s = open();
    ASSERT_FALSE(stage(*s, "digest-a", signals(0, 10), {item("officer", "S0")}));
    ASSERT_FALSE(call([&](auto done) { s->discard_staged("digest-a", std::move(done)); }));
    ASSERT_FALSE(publish(*s, "digest-a"));
    EXPECT_EQ(s->signal_count(), 0);
    EXPECT_EQ(s->outbox_depth("officer"), 0);

    ASSERT_FALSE(stage(*s, "digest-b", signals(0, 10), {}));
    s->close();
  }
  auto s = open();
  ASSERT_FALSE(publish(*s, "digest-b"));
  EXPECT_EQ(s->signal_count(), 0);
  EXPECT_TRUE(s->read_signals_after(0, 10).empty());
}

}  // namespace
}  // namespace schakel::storage::conformance

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(store_staging);
