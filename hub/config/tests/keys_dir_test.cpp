// Keys apart from data: a config names (or defaults) a keys directory that never shares a tree with
// the data directory, so a backup of the data holds no key that reverses its BSN hashes.
#include <stdlib.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config/tests/error_of.hpp"

namespace schakel::config {
namespace {

namespace fs = std::filesystem;

using testing::error_of;

bool same_or_below(const fs::path& inner, const fs::path& outer) {
  const auto rel = inner.lexically_normal().lexically_relative(outer.lexically_normal());
  return !rel.empty() && *rel.begin() != "..";
}

TEST(keys_dir, defaults_to_a_sibling_of_the_data_directory) {
  const auto c = load_config_text("data_dir: /var/lib/schakel\n", "t.yaml");
  EXPECT_EQ(c.keys_dir, "/var/lib/schakel-keys");
  EXPECT_FALSE(same_or_below(c.keys_dir, c.data_dir));
  EXPECT_EQ(default_keys_dir("/var/lib/schakel/"), "/var/lib/schakel-keys");
  EXPECT_EQ(default_keys_dir("/srv/hub/./data"), "/srv/hub/data-keys");
}

TEST(keys_dir, a_relative_data_directory_gets_an_absolute_sibling_outside_it) {
  for (const std::string data : {"data", ".", "./var/schakel", "a/.."}) {
    const std::string keys = default_keys_dir(data);
    ASSERT_FALSE(keys.empty()) << data;
    EXPECT_TRUE(fs::path(keys).is_absolute()) << data;
    const fs::path abs_data = fs::absolute(data).lexically_normal();
    EXPECT_FALSE(same_or_below(keys, abs_data)) << data << " -> " << keys;
    EXPECT_FALSE(same_or_below(abs_data, keys)) << data << " -> " << keys;
  }
}

TEST(keys_dir, an_explicit_directory_outside_the_data_is_kept) {
  const auto c = load_config_text("data_dir: /var/lib/schakel\nkeys_dir: /etc/schakel/keys\n", "t.yaml");
  EXPECT_EQ(c.keys_dir, "/etc/schakel/keys");
}

TEST(keys_dir, inside_the_data_directory_is_refused) {
  EXPECT_EQ(error_of("data_dir: /var/lib/schakel\nkeys_dir: /var/lib/schakel/keys\n"),
            "test.yaml: keys_dir: \"/var/lib/schakel/keys\" is inside data_dir \"/var/lib/schakel\"; a backup of the "
            "data directory would then hold the key that reverses its BSN hashes; choose a directory outside it "
            "(default \"/var/lib/schakel-keys\")");
  // Spelled differently, the same place.
  EXPECT_NE(
      error_of("data_dir: /var/lib/schakel/\nkeys_dir: /var/lib/other/../schakel/./k\n").find("is inside data_dir"),
      std::string::npos);
  EXPECT_NE(error_of("data_dir: /var/lib/schakel\nkeys_dir: /var/lib/schakel/\n").find("is data_dir"),
            std::string::npos);
}

TEST(keys_dir, a_keys_directory_holding_the_data_is_refused) {
  EXPECT_EQ(error_of("data_dir: /srv/schakel/data\nkeys_dir: /srv/schakel\n"),
            "test.yaml: keys_dir: \"/srv/schakel\" holds data_dir \"/srv/schakel/data\"; a backup of the data "
            "directory would then hold the key that reverses its BSN hashes; choose a directory beside it (default "
            "\"/srv/schakel/data-keys\")");
}

TEST(keys_dir, a_name_that_only_starts_like_the_data_directory_is_outside_it) {
  const auto c = load_config_text("data_dir: /var/lib/schakel\nkeys_dir: /var/lib/schakel2\n", "t.yaml");
  EXPECT_EQ(c.keys_dir, "/var/lib/schakel2");
}

TEST(keys_dir, a_symlink_into_the_data_directory_is_refused) {
  std::string pattern = (fs::temp_directory_path() / "schakel-keysdir-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const fs::path dir = pattern;
  fs::create_directories(dir / "data" / "keys");
  fs::create_directory_symlink(dir / "data" / "keys", dir / "keys");
  const auto message =
      error_of("data_dir: " + (dir / "data").string() + "\nkeys_dir: " + (dir / "keys").string() + "\n");
  EXPECT_NE(message.find("is inside data_dir"), std::string::npos) << message;
  fs::remove_all(dir);
}

TEST(keys_dir, the_root_as_data_directory_must_name_keys_dir) {
  EXPECT_EQ(default_keys_dir("/"), "");
  EXPECT_NE(error_of("data_dir: /\n").find("keys_dir: data_dir \"/\" has no parent"), std::string::npos);
}

}  // namespace
}  // namespace schakel::config
