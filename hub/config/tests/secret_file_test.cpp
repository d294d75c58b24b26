#include "config/config.hpp"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace schakel::config {
namespace {

namespace fs = std::filesystem;

const std::string token = "tok_0123456789abcdef0123456789abcdef";

class secret_file_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "schakel-secret-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string token_file(fs::perms mode) {
    const fs::path p = dir_ / "ingest.token";
    std::ofstream(p, std::ios::binary) << token << "\n";
    fs::permissions(p, mode);
    return p.string();
  }

  static std::string config_naming(const std::string& file) {
    return "data_dir: /d\nconnectors:\n  - { name: a, plugin: p, token: \"${file:" + file + "}\" }\n";
  }

  fs::path dir_;
};

using fs::perms;

TEST_F(secret_file_test, a_world_readable_secret_file_is_refused_with_the_chmod_that_fixes_it) {
  const std::string f = token_file(perms::owner_read | perms::owner_write | perms::group_read | perms::others_read);
  try {
    (void)load_config_text(config_naming(f), "t.yaml");
    FAIL() << "a world-readable secret file was accepted";
  } catch (const config_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what, "t.yaml: connectors[0].token: secret file named by ${file:…}: " + f +
                        " is readable by group and others (mode 0644); fix: chmod 600 " + f);
    EXPECT_EQ(what.find(token), std::string::npos) << "the secret itself must never be printed";
  }
}

TEST_F(secret_file_test, a_group_readable_secret_file_is_refused_too) {
  const std::string f = token_file(perms::owner_read | perms::group_read);
  try {
    (void)load_config_text(config_naming(f), "t.yaml");
    FAIL() << "a group-readable secret file was accepted";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("fix: chmod 600 " + f), std::string::npos) << e.what();
  }
}

TEST_F(secret_file_test, an_owner_only_secret_file_is_read) {
  const std::string f = token_file(perms::owner_read);
  EXPECT_EQ(load_config_text(config_naming(f), "t.yaml").connectors.at(0).token, token);
}

}  // namespace
}  // namespace schakel::config
