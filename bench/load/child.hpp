#pragma once
/**
 * Child processes of the load harness (the daemon and the receiver). A child dies with the harness:
 * the destructor terminates it, and the kernel sends it SIGKILL should the harness itself be killed
 * (PR_SET_PDEATHSIG), so no run leaves a daemon behind.
 */
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace schakel::load {

class child {
 public:
  /**
   * Starts argv[0] (a path) with the harness's environment plus `env`; stdin from /dev/null,
   * stdout and stderr to `log_file`. Throws std::system_error when fork or the log file fails; an
   * exec failure shows up as the child exiting with 127.
   */
  static child spawn(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env,
                     const std::filesystem::path& log_file);

  child(child&& other) noexcept;
  child& operator=(child&& other) noexcept;
  child(const child&) = delete;
  child& operator=(const child&) = delete;
  /** Terminates (SIGTERM, then SIGKILL after 5 s) and reaps a child still running. */
  ~child();

  pid_t pid() const { return pid_; }
  /** True until the child has exited (reaps it when it has). */
  bool running();
  /** SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status (128+signal if signalled). */
  std::optional<int> terminate(std::chrono::milliseconds grace = std::chrono::seconds(5));
  std::optional<int> exit_status() const { return status_; }

 private:
  explicit child(pid_t pid) : pid_(pid) {}
  bool reap(bool block);
  pid_t pid_ = -1;
  std::optional<int> status_;
};

/** Waits until `file` holds a complete line with a port, while `alive` stays true; nullopt otherwise. */
std::optional<std::uint16_t> wait_port_file(const std::filesystem::path& file, child& owner,
                                            std::chrono::milliseconds timeout);

/** Resident set size now (VmRSS) and its peak (VmHWM) in KiB, from /proc/<pid>/status; 0 when unknown. */
struct rss_kib {
  std::uint64_t rss = 0;
  std::uint64_t hwm = 0;
};
rss_kib read_rss(pid_t pid);

}  // namespace schakel::load
