#include "child.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

namespace schakel::load {

child child::spawn(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env,
                   const std::filesystem::path& log_file) {
  const int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) throw std::system_error(errno, std::generic_category(), "open " + log_file.string());
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    ::close(log_fd);
    throw std::system_error(e, std::generic_category(), "fork");
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec, apart from setenv (the harness forks before it starts
    // any thread, so no lock can be held by another thread here).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the harness died before prctl took effect
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log_fd);
  return child(pid);
}

child::child(child&& other) noexcept : pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
}

child& child::operator=(child&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !status_) terminate();
    pid_ = other.pid_;
    status_ = other.status_;
    other.pid_ = -1;
  }
  return *this;
}

child::~child() {
  if (pid_ > 0 && !status_) terminate();
}

bool child::reap(bool block) {
  if (pid_ <= 0 || status_) return true;
  int st = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return true;
  }
  if (r < 0) {
    status_ = -1;  // not our child any more; nothing left to reap
    return true;
  }
  return false;
}

bool child::running() {
  return !reap(false);
}

std::optional<int> child::terminate(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return std::nullopt;
  if (reap(false)) return status_;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (reap(false)) return status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  reap(true);
  return status_;
}

std::optional<std::uint16_t> wait_port_file(const std::filesystem::path& file, child& owner,
                                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(file);
    std::string line;
    // A complete line only: the writer may be half-way through the file.
    if (in && std::getline(in, line) && !in.eof()) {
      try {
        const int port = std::stoi(line);
        if (port > 0 && port < 65536) return static_cast<std::uint16_t>(port);
      } catch (const std::exception&) {
      }
    }
    if (!owner.running()) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

rss_kib read_rss(pid_t pid) {
  rss_kib out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    auto value = [&line] {
      std::istringstream ss(line.substr(line.find(':') + 1));
      std::uint64_t v = 0;
      ss >> v;
      return v;
    };
    if (line.starts_with("VmRSS:")) out.rss = value();
    if (line.starts_with("VmHWM:")) out.hwm = value();
  }
  return out;
}

}  // namespace schakel::load
