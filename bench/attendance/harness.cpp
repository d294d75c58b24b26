#include "harness.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "http_get.hpp"
#include "load/child.hpp"
#include "load/run_setup.hpp"

namespace schakel::attendance_bench {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;
using load::child;

namespace {

std::string millis(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + "ms";
}

nlohmann::json hub_config(const fs::path& data_dir, const fs::path& drop_dir, const harness_options& o,
                          std::uint16_t rx_port, const std::string& ingest_token, const std::string& admin_token,
                          const std::string& secret) {
  using nlohmann::json;
  json school = {{"brin", "99XX"}, {"vestiging", "00"}, {"calendar_files", json::array({o.calendar_file.string()})}};
  // The harness renames complete files into the folder, so the settle fallback is off.
  json drop = {{"path", drop_dir.string()}, {"poll_interval", millis(o.poll_interval)}, {"settle", "0ms"}};
  json codes = {{"Z", "sick"},         {"ZIEK", "sick"}, {"G", "authorised"},         {"MED", "authorised"},
                {"O", "unauthorised"}, {"TL", "late"},   {"V", "removed_from_class"}, {"S", "suspended"}};
  json settings = {{"profile", "magister-like"},
                   {"school", {{"brin", "99XX"}, {"vestiging", "00"}}},
                   {"school_year", "2026-2027"},
                   {"codes", codes}};
  json connector = {{"name", "attendance"},
                    {"plugin", "attendance"},
                    {"token", ingest_token},
                    {"drop_folder", drop},
                    {"settings", settings},
                    // The generated registration ids are 8-digit numbers, as in real exports; one in
                    // eleven passes the BSN 11-test, so the guard must be told they are not BSNs.
                    {"bsn", {{"exempt", json::array({"source.record_id"})}}}};
  json processor = {{"name", "attendance-rules"},
                    {"plugin", "attendance-rules"},
                    {"inputs", json::array({"attendance"})},
                    {"settings", json::object()}};
  json types =
      json::array({"nl.schakel.attendance.mazl.triggered", "nl.schakel.attendance.mazl.referred",
                   "nl.schakel.attendance.leerplicht.threshold_reached", "nl.schakel.attendance.alert.retracted"});
  json fields = json::array({"type", "observed_at", "subject.school", "subject.student_key", "subject.class",
                             "content.indicator", "content.value", "content.unit", "content.severity"});
  // The receiver runs on this host: loopback is a refused destination unless allowlisted.
  json webhook = {{"url", "http://127.0.0.1:" + std::to_string(rx_port) + "/webhook"},
                  {"secret", secret},
                  {"allow_destinations", {"127.0.0.1/32"}}};
  json subscription = {{"name", "attendance-alerts"},
                       {"partner", "Benchmark receiver"},
                       {"filter", {{"types", types}}},
                       {"fields", fields},
                       {"privacy",
                        {{"identity", "identified"},
                         {"purpose", "benchmark: attendance alerts"},
                         {"legal_basis", "public_task"},
                         {"health_ground", "substantial_public_interest"}}},
                       {"delivery", {{"webhook", webhook}}}};
  json cfg = json::object();
  cfg["listen"] = {{"address", "127.0.0.1"}, {"port", 0}};
  cfg["data_dir"] = data_dir.string();
  cfg["admin_token"] = admin_token;
  cfg["log_level"] = o.log_level;
  cfg["schools"] = json::array({school});
  cfg["connectors"] = json::array({connector});
  cfg["processors"] = json::array({processor});
  cfg["subscriptions"] = json::array({subscription});
  return cfg;
}

std::string tail_of(const fs::path& file, std::size_t bytes = 4000) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > bytes ? "…" + s.substr(s.size() - bytes) : s;
}

/** Files in `dir` that the drop folder put there (reports excluded). */
std::size_t count_files(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_regular_file(ec) && !name.ends_with(".error.json")) ++n;
  }
  return n;
}

