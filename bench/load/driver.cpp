#include "driver.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "child.hpp"

namespace schakel::load {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr auto io_timeout = std::chrono::seconds(30);

struct run_state {
  const load_plan& plan;
  load_outcome& out;
  clock_type::time_point start, measure_start, measure_end;
  std::uint64_t next_record = 0;
  int active_clients = 0;
  bool stop = false;  ///< interrupted or a child died: everything winds down

  bool in_window(clock_type::time_point t) const { return t >= measure_start && t < measure_end; }

  /** A JSON array of records with ids unique over the run (the connector maps /id to the record id). */
  void make_body(std::string& body) {
    body.clear();
    body += '[';
    for (int i = 0; i < plan.records_per_request; ++i) {
      const std::uint64_t n = next_record++;
      if (i) body += ',';
      body += R"({"id":"R-)";
      body += std::to_string(n);
      body += R"(","leerling":"S-)";
      body += std::to_string(100000 + n % static_cast<std::uint64_t>(std::max(plan.students, 1)));
      body += R"(","brin":"12AB","klas":"2B","uren":)";
      body += std::to_string(1 + n % 4);
      body += n % 2 ? R"(,"ernst":"hoog"})" : R"(,"ernst":"laag"})";
    }
    body += ']';
  }
};

asio::awaitable<bool> connect(beast::tcp_stream& stream, std::uint16_t port) {
  stream.expires_after(io_timeout);
  auto [ec] = co_await stream.async_connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port), nothrow);
  if (ec) stream.close();
  co_return !ec;
}

