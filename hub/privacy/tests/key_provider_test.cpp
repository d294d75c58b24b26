// Keys apart from data: the file key provider and the move of a key from where earlier versions kept
// it. A moved key is the same key (hashes and pseudonyms survive); no state a crash can leave makes
// the hub lose it or make a new one.
#include "privacy/key_provider.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "key_temp_dir.hpp"

#include "privacy/keys.hpp"

namespace schakel::privacy {
namespace {

namespace fs = std::filesystem;

unsigned mode_of(const fs::path& p) {
  struct ::stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/** A key file as an earlier hub wrote it: 64 hex characters and a newline, 0600. */
fs::path old_key(const fs::path& file, char fill) {
  std::ofstream(file) << std::string(64, fill) << "\n";
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  return file;
}

TEST(file_key_provider, creates_a_private_directory_and_0600_keys_and_reloads_them) {
  temp_dir t;
  const fs::path dir = t.path() / "keys";
  file_key_provider keys(dir);
  EXPECT_EQ(mode_of(dir), 0700u);
  const std::string hub = keys.key("hub");
  EXPECT_GE(hub.size(), 32u);
  EXPECT_EQ(keys.file_of("hub"), dir / "hub.key");
  EXPECT_EQ(mode_of(dir / "hub.key"), 0600u);
  EXPECT_EQ(keys.key("hub"), hub);
  EXPECT_NE(keys.key("audit"), hub);
  EXPECT_EQ(mode_of(dir / "audit.key"), 0600u);
  // A new provider over the same directory (the next start) finds the same keys.
  file_key_provider again(dir);
  EXPECT_EQ(again.key("hub"), hub);
  EXPECT_EQ(again.where(), dir.string());
}

TEST(file_key_provider, refuses_names_that_leave_the_directory) {
  temp_dir t;
  file_key_provider keys(t.path() / "keys");
  for (const std::string& bad : {std::string(), std::string("../hub"), std::string("a/b"), std::string("Hub"),
                                 std::string(".hidden"), std::string(65, 'a')})
    EXPECT_THROW((void)keys.file_of(bad), std::invalid_argument) << bad;
  EXPECT_THROW((void)keys.key("../x"), std::runtime_error);
}

TEST(file_key_provider, refuses_a_directory_group_or_others_can_enter) {
  temp_dir t;
  const fs::path dir = t.path() / "keys";
  fs::create_directory(dir);
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  try {
    file_key_provider keys(dir);
    ADD_FAILURE() << "an open keys directory was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("keys_dir: " + dir.string() + " is readable by group"), std::string::npos)
        << e.what();
  }
}

TEST(move_key_file, moves_the_same_key_and_removes_the_old_file) {
  temp_dir t;
  fs::create_directory(t.path() / "keys");
  fs::permissions(t.path() / "keys", fs::perms::owner_all);
  const fs::path from = old_key(t.path() / "hub.key", 'a');
  const fs::path to = t.path() / "keys" / "hub.key";
  const std::string before = load_key_file(from);
  const auto how = move_key_file(from, to);
  ASSERT_TRUE(how.has_value());
  EXPECT_EQ(*how, "link");
  EXPECT_FALSE(fs::exists(from));
  EXPECT_EQ(load_key_file(to), before);
  EXPECT_EQ(bytes_of(to), std::string(64, 'a') + "\n");
  EXPECT_EQ(mode_of(to), 0600u);
  EXPECT_EQ(fs::hard_link_count(to), 1u);
  // Nothing left to move: nothing happens, and the provider then serves the moved key.
  EXPECT_FALSE(move_key_file(from, to).has_value());
  file_key_provider keys(t.path() / "keys");
  EXPECT_EQ(keys.key("hub"), before);
}

TEST(move_key_file, copies_across_filesystems) {
  temp_dir data;
  if (!fs::is_directory("/dev/shm")) GTEST_SKIP() << "no /dev/shm";
  temp_dir keys_dir("/dev/shm");
  struct ::stat a {
  }, b{};
  ASSERT_EQ(::stat(data.path().c_str(), &a), 0);
  ASSERT_EQ(::stat(keys_dir.path().c_str(), &b), 0);
  if (a.st_dev == b.st_dev) GTEST_SKIP() << "/dev/shm is on the same filesystem as the temp directory";
  const fs::path from = old_key(data.path() / "hub.key", 'b');
  const fs::path to = keys_dir.path() / "hub.key";
  // A copy a crash left half-written is replaced, never taken for the key.
  std::ofstream(keys_dir.path() / ".hub.key.moving") << "0123";
  const std::string before = load_key_file(from);
  const auto how = move_key_file(from, to);
  ASSERT_TRUE(how.has_value());
  EXPECT_EQ(*how, "copy");
  EXPECT_FALSE(fs::exists(from));
  EXPECT_FALSE(fs::exists(keys_dir.path() / ".hub.key.moving"));
  EXPECT_EQ(load_key_file(to), before);
  EXPECT_EQ(mode_of(to), 0600u);
}

TEST(move_key_file, both_present_and_equal_as_a_crash_leaves_them_removes_the_old_one) {
  temp_dir t;
  const fs::path from = old_key(t.path() / "hub.key", 'c');
  fs::create_directory(t.path() / "keys");
  const fs::path to = t.path() / "keys" / "hub.key";
  fs::create_hard_link(from, to);  // a kill -9 between the link and the unlink
  const auto how = move_key_file(from, to);
  ASSERT_TRUE(how.has_value());
  EXPECT_EQ(*how, "duplicate_removed");
  EXPECT_FALSE(fs::exists(from));
  EXPECT_EQ(bytes_of(to), std::string(64, 'c') + "\n");

  // The old file back again (restored from an old backup of the data directory): the same key, removed.
  const fs::path again = old_key(t.path() / "hub.key", 'c');
  EXPECT_EQ(move_key_file(again, to).value_or(""), "duplicate_removed");
}

TEST(move_key_file, both_present_and_different_refuses_and_touches_neither) {
  temp_dir t;
  const fs::path from = old_key(t.path() / "hub.key", 'd');
  fs::create_directory(t.path() / "keys");
  const fs::path to = old_key(t.path() / "keys" / "hub.key", 'e');
  try {
    (void)move_key_file(from, to);
    ADD_FAILURE() << "two different keys were accepted";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(from.string() + ": and " + to.string() + " hold different keys"), std::string::npos)
        << message;
    EXPECT_EQ(message.find(std::string(8, 'd')), std::string::npos) << "no key material in the message";
    EXPECT_EQ(message.find(std::string(8, 'e')), std::string::npos) << "no key material in the message";
  }
  EXPECT_EQ(bytes_of(from), std::string(64, 'd') + "\n");
  EXPECT_EQ(bytes_of(to), std::string(64, 'e') + "\n");
}

TEST(move_key_file, an_old_key_others_can_read_is_refused_before_anything_moves) {
  temp_dir t;
  const fs::path from = old_key(t.path() / "hub.key", 'f');
  fs::permissions(from, fs::perms::others_read, fs::perm_options::add);
  fs::create_directory(t.path() / "keys");
  const fs::path to = t.path() / "keys" / "hub.key";
  EXPECT_THROW((void)move_key_file(from, to), std::runtime_error);
  EXPECT_TRUE(fs::exists(from));
  EXPECT_FALSE(fs::exists(to));
}

}  // namespace
}  // namespace schakel::privacy
