// `schakel storage migrate|status` as an operator runs them, against the program's throw-away
// PostgreSQL cluster, and `schakel serve` refusing engine postgres in this version.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "storage/postgres/migrations.hpp"
#include "support/pg_test_database.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace schakel {
namespace {

using namespace std::chrono_literals;
using test::child_process;
using test::pg_test_database;

struct run_result {
  int code = -1;
  std::string output;  ///< stdout and stderr together
};

class storage_cli : public ::testing::Test {
 protected:
  std::string config(const std::string& url) {
    const auto file = dir_ / "schakel.yaml";
    std::ofstream(file) << "data_dir: " << (dir_ / "data").string() << "\nstorage:\n  engine: postgres\n  url: \""
                        << url << "\"\n";
    return file.string();
  }

  run_result run(const std::vector<std::string>& args) {
    const auto out = dir_ / ("out-" + std::to_string(runs_++));
    std::vector<std::string> argv{SCHAKEL_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    auto child = child_process::spawn(argv, {}, out);
    run_result r;
    r.code = child.wait_for_exit(60s).value_or(-1);
    r.output = test::file_text(out);
    return r;
  }

  pg_test_database db_;
  test::temp_dir dir_{"schakel-storage-cli"};
  int runs_ = 0;
};

TEST_F(storage_cli, migrate_prints_from_and_to_then_is_a_no_op_and_status_prints_the_version) {
  const std::string file = config(db_.url());
  const std::string known = std::to_string(storage::postgres::known_schema_version());
  const std::string where = db_.url().substr(0, db_.url().find('?'));

  const auto status_before = run({"storage", "status", "--config", file});
  EXPECT_EQ(status_before.code, 0) << status_before.output;
  EXPECT_EQ(status_before.output,
            where + ": schema 0 (this build writes " + known + "); run `schakel storage migrate`\n");

  const auto first = run({"storage", "migrate", "--config", file});
  EXPECT_EQ(first.code, 0) << first.output;
  EXPECT_NE(first.output.find(where + ": migrated schema 0 -> " + known + "\n"), std::string::npos) << first.output;

  const auto second = run({"storage", "migrate", "--config", file});
  EXPECT_EQ(second.code, 0) << second.output;
  EXPECT_NE(second.output.find(where + ": schema " + known + ", up to date\n"), std::string::npos) << second.output;

  const auto status = run({"storage", "status", "--config", file});
  EXPECT_EQ(status.code, 0) << status.output;
  EXPECT_EQ(status.output, where + ": schema " + known + " (this build writes " + known + ")\n");

  auto c = db_.connect();
  storage::postgres::pg_rows rows;
  ASSERT_FALSE(c.exec("check", "SELECT count(*) FROM schakel_schema", {}, &rows));
  EXPECT_EQ(std::string(rows.text(0, 0)), known) << "the CLI migrated the database itself";
}

TEST_F(storage_cli, a_url_with_a_password_is_one_line_naming_the_file_and_the_field) {
  const std::string file =
      config("postgresql://schakel:pw-in-url@/" + db_.name() + "?host=" + pg_test_database::host());
  const auto r = run({"storage", "migrate", "--config", file});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.output.rfind(file + ": storage.url: carries a password", 0), 0u) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_EQ(r.output.find("pw-in-url"), std::string::npos) << r.output;
}

TEST_F(storage_cli, a_database_newer_than_the_binary_is_refused_by_migrate_and_status) {
  const std::string file = config(db_.url());
  ASSERT_EQ(run({"storage", "migrate", "--config", file}).code, 0);
  auto c = db_.connect();
  const int newer = storage::postgres::known_schema_version() + 1;
  ASSERT_FALSE(c.exec("newer", "INSERT INTO schakel_schema (version, description) VALUES ($1, 'x')", {newer}));
  const auto r = run({"storage", "migrate", "--config", file});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("schema version " + std::to_string(newer) + " but this build knows"), std::string::npos)
      << r.output;
  EXPECT_EQ(run({"storage", "status", "--config", file}).code, 1);
}

TEST_F(storage_cli, serve_refuses_engine_postgres_in_one_line_saying_what_it_is_for) {
  const std::string file = config(db_.url());
  const auto r = run({"serve", "--config", file});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.output, file +
                          ": storage.engine: postgres is used by `schakel storage migrate` and `schakel storage "
                          "status` only in this version; serve needs engine sqlite (docs/storage.md, "
                          "\"PostgreSQL\")\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "data")) << "serve refused before creating anything";
}

TEST_F(storage_cli, status_on_a_sqlite_configuration_says_it_needs_postgres) {
  const auto file = dir_ / "sqlite.yaml";
  std::ofstream(file) << "data_dir: " << (dir_ / "data").string() << "\n";
  const auto r = run({"storage", "status", "--config", file.string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.output.rfind(file.string() + ": storage.engine: ", 0), 0u) << r.output;
}

}  // namespace
}  // namespace schakel
