#pragma once
/** A fresh directory per key test, removed afterwards. */
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace schakel::privacy {

class temp_dir {
 public:
  /** Under `base` (the system temp directory unless a test needs another filesystem). */
  explicit temp_dir(const std::filesystem::path& base = std::filesystem::temp_directory_path()) {
    std::random_device rd;
    path_ = base / ("schakel-keys-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace schakel::privacy
