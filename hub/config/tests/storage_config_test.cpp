// The `storage` section: sqlite stays the default, a postgres URL never carries a password, and the
// password comes from a private file named by storage.password_file or SCHAKEL_DATABASE_PASSWORD_FILE.
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "error_of.hpp"

namespace schakel::config {
namespace {

using testing::error_of;

std::string with_storage(const std::string& section) {
  return "data_dir: /var/lib/schakel\nstorage:\n" + section;
}

TEST(storage_config, without_a_storage_section_the_engine_is_sqlite) {
  const auto cfg = load_config_text("data_dir: /var/lib/schakel\n", "test.yaml");
  EXPECT_EQ(cfg.storage.engine, storage_engine::sqlite);
  EXPECT_TRUE(cfg.storage.url.empty());
  EXPECT_EQ(load_config_text(with_storage("  engine: sqlite\n"), "test.yaml").storage.engine, storage_engine::sqlite);
}

TEST(storage_config, a_postgres_url_and_pool_size_are_taken_as_given) {
  const auto cfg = load_config_text(
      with_storage("  engine: postgres\n  url: postgresql://schakel@db.example:5433/schakel?sslmode=verify-full&"
                   "sslrootcert=/etc/schakel/db-ca.pem\n  pool_size: 8\n"),
      "test.yaml");
  EXPECT_EQ(cfg.storage.engine, storage_engine::postgres);
  EXPECT_EQ(cfg.storage.url,
            "postgresql://schakel@db.example:5433/schakel?sslmode=verify-full&sslrootcert=/etc/schakel/db-ca.pem");
  EXPECT_EQ(cfg.storage.pool_size, 8u);
  EXPECT_TRUE(cfg.storage.password.empty());
}

TEST(storage_config, a_password_in_the_url_is_refused_naming_the_field_and_never_the_password) {
  for (const std::string url :
       {"postgresql://schakel:s3cret-pw@db.example/schakel", "postgres://schakel:s3cret-pw@db.example:5432/schakel",
        "postgresql://schakel@db.example/schakel?sslmode=require&password=s3cret-pw",
        "postgresql://schakel@db.example/schakel?pass%77ord=s3cret-pw",
        "postgresql://schakel@db.example/schakel?sslpassword=s3cret-pw"}) {
    const std::string e = error_of(with_storage("  engine: postgres\n  url: \"" + url + "\"\n"));
    EXPECT_EQ(e.rfind("test.yaml: storage.url: carries a password", 0), 0u) << url << "\n" << e;
    EXPECT_NE(e.find("storage.password_file"), std::string::npos) << "the error says where the password goes: " << e;
    EXPECT_EQ(e.find("s3cret-pw"), std::string::npos) << e;
  }
}

TEST(storage_config, postgres_needs_a_postgresql_url_with_a_known_sslmode) {
  EXPECT_EQ(error_of(with_storage("  engine: postgres\n")),
            "test.yaml: storage.url: required with engine postgres (e.g. postgresql://schakel@db.example/schakel)");
  EXPECT_EQ(error_of(with_storage("  engine: postgres\n  url: mysql://db.example/x\n"))
                .rfind("test.yaml: storage.url: must be a postgresql:// URL", 0),
            0u);
  EXPECT_EQ(error_of(with_storage("  engine: postgres\n  url: postgresql://db.example/x?sslmode=verify_full\n")),
            "test.yaml: storage.url: sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full");
  EXPECT_EQ(error_of(with_storage("  engine: oracle\n")).rfind("test.yaml: storage.engine:", 0), 0u);
  EXPECT_NE(error_of(with_storage("  engine: postgres\n  url: postgresql://db.example/x\n  pool_size: 0\n"))
                .find("storage.pool_size"),
            std::string::npos);
}

TEST(storage_config, postgres_settings_under_engine_sqlite_are_refused_rather_than_ignored) {
  EXPECT_EQ(error_of(with_storage("  url: postgresql://db.example/x\n")),
            "test.yaml: storage.url: only used with engine postgres (engine is sqlite)");
  EXPECT_EQ(error_of(with_storage("  engine: sqlite\n  pool_size: 3\n")),
            "test.yaml: storage.pool_size: only used with engine postgres (engine is sqlite)");
}

class storage_password_file : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "schakel-dbpw-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    ::unsetenv("SCHAKEL_DATABASE_PASSWORD_FILE");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string file(const std::string& content, mode_t mode) {
    const auto p = dir_ / "db.password";
    std::ofstream(p) << content;
    ::chmod(p.c_str(), mode);
    return p.string();
  }
  static std::string postgres(const std::string& extra = "") {
    return with_storage("  engine: postgres\n  url: postgresql://schakel@db.example/schakel\n" + extra);
  }
  std::filesystem::path dir_;
};

TEST_F(storage_password_file, the_password_is_read_from_a_private_file_without_its_line_end) {
  const std::string f = file("pa ss\n", 0600);
  const auto cfg = load_config_text(postgres("  password_file: " + f + "\n"), "test.yaml");
  EXPECT_EQ(cfg.storage.password, "pa ss");
  EXPECT_EQ(cfg.storage.password_file, f);
}

TEST_F(storage_password_file, the_environment_names_the_file_when_the_config_does_not) {
  const std::string f = file("from-env\n", 0400);
  ::setenv("SCHAKEL_DATABASE_PASSWORD_FILE", f.c_str(), 1);
  EXPECT_EQ(load_config_text(postgres(), "test.yaml").storage.password, "from-env");
}

TEST_F(storage_password_file, an_exposed_missing_or_empty_file_is_refused_naming_the_field) {
  const std::string f = file("pw\n", 0640);
  EXPECT_EQ(error_of(postgres("  password_file: " + f + "\n")),
            "test.yaml: storage.password_file: " + f + " is readable by group (mode 0640); fix: chmod 600 " + f);
  ::setenv("SCHAKEL_DATABASE_PASSWORD_FILE", f.c_str(), 1);
  EXPECT_EQ(error_of(postgres()).rfind("test.yaml: storage.password_file (from SCHAKEL_DATABASE_PASSWORD_FILE): ", 0),
            0u);
  ::unsetenv("SCHAKEL_DATABASE_PASSWORD_FILE");
  const std::string missing = (dir_ / "absent").string();
  EXPECT_EQ(error_of(postgres("  password_file: " + missing + "\n")),
            "test.yaml: storage.password_file: cannot read file " + missing + " (No such file or directory)");
  const std::string empty = file("\n", 0600);
  EXPECT_EQ(error_of(postgres("  password_file: " + empty + "\n")),
            "test.yaml: storage.password_file: the file " + empty + " is empty");
}

}  // namespace
}  // namespace schakel::config
