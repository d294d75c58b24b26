// What a request handler gets of storage: each role's async_ view, whose blocking forms do not
// compile, and whose completion forms the SQLite engine answers on a thread of its own, after the
// call returned (so a network thread never waits for SQLite).
#include <chrono>
#include <concepts>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>

#include "storage/store.hpp"
#include "store_fixture.hpp"

namespace schakel::storage::test_support {
namespace {

// Each concept holds when a type offers a blocking form of its role; checked on the full role too,
// so a concept that could never hold (a typo) fails here rather than passing everything.
template <class T>
concept blocking_signal_log = requires(T& t, const std::string& s) {
  t.get_signal(s);
}
|| requires(T& t) {
  t.read_signals_after(0, 1);
};
template <class T>
concept blocking_outbox = requires(T& t, const std::string& s) {
  t.read_subscription_status(s);
}
|| requires(T& t, const std::string& s) {
  t.list_dead_letters(s);
}
|| requires(T& t) {
  t.replay_dead_letter(std::int64_t{1});
};
template <class T>
concept blocking_plugin_state = requires(T& t, const std::string& s) {
  t.state_get(s, s);
}
|| requires(T& t, const std::string& s, std::error_code& e) {
  t.state_get_checked(s, s, e);
}
|| requires(T& t, const std::string& s) {
  t.state_put(s, s, s);
};
template <class T>
concept blocking_registry = requires(T& t) {
  t.load_consents();
}
|| requires(T& t) {
  t.load_links();
}
|| requires(T& t) {
  t.list_parked();
};
template <class T>
concept blocking_audit_trail = requires(T& t, const std::function<bool(const audit::record&)>& fn) {
  t.read_audit(0, 0, fn);
}
|| requires(T& t) {
  t.read_audit_anchor();
}
|| requires(T& t) {
  t.read_audit_head();
};

static_assert(blocking_signal_log<signal_log> && !blocking_signal_log<async_signal_log>);
static_assert(blocking_outbox<outbox> && !blocking_outbox<async_outbox>);
static_assert(blocking_plugin_state<plugin_state> && !blocking_plugin_state<async_plugin_state>);
static_assert(blocking_registry<registry> && !blocking_registry<async_registry>);
static_assert(blocking_audit_trail<audit_trail> && !blocking_audit_trail<async_audit_trail>);

// Every role is its view plus the blocking forms, so a store hands out each view without a cast.
static_assert(std::is_base_of_v<async_signal_log, signal_log> && std::is_base_of_v<async_outbox, outbox> &&
              std::is_base_of_v<async_plugin_state, plugin_state> && std::is_base_of_v<async_registry, registry> &&
              std::is_base_of_v<async_audit_trail, audit_trail>);
static_assert(std::is_convertible_v<store&, async_signal_log&> && std::is_convertible_v<store&, async_outbox&> &&
              std::is_convertible_v<store&, async_plugin_state&> && std::is_convertible_v<store&, async_registry&> &&
              std::is_convertible_v<store&, async_audit_trail&>);

using namespace std::chrono_literals;

/** What one completion reported, and whether it came after the call returned, on another thread. */
template <class T>
struct answered {
  std::error_code ec;
  T value{};
  bool after_return = false;
  bool other_thread = false;
};

/**
 * Starts `start(completion)` and only then lets the completion finish. A completion run inside the
 * call (the caller blocked on the engine) would wait for the release in vain and report it.
 */
template <class T, class Start>
answered<T> ask(Start&& start) {
  std::promise<void> returned;
  std::shared_future<void> released = returned.get_future().share();
  std::promise<answered<T>> done;
  auto got = done.get_future();
  const auto caller = std::this_thread::get_id();
  start([&done, released, caller](std::error_code ec, T value) {
    answered<T> a;
    a.ec = ec;
    a.value = std::move(value);
    a.after_return = released.wait_for(5s) == std::future_status::ready;
    a.other_thread = std::this_thread::get_id() != caller;
    done.set_value(std::move(a));
  });
  returned.set_value();
  if (got.wait_for(timeout) != std::future_status::ready) {
    ADD_FAILURE() << "no completion";
    return {};
  }
  auto a = got.get();
  EXPECT_TRUE(a.after_return) << "the completion ran inside the call: its caller waited for the engine";
  EXPECT_TRUE(a.other_thread) << "the completion ran on the caller's thread";
  return a;
}

TEST_F(sqlite_store_test, each_completion_form_answers_on_an_engine_thread_as_its_blocking_form_does) {
  auto s = open();
  ASSERT_FALSE(append_one(*s, "01ASYNC000000000000000000A", {"partner"}));
  ASSERT_FALSE(append_one(*s, "01ASYNC000000000000000000B", {"partner"}));
  const auto unit = next(*s, "partner", 0, INT64_MAX / 2).first;
  ASSERT_TRUE(unit);
  ASSERT_FALSE(call([&](done_fn d) { s->move_to_dead_letters(unit->unit_id, "http 400", {}, std::move(d)); }));
  s->state_put("async", "k", "v");

  async_signal_log& log = *s;
  async_outbox& out = *s;
  async_plugin_state& state = *s;
  async_registry& reg = *s;

  const auto found = ask<std::optional<std::string>>(
      [&](auto done) { log.get_signal("01ASYNC000000000000000000A", std::move(done)); });
  EXPECT_FALSE(found.ec);
  EXPECT_EQ(found.value, s->get_signal("01ASYNC000000000000000000A"));
  ASSERT_TRUE(found.value);
  EXPECT_FALSE(ask<std::optional<std::string>>([&](auto done) { log.get_signal("unknown", std::move(done)); }).value);

  const auto letters =
      ask<std::vector<dead_letter>>([&](auto done) { out.list_dead_letters("partner", std::move(done)); });
  EXPECT_FALSE(letters.ec);
  ASSERT_EQ(letters.value.size(), 1u);
  EXPECT_EQ(letters.value[0].unit_id, unit->unit_id);
  EXPECT_EQ(letters.value[0].reason, "http 400");

  const auto status =
      ask<subscription_status>([&](auto done) { out.read_subscription_status("partner", std::move(done)); });
  const auto blocking = s->read_subscription_status("partner");
  EXPECT_FALSE(status.ec);
  EXPECT_EQ(status.value.depth, blocking.depth);
  EXPECT_EQ(status.value.depth, 1);
  EXPECT_EQ(status.value.oldest_pending_ms, blocking.oldest_pending_ms);
  EXPECT_GT(status.value.oldest_pending_ms, 0);

  EXPECT_EQ(ask<std::optional<std::string>>([&](auto done) { state.state_get("async", "k", std::move(done)); }).value,
            "v");
  EXPECT_FALSE(
      ask<std::optional<std::string>>([&](auto done) { state.state_get("async", "absent", std::move(done)); }).value);
  const auto put = ask<int>([&](auto done) {
    state.state_put("async", "k2", "w", [done = std::move(done)](std::error_code ec) { done(ec, 0); });
  });
  EXPECT_FALSE(put.ec);
  EXPECT_EQ(s->state_get("async", "k2"), "w") << "committed before the completion";

  EXPECT_TRUE(ask<std::vector<parked_signal>>([&](auto done) { reg.list_parked(std::move(done)); }).value.empty());

  // A replay is a write: on the store thread, committed before its completion.
  const auto replayed =
      ask<std::optional<std::string>>([&](auto done) { out.replay_dead_letter(unit->unit_id, std::move(done)); });
  EXPECT_FALSE(replayed.ec);
  EXPECT_EQ(replayed.value, "partner");
  EXPECT_TRUE(s->list_dead_letters("partner").empty());
  const auto unknown =
      ask<std::optional<std::string>>([&](auto done) { out.replay_dead_letter(999999, std::move(done)); });
  EXPECT_FALSE(unknown.ec) << "an unknown dead letter is an answer, not an engine failure";
  EXPECT_FALSE(unknown.value);
}

TEST_F(sqlite_store_test, a_read_asked_of_a_closed_store_fails_instead_of_hanging) {
  auto s = open();
  s->close();
  std::promise<std::error_code> p;
  auto f = p.get_future();
  async_signal_log& log = *s;
  log.get_signal("any", [&p](std::error_code ec, std::optional<std::string>) { p.set_value(ec); });
  ASSERT_EQ(f.wait_for(timeout), std::future_status::ready);
  EXPECT_EQ(f.get(), storage_errc::closed);
}

}  // namespace
}  // namespace schakel::storage::test_support
