// Request handlers hold only the async_ views of storage (and a queue onto the trend releaser), so a
// blocking store call from one does not compile; and a store read that answers late leaves the
// handler's network thread free for every other request on it.
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "daemon/consent_api.hpp"
#include "daemon/dead_letters_api.hpp"
#include "daemon/link_api.hpp"
#include "daemon/referral_api.hpp"
#include "daemon/subscriptions_api.hpp"
#include "daemon/trends_api.hpp"

namespace schakel::daemon {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

// Each API is built from views that have no blocking method: it cannot reach one without a cast.
using on_subscriptions = std::function<void(const std::vector<std::string>&)>;
static_assert(std::is_constructible_v<link_api, storage::async_registry&, const privacy::gate&,
                                      const pipeline::ingest_pipeline&, privacy::link_registry&, on_subscriptions>);
static_assert(std::is_constructible_v<subscriptions_api, const std::vector<config::subscription>&,
                                      storage::async_outbox&, delivery::delivery_service&>);
static_assert(std::is_constructible_v<consent_api, storage::async_registry&, storage::async_audit_trail&,
                                      const privacy::gate&, privacy::consent_registry&, std::function<void()>>);
static_assert(std::is_constructible_v<trends_api, storage::async_audit_trail&, trends::release_queue*>);
static_assert(std::is_constructible_v<referral_api, storage::async_signal_log&, storage::async_plugin_state&,
                                      const pipeline::ingest_pipeline&, on_subscriptions>);
static_assert(std::is_constructible_v<dead_letters_api, storage::async_outbox&, storage::async_audit_trail&,
                                      std::function<void(const std::string&)>>);
// The releaser's blocking work is not on the queue the trends API holds.
static_assert(!std::is_base_of_v<trends::releaser, trends::release_queue>);

/** An outbox whose dead-letter read answers only when the test says so (a slow engine). */
class slow_outbox final : public storage::async_outbox {
 public:
  void next_unit(const std::string&, std::uint32_t, std::int64_t, const storage::batching&,
                 std::function<void(std::optional<storage::delivery_unit>, std::int64_t)> cb) override {
    cb(std::nullopt, 0);
  }
  void mark_delivered(std::int64_t, std::vector<audit::entry>, storage::done_fn done) override { done({}); }
  void reschedule(std::int64_t, std::int64_t, std::string, storage::done_fn done) override { done({}); }
  void move_to_dead_letters(std::int64_t, std::string, std::vector<audit::entry>, storage::done_fn done) override {
    done({});
  }
  void drop_members(std::int64_t, std::vector<std::int64_t>, std::string, std::vector<audit::entry>,
                    storage::done_fn done) override {
    done({});
  }
  void set_subscription_disabled(const std::string&, bool, storage::done_fn done) override { done({}); }
  void change_subscription(const std::string&, bool, std::string, std::vector<audit::entry>,
                           storage::done_fn done) override {
    done({});
  }
  void read_subscription_status(const std::string&, storage::result_fn<storage::subscription_status> done) override {
    done({}, {});
  }
  void list_dead_letters(const std::string&, storage::result_fn<std::vector<storage::dead_letter>> done) override {
    std::lock_guard lock(mu_);
    pending_ = std::move(done);
    asked_.set_value();
  }
  void replay_dead_letter(std::int64_t, storage::result_fn<std::optional<std::string>> done) override {
    done({}, std::nullopt);
  }
  bool subscription_disabled(const std::string&) override { return false; }
  std::int64_t outbox_depth(const std::string&) override { return 0; }
  std::int64_t outbox_depth_total() override { return 0; }

  std::future<void> asked() { return asked_.get_future(); }
  /** Answers the pending read from the calling thread (the engine's, in this test). */
  void answer(std::vector<storage::dead_letter> letters) {
    storage::result_fn<std::vector<storage::dead_letter>> done;
    {
      std::lock_guard lock(mu_);
      done = std::move(pending_);
    }
    done({}, std::move(letters));
  }

 private:
  std::mutex mu_;
  std::promise<void> asked_;
  storage::result_fn<std::vector<storage::dead_letter>> pending_;
};

class trail final : public storage::async_audit_trail {
 public:
  void append_audit(std::vector<audit::entry> audit, storage::done_fn done) override {
    {
      std::lock_guard lock(mu_);
      for (auto& e : audit) actions.push_back(e.action);
    }
    done({});
  }
  std::vector<std::string> actions;

 private:
  std::mutex mu_;
};

asio::awaitable<void> ask(dead_letters_api* api, http::request req, std::promise<http::response>* out) {
  // Named: g++ 12 destroys non-trivial temporaries inside a co_await expression twice.
  grant who{"operator", "ops"};
  auto r = co_await api->handle(req, std::move(who));
  out->set_value(std::move(r));
}

TEST(handler_views, a_slow_store_read_leaves_the_network_thread_free_for_other_requests) {
  slow_outbox store;
  trail audit;
  dead_letters_api api(store, audit, nullptr);

  asio::io_context network;  // one network thread, as a small hub runs it
  auto work = asio::make_work_guard(network);
  std::thread runner([&] { network.run(); });
  struct joiner {
    asio::io_context& network;
    asio::executor_work_guard<asio::io_context::executor_type>& work;
    std::thread& runner;
    ~joiner() {
      work.reset();
      network.stop();  // a failed assertion may leave the handler waiting for the store
      if (runner.joinable()) runner.join();
    }
  } join_at_exit{network, work, runner};

  auto asked = store.asked();
  std::promise<http::response> listed;
  auto answer = listed.get_future();
  http::request req;
  req.method = "GET";
  req.path = "/v1/deadletters";
  asio::co_spawn(network, ask(&api, req, &listed), asio::detached);
  ASSERT_EQ(asked.wait_for(10s), std::future_status::ready) << "the handler never asked the store";

  // While the read is outstanding, another request's work on the same thread runs to the end.
  std::promise<void> other;
  auto other_done = other.get_future();
  asio::post(network, [&other] { other.set_value(); });
  ASSERT_EQ(other_done.wait_for(10s), std::future_status::ready) << "the network thread is held while the store reads";
  EXPECT_EQ(answer.wait_for(0s), std::future_status::timeout) << "answered before the store did";

  storage::dead_letter d;
  d.unit_id = 42;
  d.subscription = "partner";
  d.reason = "http 400";
  store.answer({d});  // from this thread, as an engine's thread would
  ASSERT_EQ(answer.wait_for(10s), std::future_status::ready);
  const auto r = answer.get();
  EXPECT_EQ(r.status, 200u);
  EXPECT_NE(r.body.find("\"id\":42"), std::string::npos) << r.body;
  ASSERT_EQ(audit.actions.size(), 1u);
  EXPECT_EQ(audit.actions[0], "deadletter.viewed");
}

}  // namespace
}  // namespace schakel::daemon