/** Read-only view of the daemon's SQLite log, for the log end and counts by type. */
class log_reader {
 public:
  explicit log_reader(const fs::path& db) {
    if (sqlite3_open_v2(db.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("cannot open " + db.string() + ": " + why);
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~log_reader() { sqlite3_close(db_); }
  log_reader(const log_reader&) = delete;
  log_reader& operator=(const log_reader&) = delete;

  std::int64_t max_seq() { return scalar("SELECT COALESCE(MAX(seq), 0) FROM signals"); }

  std::int64_t scalar(const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db_));
    std::int64_t v = 0;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  }

  std::map<std::string, std::uint64_t> count_by_type(const std::string& instance) {
    std::map<std::string, std::uint64_t> out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT type, COUNT(*) FROM signals WHERE instance = ?1 GROUP BY type", -1, &st,
                           nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db_));
    sqlite3_bind_text(st, 1, instance.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW)
      out[reinterpret_cast<const char*>(sqlite3_column_text(st, 0))] =
          static_cast<std::uint64_t>(sqlite3_column_int64(st, 1));
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

/** "2026-11-28T10:00:00.123Z" -> epoch ms; nullopt when it is not that shape. */
std::optional<std::int64_t> parse_ts(const std::string& s) {
  int y, mo, d, h, mi, sec, ms;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &y, &mo, &d, &h, &mi, &sec, &ms) != 7) return std::nullopt;
  using namespace std::chrono;
  const sys_days day{std::chrono::year{y} / std::chrono::month{static_cast<unsigned>(mo)} / static_cast<unsigned>(d)};
  return (duration_cast<milliseconds>(day.time_since_epoch()) + hours{h} + minutes{mi} + seconds{sec} +
          milliseconds{ms})
      .count();
}

/** Fills the phase breakdown from the daemon's JSON log lines. */
void read_phases(const fs::path& log_file, std::int64_t start_epoch_ms, run_result& r) {
  std::ifstream in(log_file);
  std::string line;
  double previous = -1;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("event") || !j.contains("ts")) continue;
    const auto ts = parse_ts(j.value("ts", ""));
    if (!ts) continue;
    const double t = static_cast<double>(*ts - start_epoch_ms);
    const std::string event = j.value("event", "");
    if (event == "drop.ingested") {
      if (r.first_ingested_ms < 0) r.first_ingested_ms = t;
      if (previous >= 0) r.ingest_gaps_ms.push_back(t - previous);
      previous = t;
      r.last_ingested_ms = t;
    } else if (event == "processor.derived") {
      r.last_derived_ms = t;
      ++r.derived_batches;
    }
  }
}

std::int64_t epoch_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/**
 * One run's processes: a fresh work dir with the files written under dot-names the drop folder
 * ignores, bin/schakel-receiver and bin/schakel serve, started and ready.
 */
