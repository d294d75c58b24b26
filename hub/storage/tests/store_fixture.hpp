#pragma once
// The storage tests' fixture: a fresh database in a temp directory per test, and blocking helpers
// that wait on completions with a timeout (never a sleep).
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/store.hpp"
#include "support/temp_dir.hpp"

namespace schakel::storage::test_support {

using namespace std::chrono_literals;
constexpr auto timeout = 20s;

using next_result = std::pair<std::optional<delivery_unit>, std::int64_t>;

class sqlite_store_test : public ::testing::Test {
 protected:
  std::unique_ptr<store> open() { return open_sqlite_store({.path = path_}); }

  static signal_row sig(const std::string& id) {
    return {id, "nl.schakel.test.thing.happened", "test", R"({"id":")" + id + R"("})"};
  }
  static outbox_item item(const std::string& sub, const std::string& sid, std::uint32_t lane = 0) {
    return {sub, sid, lane, R"({"ce":")" + sid + R"("})", "nl.schakel.test.thing.happened", "", "ordinary", ""};
  }

  static std::error_code wait(std::future<std::error_code>& f) {
    if (f.wait_for(timeout) != std::future_status::ready) return std::make_error_code(std::errc::timed_out);
    return f.get();
  }

  static std::error_code append(store& s, std::vector<signal_row> sigs, std::vector<outbox_item> items) {
    std::promise<std::error_code> p;
    auto f = p.get_future();
    s.append(std::move(sigs), std::move(items), [&p](std::error_code ec) { p.set_value(ec); });
    return wait(f);
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
    EXPECT_EQ(f.wait_for(timeout), std::future_status::ready);
    return f.get();
  }

  template <typename F>
  static std::error_code call(F&& start) {
    std::promise<std::error_code> p;
    auto f = p.get_future();
    start([&p](std::error_code ec) { p.set_value(ec); });
    return wait(f);
  }

  test::temp_dir dir_{"schakel-store"};
  std::string path_ = (dir_ / "hub.db").string();
};

}  // namespace schakel::storage::test_support
