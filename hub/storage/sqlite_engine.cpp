// The embedded engine's core: one SQLite file in WAL mode, one store thread owning the write connection
// and folding every queued job into one transaction (group commit), a mutex-guarded read connection for
// the blocking reads, and one reader thread that runs the completion forms of the reads on that connection.
// Each role's operations are in sqlite_<role>.cpp. Design and durability promise:
// docs/storage.md.

#include <algorithm>
#include <exception>
#include <future>

#include "storage/sqlite_engine.hpp"

namespace schakel::storage::detail {

sqlite_store::sqlite_store(sqlite_options options) : options_(std::move(options)) {
  if (options_.max_batch_jobs == 0) options_.max_batch_jobs = 1;
  open_or_throw();
  thread_ = std::thread([this] { loop(); });
  reader_thread_ = std::thread([this] { reader_loop(); });
}

sqlite_store::~sqlite_store() {
  close();
}

void sqlite_store::close() {
  {
    std::lock_guard lock(queue_mu_);
    closing_ = true;
  }
  queue_cv_.notify_all();
  // From a completion (the store thread itself) we can only ask; the owner's close/destructor joins.
  if (std::this_thread::get_id() == store_thread_id_.load()) return;
  std::lock_guard lock(join_mu_);
  if (thread_.joinable()) thread_.join();
  stop_reader();
  {
    std::lock_guard rl(reader_mu_);
    reader_.close();
  }
  if (writer_.is_open()) {
    writer_.close();
    log::info("storage.closed", {{"path", options_.path}});
  }
}

store_stats sqlite_store::stats() {
  store_stats s;
  s.commits = commits_.load();
  s.jobs = jobs_.load();
  s.failed_jobs = failed_jobs_.load();
  s.largest_group = largest_group_.load();
  std::lock_guard lock(queue_mu_);
  s.queued_jobs = queue_.size();
  return s;
}

std::function<void(std::error_code)> sqlite_store::wrap(done_fn done) {
  return [done = std::move(done)](std::error_code ec) {
    if (done) done(ec);
  };
}

void sqlite_store::enqueue(job j) {
  {
    std::lock_guard lock(queue_mu_);
    if (!closing_) {
      queue_.push_back(std::move(j));
      queue_cv_.notify_one();
      return;
    }
  }
  // After close there is no store thread: complete on the caller's thread.
  if (j.finish) j.finish(storage_errc::closed);
}

/** Runs one job through the queue and waits; on the store thread itself, runs it in place. */
std::error_code sqlite_store::run_sync(job j) {
  if (std::this_thread::get_id() == store_thread_id_.load()) {
    std::error_code result;
    j.finish = [&result](std::error_code ec) { result = ec; };
    std::vector<job> one;
    one.push_back(std::move(j));
    run_group(one);
    return result;
  }
  std::promise<std::error_code> done;
  auto fut = done.get_future();
  j.finish = [&done](std::error_code ec) { done.set_value(ec); };
  enqueue(std::move(j));
  return fut.get();
}

void sqlite_store::read_later(const char* kind, std::function<void()> read) {
  {
    std::lock_guard lock(reads_mu_);
    if (!reads_closing_) {
      reads_.emplace_back(kind, std::move(read));
      reads_cv_.notify_one();
      return;
    }
  }
  read();
}

/**
 * The reader thread. Reads are not jobs of the store thread: they would sit inside the group's write
 * transaction (delaying its commit by the time a large list takes, and seeing work not yet committed),
 * and the store thread is the one writer. WAL lets this connection read beside the writer.
 */
void sqlite_store::reader_loop() {
  reader_thread_id_ = std::this_thread::get_id();
  for (;;) {
    std::pair<const char*, std::function<void()>> next;
    {
      std::unique_lock lock(reads_mu_);
      reads_cv_.wait(lock, [this] { return !reads_.empty() || reads_closing_; });
      if (reads_.empty()) return;  // closing and drained
      next = std::move(reads_.front());
      reads_.pop_front();
    }
    try {
      next.second();
    } catch (const std::exception& e) {
      log::error("storage.completion_threw", {{"op", next.first}, {"what", e.what()}});
    } catch (...) {
      log::error("storage.completion_threw", {{"op", next.first}});
    }
  }
}

/** Runs the reads already asked for, then stops the reader thread (not from the reader thread itself). */
void sqlite_store::stop_reader() {
  {
    std::lock_guard lock(reads_mu_);
    reads_closing_ = true;
  }
  reads_cv_.notify_all();
  if (std::this_thread::get_id() != reader_thread_id_.load() && reader_thread_.joinable()) reader_thread_.join();
}

void sqlite_store::loop() {
  store_thread_id_ = std::this_thread::get_id();
  std::vector<job> group;
  for (;;) {
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return !queue_.empty() || closing_; });
      if (queue_.empty()) break;  // closing and drained
      const auto n = std::min(queue_.size(), options_.max_batch_jobs);
      group.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    run_group(group);
    group.clear();
  }
}