class hub_session {
 public:
  hub_session(const harness_options& o, const std::vector<export_file>& files)
      : dir(o.work_dir, "schakel-attendance-", o.keep),
        data_dir(dir.path / "data"),
        drop_dir(dir.path / "drop"),
        hub_log(dir.path / "hub.log"),
        admin_token(load::random_token()) {
    for (const auto& p : {o.daemon, o.receiver, o.calendar_file})
      if (!fs::exists(p)) throw std::runtime_error("not found: " + p.string());
    fs::create_directories(data_dir);
    fs::permissions(data_dir, fs::perms::owner_all);  // the daemon refuses a data directory others can enter
    fs::create_directories(drop_dir);
    const std::string ingest_token = load::random_token();
    const std::string secret = load::random_webhook_secret();
    // The files are written before the clock starts; the measured part is the renames and what the
    // daemon does with them.
    for (const auto& f : files) std::ofstream(drop_dir / ("." + f.name + ".tmp"), std::ios::binary) << f.body;

    receiver.emplace(child::spawn({o.receiver.string(), "--listen", "127.0.0.1:0", "--quiet", "--port-file",
                                   (dir.path / "receiver.port").string()},
                                  {{"SCHAKEL_WEBHOOK_SECRET", secret}}, dir.path / "receiver.log"));
    const auto rx_port = load::wait_port_file(dir.path / "receiver.port", *receiver, std::chrono::seconds(15));
    if (!rx_port) throw std::runtime_error("the receiver did not start:\n" + tail_of(dir.path / "receiver.log"));

    const fs::path config_file = dir.path / "config.json";
    std::ofstream(config_file) << hub_config(data_dir, drop_dir, o, *rx_port, ingest_token, admin_token, secret).dump(2)
                               << "\n";
    daemon.emplace(child::spawn({o.daemon.string(), "serve", "--config", config_file.string()}, {}, hub_log));
    const auto p = load::wait_port_file(data_dir / "port", *daemon, std::chrono::seconds(30));
    if (!p) throw std::runtime_error("the daemon did not start; its log:\n" + tail_of(hub_log));
    port = *p;
    const auto ready = http_get(port, "/readyz", "");
    if (!ready || ready->status != 200)
      throw std::runtime_error("the daemon is not ready (a plugin failed to load?); its log:\n" + tail_of(hub_log));
  }

  std::runtime_error fail(const std::string& why) const {
    return std::runtime_error(why + "; the daemon's log ends with:\n" + tail_of(hub_log));
  }

  void release(const std::vector<export_file>& files) const {
    for (const auto& f : files) fs::rename(drop_dir / ("." + f.name + ".tmp"), drop_dir / f.name);
  }

  std::size_t archived() const { return count_files(drop_dir / "archive"); }
  std::size_t quarantined() const { return count_files(drop_dir / "quarantine"); }

  /** /v1/processors' one processor once it has read the whole log; nullopt while it has not. */
  std::optional<nlohmann::json> caught_up(log_reader& db) const {
    const auto answer = http_get(port, "/v1/processors", admin_token);
    if (!answer || answer->status != 200) return std::nullopt;
    const auto j = nlohmann::json::parse(answer->body, nullptr, false);
    if (!j.is_object() || !j.contains("processors") || j["processors"].empty()) return std::nullopt;
    const auto& p = j["processors"][0];
    if (!p.value("loaded", true)) throw fail("the attendance-rules processor did not load");
    if (!p.value("caught_up", false)) return std::nullopt;
    if (p.value("position", std::int64_t{0}) < db.max_seq()) return std::nullopt;
    return p;
  }

  load::run_dir dir;
  fs::path data_dir, drop_dir, hub_log;
  std::string admin_token;
  std::optional<child> receiver, daemon;
  std::uint16_t port = 0;
};

}  // namespace

