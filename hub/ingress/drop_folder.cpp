#include "ingress/drop_folder.hpp"

#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <typeinfo>
#include <utility>

#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include "common/encoding.hpp"
#include "common/log.hpp"
#include "common/signal.hpp"

namespace schakel::ingress {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t read_chunk = 1u << 20;
// Bounds the ".N" search so a folder full of same-named files cannot spin forever.
constexpr int max_name_suffix = 100000;

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

bool ends_with_ci(std::string_view text, std::string_view suffix) {
  if (text.size() < suffix.size()) return false;
  return std::equal(
      suffix.begin(), suffix.end(), text.end() - static_cast<std::ptrdiff_t>(suffix.size()), [](char a, char b) {
        const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
        return lower(a) == lower(b);
      });
}

/** Closes a POSIX descriptor on scope exit. */
class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return fd_; }
  /** Closes now and reports the close error (for the written report, where close can surface EIO). */
  int close_now() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

/** Incremental SHA-256 over OpenSSL EVP; hex() gives the lowercase digest. */
class sha256 {
 public:
  sha256() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
      throw std::runtime_error("drop folder: SHA-256 initialisation failed");
  }
  void update(const char* data, std::size_t size) {
    if (EVP_DigestUpdate(ctx_.get(), data, size) != 1) throw std::runtime_error("drop folder: SHA-256 update failed");
  }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), digest, &length) != 1)
      throw std::runtime_error("drop folder: SHA-256 finalisation failed");
    return encoding::hex_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

/**
 * Opens a drop file for reading, or says why not. The scan's check of the name is not enough: the
 * entry can be swapped between the scan and the open. O_NOFOLLOW refuses a symlink, O_NONBLOCK keeps
 * a FIFO (or a device) from blocking the watcher, and so the daemon's stop, forever; the checks on the
 * opened descriptor refuse anything but a regular file with exactly one link (a hard link would let
 * whoever can write the folder feed in a file from elsewhere on the file system). On refusal returns
 * -1 with `refusal` set; on another failure -1 with `err` set.
 */
int open_drop_file(const fs::path& file, struct stat& st, std::string& refusal, int& err) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    err = errno;
    if (err == ELOOP) refusal = "a symbolic link";
    if (err == ENXIO) refusal = "not a regular file (a socket)";
    return -1;
  }
  if (::fstat(fd, &st) != 0) {
    err = errno;
    ::close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    refusal = S_ISFIFO(st.st_mode)                         ? "not a regular file (a FIFO)"
              : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "not a regular file (a device)"
              : S_ISDIR(st.st_mode)                        ? "not a regular file (a directory)"
                                                           : "not a regular file";
  } else if (st.st_nlink != 1) {
    refusal = "a file with " + std::to_string(st.st_nlink) + " hard links (exactly one is accepted)";
  }
  if (!refusal.empty()) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/** SHA-256 of a file read in chunks (for files too large to hold); empty when it cannot be read. */
std::string stream_digest(const fs::path& file) {
  struct stat st {};
  std::string refusal;
  int err = 0;
  fd_guard fd(open_drop_file(file, st, refusal, err));
  if (fd.get() < 0) return {};
  sha256 hash;
  std::string buffer(read_chunk, '\0');
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return {};
    }
    if (n == 0) break;
    hash.update(buffer.data(), static_cast<std::size_t>(n));
  }
  return hash.hex();
}

/** "export.csv" with n=2 → "export.2.csv"; "export" → "export.2"; n=0 leaves the name as it is. */
std::string with_suffix(const std::string& name, int n) {
  if (n == 0) return name;
  const auto dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return name + "." + std::to_string(n);
  return name.substr(0, dot) + "." + std::to_string(n) + name.substr(dot);
}

/** rename() that fails with EEXIST instead of replacing; returns 0 or an errno value. */
int rename_noreplace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  const int err = errno;
  if (err != EINVAL && err != ENOSYS) return err;
  // File systems without RENAME_NOREPLACE: one watcher per folder, so check-then-rename is enough.
  std::error_code ec;
  if (fs::exists(to, ec)) return EEXIST;
  return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
}

