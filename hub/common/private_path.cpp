#include "common/private_path.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>

namespace schakel {

namespace {

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

}  // namespace

std::optional<std::string> exposure_of(const std::filesystem::path& path) {
  struct ::stat st {};
  // stat, not lstat: a symlink's own mode means nothing; what it points to is what others can read.
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  const mode_t open_bits = st.st_mode & (S_IRWXG | S_IRWXO);
  if (open_bits == 0) return std::nullopt;
  const bool read = (open_bits & (S_IRGRP | S_IROTH)) != 0;
  const bool write = (open_bits & (S_IWGRP | S_IWOTH)) != 0;
  const char* how = read && write ? "readable and writable" : read ? "readable" : write ? "writable" : "accessible";
  const bool group = (open_bits & S_IRWXG) != 0;
  const bool others = (open_bits & S_IRWXO) != 0;
  const char* whom = group && others ? "group and others" : others ? "others" : "group";
  const std::string fix = S_ISDIR(st.st_mode) ? "chmod 700 " : "chmod 600 ";
  return path.string() + " is " + how + " by " + whom + " (mode " + octal_mode(st.st_mode) + "); fix: " + fix +
         path.string();
}

void require_private(const std::filesystem::path& path) {
  if (auto problem = exposure_of(path)) throw std::runtime_error(*std::move(problem));
}

void create_private_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    if (!dir.parent_path().empty()) std::filesystem::create_directories(dir.parent_path());
    // mkdir with 0700 rather than create-then-chmod: the folder is never open, not even for a moment.
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      throw std::runtime_error(
          dir.string() + ": cannot create the directory: " + std::error_code(errno, std::generic_category()).message());
    }
  }
  require_private(dir);
}

std::optional<std::string> untrusted_code(const std::filesystem::path& path) {
  struct ::stat st {};
  // stat follows a symlink: the file the loader maps is what must be safe from others.
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  const char* what = S_ISDIR(st.st_mode) ? "plugin directory " : "plugin file ";
  const uid_t own = ::geteuid();
  if (st.st_uid != 0 && st.st_uid != own) {
    return what + path.string() + " is owned by uid " + std::to_string(st.st_uid) +
           ", neither root nor the hub's user (uid " + std::to_string(own) +
           "), who could replace the code the hub runs; fix: chown root " + path.string();
  }
  const mode_t writable = st.st_mode & (S_IWGRP | S_IWOTH);
  if (writable != 0) {
    const char* whom = writable == (S_IWGRP | S_IWOTH) ? "group and others" : (writable & S_IWOTH) ? "others" : "group";
    return what + path.string() + " is writable by " + whom + " (mode " + octal_mode(st.st_mode) +
           "), who could replace the code the hub runs; fix: chmod go-w " + path.string();
  }
  return std::nullopt;
}

}  // namespace schakel
