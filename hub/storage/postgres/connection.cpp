#include "storage/postgres/connection.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include <libpq-fe.h>

namespace schakel::storage::postgres {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "schakel.postgres"; }
  std::string message(int value) const override {
    switch (static_cast<pg_errc>(value)) {
      case pg_errc::invalid_settings:
        return "the connection settings are not usable";
      case pg_errc::connect_failed:
        return "could not connect to the PostgreSQL server";
      case pg_errc::connection_lost:
        return "the connection to the PostgreSQL server broke";
      case pg_errc::query_failed:
        return "the PostgreSQL server refused the statement";
      case pg_errc::unique_violation:
        return "a uniqueness constraint failed";
      case pg_errc::serialization_failure:
        return "the transaction conflicted with another one and may be retried";
      case pg_errc::lock_timeout:
        return "a lock or the statement took longer than allowed";
      case pg_errc::pool_timeout:
        return "no database connection became free in time";
      case pg_errc::unexpected_result:
        return "the server's answer had an unexpected shape";
    }
    return "unknown PostgreSQL error " + std::to_string(value);
  }
};

pg_errc code_of_sqlstate(std::string_view state) {
  if (state.starts_with("08")) return pg_errc::connection_lost;
  if (state == "23505") return pg_errc::unique_violation;
  if (state == "40001" || state == "40P01") return pg_errc::serialization_failure;
  if (state == "55P03" || state == "57014") return pg_errc::lock_timeout;
  // 57P01..57P03: the server is shutting down or terminated this backend; the socket is gone.
  if (state.starts_with("57P")) return pg_errc::connection_lost;
  return pg_errc::query_failed;
}

/**
 * Whether the server's primary message may be repeated. Data exceptions (class 22: "invalid input
 * syntax for type integer: "…"") and some others quote the value that failed; the classes kept here
 * speak about the statement, the session or the server only.
 */
bool error_message_is_safe(std::string_view state) {
  static constexpr std::string_view safe_classes[] = {"08", "0A", "25", "28", "3D", "3F", "40",
                                                      "42", "53", "54", "55", "57", "58"};
  for (auto c : safe_classes)
    if (state.starts_with(c)) return true;
  return false;
}

/** libpq's message without its trailing newline(s), the lines joined by "; ". */
std::string one_line(const char* text) {
  std::string out = text == nullptr ? std::string() : std::string(text);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (auto& c : out)
    if (c == '\n') c = ';';
  return out;
}

pg_error client_error(pg_errc code, std::string_view context, const std::string& what) {
  return {make_error_code(code), "", std::string(context) + ": " + what};
}

pg_error error_of(PGconn* conn, const PGresult* result, std::string_view context) {
  const char* state_field = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (state_field == nullptr) {
    // No server answer at all: libpq lost the connection (or never had one) and says so itself.
    const bool broken = conn == nullptr || PQstatus(conn) != CONNECTION_OK;
    return client_error(broken ? pg_errc::connection_lost : pg_errc::query_failed, context,
                        one_line(conn != nullptr ? PQerrorMessage(conn) : "not connected"));
  }
  const std::string state = state_field;
  std::string message(context);
  message.append(": SQLSTATE ").append(state);
  if (error_message_is_safe(state)) {
    if (const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY))
      message.append(" ").append(one_line(primary));
  }
  // Schema identifiers say where without saying what: never PG_DIAG_MESSAGE_DETAIL (it quotes rows).
  const std::pair<int, const char*> names[] = {
      {PG_DIAG_CONSTRAINT_NAME, "constraint"}, {PG_DIAG_TABLE_NAME, "table"}, {PG_DIAG_COLUMN_NAME, "column"}};
  for (const auto& [field, label] : names)
    if (const char* value = PQresultErrorField(result, field))
      message.append(" (").append(label).append(" ").append(value).append(")");
  pg_errc code = code_of_sqlstate(state);
  if (conn != nullptr && PQstatus(conn) != CONNECTION_OK) code = pg_errc::connection_lost;
  return {make_error_code(code), state, std::move(message)};
}

}  // namespace

const std::error_category& pg_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(pg_errc e) noexcept {
  return {static_cast<int>(e), pg_category()};
}

// ---- rows ---------------------------------------------------------------------------------------

void pg_rows::deleter::operator()(pg_result* r) const {
  PQclear(r);
}

pg_rows::pg_rows(pg_result* result) : result_(result) {}

int pg_rows::size() const {
  return result_ ? PQntuples(result_.get()) : 0;
}

int pg_rows::columns() const {
  return result_ ? PQnfields(result_.get()) : 0;
}

bool pg_rows::is_null(int row, int column) const {
  return !result_ || row >= size() || column >= columns() || PQgetisnull(result_.get(), row, column) == 1;
}

