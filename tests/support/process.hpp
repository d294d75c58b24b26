#pragma once
/**
 * Runs a program as a child process for integration tests (bin/schakel, bin/schakel-receiver):
 * spawn with extra environment, wait for its port file, signal it and collect its exit status.
 */
#include <sys/types.h>

#include <csignal>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace schakel::test {

class child_process {
 public:
  /**
   * Starts argv[0] (a path) with the current environment plus `env` (overriding same-named
   * variables). stdout and stderr go to `output_file` (appended) when given, else are inherited.
   * Throws std::system_error when the program cannot be started.
   */
  static child_process spawn(const std::vector<std::string>& argv,
                             const std::vector<std::pair<std::string, std::string>>& env = {},
                             const std::filesystem::path& output_file = {});

  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  /** Kills (SIGKILL) and reaps a child that is still running. */
  ~child_process();

  pid_t pid() const { return pid_; }
  /** True until the child has exited (reaps it when it has). */
  bool running();
  /**
   * Waits up to `timeout` for the child to exit. Returns its exit code, or 128 + signal number when
   * a signal ended it; nullopt on timeout.
   */
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);
  /** Sends `sig` (default SIGTERM) and waits; after `timeout` sends SIGKILL. Returns as wait_for_exit. */
  std::optional<int> terminate(int sig = SIGTERM, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  explicit child_process(pid_t pid) : pid_(pid) {}
  bool reap(bool block);
  pid_t pid_ = -1;
  std::optional<int> status_;
};

/** Waits until `file` holds a port number (a complete line) and returns it; nullopt on timeout. */
std::optional<std::uint16_t> read_port_file(const std::filesystem::path& file,
                                            std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace schakel::test