/**
 * Makes a rename in `dir` durable. Failure is tolerable: a move lost to a crash is redone on the next
 * start (the digest is already committed, so the file is only archived), hence no error is raised.
 */
void sync_dir(const fs::path& dir) {
  fd_guard fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) (void)::fsync(fd.get());
}

/** Writes `text` to `target` via a dot-named temp file, fsync'd then renamed, so it is never seen half-written. */
bool write_durably(const fs::path& target, const std::string& text, std::string& error) {
  const fs::path temp = target.parent_path() / ("." + target.filename().string() + ".tmp");
  fd_guard fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    error = "open " + temp.string() + ": " + errno_text(errno);
    return false;
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = "write " + temp.string() + ": " + errno_text(errno);
      (void)::unlink(temp.c_str());
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || fd.close_now() != 0) {
    error = "sync " + temp.string() + ": " + errno_text(errno);
    (void)::unlink(temp.c_str());
    return false;
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    error = "rename " + temp.string() + ": " + errno_text(errno);
    (void)::unlink(temp.c_str());
    return false;
  }
  return true;
}

/**
 * A kept export is readable by the hub's user only. Best effort: a file written by another user
 * stays that user's (only root may chmod it), but it lies in a 0700 folder nobody else can enter.
 */
// Called on the file before it is renamed into archive/ or quarantine/, so it is never seen there
// with the mode it arrived with. Only a regular file is changed: chmod follows a symbolic link, and
// a link dropped in the folder (symbolic or hard) must not make the hub change the mode of another
// file; the folder it lands in is 0700 either way.
void keep_private(const fs::path& file) {
  struct stat st {};
  if (::lstat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1) (void)::chmod(file.c_str(), 0600);
}

/** Regular files in `dir` whose status changed before `cutoff`, removed; how many. */
std::size_t remove_older(const fs::path& dir, std::chrono::system_clock::time_point cutoff) {
  const auto limit = std::chrono::duration_cast<std::chrono::seconds>(cutoff.time_since_epoch()).count();
  std::size_t removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (st.st_ctim.tv_sec >= limit) continue;
    if (::unlink(it->path().c_str()) == 0) ++removed;
  }
  return removed;
}

enum class read_status { ok, too_large, changed, refused, failed };

/**
 * Reads the whole file if it is still `expected_size` bytes (at most max_bytes) and stays unchanged
 * while read; a file that grows meanwhile is reported as changed and never held beyond its stat size.
 * What open_drop_file() refuses is `refused`, with the reason in `refusal`.
 */
read_status read_file(const fs::path& file, std::uintmax_t expected_size, std::uintmax_t max_bytes, std::string& body,
                      std::string& refusal, int& err) {
  struct stat before {};
  fd_guard fd(open_drop_file(file, before, refusal, err));
  if (fd.get() < 0) return refusal.empty() ? read_status::failed : read_status::refused;
  const auto size = static_cast<std::uintmax_t>(before.st_size);
  if (size > max_bytes) return read_status::too_large;
  if (size != expected_size) return read_status::changed;

  body.assign(static_cast<std::size_t>(size), '\0');
  std::size_t got = 0;
  while (got < body.size()) {
    const ssize_t n = ::read(fd.get(), body.data() + got, body.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return read_status::failed;
    }
    if (n == 0) return read_status::changed;  // truncated while read
    got += static_cast<std::size_t>(n);
  }
  char extra = 0;
  ssize_t more = 0;
  do more = ::read(fd.get(), &extra, 1);
  while (more < 0 && errno == EINTR);
  if (more != 0) return read_status::changed;  // grew while read (or a read error: try again later)
  struct stat after {};
  if (::fstat(fd.get(), &after) != 0) {
    err = errno;
    return read_status::failed;
  }
  if (after.st_size != before.st_size || after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
      after.st_mtim.tv_nsec != before.st_mtim.tv_nsec)
    return read_status::changed;
  return read_status::ok;
}

/**
 * Gives the memory of a large file back to the system. glibc keeps freed heap pages (the file's
 * bytes, the parts it was mapped into) in its arenas, and after one large free it raises its mmap
 * threshold, so the next large file is heap-allocated too; without a trim the daemon would stay at
 * its peak until the next file. A trim costs a few milliseconds, negligible next to a large file.
 */