/** One keep-alive connection posting records until the send window closes. */
asio::awaitable<void> client(run_state& st, int index) {
  auto ex = co_await asio::this_coro::executor;
  const auto& plan = st.plan;
  beast::tcp_stream stream(ex);
  bool connected = false;
  beast::flat_buffer buffer;
  http::request<http::string_body> req{http::verb::post, plan.target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::authorization, "Bearer " + plan.token);
  req.set(http::field::content_type, "application/json");
  req.keep_alive(true);
  asio::steady_timer timer(ex);

  // Open loop: connection i sends at start + i/rate + k*connections/rate.
  const bool open_loop = plan.rate > 0;
  const auto interval = open_loop ? std::chrono::duration_cast<clock_type::duration>(
                                        std::chrono::duration<double>(plan.connections / plan.rate))
                                  : clock_type::duration{};
  const auto offset =
      open_loop ? std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(index / plan.rate))
                : clock_type::duration{};
  for (std::uint64_t k = 0; !st.stop; ++k) {
    auto sent_at = clock_type::now();
    if (open_loop) {
      const auto scheduled = st.start + offset + interval * static_cast<std::int64_t>(k);
      if (scheduled >= st.measure_end) break;
      if (sent_at < scheduled) {
        timer.expires_at(scheduled);
        co_await timer.async_wait(nothrow);
      }
      sent_at = scheduled;
    } else if (sent_at >= st.measure_end) {
      break;
    }
    if (!connected) {
      connected = co_await connect(stream, plan.port);
      if (!connected) {
        if (st.in_window(clock_type::now())) {
          ++st.out.transport_errors;
          ++st.out.requests;
        }
        timer.expires_after(std::chrono::milliseconds(50));  // the daemon may be gone: don't spin
        co_await timer.async_wait(nothrow);
        continue;
      }
      buffer.clear();
    }
    st.make_body(req.body());
    req.prepare_payload();
    stream.expires_after(io_timeout);
    auto [wec, wn] = co_await http::async_write(stream, req, nothrow);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    boost::system::error_code rec;
    if (!wec) {
      auto [ec, rn] = co_await http::async_read(stream, buffer, parser, nothrow);
      rec = ec;
    }
    const auto done = clock_type::now();
    const bool counted = st.in_window(done);
    if (wec || rec) {
      if (counted) {
        ++st.out.transport_errors;
        ++st.out.requests;
      }
      stream.close();
      connected = false;
      continue;
    }
    auto& res = parser.get();
    const unsigned status = res.result_int();
    if (status == 503) ++st.out.total_503;
    if (counted) {
      ++st.out.requests;
      if (status == 200) {
        ++st.out.ok_requests;
        st.out.ok_records += static_cast<std::uint64_t>(plan.records_per_request);
        st.out.ack_latency_ms.push_back(std::chrono::duration<double, std::milli>(done - sent_at).count());
      } else if (status == 503) {
        ++st.out.status_503;
        if (res.find(http::field::retry_after) == res.end()) ++st.out.status_503_without_retry_after;
      } else {
        ++st.out.other_statuses[status];
      }
    }
    if (!res.keep_alive()) {
      stream.close();
      connected = false;
    }
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

/** GET /metrics on a fresh connection; nullopt when the daemon does not answer. */
asio::awaitable<std::optional<std::string>> fetch_metrics(std::uint16_t port) {
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream stream(ex);
  if (!co_await connect(stream, port)) co_return std::nullopt;
  http::request<http::empty_body> req{http::verb::get, "/metrics", 11};
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(false);
  stream.expires_after(io_timeout);
  auto [wec, wn] = co_await http::async_write(stream, req, nothrow);
  if (wec) co_return std::nullopt;
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  auto [rec, rn] = co_await http::async_read(stream, buffer, res, nothrow);
  if (rec || res.result_int() != 200) co_return std::nullopt;
  co_return std::move(res.body());
}

asio::awaitable<scrape> scrape_now(std::uint16_t port) {
  auto text = co_await fetch_metrics(port);
  co_return text ? scrape::parse(*text) : scrape{};
}

asio::awaitable<void> sleep_until(clock_type::time_point t) {
  asio::steady_timer timer(co_await asio::this_coro::executor, t);
  co_await timer.async_wait(nothrow);
}

/** Memory and delivery progress once a second, from the start of the load until told to stop. */
asio::awaitable<void> sampler(run_state& st, const bool& done) {
  const auto& plan = st.plan;
  for (int i = 0; !done && !st.stop; ++i) {
    co_await sleep_until(st.start + std::chrono::seconds(i));
    if (done || st.stop) break;
    if (plan.children_alive && !plan.children_alive()) {
      st.out.error = "a child process exited during the run (see its log)";
      st.stop = true;
      break;
    }
    rss_point p;
    p.t_s = std::chrono::duration<double>(clock_type::now() - st.start).count();
    p.daemon_kib = read_rss(plan.daemon_pid).rss;
    if (plan.receiver_pid > 0) p.receiver_kib = read_rss(plan.receiver_pid).rss;
    const scrape m = co_await scrape_now(plan.port);
    p.outbox_depth = m.sum("schakel_outbox_depth");
    p.delivered_ok = m.sum("schakel_deliveries_total", {{"outcome", "ok"}});
    p.status_503 = st.out.total_503;
    st.out.samples.push_back(p);
    if (plan.progress) {
      std::cerr << "  t=" << static_cast<int>(std::lround(p.t_s)) << "s rss=" << p.daemon_kib / 1024
                << "MiB outbox=" << p.outbox_depth << " delivered=" << p.delivered_ok << " 503s=" << p.status_503
                << " ok_requests=" << st.out.ok_requests << "\n";
    }
  }
}

asio::awaitable<void> controller(run_state& st, bool& sampling_done) {
  const auto& plan = st.plan;
  auto& out = st.out;
  co_await sleep_until(st.measure_start);
  out.at_start = co_await scrape_now(plan.port);
  co_await sleep_until(st.measure_end);
  out.at_end = co_await scrape_now(plan.port);
  out.window_s = std::chrono::duration<double>(st.measure_end - st.measure_start).count();

  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (st.active_clients > 0) {  // answers still in flight; bounded by the io timeout
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(nothrow);
  }
  out.after_drain = out.at_end;
  if (plan.wait_drain && !st.stop) {
    const auto deadline = clock_type::now() + plan.drain_timeout;
    while (!st.stop && clock_type::now() < deadline) {
      scrape m = co_await scrape_now(plan.port);
      if (!m.empty()) {
        out.after_drain = m;
        const double depth = m.sum("schakel_outbox_depth");
        const double stored = m.sum("schakel_signals_stored_total");
        const double delivered = m.sum("schakel_deliveries_total", {{"outcome", "ok"}});
        if (depth == 0 && delivered >= stored) {
          out.drained = true;
          out.drain_s = std::chrono::duration<double>(clock_type::now() - st.measure_end).count();
          break;
        }
      }
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(nothrow);
    }
  }
  sampling_done = true;
}

}  // namespace

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  rank = std::clamp<std::size_t>(rank, 1, v.size()) - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank), v.end());
  return v[rank];
}

load_outcome run_load(const load_plan& plan) {
  load_outcome out;
  asio::io_context ioc(1);
  run_state st{plan, out, {}, {}, {}};
  st.start = clock_type::now();
  st.measure_start = st.start + plan.warmup;
  st.measure_end = st.measure_start + plan.duration;
  out.ack_latency_ms.reserve(1 << 20);

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    out.error = "interrupted";
    st.stop = true;
    ioc.stop();
  });
  bool sampling_done = false;
  auto log_failure = [&](const char* what) {
    return [&out, what](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        out.error = std::string(what) + ": " + ex.what();
      }
    };
  };
  for (int i = 0; i < plan.connections; ++i) {
    ++st.active_clients;
    asio::co_spawn(ioc, client(st, i), [&st, fail = log_failure("client")](std::exception_ptr e) {
      --st.active_clients;
      fail(e);
    });
  }
  asio::co_spawn(ioc, sampler(st, sampling_done), log_failure("sampler"));
  asio::co_spawn(ioc, controller(st, sampling_done), [&, fail = log_failure("controller")](std::exception_ptr e) {
    fail(e);
    sampling_done = true;
    signals.cancel();
  });
  ioc.run();
  out.daemon_hwm_kib = read_rss(plan.daemon_pid).hwm;
  if (plan.receiver_pid > 0) out.receiver_hwm_kib = read_rss(plan.receiver_pid).hwm;
  return out;
}

}  // namespace schakel::load
