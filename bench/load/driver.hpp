#pragma once
/**
 * The load driver: N keep-alive HTTP/1.1 connections posting records to one connector instance of a
 * running daemon, closed-loop (as fast as answers come) or open-loop (a fixed request rate, latency
 * counted from each request's scheduled time so a stalled server cannot hide its queueing), plus a
 * once-a-second sampler of the daemon's memory and metrics. Single-threaded: the harness should take
 * as little CPU from the daemon as it can.
 */
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "prometheus.hpp"

namespace schakel::load {

struct load_plan {
  std::uint16_t port = 0;
  std::string target;  ///< e.g. /v1/connectors/src/records
  std::string token;   ///< ingest bearer token
  int connections = 32;
  int records_per_request = 1;
  int students = 5000;  ///< distinct student keys, spread over the delivery lanes
  double rate = 0;      ///< requests/s over all connections; 0 = closed loop
  std::chrono::milliseconds warmup{3000};
  std::chrono::milliseconds duration{20000};
  bool wait_drain = true;
  std::chrono::milliseconds drain_timeout{120000};
  pid_t daemon_pid = -1;
  pid_t receiver_pid = -1;
  std::function<bool()> children_alive;  ///< false stops the run (a child died)
  bool progress = true;                  ///< one line per second on stderr
};

struct rss_point {
  double t_s = 0;  ///< seconds since the load started (warm-up included)
  std::uint64_t daemon_kib = 0;
  std::uint64_t receiver_kib = 0;
  double outbox_depth = 0;
  double delivered_ok = 0;
  std::uint64_t status_503 = 0;  ///< 503 answers so far
};

struct load_outcome {
  std::string error;  ///< set when the run could not complete
  double window_s = 0;
  std::uint64_t requests = 0;  ///< answered (any status) or failed inside the measured window
  std::uint64_t ok_requests = 0;
  std::uint64_t ok_records = 0;
  std::uint64_t status_503 = 0;
  std::uint64_t status_503_without_retry_after = 0;
  std::map<unsigned, std::uint64_t> other_statuses;
  std::uint64_t transport_errors = 0;
  std::uint64_t total_503 = 0;         ///< whole run, warm-up included
  std::vector<double> ack_latency_ms;  ///< every 200 answer in the window
  scrape at_start, at_end, after_drain;
  bool drained = false;
  double drain_s = 0;  ///< from the end of sending until the outbox was empty
  std::vector<rss_point> samples;
  std::uint64_t daemon_hwm_kib = 0;
  std::uint64_t receiver_hwm_kib = 0;
};

/** Runs the plan to completion (or until SIGINT/SIGTERM, which sets `error`). */
load_outcome run_load(const load_plan& plan);

/** Exact percentile (nearest rank) of unsorted samples; NaN when empty. Reorders `v`. */
double percentile(std::vector<double>& v, double p);

}  // namespace schakel::load
