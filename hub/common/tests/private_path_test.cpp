#include "common/private_path.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace schakel {
namespace {

namespace fs = std::filesystem;

class private_path_test : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/schakel-private-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path file_with_mode(const std::string& name, mode_t mode) {
    const fs::path p = root_ / name;
    std::ofstream(p) << "x";
    ::chmod(p.c_str(), mode);
    return p;
  }

  static mode_t mode_of(const fs::path& p) {
    struct ::stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  fs::path root_;
};

TEST_F(private_path_test, owner_only_files_and_missing_paths_are_private) {
  EXPECT_EQ(exposure_of(file_with_mode("a", 0600)), std::nullopt);
  EXPECT_EQ(exposure_of(file_with_mode("b", 0400)), std::nullopt);
  EXPECT_EQ(exposure_of(root_ / "missing"), std::nullopt);
  EXPECT_NO_THROW(require_private(root_ / "a"));
}

TEST_F(private_path_test, a_world_readable_file_names_its_path_mode_and_chmod) {
  const auto f = file_with_mode("schakel.db", 0644);
  EXPECT_EQ(exposure_of(f), f.string() + " is readable by group and others (mode 0644); fix: chmod 600 " + f.string());
  try {
    require_private(f);
    FAIL() << "a world-readable file passed";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), *exposure_of(f));
  }
}

TEST_F(private_path_test, group_access_and_write_access_are_refused_too) {
  const auto g = file_with_mode("g", 0640);
  EXPECT_EQ(exposure_of(g), g.string() + " is readable by group (mode 0640); fix: chmod 600 " + g.string());
  const auto w = file_with_mode("w", 0602);
  EXPECT_EQ(exposure_of(w), w.string() + " is writable by others (mode 0602); fix: chmod 600 " + w.string());
  const auto x = file_with_mode("x", 0701);
  EXPECT_EQ(exposure_of(x), x.string() + " is accessible by others (mode 0701); fix: chmod 600 " + x.string());
}

TEST_F(private_path_test, a_directory_gets_the_directory_chmod) {
  const fs::path d = root_ / "data";
  ASSERT_EQ(::mkdir(d.c_str(), 0700), 0);
  ::chmod(d.c_str(), 0755);
  EXPECT_EQ(exposure_of(d), d.string() + " is readable by group and others (mode 0755); fix: chmod 700 " + d.string());
  EXPECT_THROW(create_private_directory(d), std::runtime_error);
}

TEST_F(private_path_test, a_new_data_directory_is_0700_whatever_the_umask) {
  const mode_t old = ::umask(0);  // the most permissive umask: mkdir's own mode must decide
  const fs::path d = root_ / "var" / "lib" / "schakel";
  create_private_directory(d);
  ::umask(old);
  EXPECT_EQ(mode_of(d), 0700u);
  EXPECT_NO_THROW(create_private_directory(d));  // an existing private directory is accepted as is
}

}  // namespace
}  // namespace schakel
