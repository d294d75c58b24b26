#pragma once
/**
 * One measured run of the attendance benchmark: a fresh data dir, bin/schakel-receiver and
 * bin/schakel serve as children (attendance connector with a drop folder, attendance-rules
 * processor, one alert subscription), the export files renamed into the drop folder, and the time
 * until every file is archived and the processor has caught up with the log.
 */
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "generator.hpp"

namespace schakel::attendance_bench {

struct harness_options {
  std::filesystem::path daemon;         ///< bin/schakel
  std::filesystem::path receiver;       ///< bin/schakel-receiver
  std::filesystem::path calendar_file;  ///< the school's .ics
  std::string work_dir;                 ///< parent of the run's temp dir; "" = the system temp dir
  bool keep = false;                    ///< keep config, logs and database
  std::chrono::milliseconds poll_interval{20};
  std::chrono::milliseconds timeout{300000};  ///< per run, from the first rename
  std::string log_level = "info";             ///< info: the phase breakdown reads drop.ingested lines
};

/** Daemon memory after a number of files was archived. */
struct rss_sample {
  std::size_t files_archived = 0;
  std::uint64_t rss_kib = 0;
};

struct run_result {
  double wall_s = 0;          ///< first rename -> all archived and the processor caught up
  double all_archived_s = 0;  ///< first rename -> the last file seen in archive/
  std::size_t files = 0;
  std::size_t quarantined = 0;    ///< must be 0
  std::uint64_t rows_stored = 0;  ///< absence.recorded signals in the log
  std::uint64_t processed = 0;    ///< /v1/processors: signals handed to the rules
  std::uint64_t derived = 0;      ///< /v1/processors: derived signals committed
  std::uint64_t processor_errors = 0;
  std::int64_t position = 0, log_end = 0;  ///< processor position and max(seq) at the end
  std::map<std::string, std::uint64_t> derived_by_type;
  std::uint64_t outbox_pending = 0;  ///< alert deliveries still queued at the end (not waited for)
  std::uint64_t peak_rss_kib = 0;    ///< daemon VmHWM at the end
  std::vector<rss_sample> rss;       ///< after every 5th archived file, and at the end
  // From the daemon's log (ms after the first rename; -1 when not seen).
  double first_ingested_ms = -1, last_ingested_ms = -1, last_derived_ms = -1;
  std::size_t derived_batches = 0;     ///< processor.derived lines
  std::vector<double> ingest_gaps_ms;  ///< between consecutive drop.ingested lines
  std::filesystem::path kept_dir;      ///< set with keep
};

/** Daemon memory around one large file (the --memory mode). */
struct memory_result {
  std::size_t bytes = 0;
  std::uint64_t idle_kib = 0;      ///< VmRSS after start-up, before the file
  std::uint64_t peak_kib = 0;      ///< the highest VmRSS sampled (every 10 ms) or VmHWM, whichever is higher
  std::uint64_t after_kib = 0;     ///< VmRSS the given time after the file was archived and evaluated
  double peak_at_s = 0;            ///< rename -> the highest VmRSS sample
  std::uint64_t archived_kib = 0;  ///< the highest VmRSS sampled until the file was archived (ingest alone)
  double archived_s = 0;           ///< rename -> the file in archive/ (or quarantine/)
  double evaluated_s = 0;          ///< rename -> the processor caught up
  bool quarantined = false;
  std::uint64_t rows_stored = 0;
  std::filesystem::path kept_dir;
};

/** One large file through a fresh daemon, sampling its memory; throws like run_once. */
memory_result run_memory(const harness_options& options, const export_file& file, std::chrono::seconds after);

/** Runs once; throws std::runtime_error (with the daemon's log tail) when the run cannot complete. */
run_result run_once(const harness_options& options, const std::vector<export_file>& files);

}  // namespace schakel::attendance_bench
