#include "processing/processor_runner.hpp"

#include <gtest/gtest.h>

#include <future>

#include "common/signal.hpp"
#include "schema/signal_validator.hpp"
#include "support/temp_dir.hpp"

namespace schakel::processing {
namespace {

std::string event(const std::string& student, const std::string& type = "nl.schakel.test.event",
                  nlohmann::json evidence = nlohmann::json::object()) {
  nlohmann::json j = {
      {"id", new_signal_id()},
      {"schema_version", "1"},
      {"type", type},
      {"source", {{"connector", "generic-json"}, {"instance", "attendance"}}},
      {"observed_at", "2026-11-23T08:00:00Z"},
      {"received_at", "2026-11-23T08:00:01Z"},
      {"subject", {{"school", {{"brin", "99XX"}, {"vestiging", "00"}}}, {"student_key", student}}},
      {"content", {{"domain", "attendance"}, {"indicator", "absence"}, {"severity", "info"}, {"evidence", evidence}}},
      {"governance", {{"data_category", "ordinary"}}}};
  return j.dump();
}

config::subscription subscription_for(const std::string& type) {
  config::subscription s;
  s.name = "coordinator";
  s.filter.types = {type};
  s.fields = {"type", "derived_from", "content.evidence"};
  return s;
}

config::hub_config config_with(config::subscription s) {
  s.privacy.identity = "identified";
  s.privacy.purpose = "runner test";
  s.privacy.legal_basis = "public_task";
  config::hub_config cfg;
  cfg.subscriptions.push_back(std::move(s));
  return cfg;
}

/** Forwards to a real store, but fails state reads while `fail_reads` is set. */
class flaky_state_store final : public storage::store {
 public:
  explicit flaky_state_store(storage::store& real) : real_(real) {}
  bool fail_reads = false;

