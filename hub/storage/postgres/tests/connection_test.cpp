#include "storage/postgres/connection.hpp"

#include <string>

#include <gtest/gtest.h>

#include "support/pg_test_database.hpp"

namespace schakel::storage::postgres {
namespace {

using test::pg_test_database;

TEST(pg_connection, runs_parameterised_statements_and_reads_rows_back) {
  pg_test_database db;
  auto c = db.connect();
  ASSERT_TRUE(c.healthy());
  ASSERT_FALSE(c.exec("create", "CREATE TABLE t (id bigint PRIMARY KEY, name text, blob bytea)"));
  // A value that would break a statement built by concatenation goes through untouched.
  const std::string tricky = "o'brien\"; DROP TABLE t; --";
  const std::string raw("\0\x01\xff", 3);
  ASSERT_FALSE(c.exec("insert", "INSERT INTO t (id, name, blob) VALUES ($1, $2, $3), ($4, $5, NULL)",
                      {1, tricky, pg_param::bytes(raw), 2, nullptr}));
  pg_rows rows;
  ASSERT_FALSE(c.exec("select", "SELECT id, name, length(blob), blob IS NULL FROM t ORDER BY id", {}, &rows));
  ASSERT_EQ(rows.size(), 2);
  EXPECT_EQ(rows.int64(0, 0), 1);
  EXPECT_EQ(rows.text(0, 1), tricky);
  EXPECT_EQ(rows.int64(0, 2), 3) << "bytea parameters keep every byte, NUL included";
  EXPECT_EQ(rows.int64(1, 0), 2);
  EXPECT_TRUE(rows.is_null(1, 1));
  EXPECT_EQ(rows.text(1, 3), "t");
  pg_rows changed;
  ASSERT_FALSE(c.exec("update", "UPDATE t SET name = $1 WHERE id >= $2", {"x", 1}, &changed));
  EXPECT_EQ(changed.affected(), 2);
}

TEST(pg_connection, an_error_carries_the_sqlstate_and_context_but_never_a_parameter_value) {
  pg_test_database db;
  auto c = db.connect();
  ASSERT_FALSE(c.exec("create", "CREATE TABLE t (id text PRIMARY KEY, n integer)"));
  const std::string personal = "Jan-Jansen-2011-03-04";
  ASSERT_FALSE(c.exec("insert", "INSERT INTO t (id, n) VALUES ($1, 1)", {personal}));

  const auto duplicate = c.exec("storing a student", "INSERT INTO t (id, n) VALUES ($1, 2)", {personal});
  ASSERT_TRUE(duplicate);
  EXPECT_EQ(duplicate.code, pg_errc::unique_violation);
  EXPECT_EQ(duplicate.sqlstate, "23505");
  EXPECT_EQ(duplicate.message.rfind("storing a student: SQLSTATE 23505", 0), 0u) << duplicate.message;
  EXPECT_NE(duplicate.message.find("t_pkey"), std::string::npos) << "the constraint is named: " << duplicate.message;
  EXPECT_EQ(duplicate.message.find(personal), std::string::npos) << duplicate.message;

  // The server's own message for bad input quotes the value ("invalid input syntax … "Jan…""): dropped.
  const auto bad_input = c.exec("counting", "INSERT INTO t (id, n) VALUES ('x', $1)", {personal});
  ASSERT_TRUE(bad_input);
  EXPECT_EQ(bad_input.code, pg_errc::query_failed);
  EXPECT_EQ(bad_input.sqlstate, "22P02");
  EXPECT_EQ(bad_input.message.find(personal), std::string::npos) << bad_input.message;

  const auto syntax = c.exec("a typo", "SELEC 1");
  ASSERT_TRUE(syntax);
  EXPECT_EQ(syntax.sqlstate, "42601");
  EXPECT_NE(syntax.message.find("syntax error"), std::string::npos)
      << "statement errors keep their text: " << syntax.message;
  // The connection is still usable after statement errors.
  pg_rows rows;
  ASSERT_FALSE(c.exec("count", "SELECT count(*) FROM t", {}, &rows));
  EXPECT_EQ(rows.int64(0, 0), 1);
}

TEST(pg_connection, only_one_statement_per_call) {
  pg_test_database db;
  auto c = db.connect();
  const auto e = c.exec("two at once", "SELECT 1; SELECT 2");
  ASSERT_TRUE(e) << "PQexecParams must refuse several statements in one call";
  EXPECT_EQ(e.sqlstate, "42601");
}

TEST(pg_connection, a_url_with_a_password_is_refused_before_connecting) {
  pg_test_database db;
  const std::string with_password = "postgresql://schakel:hunter2-secret@/" + db.name() +
                                    "?host=" + pg_test_database::host() + "&port=" + pg_test_database::port();
  connection_settings s;
  s.url = with_password;
  connection c;
  const auto e = c.open(s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e.code, pg_errc::invalid_settings);
  EXPECT_NE(e.message.find("storage.url"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("password"), std::string::npos) << e.message;
  EXPECT_EQ(e.message.find("hunter2-secret"), std::string::npos) << e.message;
  EXPECT_FALSE(c.healthy());

  s.url = db.url() + "&password=hunter2-secret";
  const auto in_query = c.open(s);
  ASSERT_TRUE(in_query);
  EXPECT_EQ(in_query.code, pg_errc::invalid_settings);
  EXPECT_EQ(in_query.message.find("hunter2-secret"), std::string::npos) << in_query.message;
}

TEST(pg_connection, a_server_that_is_not_there_is_a_connect_error_naming_where) {
  connection_settings s;
  s.url = "postgresql://schakel@/postgres?host=/nonexistent-socket-dir&port=5432";
  s.connect_timeout = std::chrono::seconds(2);
  connection c;
  const auto e = c.open(s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e.code, pg_errc::connect_failed);
  EXPECT_NE(e.message.find("/nonexistent-socket-dir"), std::string::npos) << e.message;
}

}  // namespace
}  // namespace schakel::storage::postgres