std::string_view pg_rows::text(int row, int column) const {
  if (is_null(row, column)) return {};
  return {PQgetvalue(result_.get(), row, column), static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
}

std::optional<std::int64_t> pg_rows::int64(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  const auto t = text(row, column);
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || ptr != t.data() + t.size()) return std::nullopt;
  return v;
}

std::int64_t pg_rows::affected() const {
  if (!result_) return 0;
  const char* n = PQcmdTuples(result_.get());
  std::int64_t v = 0;
  if (n != nullptr) std::from_chars(n, n + std::strlen(n), v);
  return v;
}

// ---- connection ---------------------------------------------------------------------------------

void connection::deleter::operator()(pg_conn* c) const {
  PQfinish(c);
}

pg_error connection::open(const connection_settings& settings) {
  conn_.reset();
  if (auto problem = url_problem(settings.url)) return client_error(pg_errc::invalid_settings, "storage.url", *problem);
  const std::string timeout = std::to_string(std::max<long long>(1, settings.connect_timeout.count()));
  // expand_dbname = 1: the URL in "dbname" is expanded, and the keywords after it override it. The
  // password goes only here, never into a URL or a connection string someone might print.
  std::vector<const char*> keys{"dbname", "connect_timeout", "fallback_application_name", "client_encoding"};
  std::vector<const char*> values{settings.url.c_str(), timeout.c_str(), settings.application_name.c_str(), "UTF8"};
  if (!settings.password.empty()) {
    keys.push_back("password");
    values.push_back(settings.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_.reset(PQconnectdbParams(keys.data(), values.data(), 1));
  if (!conn_)
    return client_error(pg_errc::connect_failed, "connecting to " + url_for_display(settings.url), "out of memory");
  // Notices ("relation … already exists, skipping") would go to stderr, outside the structured log.
  PQsetNoticeProcessor(
      conn_.get(), [](void*, const char*) {}, nullptr);
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    // libpq's message names the host and says why (refused, authentication, "certificate verify
    // failed"); it never contains the password.
    auto e = client_error(pg_errc::connect_failed, "connecting to " + url_for_display(settings.url),
                          one_line(PQerrorMessage(conn_.get())));
    conn_.reset();
    return e;
  }
  return {};
}

bool connection::healthy() const {
  return conn_ && PQstatus(conn_.get()) == CONNECTION_OK;
}

pg_error connection::exec(std::string_view context, std::string_view sql, std::initializer_list<pg_param> params,
                          pg_rows* rows) {
  return exec(context, sql, std::vector<pg_param>(params), rows);
}

pg_error connection::exec(std::string_view context, std::string_view sql, const std::vector<pg_param>& params,
                          pg_rows* rows) {
  if (!conn_) return client_error(pg_errc::connection_lost, context, "not connected");
  const std::string text(sql);
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  values.reserve(params.size());
  for (const auto& p : params) {
    values.push_back(p.value() ? p.value()->c_str() : nullptr);
    lengths.push_back(p.value() ? static_cast<int>(p.value()->size()) : 0);
    formats.push_back(p.binary() ? 1 : 0);
  }
  PGresult* raw = PQexecParams(conn_.get(), text.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                               lengths.data(), formats.data(), 0);
  // PQexecParams returns null only when out of memory or when the connection is unusable.
  const ExecStatusType status = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    pg_error e = error_of(conn_.get(), raw, context);
    PQclear(raw);
    return e;
  }
  pg_rows result(raw);
  if (rows != nullptr) *rows = std::move(result);
  return {};
}

int connection::backend_pid() const {
  return conn_ ? PQbackendPID(conn_.get()) : 0;
}

bool connection::tls_in_use() const {
  return conn_ && PQsslInUse(conn_.get()) == 1;
}

std::string connection::quote_identifier(std::string_view name) const {
  if (!conn_) return {};
  char* quoted = PQescapeIdentifier(conn_.get(), name.data(), name.size());
  if (quoted == nullptr) return {};
  std::string out = quoted;
  PQfreemem(quoted);
  return out;
}

std::optional<std::string> url_problem(const std::string& url) {
  if (url.rfind("postgresql://", 0) != 0 && url.rfind("postgres://", 0) != 0) return "must be a postgresql:// URL";
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    // libpq's own message may quote a piece of the URL: say only that it is malformed.
    PQfreemem(error);
    return "libpq cannot read this URL (check its syntax: postgresql://user@host:port/database?sslmode=…)";
  }
  std::optional<std::string> problem;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    const std::string_view key = o->keyword;
    if ((key == "password" || key == "sslpassword") && o->val != nullptr)
      problem = "carries a password (" + std::string(key) +
                "): URLs are logged, so give it in storage.password_file (or SCHAKEL_DATABASE_PASSWORD_FILE)";
  }
  PQconninfoFree(options);
  return problem;
}

std::string url_for_display(const std::string& url) {
  return url.substr(0, url.find('?'));
}

}  // namespace schakel::storage::postgres
