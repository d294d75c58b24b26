#pragma once
/**
 * A fixed-size pool of PostgreSQL connections: at most `pool_size` open at once, opened when first
 * needed, handed out one caller at a time, with a bounded wait when all are taken.
 *
 * A connection that broke (the server restarted, a backend was terminated) is noticed when a
 * statement on it fails with pg_errc::connection_lost; it is opened afresh the next time it is handed
 * out, so the caller after that gets a working one. The failed statement itself is not retried here:
 * whether it may run twice is the caller's knowledge, not the pool's.
 *
 * Threading: every method may be called from any thread; acquire blocks (at most acquire_timeout).
 */
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <vector>

#include "storage/postgres/connection.hpp"

namespace schakel::storage::postgres {

class pool {
 public:
  /** Opens nothing yet: the first acquire connects. */
  explicit pool(connection_settings settings);
  pool(const pool&) = delete;
  pool& operator=(const pool&) = delete;
  /** Every lease must have been returned (destroyed) before. */
  ~pool();

  /** Exclusive use of one connection until destroyed (or moved from); then it goes back. */
  class lease {
   public:
    lease() = default;
    lease(lease&& other) noexcept;
    lease& operator=(lease&& other) noexcept;
    ~lease();
    connection& operator*() const { return *conn_; }
    connection* operator->() const { return conn_; }
    explicit operator bool() const { return conn_ != nullptr; }

   private:
    friend class pool;
    lease(pool* owner, connection* conn) : owner_(owner), conn_(conn) {}
    void release();
    pool* owner_ = nullptr;
    connection* conn_ = nullptr;
  };

  /**
   * A healthy connection, waiting up to settings.acquire_timeout for one to come back when all
   * pool_size are leased (pg_errc::pool_timeout after that). Connects or reconnects as needed; a
   * failed connect is returned as is (pg_errc::connect_failed) and the slot stays free.
   */
  [[nodiscard]] pg_error acquire(lease& out);

  std::size_t size() const;    ///< connections open now (leased or idle)
  std::size_t leased() const;  ///< connections handed out now

 private:
  void give_back(connection* conn);

  const connection_settings settings_;
  mutable std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<connection>> slots_;  ///< pool_size entries, fixed addresses
  std::vector<bool> in_use_;
};

}  // namespace schakel::storage::postgres
