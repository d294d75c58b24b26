#pragma once
// Test helper: an io_context running on a background thread, and a way to await a coroutine on it
// from the test thread.
#include <future>
#include <optional>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace schakel::delivery::testing {

class io_thread {
 public:
  io_thread() : work_(ioc_.get_executor()), thread_([this] { ioc_.run(); }) {}
  ~io_thread() { stop(); }

  boost::asio::io_context& context() { return ioc_; }
  boost::asio::any_io_executor executor() { return ioc_.get_executor(); }

  template <typename T>
  T run(boost::asio::awaitable<T> a) {
    return boost::asio::co_spawn(ioc_, std::move(a), boost::asio::use_future).get();
  }

  void stop() {
    if (!thread_.joinable()) return;
    work_.reset();
    ioc_.stop();
    thread_.join();
  }

 private:
  boost::asio::io_context ioc_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace schakel::delivery::testing