  std::optional<std::string> state_get_checked(const std::string& ns, const std::string& key,
                                               std::error_code& error) override {
    if (fail_reads) {
      error = storage::storage_errc::io_error;
      return std::nullopt;
    }
    return real_.state_get_checked(ns, key, error);
  }
  void append(std::vector<storage::signal_row> s, std::vector<storage::outbox_item> i, storage::done_fn d) override {
    real_.append(std::move(s), std::move(i), std::move(d));
  }
  void append_with_state(std::vector<storage::signal_row> s, std::vector<storage::outbox_item> i,
                         std::vector<storage::state_write> w, storage::done_fn d) override {
    real_.append_with_state(std::move(s), std::move(i), std::move(w), std::move(d));
  }
  std::vector<storage::logged_signal> read_signals_after(std::int64_t after, std::size_t limit) override {
    return real_.read_signals_after(after, limit);
  }
  std::optional<std::string> get_signal(const std::string& id) override { return real_.get_signal(id); }
  std::int64_t signal_count() override { return real_.signal_count(); }
  void next_unit(const std::string& s, std::uint32_t l, std::int64_t n, const storage::batching& b,
                 std::function<void(std::optional<storage::delivery_unit>, std::int64_t)> cb) override {
    real_.next_unit(s, l, n, b, std::move(cb));
  }
  void mark_delivered(std::int64_t u, std::vector<audit::entry> a, storage::done_fn d) override {
    real_.mark_delivered(u, std::move(a), std::move(d));
  }
  void drop_members(std::int64_t u, std::vector<std::int64_t> m, std::string r, std::vector<audit::entry> a,
                    storage::done_fn d) override {
    real_.drop_members(u, std::move(m), std::move(r), std::move(a), std::move(d));
  }
  void append_audit(std::vector<audit::entry> a, storage::done_fn d) override {
    real_.append_audit(std::move(a), std::move(d));
  }
  bool read_audit(std::int64_t f, std::int64_t t, const std::function<bool(const audit::record&)>& fn) override {
    return real_.read_audit(f, t, fn);
  }
  storage::audit_anchor read_audit_anchor() override { return real_.read_audit_anchor(); }
  void append_consent(storage::consent_row r, std::vector<audit::entry> a,
                      std::function<void(std::error_code, std::int64_t)> d) override {
    real_.append_consent(std::move(r), std::move(a), std::move(d));
  }
  std::vector<storage::consent_row> load_consents() override { return real_.load_consents(); }
  void append_with_parked(std::vector<storage::signal_row> s, std::vector<storage::outbox_item> i,
                          std::vector<storage::state_write> w, std::vector<storage::parked_signal> p,
                          storage::done_fn d) override {
    real_.append_with_parked(std::move(s), std::move(i), std::move(w), std::move(p), std::move(d));
  }
  void record_link(storage::student_link l, std::vector<audit::entry> a,
                   std::function<void(std::error_code, std::vector<storage::parked_signal>)> d) override {
    real_.record_link(std::move(l), std::move(a), std::move(d));
  }
  std::vector<storage::student_link> load_links() override { return real_.load_links(); }
  void unpark(std::vector<std::string> ids, std::vector<storage::signal_row> s, std::vector<storage::outbox_item> i,
              storage::done_fn d) override {
    real_.unpark(std::move(ids), std::move(s), std::move(i), std::move(d));
  }
  std::vector<storage::parked_signal> list_parked() override { return real_.list_parked(); }
  storage::purge_result purge(const storage::retention_plan& p, std::int64_t now) override {
    return real_.purge(p, now);
  }
  void reschedule(std::int64_t u, std::int64_t n, std::string e, storage::done_fn d) override {
    real_.reschedule(u, n, std::move(e), std::move(d));
  }
  void move_to_dead_letters(std::int64_t u, std::string r, std::vector<audit::entry> a, storage::done_fn d) override {
    real_.move_to_dead_letters(u, std::move(r), std::move(a), std::move(d));
  }
  void set_subscription_disabled(const std::string& s, bool b, storage::done_fn d) override {
    real_.set_subscription_disabled(s, b, std::move(d));
  }
  bool subscription_disabled(const std::string& s) override { return real_.subscription_disabled(s); }
  std::vector<storage::dead_letter> list_dead_letters(const std::string& s) override {
    return real_.list_dead_letters(s);
  }
  std::optional<std::string> replay_dead_letter(std::int64_t u) override { return real_.replay_dead_letter(u); }
  std::int64_t outbox_depth(const std::string& s) override { return real_.outbox_depth(s); }
  std::int64_t outbox_depth_total() override { return real_.outbox_depth_total(); }
  std::optional<std::string> state_get(const std::string& ns, const std::string& key) override {
    return real_.state_get(ns, key);
  }
  void state_put(const std::string& ns, const std::string& key, const std::string& value) override {
    real_.state_put(ns, key, value);
  }
  void close() override {}

 private:
  storage::store& real_;
};

struct runner_fixture : ::testing::Test {
  test::temp_dir dir{"schakel-runner"};
  schema::signal_validator validator;
  privacy::consent_registry consents;
  privacy::gate gate{config_with(subscription_for("nl.schakel.test.threshold_reached")), std::string(32, 'k'),
                     consents};
  pipeline::ingest_pipeline pipeline{validator, gate};
  std::unique_ptr<storage::store> store = open();

  std::unique_ptr<storage::store> open() { return storage::open_sqlite_store({(dir.path() / "schakel.db").string()}); }

  void append(const std::vector<std::string>& signals, const std::string& instance = "attendance") {
    std::vector<storage::signal_row> rows;
    for (const auto& s : signals) {
      auto j = nlohmann::json::parse(s);
      j["source"]["instance"] = instance;
      rows.push_back({j["id"], j["type"], instance, j.dump()});
    }
    std::promise<std::error_code> done;
    store->append(std::move(rows), {}, [&](std::error_code ec) { done.set_value(ec); });
    ASSERT_FALSE(done.get_future().get());
  }

  std::unique_ptr<processor_runner> runner(std::set<std::string> skip = {}, runner_options options = {},
                                           plugin_host::school_day_fn school_day = {},
                                           std::vector<std::string>* notified = nullptr) {
    plugin_host::load_error error;
    plugin_host::host_services services{store.get(), std::move(school_day)};
    auto p = plugin_host::load_processor(SCHAKEL_TEST_PLUGIN_DIR, {"rules", "abi_processor", R"({"threshold":3})"},
                                         services, error);
    EXPECT_TRUE(p) << plugin_host::to_string(error);
    if (!p) return nullptr;
    return std::make_unique<processor_runner>(
        std::move(p), std::move(skip), *store, pipeline,
        [notified](const std::vector<std::string>& subs) {
          if (notified != nullptr) notified->insert(notified->end(), subs.begin(), subs.end());
        },
        nullptr, options);
  }