void release_memory(std::size_t file_bytes) {
#ifdef __GLIBC__
  constexpr std::size_t trim_from = 1u << 20;
  if (file_bytes >= trim_from) (void)::malloc_trim(0);
#else
  (void)file_bytes;
#endif
}

}  // namespace

drop_folder::drop_folder(std::string instance, drop_folder_settings settings, ingest_file_fn ingest,
                         already_ingested_fn seen)
    : instance_(std::move(instance)),
      settings_(std::move(settings)),
      ingest_(std::move(ingest)),
      seen_(std::move(seen)),
      archive_dir_(settings_.dir / "archive"),
      quarantine_dir_(settings_.dir / "quarantine") {
  if (!ingest_ || !seen_) throw std::invalid_argument("drop folder '" + instance_ + "': ingest and seen are required");
  fs::create_directories(settings_.dir);
  // The watched folder is the school's to write; what the hub keeps from it is nobody else's.
  for (const auto& kept : {archive_dir_, quarantine_dir_}) {
    fs::create_directories(kept);
    fs::permissions(kept, fs::perms::owner_all);
  }
}

drop_folder::~drop_folder() {
  stop();
}

void drop_folder::start() {
  std::lock_guard lock(thread_mutex_);
  if (thread_.joinable()) return;
  // The folder is configuration, never personal data: an operator sees at once which folder is watched.
  log::info("drop.watching", {{"connector", instance_},
                              {"dir", settings_.dir.string()},
                              {"poll_interval_ms", settings_.poll_interval.count()},
                              {"settle_ms", settings_.settle.count()},
                              {"max_file_bytes", settings_.max_file_bytes}});
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void drop_folder::stop() {
  std::thread worker;
  {
    // stopping_ is set under the mutex the sleeper waits with, so the wake-up cannot be missed.
    std::lock_guard lock(thread_mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
    worker = std::move(thread_);
  }
  wake_.notify_all();
  worker.join();
  std::lock_guard lock(thread_mutex_);
  stopping_ = false;  // scan_once() stays usable after stop()
}

void drop_folder::run() {
  while (!stopping_) {
    try {
      scan_once();
    } catch (const std::exception& e) {
      // Only the exception's type: a library message could quote file content.
      log::error("drop.scan_failed",
                 {{"connector", instance_}, {"dir", settings_.dir.string()}, {"exception", typeid(e).name()}});
    }
    std::unique_lock lock(thread_mutex_);
    wake_.wait_for(lock, settings_.poll_interval, [this] { return stopping_.load(); });
  }
}

std::string drop_folder::content_type_for(const fs::path& file) {
  const std::string name = file.filename().string();
  if (ends_with_ci(name, ".csv")) return "text/csv";
  if (ends_with_ci(name, ".ndjson")) return "application/x-ndjson";
  if (ends_with_ci(name, ".json")) return "application/json";
  return "application/octet-stream";
}

bool drop_folder::is_ignored_name(const std::string& file_name) {
  if (file_name.empty() || file_name.front() == '.') return true;
  for (const char* suffix : {".tmp", ".part", ".partial", "~", ".error.json"})
    if (ends_with_ci(file_name, suffix)) return true;
  return false;
}

bool drop_folder::first_time(const char* event, const std::string& file_name) {
  return logged_once_[file_name].insert(event).second;
}

void drop_folder::forget(const std::string& file_name) {
  observed_.erase(file_name);
  logged_once_.erase(file_name);
}

std::size_t drop_folder::scan_once() {
  std::lock_guard lock(scan_mutex_);

  struct candidate {
    fs::path path;
    std::string name;
    observation obs;
  };
  std::vector<candidate> files;
  std::error_code ec;
  fs::directory_iterator it(settings_.dir, ec);
  if (ec) {
    if (!scan_failed_logged_)
      log::warn("drop.scan_failed",
                {{"connector", instance_}, {"dir", settings_.dir.string()}, {"error", ec.message()}});
    scan_failed_logged_ = true;
    dir_readable_ = false;
    return 0;
  }
  scan_failed_logged_ = false;
  dir_readable_ = true;
  for (const fs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) break;
    const fs::path& path = it->path();
    std::string name = path.filename().string();
    if (is_ignored_name(name)) continue;
    std::error_code stat_ec;
    const auto type = fs::symlink_status(path, stat_ec).type();
    if (stat_ec) continue;
    // archive/, quarantine/ and any other subfolder stay untouched.
    if (type == fs::file_type::directory) continue;
    observation obs;
    if (type != fs::file_type::regular) {
      // A symlink, FIFO, socket or device is no export: refused (and moved aside) without waiting to settle.
      obs.special = true;
      files.push_back({path, std::move(name), obs});
      continue;
    }
    obs.size = fs::file_size(path, stat_ec);
    if (stat_ec) continue;
    obs.mtime = fs::last_write_time(path, stat_ec);
    if (stat_ec) continue;
    files.push_back({path, std::move(name), obs});
  }
  if (ec) {
    log::warn("drop.scan_failed", {{"connector", instance_}, {"dir", settings_.dir.string()}, {"error", ec.message()}});
    return 0;
  }

  // Exports named by date go in date order.
  std::sort(files.begin(), files.end(), [](const candidate& a, const candidate& b) {
    if (a.name != b.name) return a.name < b.name;
    return a.obs.mtime < b.obs.mtime;
  });

  // Drop bookkeeping of files that are gone (moved away by hand, renamed by the writer).
  const auto present = [&files](const std::string& name) {
    return std::any_of(files.begin(), files.end(), [&name](const candidate& c) { return c.name == name; });
  };
  for (auto i = observed_.begin(); i != observed_.end();) i = present(i->first) ? std::next(i) : observed_.erase(i);
  for (auto i = logged_once_.begin(); i != logged_once_.end();)
    i = present(i->first) ? std::next(i) : logged_once_.erase(i);

  std::size_t moved = 0;
  const auto now = fs::file_time_type::clock::now();
  for (const candidate& file : files) {
    if (stopping_) break;
    if (settings_.settle.count() > 0 && !file.obs.special) {
      const auto previous = observed_.find(file.name);
      const bool unchanged = previous != observed_.end() && previous->second.size == file.obs.size &&
                             previous->second.mtime == file.obs.mtime;
      observed_[file.name] = file.obs;
      if (!unchanged || now - file.obs.mtime < settings_.settle) continue;
    }
    const step result = process(file.path, file.obs);
    if (result == step::moved) {
      ++moved;
      forget(file.name);
    } else if (result == step::stop_pass) {
      break;
    }
  }
  return moved;
}

drop_folder::step drop_folder::process(const fs::path& file, const observation& seen_now) {
  // Log lines name a file by its digest only: export names often hold students' names.
  const std::string name = file.filename().string();

  file_result result;
  std::string digest;
  std::string body;
  std::string refusal;
  int err = 0;
  const read_status status = read_file(file, seen_now.size, settings_.max_file_bytes, body, refusal, err);
  if (status == read_status::refused) {
    // Never read, so no digest; the report in quarantine/ names the entry for the operator.
    if (first_time("refused", name)) log::warn("drop.refused", {{"connector", instance_}, {"reason", refusal}});
    result.result = file_result::outcome::unparseable;
    result.error = "refused: " + refusal;
    if (!quarantine(file, digest, result)) return step::left;
    finished(file_outcome::kind::quarantined, result);
    return step::moved;
  }
  if (status == read_status::changed) {
    observed_.erase(name);  // still being written: needs two more quiet scans
    return step::left;
  }
  if (status == read_status::failed) {
    // No digest without the bytes; the size tells the operator which file it is.
    if (err != ENOENT && first_time("read_failed", name))
      log::warn("drop.read_failed", {{"connector", instance_}, {"bytes", seen_now.size}, {"error", errno_text(err)}});
    return step::left;
  }
  if (status == read_status::too_large) {
    body.clear();
    body.shrink_to_fit();
    digest = stream_digest(file);
    result.result = file_result::outcome::unparseable;
    result.error = "file exceeds max_file_bytes (" + std::to_string(settings_.max_file_bytes) + " bytes)";
    log::warn("drop.too_large", {{"connector", instance_},
                                 {"sha256", digest},
                                 {"bytes", seen_now.size},
                                 {"max_file_bytes", settings_.max_file_bytes}});
    if (!quarantine(file, digest, result)) return step::left;
    finished(file_outcome::kind::quarantined, result);
    return step::moved;
  }

  {
    sha256 hash;
    hash.update(body.data(), body.size());
    digest = hash.hex();
  }

  const auto started = std::chrono::steady_clock::now();
  const std::size_t bytes = body.size();
  try {
    if (seen_(digest)) {
      log::info("drop.already_ingested", {{"connector", instance_}, {"sha256", digest}});
      fs::path target;
      if (!move_to(file, digest, archive_dir_, target)) return step::left;
      finished(file_outcome::kind::duplicate, {});
      return step::moved;
    }
    if (first_time("started", name))
      log::info("drop.started", {{"connector", instance_}, {"sha256", digest}, {"bytes", bytes}});
    result = ingest_(name, std::move(body), content_type_for(file), digest);
  } catch (const std::exception& e) {
    // Whatever happened, nothing is known to be stored: keep the file. Only the type is logged,
    // because a library message could quote file content.
    result = {};
    result.result = file_result::outcome::retry_later;
    result.error = std::string("ingest threw ") + typeid(e).name();
  } catch (...) {
    result = {};
    result.result = file_result::outcome::retry_later;
    result.error = "ingest threw a non-standard exception";
  }
  release_memory(bytes);

  switch (result.result) {
    case file_result::outcome::retry_later:
      if (first_time("retry_later", name))
        log::warn("drop.retry_later", {{"connector", instance_}, {"sha256", digest}, {"error", result.error}});
      // The store is the bottleneck for every later file too, and going on would break name order.
      return step::stop_pass;
    case file_result::outcome::stored: {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      log::info("drop.ingested", {{"connector", instance_},
                                  {"sha256", digest},
                                  {"bytes", bytes},
                                  {"accepted", result.accepted},
                                  {"rejected", result.rejected.size()},
                                  {"seconds", std::round(seconds * 1000) / 1000}});
      if (result.rejected.empty()) {
        fs::path target;
        if (!move_to(file, digest, archive_dir_, target)) return step::left;
        finished(file_outcome::kind::ingested, result);
        return step::moved;
      }
      if (!quarantine(file, digest, result)) return step::left;
      finished(file_outcome::kind::quarantined, result);
      return step::moved;
    }
    case file_result::outcome::unparseable:
      log::warn("drop.unparseable", {{"connector", instance_}, {"sha256", digest}, {"error", result.error}});
      if (!quarantine(file, digest, result)) return step::left;
      finished(file_outcome::kind::quarantined, result);
      return step::moved;
  }
  return step::left;
}

purge_result drop_folder::purge(std::chrono::system_clock::time_point now) {
  // Under the scan lock: a file being moved in must not be judged by a stale time.
  std::lock_guard lock(scan_mutex_);
  const auto cutoff = now - settings_.retention;
  purge_result removed{remove_older(archive_dir_, cutoff), remove_older(quarantine_dir_, cutoff)};
  if (removed.archive > 0 || removed.quarantine > 0) {
    sync_dir(archive_dir_);
    sync_dir(quarantine_dir_);
    log::info("drop.purged", {{"connector", instance_},
                              {"archive", removed.archive},
                              {"quarantine", removed.quarantine},
                              {"retention_days", settings_.retention.count() / 24}});
  }
  return removed;
}

void drop_folder::finished(file_outcome::kind what, const file_result& result) {
  if (!settings_.on_finished) return;
  file_outcome o;
  o.what = what;
  o.rows_accepted = result.accepted;
  std::set<std::int64_t> records;
  for (const auto& r : result.rejected) records.insert(r.index);
  o.rows_rejected = records.size();
  try {
    settings_.on_finished(o);
  } catch (...) {
    // Metrics only: the file is already where it belongs.
  }
}

bool drop_folder::move_to(const fs::path& file, const std::string& digest, const fs::path& target_dir,
                          fs::path& moved_to) {
  const std::string name = file.filename().string();
  for (int n = 0; n < max_name_suffix; ++n) {
    const fs::path target = target_dir / with_suffix(name, n);
    keep_private(file);
    const int rc = rename_noreplace(file, target);
    if (rc == EEXIST) continue;
    if (rc != 0) {
      if (first_time("move_failed", name))
        log::error(
            "drop.move_failed",
            {{"connector", instance_}, {"sha256", digest}, {"to", target_dir.string()}, {"error", errno_text(rc)}});
      return false;
    }
    sync_dir(target_dir);
    moved_to = target;
    return true;
  }
  if (first_time("move_failed", name))
    log::error("drop.move_failed",
               {{"connector", instance_}, {"sha256", digest}, {"to", target_dir.string()}, {"error", "no free name"}});
  return false;
}

int drop_folder::keep_redacted(const fs::path& file, const fs::path& target) {
  std::string body, refusal;
  int err = 0;
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  // A file too large to read stays as it is: it was never read, so nothing in it was refused. So
  // does what is no regular file (a FIFO, a link): it is moved unread, never opened for reading.
  if (!settings_.redact || ec ||
      read_file(file, size, settings_.max_file_bytes, body, refusal, err) != read_status::ok) {
    keep_private(file);
    return rename_noreplace(file, target);
  }
  if (fs::exists(target, ec)) return EEXIST;
  std::string error;
  if (!write_durably(target, settings_.redact(std::move(body)), error)) return EIO;
  if (::unlink(file.c_str()) == 0 || errno == ENOENT) return 0;
  const int unlink_error = errno;
  // The original stays and is offered again; one kept copy of it is enough.
  (void)::unlink(target.c_str());
  return unlink_error;
}

bool drop_folder::quarantine(const fs::path& file, const std::string& digest, const file_result& result) {
  const std::string name = file.filename().string();

  nlohmann::json rejected = nlohmann::json::array();
  for (const auto& r : result.rejected)
    rejected.push_back({{"line", r.index}, {"field", r.field}, {"reason", r.reason}});
  std::string error = result.error;
  if (error.empty()) {
    const std::size_t k = result.rejected.size();
    error = std::to_string(k) + (k == 1 ? " line rejected" : " lines rejected");
  }
  // The report lies next to the file, in the folder the school already trusts with the name.
  const nlohmann::json report = {{"file", name},
                                 {"instance", instance_},
                                 {"sha256", digest},
                                 {"received_at", format_rfc3339(now_ms())},
                                 {"accepted", result.accepted},
                                 {"rejected", std::move(rejected)},
                                 {"error", error}};
  const std::string text = report.dump(2) + "\n";

  for (int n = 0; n < max_name_suffix; ++n) {
    const std::string target_name = with_suffix(name, n);
    const fs::path target = quarantine_dir_ / target_name;
    const fs::path report_path = quarantine_dir_ / (target_name + ".error.json");
    std::error_code ec;
    if (fs::exists(target, ec) || fs::exists(report_path, ec)) continue;

    // The report lands first, so a quarantined file is never without its reason (but see
    // docs/drop-folder.md for a crash between the store commit and this point).
    std::string write_error;
    if (!write_durably(report_path, text, write_error)) {
      // write_error names the report's path, which holds the file's name: the digest stands for it.
      log::error("drop.report_failed", {{"connector", instance_}, {"sha256", digest}});
    }
    const int rc = keep_redacted(file, target);
    if (rc == EEXIST) {
      (void)::unlink(report_path.c_str());
      continue;
    }
    if (rc != 0) {
      (void)::unlink(report_path.c_str());
      if (first_time("move_failed", name))
        log::error("drop.move_failed", {{"connector", instance_},
                                        {"sha256", digest},
                                        {"to", quarantine_dir_.string()},
                                        {"error", errno_text(rc)}});
      return false;
    }
    sync_dir(quarantine_dir_);
    log::warn("drop.quarantined", {{"connector", instance_},
                                   {"sha256", digest},
                                   {"accepted", result.accepted},
                                   {"rejected", result.rejected.size()},
                                   {"error", error}});
    return true;
  }
  if (first_time("move_failed", name))
    log::error(
        "drop.move_failed",
        {{"connector", instance_}, {"sha256", digest}, {"to", quarantine_dir_.string()}, {"error", "no free name"}});
  return false;
}

}  // namespace schakel::ingress
