#include "storage/postgres/pool.hpp"

#include <utility>

namespace schakel::storage::postgres {

pool::pool(connection_settings settings) : settings_(std::move(settings)) {
  const std::size_t n = settings_.pool_size == 0 ? 1 : settings_.pool_size;
  for (std::size_t i = 0; i < n; ++i) slots_.push_back(std::make_unique<connection>());
  in_use_.assign(n, false);
}

pool::~pool() = default;

pg_error pool::acquire(lease& out) {
  out = lease();
  connection* conn = nullptr;
  {
    std::unique_lock lock(mutex_);
    const auto free_slot = [&] {
      for (std::size_t i = 0; i < slots_.size(); ++i)
        if (!in_use_[i]) return i;
      return slots_.size();
    };
    // Prefer a slot that is already connected: fewer connections to the server under light load.
    const auto pick = [&] {
      for (std::size_t i = 0; i < slots_.size(); ++i)
        if (!in_use_[i] && slots_[i]->healthy()) return i;
      return free_slot();
    };
    if (!returned_.wait_for(lock, settings_.acquire_timeout, [&] { return free_slot() < slots_.size(); }))
      return {make_error_code(pg_errc::pool_timeout), "",
              "waiting for a database connection: all " + std::to_string(slots_.size()) + " in use for " +
                  std::to_string(settings_.acquire_timeout.count()) + " ms"};
    const std::size_t i = pick();
    in_use_[i] = true;
    conn = slots_[i].get();
  }
  // Connecting happens outside the lock: it can take up to connect_timeout.
  if (!conn->healthy()) {
    pg_error e = conn->open(settings_);
    if (e) {
      give_back(conn);
      return e;
    }
  }
  out = lease(this, conn);
  return {};
}

void pool::give_back(connection* conn) {
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < slots_.size(); ++i)
      if (slots_[i].get() == conn) in_use_[i] = false;
  }
  returned_.notify_one();
}

std::size_t pool::size() const {
  std::lock_guard lock(mutex_);
  // A leased connection belongs to its holder's thread: count it without touching it.
  std::size_t n = 0;
  for (std::size_t i = 0; i < slots_.size(); ++i)
    if (in_use_[i] || slots_[i]->healthy()) ++n;
  return n;
}

std::size_t pool::leased() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const bool b : in_use_)
    if (b) ++n;
  return n;
}

pool::lease::lease(lease&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), conn_(std::exchange(other.conn_, nullptr)) {}

pool::lease& pool::lease::operator=(lease&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    conn_ = std::exchange(other.conn_, nullptr);
  }
  return *this;
}

pool::lease::~lease() {
  release();
}

void pool::lease::release() {
  if (owner_ != nullptr && conn_ != nullptr) owner_->give_back(conn_);
  owner_ = nullptr;
  conn_ = nullptr;
}

}  // namespace schakel::storage::postgres
