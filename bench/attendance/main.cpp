// schakel-attendance-bench: one school's year of absence registrations through the drop folder —
// time to ingest and evaluate (attendance connector + attendance-rules processor) and daemon memory.
// See docs/performance.md, "Attendance: one school's year through the drop folder".
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "generator.hpp"
#include "harness.hpp"

namespace fs = std::filesystem;
using namespace schakel::attendance_bench;

namespace {

struct options {
  std::uint64_t seed = 20262027;
  int students = 1500;
  int classes = 60;
  int runs = 5;
  bool single = false;
  bool daily = false;
  bool memory = false;
  double memory_mib = 16;
  int after_s = 30;
  bool json = false;
  std::string generate_only;
  std::string daemon, receiver, calendar = SCHAKEL_EXAMPLE_CALENDAR;
  std::string work_dir;
  bool keep = false;
  int poll_ms = 20;
  double timeout_s = 300;
};

std::string fmt(double v, int prec = 2) {
  std::ostringstream ss;
  ss << std::fixed << std::setprecision(prec) << v;
  return ss.str();
}

double mib(std::uint64_t kib) {
  return static_cast<double>(kib) / 1024.0;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct spread {
  double median = 0, min = 0, max = 0;
};

spread spread_of(const std::vector<double>& v) {
  if (v.empty()) return {};
  return {median(v), *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end())};
}

nlohmann::json to_json(const spread& s) {
  return {{"median", s.median}, {"min", s.min}, {"max", s.max}};
}

/**
 * One export of `mib` MiB: the year of as many students as it takes, cut at the last whole row
 * that fits (rows are in date order, so the file is what a school would export for a period).
 */
export_file sized_export(const options& o, const schakel::calendar::school_calendar& cal, double mib_wanted) {
  const auto target = static_cast<std::size_t>(mib_wanted * 1024 * 1024);
  year_options yo;
  yo.seed = o.seed;
  yo.classes = o.classes;
  yo.students = o.students;
  export_file f = single_export(generate_year(yo, cal));
  if (f.body.size() < target) {
    yo.students = static_cast<int>(static_cast<double>(yo.students) * static_cast<double>(target) /
                                   static_cast<double>(f.body.size()) * 1.05) +
                  1;
    f = single_export(generate_year(yo, cal));
  }
  if (f.body.size() > target) f.body.resize(f.body.rfind('\n', target - 1) + 1);
  return f;
}

int run_memory_mode(const options& o, const schakel::calendar::school_calendar& cal, const harness_options& h) {
  const export_file file = sized_export(o, cal, o.memory_mib);
  const auto rows = static_cast<std::uint64_t>(std::count(file.body.begin(), file.body.end(), '\n') - 1);
  std::ostream& human = o.json ? std::cerr : std::cout;
  human << "schakel-attendance-bench --memory: one export of " << file.body.size() << " bytes ("
        << fmt(static_cast<double>(file.body.size()) / 1048576.0, 2) << " MiB), " << rows << " rows; " << o.runs
        << " run(s), RSS " << o.after_s << " s after the file was archived and evaluated\n";
  std::vector<double> idle, peak, growth, after, archived, ingest_growth;
  bool ok = true;
  for (int i = 0; i < o.runs; ++i) {
    const memory_result r = run_memory(h, file, std::chrono::seconds(o.after_s));
    idle.push_back(mib(r.idle_kib));
    peak.push_back(mib(r.peak_kib));
    growth.push_back(mib(r.peak_kib) - mib(r.idle_kib));
    after.push_back(mib(r.after_kib));
    archived.push_back(r.archived_s);
    ok = ok && !r.quarantined && r.rows_stored == rows;
    human << "  run " << i + 1 << ": idle " << fmt(mib(r.idle_kib), 1) << " MiB, peak " << fmt(mib(r.peak_kib), 1)
          << " MiB (+" << fmt(mib(r.peak_kib) - mib(r.idle_kib), 1) << "), " << o.after_s << " s after "
          << fmt(mib(r.after_kib), 1) << " MiB; archived at " << fmt(r.archived_s) << " s, evaluated at "
          << fmt(r.evaluated_s) << " s, " << r.rows_stored << " rows stored" << (r.quarantined ? ", QUARANTINED" : "")
          << "\n    peak until archived (ingest alone) " << fmt(mib(r.archived_kib), 1) << " MiB (+"
          << fmt(mib(r.archived_kib) - mib(r.idle_kib), 1) << "); highest sample at " << fmt(r.peak_at_s) << " s\n";
    ingest_growth.push_back(mib(r.archived_kib) - mib(r.idle_kib));
    if (!r.kept_dir.empty()) human << "    kept in " << r.kept_dir.string() << "\n";
  }
  human << "  median: idle " << fmt(median(idle), 1) << " MiB, peak " << fmt(median(peak), 1) << " MiB, peak - idle "
        << fmt(median(growth), 1) << " MiB (until archived " << fmt(median(ingest_growth), 1) << " MiB), after "
        << fmt(median(after), 1) << " MiB, archived at " << fmt(median(archived)) << " s\n";
  human << "  check: " << (ok ? "every row stored, nothing quarantined" : "FAILED") << "\n";
  if (o.json)
    std::cout << nlohmann::json{{"scenario", "memory"},
                                {"bytes", file.body.size()},
                                {"rows", rows},
                                {"idle_mib", to_json(spread_of(idle))},
                                {"peak_mib", to_json(spread_of(peak))},
                                {"peak_minus_idle_mib", to_json(spread_of(growth))},
                                {"ingest_peak_minus_idle_mib", to_json(spread_of(ingest_growth))},
                                {"after_mib", to_json(spread_of(after))},
                                {"after_s", o.after_s},
                                {"archived_s", to_json(spread_of(archived))},
                                {"ok", ok}}
                     .dump()
              << "\n";
  return ok ? 0 : 1;
}

harness_options harness_from(const options& o) {
  const fs::path bin_dir = fs::read_symlink("/proc/self/exe").parent_path();
  harness_options h;
  h.daemon = o.daemon.empty() ? bin_dir / "schakel" : fs::path(o.daemon);
  h.receiver = o.receiver.empty() ? bin_dir / "schakel-receiver" : fs::path(o.receiver);
  h.calendar_file = fs::absolute(o.calendar);
  h.work_dir = o.work_dir;
  h.keep = o.keep;
  h.poll_interval = std::chrono::milliseconds(o.poll_ms);
  h.timeout = std::chrono::milliseconds(std::llround(o.timeout_s * 1000));
  return h;
}

int run(const options& o) {
  schakel::calendar::school_calendar cal;
  schakel::calendar::load_calendar_file(o.calendar, cal);
  year_options yo;
  yo.seed = o.seed;
  yo.students = o.students;
  yo.classes = o.classes;
  if (o.memory) return run_memory_mode(o, cal, harness_from(o));
  const year y = generate_year(yo, cal);
  const std::vector<export_file> files = o.single  ? std::vector<export_file>{single_export(y)}
                                         : o.daily ? daily_exports(y)
                                                   : weekly_exports(y);
  const std::string scenario = o.single ? "single" : o.daily ? "daily" : "weekly";
  std::size_t bytes = 0;
  for (const auto& f : files) bytes += f.body.size();
  std::size_t truants = 0, long_sick = 0;
  for (const auto& s : y.students) {
    truants += s.chronic_truant;
    long_sick += s.long_sick;
  }

  std::ostream& human = o.json ? std::cerr : std::cout;
  human << "schakel-attendance-bench: " << y.students.size() << " students in " << o.classes << " classes, "
        << y.school_days.size() << " school days (" << schakel::calendar::format_date(y.school_days.front()) << " .. "
        << schakel::calendar::format_date(y.school_days.back()) << ", " << fs::path(o.calendar).filename().string()
        << "), seed " << o.seed << "\n";
  human << "  " << y.rows.size() << " rows (";
  bool first = true;
  for (const auto& [code, n] : y.rows_by_code()) {
    human << (first ? "" : ", ") << code << " " << n;
    first = false;
  }
  human << "); " << truants << " chronic truants, " << long_sick << " long sick spells\n";
  human << "  " << (o.single ? "one file" : std::to_string(files.size()) + " " + scenario + " files") << ", "
        << fmt(static_cast<double>(bytes) / 1024.0, 0) << " KiB\n";

  if (!o.generate_only.empty()) {
    fs::create_directories(o.generate_only);
    for (const auto& f : files) std::ofstream(fs::path(o.generate_only) / f.name, std::ios::binary) << f.body;
    human << "  written to " << o.generate_only << "\n";
    return 0;
  }

  const harness_options h = harness_from(o);
  human << "  drop folder poll_interval " << o.poll_ms << " ms, settle 0 ms (files are renamed in whole); " << o.runs
        << " run(s), each from a clean data dir\n";

  std::vector<run_result> results;
  for (int i = 0; i < o.runs; ++i) {
    run_result r = run_once(h, files);
    human << "  run " << i + 1 << ": " << fmt(r.wall_s, 2) << " s (all archived at " << fmt(r.all_archived_s, 2)
          << " s), " << r.rows_stored << " rows stored, " << fmt(static_cast<double>(r.rows_stored) / r.wall_s, 0)
          << " rows/s, " << r.derived << " derived, peak RSS " << fmt(mib(r.peak_rss_kib), 1) << " MiB";
    if (r.quarantined) human << ", " << r.quarantined << " QUARANTINED";
    if (r.processor_errors) human << ", " << r.processor_errors << " processor ERRORS";
    human << "\n    RSS (MiB) after files archived:";
    for (const auto& s : r.rss) human << " " << s.files_archived << ":" << fmt(mib(s.rss_kib), 1);
    human << "\n    daemon log: first file ingested at " << fmt(r.first_ingested_ms / 1000, 2) << " s, last at "
          << fmt(r.last_ingested_ms / 1000, 2) << " s, last processor.derived at " << fmt(r.last_derived_ms / 1000, 2)
          << " s (" << r.derived_batches << " derived batches)";
    if (!r.ingest_gaps_ms.empty())
      human << "; per file " << fmt(median(r.ingest_gaps_ms), 0) << " ms median, "
            << fmt(*std::max_element(r.ingest_gaps_ms.begin(), r.ingest_gaps_ms.end()), 0) << " ms max";
    human << "\n";
    if (!r.kept_dir.empty()) human << "    kept in " << r.kept_dir.string() << "\n";
    results.push_back(std::move(r));
  }

  std::vector<double> wall, archived, rps, peak;
  for (const auto& r : results) {
    wall.push_back(r.wall_s);
    archived.push_back(r.all_archived_s);
    rps.push_back(static_cast<double>(r.rows_stored) / r.wall_s);
    peak.push_back(mib(r.peak_rss_kib));
  }
  const auto w = spread_of(wall), a = spread_of(archived), t = spread_of(rps), m = spread_of(peak);
  const auto& last = results.back();
  bool ok = true;
  for (const auto& r : results)
    ok = ok && r.quarantined == 0 && r.processor_errors == 0 && r.rows_stored == y.rows.size();

  human << "  wall time (first rename -> all archived and evaluated): median " << fmt(w.median) << " s (min "
        << fmt(w.min) << ", max " << fmt(w.max) << ")\n";
  human << "  all files archived:                  median " << fmt(a.median) << " s (min " << fmt(a.min) << ", max "
        << fmt(a.max) << ")\n";
  human << "  rows/s:                              median " << fmt(t.median, 0) << " (min " << fmt(t.min, 0) << ", max "
        << fmt(t.max, 0) << ")\n";
  human << "  daemon peak RSS (VmHWM):             median " << fmt(m.median, 1) << " MiB (min " << fmt(m.min, 1)
        << ", max " << fmt(m.max, 1) << ")\n";
  human << "  derived signals:";
  for (const auto& [type, n] : last.derived_by_type) human << " " << type << " " << n << ";";
  human << " alert deliveries still queued at the end " << last.outbox_pending << "\n";
  human << "  check: " << (ok ? "every row stored, nothing quarantined, no processor errors" : "FAILED") << "\n";

  if (o.json) {
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& r : results) {
      nlohmann::json series = nlohmann::json::array();
      for (const auto& s : r.rss) series.push_back({{"files_archived", s.files_archived}, {"rss_mib", mib(s.rss_kib)}});
      runs.push_back({{"wall_s", r.wall_s},
                      {"all_archived_s", r.all_archived_s},
                      {"rows_stored", r.rows_stored},
                      {"rows_per_s", static_cast<double>(r.rows_stored) / r.wall_s},
                      {"processed", r.processed},
                      {"derived", r.derived},
                      {"derived_by_type", r.derived_by_type},
                      {"processor_errors", r.processor_errors},
                      {"quarantined", r.quarantined},
                      {"position", r.position},
                      {"log_end", r.log_end},
                      {"peak_rss_mib", mib(r.peak_rss_kib)},
                      {"rss_after_files", series},
                      {"log_first_ingested_s", r.first_ingested_ms / 1000},
                      {"log_last_ingested_s", r.last_ingested_ms / 1000},
                      {"log_last_derived_s", r.last_derived_ms / 1000},
                      {"derived_batches", r.derived_batches},
                      {"outbox_pending", r.outbox_pending}});
    }
    nlohmann::json codes = nlohmann::json::object();
    for (const auto& [code, n] : y.rows_by_code()) codes[code] = n;
    std::cout << nlohmann::json{{"scenario", scenario},
                                {"seed", o.seed},
                                {"students", y.students.size()},
                                {"school_days", y.school_days.size()},
                                {"rows", y.rows.size()},
                                {"rows_by_code", codes},
                                {"files", files.size()},
                                {"bytes", bytes},
                                {"poll_interval_ms", o.poll_ms},
                                {"runs", runs},
                                {"wall_s", to_json(w)},
                                {"all_archived_s", to_json(a)},
                                {"rows_per_s", to_json(t)},
                                {"peak_rss_mib", to_json(m)},
                                {"ok", ok}}
                     .dump()
              << "\n";
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"schakel-attendance-bench: one school's year of absences through the drop folder"};
  app.add_option("--seed", o.seed, "generator seed (same seed, same files)")->capture_default_str();
  app.add_option("--students", o.students, "students in the school")->capture_default_str();
  app.add_option("--classes", o.classes, "classes, spread over leerjaar 1-6")->capture_default_str();
  app.add_option("--runs", o.runs, "measured runs, each from a clean data dir")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_flag("--single", o.single, "the whole year as one file instead of weekly exports");
  app.add_flag("--daily", o.daily, "one file per school day instead of weekly exports")->excludes("--single");
  app.add_flag("--memory", o.memory,
               "daemon memory for one large export: RSS idle, at its peak and --after seconds after the file")
      ->excludes("--single")
      ->excludes("--daily");
  app.add_option("--memory-mib", o.memory_mib, "the export's size in MiB for --memory")->capture_default_str();
  app.add_option("--after", o.after_s, "seconds after the file was archived and evaluated to read RSS again (--memory)")
      ->capture_default_str();
  app.add_flag("--json", o.json, "one JSON result line on stdout (the human report goes to stderr)");
  app.add_option("--generate-only", o.generate_only, "write the export files into this folder and exit");
  app.add_option("--calendar", o.calendar, "the school's calendar (.ics or .csv)")->capture_default_str();
  app.add_option("--daemon", o.daemon, "bin/schakel (default: next to this program)");
  app.add_option("--receiver", o.receiver, "bin/schakel-receiver (default: next to this program)");
  app.add_option("--work-dir", o.work_dir, "put the runs' temp dirs (data, drop folder) under this folder");
  app.add_flag("--keep", o.keep, "keep each run's config, logs, drop folder and database");
  app.add_option("--poll-interval-ms", o.poll_ms, "the drop folder's poll_interval")->capture_default_str();
  app.add_option("--timeout", o.timeout_s, "seconds per run before giving up")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::cerr << "schakel-attendance-bench: " << e.what() << "\n";
    return 2;
  }
}