  std::vector<nlohmann::json> derived_of(const std::string& type) {
    std::vector<nlohmann::json> out;
    for (const auto& s : store->read_signals_after(0, 100000))
      if (s.type == type) out.push_back(nlohmann::json::parse(s.json));
    return out;
  }
};

}  // namespace

TEST_F(runner_fixture, derives_once_the_rule_holds_and_commits_signal_outbox_state_and_position_together) {
  append({event("S-1"), event("S-1"), event("S-2"), event("S-1")});
  std::vector<std::string> notified;
  auto r = runner({}, {}, {}, &notified);
  ASSERT_TRUE(r);
  // One batch with the four signals, one that only moves past the derived signal (its own).
  EXPECT_EQ(r->drain(), 2u);
  const auto alerts = derived_of("nl.schakel.test.threshold_reached");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]["subject"]["student_key"], "S-1");
  EXPECT_EQ(alerts[0]["source"]["instance"], "rules");
  EXPECT_EQ(alerts[0]["source"]["connector"], "abi-processor");
  EXPECT_EQ(store->outbox_depth("coordinator"), 1);
  EXPECT_EQ(notified, std::vector<std::string>{"coordinator"});
  // The id the plugin got back from emit is the stored id (it kept it in its state).
  EXPECT_EQ(store->state_get("rules", "alert:S-1"), alerts[0]["id"].get<std::string>());
  EXPECT_EQ(store->state_get("rules", "n:S-1"), "3");
  EXPECT_EQ(store->state_get("rules", "n:S-2"), "1");
  const auto status = r->status();
  EXPECT_TRUE(status.caught_up);
  EXPECT_EQ(status.processed, 4u);
  EXPECT_EQ(status.derived, 1u);
  EXPECT_EQ(store->state_get(position_namespace, "rules"), std::to_string(status.position));
}

TEST_F(runner_fixture, state_reads_see_the_batch_s_own_writes) {
  // All five in one batch: without read-your-writes every call would read "absent" and count 1.
  append({event("S-1"), event("S-1"), event("S-1"), event("S-1"), event("S-1")});
  auto r = runner();
  ASSERT_TRUE(r);
  r->drain();
  EXPECT_EQ(store->state_get("rules", "n:S-1"), "5");
  EXPECT_EQ(store->state_get("rules", "last_batch_size"), "5");
  EXPECT_EQ(derived_of("nl.schakel.test.threshold_reached").size(), 1u);
}

TEST_F(runner_fixture, a_restarted_runner_continues_from_the_committed_position_without_repeating) {
  append({event("S-1"), event("S-1"), event("S-1")});
  {
    auto r = runner();
    ASSERT_TRUE(r);
    r->drain();
  }
  store->close();
  store = open();
  append({event("S-1")});
  auto again = runner();
  ASSERT_TRUE(again);
  again->drain();
  EXPECT_EQ(store->state_get("rules", "n:S-1"), "4");
  EXPECT_EQ(derived_of("nl.schakel.test.threshold_reached").size(), 1u);
  EXPECT_EQ(again->status().processed, 1u);
}

TEST_F(runner_fixture, batches_are_bounded_and_each_ends_with_a_flush) {
  std::vector<std::string> many;
  for (int i = 0; i < 25; ++i) many.push_back(event("S-" + std::to_string(i % 5)));
  append(many);
  runner_options small;
  small.page_size = 5;
  small.batch_max_signals = 10;
  auto r = runner({}, small);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->drain(), 3u);
  EXPECT_EQ(store->state_get("rules", "flushes"), "3");
  EXPECT_EQ(store->state_get("rules", "last_batch_size"), "5");
  EXPECT_EQ(derived_of("nl.schakel.test.threshold_reached").size(), 5u);
}

