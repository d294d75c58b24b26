#include "privacy/key_provider.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

#include "common/private_path.hpp"
#include "privacy/keys.hpp"

namespace schakel::privacy {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

[[noreturn]] void fail(const fs::path& file, const std::string& why) {
  throw std::runtime_error(file.string() + ": " + why);
}

/** A rename, link or unlink is durable only once its directory is synced. */
void sync_directory(const fs::path& dir) {
  const fs::path d = dir.empty() ? fs::path(".") : dir;
  const int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(d, "cannot open the directory to sync it: " + errno_text(errno));
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) fail(d, "cannot sync the directory: " + errno_text(error));
}

std::string file_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot open");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(file, "cannot read");
  return bytes;
}

void remove_synced(const fs::path& file) {
  if (::unlink(file.c_str()) != 0 && errno != ENOENT) fail(file, "cannot remove: " + errno_text(errno));
  sync_directory(file.parent_path());
}

/** The other filesystem's way: a synced, read-back copy renamed into place. */
void copy_into_place(const fs::path& from, const fs::path& to) {
  const std::string bytes = file_bytes(from);
  // Dot-named and beside `to`, so the rename is atomic and a crash leaves no file named like a key.
  const fs::path part = to.parent_path() / ("." + to.filename().string() + ".moving");
  if (::unlink(part.c_str()) != 0 && errno != ENOENT) fail(part, "cannot remove a stale copy: " + errno_text(errno));
  if (const int error = create_synced_file(part, bytes); error != 0)
    fail(part, "cannot copy the key: " + errno_text(error));
  if (file_bytes(part) != bytes) {
    ::unlink(part.c_str());
    fail(part, "the copy does not read back as written");
  }
  if (::rename(part.c_str(), to.c_str()) != 0) {
    const int error = errno;
    ::unlink(part.c_str());
    fail(to, "cannot put the copied key in place: " + errno_text(error));
  }
}

}  // namespace

file_key_provider::file_key_provider(fs::path dir) : dir_(std::move(dir)) {
  try {
    create_private_directory(dir_);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("keys_dir: ") + e.what());
  }
}

fs::path file_key_provider::file_of(std::string_view name) const {
  const bool fits = !name.empty() && name.size() <= 64 &&
                    name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string_view::npos;
  if (!fits)
    throw std::invalid_argument("key name \"" + std::string(name) + "\": 1-64 characters of a-z, 0-9, _ and -");
  return dir_ / (std::string(name) + ".key");
}

std::string file_key_provider::key(std::string_view name) {
  try {
    return load_or_create_key_file(file_of(name));
  } catch (const std::exception& e) {
    throw std::runtime_error("key " + std::string(name) + ": " + e.what());
  }
}

std::optional<std::string> move_key_file(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  const auto st = fs::symlink_status(from, ec);
  if (ec || !fs::exists(st)) return std::nullopt;
  // A link's target may be anywhere, the data directory included: where it goes is for the operator.
  if (fs::is_symlink(st))
    fail(from,
         "is a symbolic link; move the key it points to to " + to.string() + " or name it in privacy.hub_key_file");
  const std::string key = load_key_file(from);  // a key, private, or the hub refuses before moving anything
  if (fs::exists(to, ec)) {
    if (load_key_file(to) != key) {
      fail(from, "and " + to.string() +
                     " hold different keys; one was made after the other and only one matches the hashes in the "
                     "database. Keep the key the data was made with (the older one, normally " +
                     from.string() + ") at " + to.string() + ", remove the other, and start again");
    }
    remove_synced(from);
    return "duplicate_removed";
  }
  // A hard link rather than rename: link refuses when `to` appeared meanwhile instead of replacing it,
  // and until `from` is removed both names hold the same key, which the next start sorts out above.
  std::string method = "link";
  if (::link(from.c_str(), to.c_str()) == 0) {
    sync_directory(to.parent_path());
  } else if (errno == EXDEV || errno == EPERM || errno == ENOTSUP || errno == EMLINK) {
    method = "copy";
    copy_into_place(from, to);
    sync_directory(to.parent_path());
  } else {
    fail(to, "cannot link the key from " + from.string() + ": " + errno_text(errno));
  }
  if (load_key_file(to) != key) fail(to, "does not hold the key of " + from.string() + " after the move; both kept");
  remove_synced(from);
  return method;
}

}  // namespace schakel::privacy
