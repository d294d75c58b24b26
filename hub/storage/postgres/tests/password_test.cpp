// The password from storage.password_file reaches the server: a role that must log in with a password
// (member of schakel_password_login, SCRAM over the socket: tests/support/pg_cluster.sh) connects with
// the file's password and is refused without it or with another one.
#include <sys/stat.h>

#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "storage/postgres/connection.hpp"
#include "support/pg_test_database.hpp"
#include "support/temp_dir.hpp"

namespace schakel::storage::postgres {
namespace {

using test::pg_test_database;

class pg_password : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = db_.connect();
    role_ = "pw_" + std::to_string(std::random_device{}());
    password_ = "correct horse " + std::to_string(std::random_device{}());
    // The role's password is set as a literal (CREATE ROLE takes no parameters); the test made it.
    ASSERT_FALSE(admin_.exec("role", "CREATE ROLE " + admin_.quote_identifier(role_) + " LOGIN PASSWORD '" + password_ +
                                         "' IN ROLE schakel_password_login"));
  }
  void TearDown() override { (void)admin_.exec("drop role", "DROP ROLE IF EXISTS " + admin_.quote_identifier(role_)); }

  std::string password_file(const std::string& content, mode_t mode = 0600) {
    const auto file = dir_ / ("password-" + std::to_string(files_++));
    std::ofstream(file) << content << "\n";
    ::chmod(file.c_str(), mode);
    return file.string();
  }

  config::hub_config load(const std::string& password_file_line) {
    const std::string text = "data_dir: " + (dir_ / "data").string() + "\nstorage:\n  engine: postgres\n  url: \"" +
                             db_.url(role_) + "\"\n" + password_file_line;
    return config::load_config_text(text, "t.yaml");
  }

  static connection_settings settings_of(const config::hub_config& cfg) {
    connection_settings s;
    s.url = cfg.storage.url;
    s.password = cfg.storage.password;
    s.connect_timeout = std::chrono::seconds(5);
    return s;
  }

  pg_test_database db_;
  connection admin_;
  test::temp_dir dir_{"schakel-pg-password"};
  std::string role_;
  std::string password_;
  int files_ = 0;
};

TEST_F(pg_password, the_password_from_the_file_logs_in) {
  const auto cfg = load("  password_file: " + password_file(password_) + "\n");
  EXPECT_EQ(cfg.storage.password, password_) << "the trailing newline is not part of the password";
  connection c;
  const auto e = c.open(settings_of(cfg));
  ASSERT_FALSE(e) << e.message;
  pg_rows rows;
  ASSERT_FALSE(c.exec("who", "SELECT current_user", {}, &rows));
  EXPECT_EQ(rows.text(0, 0), role_);
}

TEST_F(pg_password, the_password_file_may_come_from_the_environment) {
  const std::string file = password_file(password_);
  ::setenv("SCHAKEL_DATABASE_PASSWORD_FILE", file.c_str(), 1);
  const auto cfg = load("");
  ::unsetenv("SCHAKEL_DATABASE_PASSWORD_FILE");
  EXPECT_EQ(cfg.storage.password_file, file);
  connection c;
  const auto e = c.open(settings_of(cfg));
  EXPECT_FALSE(e) << e.message;
}

TEST_F(pg_password, without_the_password_or_with_another_one_the_server_refuses) {
  connection c;
  const auto none = c.open(settings_of(load("")));
  ASSERT_TRUE(none) << "the role requires a password: the cluster's pg_hba must not trust it";
  EXPECT_EQ(none.code, pg_errc::connect_failed);

  const auto wrong = c.open(settings_of(load("  password_file: " + password_file("not the password") + "\n")));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong.code, pg_errc::connect_failed);
  EXPECT_NE(wrong.message.find("password authentication failed"), std::string::npos) << wrong.message;
  EXPECT_EQ(wrong.message.find("not the password"), std::string::npos) << wrong.message;
}

TEST_F(pg_password, a_password_file_others_can_read_is_refused_like_every_secret_file) {
  const std::string file = password_file(password_, 0644);
  try {
    (void)load("  password_file: " + file + "\n");
    FAIL() << "a world-readable password file was accepted";
  } catch (const config::config_error& e) {
    EXPECT_EQ(std::string(e.what()), "t.yaml: storage.password_file: " + file +
                                         " is readable by group and others (mode 0644); fix: chmod 600 " + file);
  }
}

}  // namespace
}  // namespace schakel::storage::postgres