TEST_F(runner_fixture, skips_other_types_skipped_instances_and_its_own_signals) {
  append({event("S-1", "nl.schakel.other.event"), event("S-1", "nl.schakel.test.more.x")});
  append({event("S-1")}, "lvs");
  append({event("S-1")}, "rules");
  auto r = runner({"lvs"});
  ASSERT_TRUE(r);
  r->drain();
  EXPECT_EQ(r->status().processed, 1u);  // only nl.schakel.test.more.x from 'attendance'
  EXPECT_EQ(store->state_get("rules", "n:S-1"), "1");
  EXPECT_TRUE(r->status().caught_up);
}

TEST_F(runner_fixture, a_failing_signal_and_a_refused_derived_signal_are_counted_and_do_not_stop_the_rules) {
  append({event("S-1", "nl.schakel.test.event", {{"action", "throw"}}),
          event("S-1", "nl.schakel.test.event", {{"action", "bad"}}), event("S-2"), event("S-2"), event("S-2")});
  auto r = runner();
  ASSERT_TRUE(r);
  r->drain();
  EXPECT_EQ(r->status().errors, 2u);
  EXPECT_EQ(derived_of("nl.schakel.test.threshold_reached").size(), 1u);
  EXPECT_TRUE(derived_of("nl.schakel.test.bad").empty());
}

TEST_F(runner_fixture, the_calendar_callback_reaches_the_plugin) {
  const std::int32_t day = 20780;  // any date; the fake calendar answers by parity
  append({event("S-1", "nl.schakel.test.event", {{"action", "calendar"}, {"day", day}})});
  append({event("S-1", "nl.schakel.test.event", {{"action", "calendar"}, {"day", day + 1}})});
  auto r = runner({}, {}, [](std::string_view brin, std::string_view vestiging, std::int32_t d) {
    if (brin != "99XX" || vestiging != "00") return std::optional<std::uint32_t>{};
    return std::optional<std::uint32_t>(d % 2 == 0 ? 2u : 0u);
  });
  ASSERT_TRUE(r);
  r->drain();
  const auto answers = derived_of("nl.schakel.test.calendar");
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0]["content"]["evidence"]["kind"], 2);
  EXPECT_EQ(answers[1]["content"]["evidence"]["kind"], 0);
}

TEST_F(runner_fixture, the_thread_picks_up_new_signals_when_woken) {
  auto r = runner({}, {std::size_t{10000}, std::size_t{1000}, std::chrono::milliseconds(60000)});
  ASSERT_TRUE(r);
  r->start();
  append({event("S-9"), event("S-9"), event("S-9")});
  r->wake();
  EXPECT_TRUE(test::wait_until([&] { return derived_of("nl.schakel.test.threshold_reached").size() == 1; }));
  r->stop();
}

TEST_F(runner_fixture, a_failed_state_read_abandons_the_batch_instead_of_overwriting_state) {
  append({event("S-1"), event("S-1")});
  {
    auto r = runner();
    ASSERT_TRUE(r);
    r->drain();
  }
  ASSERT_EQ(store->state_get("rules", "n:S-1"), "2");
  append({event("S-1")});
  flaky_state_store flaky(*store);
  flaky.fail_reads = true;
  plugin_host::load_error error;
  auto p = plugin_host::load_processor(SCHAKEL_TEST_PLUGIN_DIR, {"rules", "abi_processor", R"({"threshold":3})"},
                                       {&flaky, {}}, error);
  ASSERT_TRUE(p) << plugin_host::to_string(error);
  processor_runner r(std::move(p), {}, flaky, pipeline, {}, nullptr);
  const auto before = r.status().position;
  EXPECT_EQ(r.drain(), 0u);
  // Had the batch committed, the plugin would have counted from "absent" and stored 1.
  EXPECT_EQ(store->state_get("rules", "n:S-1"), "2");
  EXPECT_EQ(r.status().position, before);
  EXPECT_GE(r.status().errors, 1u);
  flaky.fail_reads = false;
  r.drain();
  EXPECT_EQ(store->state_get("rules", "n:S-1"), "3");
  EXPECT_EQ(derived_of("nl.schakel.test.threshold_reached").size(), 1u);
}

}  // namespace schakel::processing
