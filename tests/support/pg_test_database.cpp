#include "support/pg_test_database.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <gtest/gtest.h>

namespace schakel::test {
namespace {

using storage::postgres::connection;
using storage::postgres::connection_settings;

connection_settings maintenance_settings() {
  connection_settings s;
  s.url = "postgresql://schakel@/postgres?host=" + pg_test_database::host() + "&port=" + pg_test_database::port();
  return s;
}

connection open_or_throw(const connection_settings& s) {
  connection c;
  if (auto e = c.open(s)) throw std::runtime_error("test database: " + e.message);
  return c;
}

/** "t_<pid>_<n>_<test name>", lower case, at most 63 bytes (PostgreSQL's identifier length). */
std::string database_name() {
  static std::atomic<int> counter{0};
  std::string name = "t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    name += "_";
    for (const char c : std::string(info->name())) {
      const bool plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      name += plain ? c : (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : '_';
    }
  }
  return name.substr(0, 63);
}

}  // namespace

std::string pg_test_database::host() {
  const char* dir = std::getenv("SCHAKEL_TEST_PG_HOST");
  if (dir == nullptr || *dir == '\0')
    throw std::runtime_error(
        "SCHAKEL_TEST_PG_HOST is not set: run this program through ctest, whose fixture starts its cluster "
        "(or start one with tests/support/pg_cluster.sh start DIR and export SCHAKEL_TEST_PG_HOST=DIR)");
  return dir;
}

std::string pg_test_database::port() {
  std::ifstream in(host() + "/port");
  std::string p;
  if (!(in >> p)) return "5432";
  return p;
}

pg_test_database::pg_test_database() : name_(database_name()) {
  auto admin = open_or_throw(maintenance_settings());
  const std::string sql = "CREATE DATABASE " + admin.quote_identifier(name_) + " TEMPLATE template0";
  if (auto e = admin.exec("creating the test database", sql)) throw std::runtime_error(e.message);
}

pg_test_database::~pg_test_database() {
  try {
    auto admin = open_or_throw(maintenance_settings());
    // FORCE: a connection a failed test left open must not keep the database alive.
    const std::string sql = "DROP DATABASE IF EXISTS " + admin.quote_identifier(name_) + " WITH (FORCE)";
    if (auto e = admin.exec("dropping the test database", sql)) ADD_FAILURE() << e.message;
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
  }
}

std::string pg_test_database::url(std::string_view user) const {
  return "postgresql://" + std::string(user) + "@/" + name_ + "?host=" + host() + "&port=" + port();
}

connection_settings pg_test_database::settings(std::string_view user) const {
  connection_settings s;
  s.url = url(user);
  s.pool_size = 4;
  s.acquire_timeout = std::chrono::seconds(2);
  return s;
}

connection pg_test_database::connect() const {
  return open_or_throw(settings());
}

}  // namespace schakel::test
