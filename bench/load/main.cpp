// schakel-load: starts a receiver and a daemon in a fresh data dir, drives ingest load on loopback
// and reports throughput, acknowledgement and end-to-end latency, delivery and memory.
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "child.hpp"
#include "driver.hpp"
#include "run_setup.hpp"

#include "support/absence_fixture.hpp"

namespace fs = std::filesystem;
using namespace schakel::load;

namespace {

struct options {
  std::string scenario = "a";
  int connections = 32;
  double duration_s = 20;
  double warmup_s = 3;
  double rate = 0;
  bool json = false;
  bool overload = false;
  long delay_ms = 200;
  std::int64_t max_outbox = 0;  // 0 = 1,000,000 (the daemon's default), 20,000 with --overload
  int lanes = 4;
  int batch_max = 100;
  int linger_ms = 100;
  int records = 0;  // 0 = the scenario's
  int students = 5000;
  double drain_timeout_s = 180;
  std::string daemon;
  std::string receiver;
  std::string work_dir;
  bool keep = false;
  bool quiet = false;
};

struct scenario_shape {
  int records_per_request;
  bool batched;
  const char* text;
};

std::optional<scenario_shape> shape_of(const std::string& s) {
  if (s == "a") return scenario_shape{1, true, "1 record per request, batched deliveries"};
  if (s == "b") return scenario_shape{100, true, "100 records per request, batched deliveries"};
  if (s == "c") return scenario_shape{1, false, "1 record per request, one webhook per event"};
  return std::nullopt;
}

nlohmann::json hub_config(const fs::path& data_dir, const options& o, const scenario_shape& shape,
                          std::uint16_t rx_port, const std::string& token, const std::string& secret) {
  nlohmann::json mapping = schakel::test::absence_mapping();
  nlohmann::json delivery = {
      // The receiver runs on this host: loopback is a refused destination unless allowlisted.
      {"webhook",
       {{"url", "http://127.0.0.1:" + std::to_string(rx_port) + "/webhook"},
        {"secret", secret},
        {"allow_destinations", {"127.0.0.1/32"}}}},
      {"retry", {{"max_attempts", 12}, {"max_age", "1h"}, {"initial_backoff", "100ms"}, {"max_backoff", "2s"}}},
      {"request_timeout", "10s"},
      {"lanes", o.lanes}};
  if (shape.batched) delivery["batch"] = {{"max_events", o.batch_max}, {"linger", std::to_string(o.linger_ms) + "ms"}};
  const std::int64_t max_outbox = o.max_outbox > 0 ? o.max_outbox : (o.overload ? 20000 : 1000000);
  return {{"listen", {{"address", "127.0.0.1"}, {"port", 0}}},
          {"data_dir", data_dir.string()},
          {"log_level", "warn"},
          {"limits",
           {{"max_body_bytes", 8 * 1024 * 1024},
            {"max_header_bytes", 8192},
            {"read_timeout", "30s"},
            {"max_connections", std::max(1024, o.connections * 2)},
            {"max_outbox_depth", max_outbox}}},
          {"connectors", {{{"name", "src"}, {"plugin", "generic-json"}, {"token", token}, {"settings", mapping}}}},
          {"subscriptions",
           {{{"name", "partner"},
             {"partner", "Load partner"},
             {"fields", {"type", "subject.class", "content.severity", "content.value", "source.record_id"}},
             {"privacy",
              {{"identity", "identified"},
               {"purpose", "load benchmark"},
               {"legal_basis", "public_task"},
               {"health_ground", "health_care"}}},
             {"delivery", delivery}}}}};
}

std::string fmt(double v, int prec = 1);

double mib(std::uint64_t kib) {
  return static_cast<double>(kib) / 1024.0;
}

/** Least-squares slope of daemon RSS over time, in MiB per minute, from samples at or after t0. */
double rss_slope_mib_per_min(const std::vector<rss_point>& s, double t0) {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& p : s) {
    if (p.t_s < t0) continue;
    const double x = p.t_s / 60.0, y = mib(p.daemon_kib);
    n += 1;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const double den = n * sxx - sx * sx;
  return n >= 3 && den > 0 ? (n * sxy - sx * sy) / den : 0.0;
}

std::string fmt(double v, int prec) {
  if (std::isnan(v)) return "n/a";
  std::ostringstream ss;
  ss << std::fixed << std::setprecision(prec) << v;
  return ss.str();
}

nlohmann::json num(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

/** A histogram quantile in ms: "> 10000" when it lies beyond the last bucket. */
std::string hist_ms(const bucket_histogram& h, double q) {
  const double v = h.quantile(q);
  if (std::isinf(v)) return "> " + fmt(h.last_finite_bound() * 1000, 0);
  return fmt(v * 1000, 1);
}

int run(const options& o) {
  const auto shape_opt = shape_of(o.scenario);
  if (!shape_opt) {
    std::cerr << "schakel-load: --scenario must be a, b or c\n";
    return 2;
  }
  scenario_shape shape = *shape_opt;
  if (o.records > 0) shape.records_per_request = o.records;

  const fs::path bin_dir = fs::read_symlink("/proc/self/exe").parent_path();
  const std::string daemon_bin = o.daemon.empty() ? (bin_dir / "schakel").string() : o.daemon;
  const std::string receiver_bin = o.receiver.empty() ? (bin_dir / "schakel-receiver").string() : o.receiver;
  for (const auto& b : {daemon_bin, receiver_bin})
    if (!fs::exists(b)) throw std::runtime_error("not found: " + b + " (build it, or pass --daemon/--receiver)");

  run_dir dir(o.work_dir, "schakel-load-", o.keep);
  const fs::path data_dir = dir.path / "data";
  fs::create_directories(data_dir);
  fs::permissions(data_dir, fs::perms::owner_all);  // the daemon refuses a data directory others can enter
  const std::string token = random_token();
  const std::string secret = random_webhook_secret();

  std::vector<std::string> rx_args = {receiver_bin, "--listen",    "127.0.0.1:0",
                                      "--quiet",    "--port-file", (dir.path / "receiver.port").string()};
  if (o.overload) {
    rx_args.push_back("--delay-ms");
    rx_args.push_back(std::to_string(o.delay_ms));
  }
  // The secret goes through the environment, not argv, so `ps` does not show it.
  child receiver = child::spawn(rx_args, {{"SCHAKEL_WEBHOOK_SECRET", secret}}, dir.path / "receiver.log");
  const auto rx_port = wait_port_file(dir.path / "receiver.port", receiver, std::chrono::seconds(15));
  if (!rx_port) throw std::runtime_error("the receiver did not start; see " + (dir.path / "receiver.log").string());

  const fs::path config_file = dir.path / "config.json";
  std::ofstream(config_file) << hub_config(data_dir, o, shape, *rx_port, token, secret).dump(2) << "\n";
  child daemon = child::spawn({daemon_bin, "serve", "--config", config_file.string()}, {}, dir.path / "hub.log");
  const auto port = wait_port_file(data_dir / "port", daemon, std::chrono::seconds(30));
  if (!port) {
    std::ifstream log(dir.path / "hub.log");
    std::stringstream ss;
    ss << log.rdbuf();
    throw std::runtime_error("the daemon did not start; its log:\n" + ss.str());
  }

  const std::string mode = o.rate > 0 ? "open loop at " + fmt(o.rate, 0) + " requests/s" : "closed loop";
  std::ostream& human = o.json ? std::cerr : std::cout;
  human << "schakel-load scenario " << o.scenario << (o.overload ? " --overload" : "") << ": " << shape.text << " ("
        << shape.records_per_request << " record(s)/request";
  if (shape.batched) human << ", batches of up to " << o.batch_max << ", linger " << o.linger_ms << " ms";
  human << ", " << o.lanes << " lanes), " << o.connections << " connections, " << mode << ", " << fmt(o.duration_s, 0)
        << " s after " << fmt(o.warmup_s, 0) << " s warm-up"
        << (o.overload ? ", receiver delay " + std::to_string(o.delay_ms) + " ms" : "") << "\n";
  human << "  daemon pid " << daemon.pid() << " on port " << *port << ", receiver pid " << receiver.pid() << " on port "
        << *rx_port << ", work dir " << dir.path.string() << "\n";

  load_plan plan;
  plan.port = *port;
  plan.target = "/v1/connectors/src/records";
  plan.token = token;
  plan.connections = o.connections;
  plan.records_per_request = shape.records_per_request;
  plan.students = o.students;
  plan.rate = o.rate;
  plan.warmup = std::chrono::milliseconds(std::llround(o.warmup_s * 1000));
  plan.duration = std::chrono::milliseconds(std::llround(o.duration_s * 1000));
  plan.wait_drain = !o.overload;
  plan.drain_timeout = std::chrono::milliseconds(std::llround(o.drain_timeout_s * 1000));
  plan.daemon_pid = daemon.pid();
  plan.receiver_pid = receiver.pid();
  plan.children_alive = [&] {
    for (auto* c : {&daemon, &receiver})
      if (!c->running()) {
        std::cerr << "schakel-load: the " << (c == &daemon ? "daemon" : "receiver") << " (pid " << c->pid()
                  << ") exited with status " << c->exit_status().value_or(-1) << "; its log is in " << dir.path.string()
                  << (o.keep ? "" : " (use --keep to keep it)") << "\n";
        return false;
      }
    return true;
  };
  plan.progress = !o.quiet;

  load_outcome r = run_load(plan);
  if (!r.error.empty()) throw std::runtime_error(r.error);
  if (r.at_start.empty() || r.at_end.empty()) throw std::runtime_error("could not read the daemon's /metrics");

  const double w = r.window_s;
  auto lat = r.ack_latency_ms;
  const double p50 = percentile(lat, 50), p99 = percentile(lat, 99), pmax = percentile(lat, 100);
  const label_set ok{{"outcome", "ok"}};
  const double delivered =
      r.at_end.sum("schakel_deliveries_total", ok) - r.at_start.sum("schakel_deliveries_total", ok);
  const double stored = r.at_end.sum("schakel_signals_stored_total") - r.at_start.sum("schakel_signals_stored_total");
  const auto e2e = r.at_end.histogram("schakel_end_to_end_latency_seconds")
                       .minus(r.at_start.histogram("schakel_end_to_end_latency_seconds"));
  const auto ingest = r.at_end.histogram("schakel_ingest_latency_seconds")
                          .minus(r.at_start.histogram("schakel_ingest_latency_seconds"));
  std::uint64_t other_errors = r.transport_errors;
  for (const auto& [status, n] : r.other_statuses) other_errors += n;

  // RSS after warm-up: flat or growing?
  const double t_measure = o.warmup_s;
  double rss_min = 1e18, rss_max = 0;
  for (const auto& s : r.samples)
    if (s.t_s >= t_measure) {
      rss_min = std::min(rss_min, mib(s.daemon_kib));
      rss_max = std::max(rss_max, mib(s.daemon_kib));
    }
  if (rss_max == 0) rss_min = 0;
  const double slope = rss_slope_mib_per_min(r.samples, t_measure);
  double max_depth = 0;
  for (const auto& s : r.samples) max_depth = std::max(max_depth, s.outbox_depth);

  human << "  requests/s (all answers)        " << fmt(r.requests / w, 0) << "  (" << r.requests << " in " << fmt(w, 1)
        << " s)\n";
  human << "  records/s accepted (200 only)   " << fmt(r.ok_records / w, 0) << "\n";
  human << "  ingest ack latency, client      p50 " << fmt(p50, 2) << " ms  p99 " << fmt(p99, 2) << " ms  max "
        << fmt(pmax, 2) << " ms  (exact, " << r.ack_latency_ms.size() << " samples"
        << (o.rate > 0 ? ", from scheduled send time" : "") << ")\n";
  human << "  ingest latency, daemon histogram p50 " << hist_ms(ingest, 0.5) << " ms  p99 " << hist_ms(ingest, 0.99)
        << " ms  (interpolated in buckets)\n";
  human << "  signals stored/s (daemon)       " << fmt(stored / w, 0) << "\n";
  human << "  events/s delivered (window)     " << fmt(delivered / w, 0) << "\n";
  human << "  end-to-end latency, daemon hist p50 " << hist_ms(e2e, 0.5) << " ms  p99 " << hist_ms(e2e, 0.99)
        << " ms  (interpolated in buckets, " << fmt(e2e.count, 0) << " deliveries)\n";
  if (plan.wait_drain)
    human << "  outbox drain after load         "
          << (r.drained ? fmt(r.drain_s, 1) + " s" : "NOT drained within " + fmt(o.drain_timeout_s, 0) + " s") << "\n";
  human << "  503 (back-pressure)             " << r.status_503 << " in window, " << r.total_503 << " in run"
        << (r.status_503_without_retry_after
                ? ", " + std::to_string(r.status_503_without_retry_after) + " WITHOUT Retry-After"
                : "")
        << "\n";
  human << "  other errors                    " << other_errors << " (transport " << r.transport_errors;
  for (const auto& [status, n] : r.other_statuses) human << ", HTTP " << status << ": " << n;
  human << ")\n";
  human << "  daemon RSS                      peak (VmHWM) " << fmt(mib(r.daemon_hwm_kib), 1) << " MiB; after warm-up "
        << fmt(rss_min, 1) << ".." << fmt(rss_max, 1) << " MiB, trend " << fmt(slope, 2) << " MiB/min\n";
  human << "  receiver RSS peak               " << fmt(mib(r.receiver_hwm_kib), 1) << " MiB\n";
  human << "  daemon RSS per second (MiB)    ";
  for (const auto& s : r.samples) human << " " << fmt(mib(s.daemon_kib), 0);
  human << "\n";

  int exit_code = 0;
  nlohmann::json overload_json;
  if (o.overload) {
    // Bounded: after back-pressure set in, RSS stops following the offered load.
    double t_bp = -1;
    for (const auto& s : r.samples)
      if (s.status_503 > 0) {
        t_bp = s.t_s;
        break;
      }
    double rss_at_bp = 0, rss_after = 0;
    for (const auto& s : r.samples) {
      if (t_bp >= 0 && s.t_s >= t_bp + 2 && rss_at_bp == 0) rss_at_bp = mib(s.daemon_kib);
      if (t_bp >= 0 && s.t_s >= t_bp + 2) rss_after = std::max(rss_after, mib(s.daemon_kib));
    }
    const std::int64_t max_outbox = o.max_outbox > 0 ? o.max_outbox : 20000;
    const bool saw_503 = r.total_503 > 0;
    const bool retry_after_ok = r.status_503_without_retry_after == 0;
    const bool rss_bounded = saw_503 && rss_after <= rss_at_bp * 1.2 + 16;
    const bool depth_bounded = max_depth <= static_cast<double>(max_outbox + o.connections * shape.records_per_request);
    const bool pass = saw_503 && retry_after_ok && rss_bounded && depth_bounded;
    human << "  overload: 503s " << (saw_503 ? "yes" : "NO") << " (first at t=" << fmt(t_bp, 0) << " s)"
          << ", Retry-After on all " << (retry_after_ok ? "yes" : "NO") << ", RSS " << fmt(rss_at_bp, 1) << " -> max "
          << fmt(rss_after, 1) << " MiB " << (rss_bounded ? "bounded" : "NOT bounded") << ", outbox max "
          << fmt(max_depth, 0) << " (limit " << max_outbox << ") " << (depth_bounded ? "bounded" : "NOT bounded")
          << "\n";
    human << "  overload check: " << (pass ? "PASS" : "FAIL") << "\n";
    overload_json = {{"pass", pass},
                     {"saw_503", saw_503},
                     {"retry_after_on_all", retry_after_ok},
                     {"rss_bounded", rss_bounded},
                     {"rss_at_backpressure_mib", rss_at_bp},
                     {"rss_max_after_mib", rss_after},
                     {"outbox_max", max_depth},
                     {"outbox_limit", max_outbox},
                     {"first_503_s", t_bp}};
    if (!pass) exit_code = 1;
  }

  if (o.json) {
    nlohmann::json rss_series = nlohmann::json::array();
    for (const auto& s : r.samples) rss_series.push_back(std::lround(mib(s.daemon_kib) * 10) / 10.0);
    nlohmann::json statuses = nlohmann::json::object();
    for (const auto& [status, n] : r.other_statuses) statuses[std::to_string(status)] = n;
    nlohmann::json j = {
        {"scenario", o.scenario},
        {"overload", o.overload},
        {"records_per_request", shape.records_per_request},
        {"batched", shape.batched},
        {"connections", o.connections},
        {"rate_target", o.rate},
        {"window_s", w},
        {"requests_per_s", r.requests / w},
        {"records_accepted_per_s", r.ok_records / w},
        {"signals_stored_per_s", stored / w},
        {"events_delivered_per_s", delivered / w},
        {"ack_ms", {{"p50", num(p50)}, {"p99", num(p99)}, {"max", num(pmax)}, {"samples", r.ack_latency_ms.size()}}},
        {"daemon_ingest_ms_interpolated",
         {{"p50", num(ingest.quantile(0.5) * 1000)}, {"p99", num(ingest.quantile(0.99) * 1000)}}},
        {"end_to_end_ms_interpolated",
         {{"p50", num(e2e.quantile(0.5) * 1000)},
          {"p99", num(e2e.quantile(0.99) * 1000)},
          {"beyond_ms", e2e.last_finite_bound() * 1000},  // a null quantile lies above this
          {"deliveries", e2e.count}}},
        {"drained", r.drained},
        {"drain_s", r.drained ? nlohmann::json(r.drain_s) : nlohmann::json(nullptr)},
        {"status_503", r.status_503},
        {"status_503_run", r.total_503},
        {"status_503_without_retry_after", r.status_503_without_retry_after},
        {"transport_errors", r.transport_errors},
        {"other_statuses", statuses},
        {"other_errors", other_errors},
        {"daemon_peak_rss_mib", mib(r.daemon_hwm_kib)},
        {"daemon_rss_trend_mib_per_min", slope},
        {"receiver_peak_rss_mib", mib(r.receiver_hwm_kib)},
        {"outbox_max", max_depth},
        {"daemon_rss_mib_per_s", rss_series}};
    if (o.overload) j["overload_check"] = overload_json;
    std::cout << j.dump() << std::endl;
  }

  // Graceful stop first: a daemon that does not drain on SIGTERM is worth knowing about.
  const auto daemon_status = daemon.terminate(std::chrono::seconds(30));
  if (daemon_status && *daemon_status != 0)
    human << "  note: the daemon exited with status " << *daemon_status << " on SIGTERM\n";
  receiver.terminate();
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"schakel-load: load harness for the schakel daemon (loopback only)"};
  options o;
  app.add_option("--scenario", o.scenario,
                 "a = 1 record/request, batched deliveries; b = 100 records/request, batched; "
                 "c = 1 record/request, one webhook per event")
      ->capture_default_str();
  app.add_option("--connections", o.connections, "keep-alive client connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--duration", o.duration_s, "measured seconds")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--warmup", o.warmup_s, "seconds of load before measuring")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--rate", o.rate,
                 "open loop: target requests/s over all connections (default: closed loop, as fast as possible)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--json", o.json, "print one machine-readable JSON result line on stdout (the report goes to stderr)");
  app.add_flag("--overload", o.overload,
               "slow receiver and a small outbox limit: check 503 + Retry-After and bounded RSS");
  app.add_option("--delay-ms", o.delay_ms, "receiver delay per answer with --overload")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-outbox", o.max_outbox,
                 "daemon limits.max_outbox_depth (default 1000000; 20000 with --overload)");
  app.add_option("--lanes", o.lanes, "delivery lanes of the subscription")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--batch-max", o.batch_max, "events per batched delivery at most")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--linger-ms", o.linger_ms, "batch linger")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--records", o.records, "records per request (overrides the scenario's)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--students", o.students, "distinct student keys in the generated records")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--drain-timeout", o.drain_timeout_s, "seconds to wait for the outbox to empty after the load")
      ->capture_default_str();
  app.add_option("--daemon", o.daemon, "path of bin/schakel (default: next to this program)");
  app.add_option("--receiver", o.receiver, "path of bin/schakel-receiver (default: next to this program)");
  app.add_option("--work-dir", o.work_dir,
                 "where to create the temporary data dir (default: $TMPDIR or /tmp); its disk decides fsync cost");
  app.add_flag("--keep", o.keep, "keep the work dir (config, logs, database) afterwards");
  app.add_flag("--quiet", o.quiet, "no progress line per second");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::cerr << "schakel-load: " << e.what() << "\n";
    return 1;
  }
}