/**
 * The group commit: every job in its own savepoint inside one transaction, one COMMIT (one fsync)
 * for all, then the completions. A failing job rolls back to its savepoint and fails alone. If
 * SQLite itself aborted the transaction (I/O error, disk full), the jobs already run in it are lost
 * too and fail with the same error; the rest start a new transaction.
 */
void sqlite_store::run_group(std::vector<job>& group) {
  const std::size_t n = group.size();
  std::vector<std::error_code> results(n);
  std::vector<effects> fx(n);
  std::size_t txn_start = 0;
  bool in_txn = false;

  auto fail_since = [&](std::size_t from, std::size_t to, std::error_code ec) {
    for (std::size_t j = to; j-- > from;) {
      if (!results[j]) {
        results[j] = ec;
        fx[j].roll_back();
      }
    }
  };

  for (std::size_t i = 0; i < n; ++i) {
    if (!in_txn) {
      const int rc = writer_.exec("BEGIN IMMEDIATE");
      if (rc != SQLITE_OK) {
        results[i] = from_sqlite(rc);
        fx[i].detail = writer_.last_error();
        continue;
      }
      in_txn = true;
      txn_start = i;
    }
    std::error_code ec;
    int rc = writer_.exec("SAVEPOINT job");
    if (rc != SQLITE_OK) {
      ec = from_sqlite(rc);
    } else {
      try {
        ec = group[i].run(fx[i]);
      } catch (const std::exception& e) {
        ec = storage_errc::internal;
        fx[i].detail = e.what();
      }
      if (!ec && (rc = writer_.exec("RELEASE job")) != SQLITE_OK) ec = from_sqlite(rc);
    }
    if (!ec) continue;

    if (fx[i].detail.empty()) fx[i].detail = writer_.last_error();
    results[i] = ec;
    fx[i].roll_back();
    if (writer_.in_transaction()) {
      writer_.exec("ROLLBACK TO job");
      writer_.exec("RELEASE job");
    }
    if (!writer_.in_transaction()) {
      fail_since(txn_start, i, ec);
      in_txn = false;
    }
  }

  if (in_txn) {
    const int rc = writer_.exec("COMMIT");
    if (rc != SQLITE_OK) {
      const auto ec = from_sqlite(rc);
      log::error("storage.commit_failed",
                 {{"error", ec.message()}, {"engine", writer_.last_error()}, {"jobs", n - txn_start}});
      if (writer_.in_transaction()) writer_.exec("ROLLBACK");
      fail_since(txn_start, n, ec);
    } else {
      commits_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // Counters move only for work that is on disk, before completions so callers see them updated.
  for (std::size_t i = 0; i < n; ++i) {
    if (results[i]) continue;
    for (const auto& [sub, delta] : fx[i].depth) add_depth(sub, delta);
    signal_count_.fetch_add(fx[i].signals, std::memory_order_relaxed);
  }
  jobs_.fetch_add(n, std::memory_order_relaxed);
  auto largest = largest_group_.load();
  while (n > largest && !largest_group_.compare_exchange_weak(largest, n)) {
  }

  for (std::size_t i = 0; i < n; ++i) {
    if (results[i]) {
      failed_jobs_.fetch_add(1, std::memory_order_relaxed);
      // not_found is an expected answer (e.g. a replay of an unknown id), not an engine problem.
      if (results[i] != storage_errc::not_found)
        log::warn("storage.job_failed",
                  {{"op", group[i].kind}, {"error", results[i].message()}, {"engine", fx[i].detail}});
    }
    if (!group[i].finish) continue;
    try {
      group[i].finish(results[i]);
    } catch (const std::exception& e) {
      log::error("storage.completion_threw", {{"op", group[i].kind}, {"what", e.what()}});
    } catch (...) {
      log::error("storage.completion_threw", {{"op", group[i].kind}});
    }
  }
}

void sqlite_store::add_depth(const std::string& subscription, std::int64_t delta) {
  depth_total_.fetch_add(delta, std::memory_order_relaxed);
  {
    std::shared_lock lock(depth_mu_);
    if (auto it = depth_.find(subscription); it != depth_.end()) {
      it->second->fetch_add(delta, std::memory_order_relaxed);
      return;
    }
  }
  std::unique_lock lock(depth_mu_);
  auto& slot = depth_[subscription];
  if (!slot) slot = std::make_unique<std::atomic<std::int64_t>>(0);
  slot->fetch_add(delta, std::memory_order_relaxed);
}

std::error_code sqlite_store::step_done(detail::statement& st) {
  const int rc = st.step();
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? std::error_code{} : from_sqlite(rc);
}

}  // namespace schakel::storage::detail

namespace schakel::storage {

std::unique_ptr<store> open_sqlite_store(const sqlite_options& options) {
  return std::make_unique<detail::sqlite_store>(options);
}

}  // namespace schakel::storage
