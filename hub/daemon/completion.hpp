#pragma once
// Work that completes on another thread (the store's writer, the trends releaser), awaited by a
// request's coroutine and resumed on that coroutine's own executor.

#include <memory>
#include <system_error>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace schakel::daemon {

/**
 * Calls `start(complete)` and suspends until `complete(Result)` is called, from any thread, once;
 * then resumes on the awaiting coroutine's executor (a connection's strand is never entered from
 * the store thread). `start` is moved into the coroutine frame, so it may own what it hands on.
 *
 * The initiation is a named object capturing by reference: g++ 12 destroys temporaries inside a
 * co_await expression twice, and a by-value executor copy there freed the connection's strand.
 */
template <class Result, class Start>
boost::asio::awaitable<Result> await_completion(Start start) {
  namespace asio = boost::asio;
  const auto ex = co_await asio::this_coro::executor;
  auto initiation = [&start, &ex](auto handler) {
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    auto target = asio::get_associated_executor(*shared, ex);
    // Copyable, so the store's std::function callbacks can hold it.
    start([shared, target](Result result) {
      auto held = std::make_shared<Result>(std::move(result));
      asio::post(target, [shared, held]() mutable { (*shared)(std::move(*held)); });
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Result)>(initiation, asio::use_awaitable);
}

/**
 * A store read or write that answers with a value (the completion forms of the async_ roles):
 * `start(answer)` starts it with `answer(std::error_code, T)`; resumes on the awaiting coroutine's
 * executor with both.
 */
template <class T, class Start>
boost::asio::awaitable<std::pair<std::error_code, T>> await_answer(Start start) {
  return await_completion<std::pair<std::error_code, T>>([start = std::move(start)](auto complete) mutable {
    start([complete](std::error_code ec, T value) { complete(std::pair<std::error_code, T>(ec, std::move(value))); });
  });
}

}  // namespace schakel::daemon
