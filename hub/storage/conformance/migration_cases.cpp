// Upgrades: a database at any earlier schema version opens, migrated, with what the old version stored
// readable and usable; a database from a newer build is refused instead of being misread.
#include <string>
#include <system_error>

#include "common/signal.hpp"
#include "storage/conformance/fixture.hpp"

namespace schakel::storage::conformance {
namespace {

constexpr std::int64_t day_ms = 86'400'000;

/** Everything legacy_content() holds, read back through the store as the hub reads it. */
void expect_legacy_content(store& s) {
  const auto& old = legacy_content();
  EXPECT_EQ(s.signal_count(), 2);
  const auto log = s.read_signals_after(0, 10);
  ASSERT_EQ(log.size(), 2u);
  for (std::size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].id, old.signals[i].id) << "log order is kept";
    EXPECT_EQ(log[i].type, old.signals[i].type);
    EXPECT_EQ(log[i].instance, old.signals[i].instance);
    EXPECT_EQ(log[i].json, old.signals[i].json);
  }
  EXPECT_LT(log[0].seq, log[1].seq);
  EXPECT_EQ(s.get_signal("M2"), old.signals[1].json);
  EXPECT_EQ(s.state_get(old.state.ns, old.state.key), old.state.value);
  EXPECT_TRUE(s.subscription_disabled(old.disabled_subscription));
  EXPECT_EQ(s.outbox_depth(old.pending.subscription), 1);
  const auto dead = s.list_dead_letters(old.dead.subscription);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].webhook_id, old.dead.webhook_id);
  EXPECT_EQ(dead[0].reason, old.dead_reason);
}

TEST_P(store_migration, every_earlier_schema_version_migrates_keeping_its_data) {
  const auto& old = legacy_content();
  // A new engine's first release has nothing to migrate from yet: shown as skipped, not passed.
  if (GetParam().earlier_schema_versions.empty()) GTEST_SKIP() << GetParam().name << " has no earlier schema version";
  for (const int version : GetParam().earlier_schema_versions) {
    SCOPED_TRACE("from schema version " + std::to_string(version));
    auto db = GetParam().fresh();
    db->write_at_schema(version);
    {
      auto s = db->open();
      expect_legacy_content(*s);
      const auto anchor = s->read_audit_anchor();
      EXPECT_EQ(anchor.next_seq, 1) << "no audit trail yet";
      EXPECT_EQ(anchor.prev_hash, audit::genesis_hash());

      // The pending event is delivered as it was stored, under the webhook id it already had.
      const auto now = schakel::now_ms();
      auto [u, d0] = next(*s, old.pending.subscription, 0, now);
      ASSERT_TRUE(u);
      EXPECT_EQ(u->body, old.pending.event_json);
      EXPECT_EQ(u->webhook_id, old.pending.webhook_id);
      ASSERT_EQ(u->members.size(), 1u);
      EXPECT_EQ(u->members[0].signal_id, "M1");
      EXPECT_EQ(u->members[0].signal_type, old.pending.signal_type) << "known for events stored before the gate";
      ASSERT_FALSE(
          call([&](done_fn d) { s->mark_delivered(u->unit_id, {entry("delivery.delivered", "M1")}, std::move(d)); }));
      auto [none, d1] = next(*s, old.pending.subscription, 0, now);
      EXPECT_FALSE(none);

      // The old dead letter replays at the head of its lane; new signals follow the old ones.
      EXPECT_EQ(s->replay_dead_letter(s->list_dead_letters(old.dead.subscription).at(0).unit_id),
                std::optional<std::string>(old.dead.subscription));
      ASSERT_FALSE(append_one(*s, "M3", {old.pending.subscription}));
      const auto log = s->read_signals_after(0, 10);
      ASSERT_EQ(log.size(), 3u);
      EXPECT_EQ(log[2].id, "M3");
      auto [replayed, d2] = next(*s, old.dead.subscription, 0, now);
      ASSERT_TRUE(replayed);
      EXPECT_EQ(replayed->body, old.dead.event_json);
      EXPECT_EQ(replayed->webhook_id, old.dead.webhook_id);
      ASSERT_FALSE(deliver(*s, replayed->unit_id));
      auto [fresh, d3] = next(*s, old.pending.subscription, 0, now);
      ASSERT_TRUE(fresh);
      EXPECT_EQ(fresh->members.at(0).signal_id, "M3");
      EXPECT_GT(fresh->unit_id, replayed->unit_id) << "new unit ids never collide with old ones";

      // Both old signals are finished and old: retention takes them, not the new one.
      retention_plan plan;
      plan.default_days = 1;
      plan.audit_days = 0;
      EXPECT_EQ(s->purge(plan, old.stored_ms + 2 * day_ms).signals, 2);
      EXPECT_TRUE(s->get_signal("M3"));
      const auto v = verify(*s);
      EXPECT_TRUE(v.ok) << v.reason;
      EXPECT_EQ(v.records, 2) << "the delivery and the purge";
    }
    // Migrated once: a restart opens the database as it is now.
    auto s = db->open();
    EXPECT_EQ(s->signal_count(), 1);
    EXPECT_EQ(s->state_get(old.state.ns, old.state.key), old.state.value);
    EXPECT_TRUE(s->subscription_disabled(old.disabled_subscription));
    EXPECT_EQ(s->outbox_depth(old.pending.subscription), 1);
    EXPECT_TRUE(verify(*s).ok);
  }
}

TEST_P(store_migration, a_database_from_a_newer_build_is_refused) {
  {
    auto s = open();
    ASSERT_FALSE(append_one(*s, "N1", {"a"}));
    s->close();
  }
  db().mark_schema_newer();
  try {
    auto s = open();
    ADD_FAILURE() << "a newer schema must be refused";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), storage_errc::schema_too_new);
    EXPECT_NE(std::string(e.what()).find(db().where()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace schakel::storage::conformance
