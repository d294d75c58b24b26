#pragma once
// Blocking helpers over the store interface for tests: each waits on its completion with a timeout
// (never a sleep), so a completion that never comes fails the case instead of hanging it. Shared by
// the conformance suite and the SQLite engine's own tests.
#include <chrono>
#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "audit/audit.hpp"
#include "storage/store.hpp"

namespace schakel::storage::conformance {

using namespace std::chrono_literals;
inline constexpr auto timeout = 20s;

using next_result = std::pair<std::optional<delivery_unit>, std::int64_t>;

struct calls {
  static signal_row sig(const std::string& id) { return typed_sig(id, "nl.schakel.test.thing.happened"); }
  static signal_row typed_sig(const std::string& id, const std::string& type) {
    return {id, type, "test", R"({"id":")" + id + R"("})"};
  }
  static outbox_item item(const std::string& sub, const std::string& sid, std::uint32_t lane = 0) {
    return {sub, sid, lane, R"({"ce":")" + sid + R"("})", "nl.schakel.test.thing.happened", "", "ordinary", ""};
  }
  /** An item as the privacy gate fills it in: type, subject pseudonym and data category. */
  static outbox_item gated_item(const std::string& sub, const std::string& sid, const std::string& type,
                                const std::string& subject, const std::string& category = "ordinary") {
    return {sub, sid, 0, R"({"ce":")" + sid + R"("})", type, subject, category, ""};
  }
  static audit::entry entry(const std::string& action, const std::string& object_id = "",
                            std::int64_t time_ms = 1'700'000'000'000) {
    audit::entry e;
    e.time_ms = time_ms;
    e.action = action;
    e.outcome = "success";
    e.actor = "partner-a";
    e.actor_role = "partner";
    e.subject = "pseudo-1";
    e.object_id = object_id;
    return e;
  }

  template <typename T>
  static T wait_for(std::future<T>& f, T on_timeout) {
    if (f.wait_for(timeout) != std::future_status::ready) {
      ADD_FAILURE() << "no completion within " << timeout.count() << " s";
      return on_timeout;
    }
    return f.get();
  }
  static std::error_code wait(std::future<std::error_code>& f) {
    return wait_for(f, std::make_error_code(std::errc::timed_out));
  }

  /** Runs `start(done)` and waits for `done`'s error code. */
  template <typename F>
  static std::error_code call(F&& start) {
    std::promise<std::error_code> p;
    auto f = p.get_future();
    start([&p](std::error_code ec) { p.set_value(ec); });
    return wait(f);
  }

  static std::error_code append(store& s, std::vector<signal_row> sigs, std::vector<outbox_item> items) {
    return call([&](done_fn d) { s.append(std::move(sigs), std::move(items), std::move(d)); });
  }

  /** One signal with one outbox item per listed subscription. */
  static std::error_code append_one(store& s, const std::string& id, const std::vector<std::string>& subs,
                                    std::uint32_t lane = 0) {
    std::vector<outbox_item> items;
    for (const auto& sub : subs) items.push_back(item(sub, id, lane));
    return append(s, {sig(id)}, std::move(items));
  }

  static next_result next(store& s, const std::string& sub, std::uint32_t lane, std::int64_t now, batching b = {}) {
    std::promise<next_result> p;
    auto f = p.get_future();
    s.next_unit(sub, lane, now, b, [&p](std::optional<delivery_unit> u, std::int64_t due) {
      p.set_value({std::move(u), due});
    });
    return wait_for(f, next_result{std::nullopt, -1});
  }

  /** The partner accepted the unit (no audit records). */
  static std::error_code deliver(store& s, std::int64_t unit_id) {
    return call([&](done_fn d) { s.mark_delivered(unit_id, {}, std::move(d)); });
  }

  /** Nothing of (subscription, lane 0) is pending or due any more. */
  static void expect_drained(store& s, const std::string& sub, std::int64_t now, batching b = {}) {
    auto [unit, due] = next(s, sub, 0, now, b);
    EXPECT_FALSE(unit) << sub << ": " << unit->body;
    EXPECT_EQ(due, 0) << sub;
    EXPECT_EQ(s.outbox_depth(sub), 0) << sub;
  }

  static std::error_code append_audit(store& s, std::vector<audit::entry> es) {
    return call([&](done_fn d) { s.append_audit(std::move(es), std::move(d)); });
  }

  /** The whole audit trail, in seq order. */
  static std::vector<audit::record> records(store& s) {
    std::vector<audit::record> out;
    s.read_audit(INT64_MIN, INT64_MAX, [&](const audit::record& r) {
      out.push_back(r);
      return true;
    });
    return out;
  }

  /** The trail checked from the store's anchor by the verifier `schakel audit verify` uses. */
  static audit::verifier::result verify(store& s) {
    const auto anchor = s.read_audit_anchor();
    audit::verifier v(anchor.prev_hash, anchor.next_seq);
    for (const auto& r : records(s)) v.add(r);
    return v.finish();
  }
};

}  // namespace schakel::storage::conformance
