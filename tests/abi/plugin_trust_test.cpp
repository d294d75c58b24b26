// Plugins run as the hub, with its keys and its database: the loader maps a plugin only from a
// directory and a file that no one but root and the hub's own user can change. The refusal comes
// before dlopen, since a plugin's constructors run the moment it is mapped.
#include "plugin_host/plugin_host.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace ph = schakel::plugin_host;
namespace fs = std::filesystem;

namespace {

constexpr const char* good_settings = R"({"emits_type":"nl.schakel.test.made"})";

/** A private copy of the abi_good test plugin in its own directory, modes as the test sets them. */
class plugin_trust : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_ / "plugins";
    fs::create_directory(dir_);
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
    file_ = dir_ / "abi_good.so";
    fs::copy_file(fs::path(SCHAKEL_TEST_PLUGIN_DIR) / "abi_good.so", file_);
    fs::permissions(file_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
  }

  std::unique_ptr<ph::connector> load(ph::load_error& error) {
    return ph::load_connector(dir_, ph::load_request{"inst-1", "abi_good", good_settings}, {}, error);
  }

  /** Whether the copy was ever mapped into this process (a refused plugin must never be). */
  bool mapped() const {
    std::ifstream maps("/proc/self/maps");
    std::stringstream text;
    text << maps.rdbuf();
    return text.str().find(file_.string()) != std::string::npos;
  }

  schakel::test::temp_dir tmp_{"schakel-plugin-trust"};
  fs::path dir_;
  fs::path file_;
};

TEST_F(plugin_trust, loads_from_a_directory_only_its_owner_can_change) {
  ph::load_error error;
  EXPECT_NE(load(error), nullptr) << ph::to_string(error);
}

TEST_F(plugin_trust, refuses_a_world_writable_plugin_directory_before_mapping_the_plugin) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
  ph::load_error error;
  EXPECT_EQ(load(error), nullptr);
  EXPECT_EQ(error.reason, "refused: plugin directory " + dir_.string() +
                              " is writable by group and others (mode 0777), who could replace the code the hub "
                              "runs; fix: chmod go-w " +
                              dir_.string());
  EXPECT_FALSE(mapped());
}

TEST_F(plugin_trust, refuses_a_group_writable_plugin_file_before_mapping_it) {
  ASSERT_EQ(::chmod(file_.c_str(), 0775), 0);
  ph::load_error error;
  EXPECT_EQ(load(error), nullptr);
  EXPECT_EQ(error.file, file_.string());
  EXPECT_NE(error.reason.find("plugin file " + file_.string() + " is writable by group (mode 0775)"), std::string::npos)
      << error.reason;
  EXPECT_FALSE(mapped());
}

TEST_F(plugin_trust, refuses_a_plugin_directory_owned_by_another_user) {
  if (::geteuid() != 0) GTEST_SKIP() << "giving a directory away takes root";
  ASSERT_EQ(::chown(dir_.c_str(), 12345, 12345), 0);
  ph::load_error error;
  EXPECT_EQ(load(error), nullptr);
  EXPECT_NE(error.reason.find("plugin directory " + dir_.string() +
                              " is owned by uid 12345, neither root nor the hub's user (uid 0)"),
            std::string::npos)
      << error.reason;
  EXPECT_FALSE(mapped());
}

TEST_F(plugin_trust, refuses_a_plugin_file_owned_by_another_user) {
  if (::geteuid() != 0) GTEST_SKIP() << "giving a file away takes root";
  ASSERT_EQ(::chown(file_.c_str(), 12345, 12345), 0);
  ph::load_error error;
  EXPECT_EQ(load(error), nullptr);
  EXPECT_NE(error.reason.find("plugin file " + file_.string() + " is owned by uid 12345"), std::string::npos)
      << error.reason;
  EXPECT_FALSE(mapped());
}

}  // namespace
