#include "http_get.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace schakel::attendance_bench {

namespace {

class socket_fd {
 public:
  explicit socket_fd(int fd) : fd_(fd) {}
  ~socket_fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  socket_fd(const socket_fd&) = delete;
  socket_fd& operator=(const socket_fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

bool wait_ready(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

std::optional<http_answer> http_get(std::uint16_t port, const std::string& target, const std::string& bearer,
                                    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  socket_fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0) return std::nullopt;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Loopback connects complete at once or fail at once: no need for a non-blocking connect.
  if (::connect(s.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return std::nullopt;

  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!bearer.empty()) req += "Authorization: Bearer " + bearer + "\r\n";
  req += "\r\n";
  for (std::size_t sent = 0; sent < req.size();) {
    if (!wait_ready(s.get(), POLLOUT, deadline)) return std::nullopt;
    const ssize_t n = ::send(s.get(), req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    sent += static_cast<std::size_t>(n);
  }

  std::string in;
  std::size_t header_end = std::string::npos, content_length = std::string::npos;
  char buf[16384];
  for (;;) {
    if (header_end != std::string::npos && content_length != std::string::npos &&
        in.size() >= header_end + 4 + content_length)
      break;
    if (!wait_ready(s.get(), POLLIN, deadline)) return std::nullopt;
    const ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;  // closed: the body is what we have
    in.append(buf, static_cast<std::size_t>(n));
    if (header_end == std::string::npos && (header_end = in.find("\r\n\r\n")) != std::string::npos) {
      std::string head = in.substr(0, header_end);
      for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const auto at = head.find("\r\ncontent-length:");
      if (at != std::string::npos) content_length = std::strtoull(head.c_str() + at + 17, nullptr, 10);
    }
  }
  if (header_end == std::string::npos || !in.starts_with("HTTP/1.")) return std::nullopt;
  http_answer a;
  a.status = std::atoi(in.c_str() + in.find(' ') + 1);
  a.body = in.substr(header_end + 4);
  if (content_length != std::string::npos && a.body.size() > content_length) a.body.resize(content_length);
  return a;
}

}  // namespace schakel::attendance_bench
