#pragma once
/**
 * A thin libpq wrapper for the PostgreSQL engine: one RAII connection, parameterised statements only
 * (PQexecParams), results as RAII values, errors as std::error_code plus a message.
 *
 * Privacy: an error message names the statement's context, the SQLSTATE and schema identifiers
 * (constraint, table, column), never a parameter value, a row, or the server's DETAIL (which quotes
 * rows). The server's primary message is kept only for error classes whose message is about the
 * statement or the server, not the data (see error_message_is_safe in connection.cpp).
 *
 * Threading: a connection is used by one thread at a time (the pool hands it out); nothing here locks.
 */
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

struct pg_conn;
struct pg_result;

namespace schakel::storage::postgres {

/** Why a PostgreSQL operation failed (category "schakel.postgres"); message() covers every value. */
enum class pg_errc {
  invalid_settings = 1,   ///< the URL is malformed or carries a password
  connect_failed,         ///< the server could not be reached, refused us, or TLS verification failed
  connection_lost,        ///< the connection broke (SQLSTATE class 08, or libpq lost the socket)
  query_failed,           ///< any other server error; the SQLSTATE says which
  unique_violation,       ///< SQLSTATE 23505
  serialization_failure,  ///< SQLSTATE 40001 or 40P01: the transaction may be retried as a whole
  lock_timeout,           ///< SQLSTATE 55P03 (lock_timeout) or 57014 (statement_timeout, query canceled)
  pool_timeout,           ///< no connection of the pool became free within the wait
  unexpected_result,      ///< the server answered with another shape than the statement promises
};

const std::error_category& pg_category() noexcept;
std::error_code make_error_code(pg_errc e) noexcept;

/** An error with what it was doing; empty (false) when there was none. */
struct pg_error {
  std::error_code code;
  std::string sqlstate;  ///< five characters from the server, "" when the error is the client's
  std::string message;   ///< "<context>: …" without values
  explicit operator bool() const { return static_cast<bool>(code); }
};

/** How to reach the database: what config::storage_settings holds, apart from engine selection. */
struct connection_settings {
  std::string url;                                   ///< postgresql://…, never with a password
  std::string password;                              ///< from a private file; "" = none
  std::size_t pool_size = 4;                         ///< connections a pool opens at most
  std::chrono::milliseconds acquire_timeout{10000};  ///< how long pool::acquire waits for a free one
  std::chrono::seconds connect_timeout{10};          ///< per connection attempt (libpq connect_timeout)
  std::string application_name = "schakel";          ///< shown in pg_stat_activity
};

/** One statement parameter, sent as text (or as raw bytes for bytea); nullptr is SQL NULL. */
class pg_param {
 public:
  pg_param(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): a parameter list reads as values
  pg_param(std::string_view text) : value_(std::string(text)) {}  // NOLINT(google-explicit-constructor)
  pg_param(const char* text) : value_(std::string(text)) {}       // NOLINT(google-explicit-constructor)
  pg_param(const std::string& text) : value_(text) {}             // NOLINT(google-explicit-constructor)
  template <typename I, typename = std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>>>
  pg_param(I number) : value_(std::to_string(number)) {}  // NOLINT(google-explicit-constructor)
  /** Raw bytes for a bytea parameter (binary format: no escaping, any byte). */
  static pg_param bytes(std::string_view raw) {
    pg_param p{raw};
    p.binary_ = true;
    return p;
  }
  const std::optional<std::string>& value() const { return value_; }
  bool binary() const { return binary_; }

 private:
  std::optional<std::string> value_;
  bool binary_ = false;
};

/** The rows of one statement. Movable, owns the libpq result. Text format: every value is its text. */
class pg_rows {
 public:
  pg_rows() = default;
  explicit pg_rows(pg_result* result);
  int size() const;     ///< rows
  int columns() const;  ///< columns
  bool is_null(int row, int column) const;
  /** The value's text ("" for NULL); valid while this object lives. */
  std::string_view text(int row, int column) const;
  /** The value as an integer; nullopt for NULL or text that is not one. */
  std::optional<std::int64_t> int64(int row, int column) const;
  /** Rows changed by an INSERT, UPDATE or DELETE. */
  std::int64_t affected() const;

 private:
  struct deleter {
    void operator()(pg_result* r) const;
  };
  std::unique_ptr<pg_result, deleter> result_;
};

/** One connection to the server. Closed on destruction. Use from one thread at a time. */
class connection {
 public:
  connection() = default;
  connection(connection&&) noexcept = default;
  connection& operator=(connection&&) noexcept = default;
  ~connection() = default;

  /**
   * Connects (blocking, at most settings.connect_timeout); replaces any connection held before, so
   * it is also how a broken connection is opened again.
   */
  [[nodiscard]] pg_error open(const connection_settings& settings);
  /** Whether a connection is open and libpq has not seen it break. */
  bool healthy() const;
  /**
   * Runs one statement with parameters ($1, $2, …) through PQexecParams: never string concatenation,
   * and one statement per call (the protocol refuses several). `context` names what it is for
   * ("migration 1 step 3", "pool probe") and starts every error message.
   */
  [[nodiscard]] pg_error exec(std::string_view context, std::string_view sql,
                              std::initializer_list<pg_param> params = {}, pg_rows* rows = nullptr);
  [[nodiscard]] pg_error exec(std::string_view context, std::string_view sql, const std::vector<pg_param>& params,
                              pg_rows* rows = nullptr);

  /** The server process serving this connection (pg_backend_pid), 0 when not connected. */
  int backend_pid() const;
  /** Whether the connection is encrypted with TLS. */
  bool tls_in_use() const;
  /** An identifier quoted for SQL text (for DDL, where parameters cannot go); "" when not connected. */
  std::string quote_identifier(std::string_view name) const;

 private:
  struct deleter {
    void operator()(pg_conn* c) const;
  };
  std::unique_ptr<pg_conn, deleter> conn_;
};

/**
 * Whether `url` carries a password anywhere libpq would find one (user:password@, ?password=,
 * ?sslpassword=), or is not a URL libpq can parse; the problem in words that never quote the URL.
 */
std::optional<std::string> url_problem(const std::string& url);

/** The URL without its query (host, port, database): what may be printed to say where we connected. */
std::string url_for_display(const std::string& url);

}  // namespace schakel::storage::postgres

template <>
struct std::is_error_code_enum<schakel::storage::postgres::pg_errc> : std::true_type {};
