#pragma once
/**
 * A PostgreSQL database of its own for one test case, in the throw-away cluster that the CTest fixture
 * of schakel_discover_postgres_tests started for this test program (socket dir in
 * SCHAKEL_TEST_PG_HOST). Created from template0 on construction, dropped (WITH (FORCE)) on
 * destruction; a case that crashes leaves its database to the cluster's own removal.
 */
#include <string>
#include <string_view>

#include "storage/postgres/connection.hpp"

namespace schakel::test {

class pg_test_database {
 public:
  /** Throws std::runtime_error naming the cause when there is no cluster or CREATE DATABASE fails. */
  pg_test_database();
  ~pg_test_database();
  pg_test_database(const pg_test_database&) = delete;
  pg_test_database& operator=(const pg_test_database&) = delete;

  const std::string& name() const { return name_; }
  /** postgresql://user@/name?host=<socket dir>&port=<port>: over the Unix socket, no password. */
  std::string url(std::string_view user = "schakel") const;
  /** Settings for url(user), pool_size 4 and a short acquire wait (2 s). */
  storage::postgres::connection_settings settings(std::string_view user = "schakel") const;
  /** A connection to this database as `schakel` (a superuser of the cluster); throws when it fails. */
  storage::postgres::connection connect() const;

  /** The cluster's socket directory (SCHAKEL_TEST_PG_HOST); throws when unset. */
  static std::string host();
  /** The cluster's port (the fixture writes it to <host>/port). */
  static std::string port();

 private:
  std::string name_;
};

}  // namespace schakel::test