run_result run_once(const harness_options& o, const std::vector<export_file>& files) {
  hub_session s(o, files);
  child& daemon = *s.daemon;
  run_result r;
  r.files = files.size();

  const std::int64_t start_epoch = epoch_ms_now();
  const auto t0 = clock_type::now();
  s.release(files);
  const auto deadline = t0 + o.timeout;
  const auto seconds_since = [&t0](clock_type::time_point t) { return std::chrono::duration<double>(t - t0).count(); };

  // Phase 1: every file leaves the folder. RSS after each 5th archived file.
  std::size_t next_sample = 5;
  for (;;) {
    const std::size_t archived = s.archived();
    r.quarantined = s.quarantined();
    while (archived >= next_sample && next_sample <= files.size()) {
      r.rss.push_back({next_sample, load::read_rss(daemon.pid()).rss});
      next_sample += 5;
    }
    if (archived + r.quarantined >= files.size()) {
      r.all_archived_s = seconds_since(clock_type::now());
      break;
    }
    if (!daemon.running()) throw s.fail("the daemon exited during the run");
    if (clock_type::now() > deadline) throw s.fail("not all files were archived within the timeout");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }

  // Phase 2: the processor has read the whole log (its position at or past the log's end).
  log_reader db(s.data_dir / "schakel.db");
  for (;;) {
    if (const auto p = s.caught_up(db)) {
      r.wall_s = seconds_since(clock_type::now());
      r.position = p->value("position", std::int64_t{0});
      r.log_end = db.max_seq();
      r.processed = p->value("processed", std::uint64_t{0});
      r.derived = p->value("derived", std::uint64_t{0});
      r.processor_errors = p->value("errors", std::uint64_t{0});
      break;
    }
    if (!daemon.running()) throw s.fail("the daemon exited during the run");
    if (clock_type::now() > deadline) throw s.fail("the processor did not catch up within the timeout");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  // Untimed: what was stored and derived, memory, and the phases from the daemon's own log.
  const auto rss = load::read_rss(daemon.pid());
  r.peak_rss_kib = rss.hwm;
  if (r.rss.empty() || r.rss.back().files_archived != files.size()) r.rss.push_back({files.size(), rss.rss});
  const auto stored = db.count_by_type("attendance");
  if (auto it = stored.find("nl.schakel.attendance.absence.recorded"); it != stored.end()) r.rows_stored = it->second;
  r.derived_by_type = db.count_by_type("attendance-rules");
  r.outbox_pending = static_cast<std::uint64_t>(db.scalar("SELECT COUNT(*) FROM outbox WHERE dead_at_ms IS NULL"));
  daemon.terminate();
  s.receiver->terminate();
  read_phases(s.hub_log, start_epoch, r);
  if (o.keep) r.kept_dir = s.dir.path;
  return r;
}

memory_result run_memory(const harness_options& o, const export_file& file, std::chrono::seconds after) {
  hub_session s(o, {file});
  child& daemon = *s.daemon;
  memory_result r;
  r.bytes = file.body.size();
  // Idle: the daemon started, loaded its plugins and opened the store; let its threads settle first.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  r.idle_kib = load::read_rss(daemon.pid()).rss;

  const auto t0 = clock_type::now();
  s.release({file});
  const auto deadline = t0 + o.timeout;
  std::uint64_t highest_sample = 0;
  const auto sample = [&] {
    const auto now = load::read_rss(daemon.pid());
    r.peak_kib = std::max({r.peak_kib, now.rss, now.hwm});
    if (now.rss > highest_sample) {
      highest_sample = now.rss;
      r.peak_at_s = std::chrono::duration<double>(clock_type::now() - t0).count();
    }
    return now.rss;
  };
  while (s.archived() + s.quarantined() < 1) {
    sample();
    if (!daemon.running()) throw s.fail("the daemon exited during the run");
    if (clock_type::now() > deadline) throw s.fail("the file was not archived within the timeout");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto archived_at = clock_type::now();
  r.archived_kib = std::max(highest_sample, load::read_rss(daemon.pid()).hwm);
  r.archived_s = std::chrono::duration<double>(archived_at - t0).count();
  r.quarantined = s.quarantined() > 0;
  log_reader db(s.data_dir / "schakel.db");
  while (!s.caught_up(db)) {
    sample();
    if (!daemon.running()) throw s.fail("the daemon exited during the run");
    if (clock_type::now() > deadline) throw s.fail("the processor did not catch up within the timeout");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto evaluated_at = clock_type::now();
  r.evaluated_s = std::chrono::duration<double>(evaluated_at - t0).count();
  // Memory `after` the daemon's work on the file is done: archived and evaluated by the processor.
  while (clock_type::now() < evaluated_at + after) {
    sample();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  r.after_kib = sample();
  const auto stored = db.count_by_type("attendance");
  if (auto it = stored.find("nl.schakel.attendance.absence.recorded"); it != stored.end()) r.rows_stored = it->second;
  daemon.terminate();
  s.receiver->terminate();
  if (o.keep) r.kept_dir = s.dir.path;
  return r;
}

}  // namespace schakel::attendance_bench
