#pragma once
/** Small test helpers: a self-deleting temporary directory and waiting on a condition. */
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace schakel::test {

/** A fresh directory under the system temp dir, removed (recursively) on destruction. */
class temp_dir {
 public:
  explicit temp_dir(std::string_view prefix = "schakel-test");
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/**
 * Polls `pred` (every few milliseconds) until it returns true or `timeout` passes; returns the
 * last result. For waiting on an event in another thread or process without fixed sleeps.
 */
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(10));

/** The permission bits of `path` (following a symlink), e.g. 0600; ~0u when it cannot be stat'ed. */
unsigned permission_bits(const std::filesystem::path& path);

/** The whole content of `path` (empty when it cannot be read). */
std::string file_text(const std::filesystem::path& path);

}  // namespace schakel::test
