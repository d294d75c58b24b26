#pragma once
/**
 * Drop-folder ingress: a watched directory per connector instance. Each settled file is handed to the
 * daemon as one unit (one ingest call, one transaction) and then moved to `archive/` (all stored) or
 * `quarantine/` (some or all of it rejected, with a `<name>.error.json` report next to it). Both
 * folders are the hub user's alone (0700, files 0600) and emptied after a retention period.
 *
 * Ingress never interprets the bytes; it only decides when a file is complete, computes its SHA-256 so
 * the daemon can make ingestion idempotent across crashes, and moves it afterwards. Rules and the
 * writer convention are documented in docs/drop-folder.md.
 */
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "plugin_host/plugin_host.hpp"

namespace schakel::ingress {

/** How one file left the folder, for the daemon's metrics; names no file. */
struct file_outcome {
  /** ingested: archived; quarantined: some or all of it refused; duplicate: its digest was already committed. */
  enum class kind { ingested, quarantined, duplicate };
  kind what = kind::ingested;
  std::size_t rows_accepted = 0;  ///< signals committed from this file now
  std::size_t rows_rejected = 0;  ///< distinct records refused
};
using file_outcome_fn = std::function<void(const file_outcome&)>;

struct drop_folder_settings {
  /** Watched folder; created (with archive/ and quarantine/) if missing. */
  std::filesystem::path dir;
  std::chrono::milliseconds poll_interval{1000};
  /**
   * A file is read only when its size and mtime were unchanged over two scans AND its mtime is at
   * least `settle` old. Zero turns the check off: every visible file is read at once, which is right
   * only when all writers follow the temp-name-then-rename convention.
   */
  std::chrono::milliseconds settle{2000};
  /** Larger files are quarantined with a reason, never read whole. */
  std::uintmax_t max_file_bytes = 16ull << 20;
  /** Called once per file after it was moved out of the folder (may be empty). */
  file_outcome_fn on_finished;
  /** How long archived and quarantined files are kept (purge()). */
  std::chrono::hours retention{14 * 24};
  /**
   * Applied to a quarantined file's bytes before they are kept (may be empty: kept as they are). The
   * daemon masks every BSN, so a refused BSN is not kept in the clear for the school to look at.
   */
  std::function<std::string(std::string)> redact;
};

/** What one purge() removed. */
struct purge_result {
  std::size_t archive = 0;     ///< files removed from archive/
  std::size_t quarantine = 0;  ///< files (exports and their reports) removed from quarantine/
};

/** What the daemon did with one file. */
struct file_result {
  /** retry_later: store unavailable or back-pressure; the file stays and is offered again later. */
  enum class outcome { stored, unparseable, retry_later };
  outcome result = outcome::stored;
  std::size_t accepted = 0;                      ///< signals stored from this file
  std::vector<plugin_host::rejection> rejected;  ///< per line/record; good lines are stored regardless
  std::string error;                             ///< for unparseable / retry_later; never record content
};

/**
 * Ingests one file's bytes as one unit, blocking until durable. `digest` is the lowercase hex SHA-256 of
 * the bytes; the daemon commits it in the same transaction as the signals, so `already_ingested(digest)`
 * is true after a crash that happened between the commit and the move. An exception thrown here is
 * treated like retry_later (the file stays; logged once).
 */
using ingest_file_fn = std::function<file_result(const std::string& file_name, std::string body,
                                                 const std::string& content_type, const std::string& digest)>;
/** True when a file with this digest was already committed. Called on the scanning thread. */
using already_ingested_fn = std::function<bool(const std::string& digest)>;

/**
 * Watches one folder. scan_once() and the background thread serialise on one mutex, so at most one
 * file of this folder is in flight at a time; `ingest` and `seen` are only called from there.
 * One drop_folder per directory: two watchers of the same folder would race on the moves.
 */
class drop_folder {
 public:
  /**
   * Creates `settings.dir`, `archive/` and `quarantine/` when missing, and makes the latter two 0700;
   * throws
   * std::filesystem::filesystem_error (naming the path) when that fails, std::invalid_argument when
   * `ingest` or `seen` is empty.
   */
  drop_folder(std::string instance, drop_folder_settings settings, ingest_file_fn ingest, already_ingested_fn seen);
  /** Stops the thread (see stop()). */
  ~drop_folder();
  drop_folder(const drop_folder&) = delete;
  drop_folder& operator=(const drop_folder&) = delete;

  /** Starts the own thread: scan, sleep poll_interval (interruptible by stop), repeat. No-op if running. */
  void start();
  /** Returns after the file in flight (if any) is finished; files not yet begun wait for the next start. */
  void stop();
  /** False while the last scan could not list the folder (gone, not a directory, no permission). */
  bool dir_readable() const { return dir_readable_.load(); }
  /** One scan pass on the caller's thread (tests); returns how many files were moved. */
  std::size_t scan_once();
  /**
   * Removes the files in archive/ and quarantine/ that went there longer than `retention` before
   * `now` (by their status-change time, which the move sets and a writer cannot back-date). The
   * caller runs it periodically and audits what it removed. Waits for the file in flight.
   */
  purge_result purge(std::chrono::system_clock::time_point now);
  /**
   * Content type from the extension (case-insensitive): .csv text/csv, .json application/json,
   * .ndjson application/x-ndjson, else application/octet-stream.
   */
  static std::string content_type_for(const std::filesystem::path& file);
  /** True for names the scanner never reads: dot files, *.tmp, *.part, *.partial, *~, *.error.json. */
  static bool is_ignored_name(const std::string& file_name);

 private:
  struct observation {
    std::uintmax_t size = 0;
    std::filesystem::file_time_type mtime;
    bool special = false;  ///< not a regular file when listed (symlink, FIFO, ...): refused, never read
  };
  enum class step { moved, left, stop_pass };

  void run();
  step process(const std::filesystem::path& file, const observation& seen_now);
  bool move_to(const std::filesystem::path& file, const std::string& digest, const std::filesystem::path& target_dir,
               std::filesystem::path& moved_to);
  bool quarantine(const std::filesystem::path& file, const std::string& digest, const file_result& result);
  /** Puts `file` at `target` (0600) with settings_.redact applied; 0 or an errno value (EEXIST: name taken). */
  int keep_redacted(const std::filesystem::path& file, const std::filesystem::path& target);
  void finished(file_outcome::kind what, const file_result& result);
  /** True the first time `event` is seen for `file_name` since the file was last forgotten. */
  bool first_time(const char* event, const std::string& file_name);
  void forget(const std::string& file_name);

  std::string instance_;
  drop_folder_settings settings_;
  ingest_file_fn ingest_;
  already_ingested_fn seen_;
  std::filesystem::path archive_dir_;
  std::filesystem::path quarantine_dir_;

  std::mutex scan_mutex_;                                     // one pass at a time; guards the members below
  std::map<std::string, observation> observed_;               // last scan's size+mtime per file name
  std::map<std::string, std::set<std::string>> logged_once_;  // file name → events already logged
  bool scan_failed_logged_ = false;
  std::atomic<bool> dir_readable_{true};

  std::mutex thread_mutex_;  // guards thread_, stopping_
  std::condition_variable wake_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

}  // namespace schakel::ingress
