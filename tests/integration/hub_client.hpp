#pragma once
/** A synchronous HTTP(S) client and a raw-socket helper for driving the real daemon in tests. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "support/temp_dir.hpp"

namespace schakel::test {

struct http_reply {
  unsigned status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
  std::string header(const std::string& name) const;
};

struct http_call {
  http_call() = default;
  http_call(std::string m, std::string t, std::string b = {}, std::vector<std::pair<std::string, std::string>> h = {})
      : method(std::move(m)), target(std::move(t)), body(std::move(b)), headers(std::move(h)) {}
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/** One request on a fresh connection; https when `ca_file` is set (verified against it). */
http_reply send(std::uint16_t port, const http_call& call, const std::filesystem::path& ca_file = {});

/**
 * One request over TLS on a fresh connection, the server verified against `ca_file`, presenting the
 * client certificate `cert` (with `key`) when it is set. Throws boost::system::system_error when the
 * server refuses the handshake (with TLS 1.3 that shows on the first read).
 */
http_reply send_with_certificate(std::uint16_t port, const http_call& call, const std::filesystem::path& ca_file,
                                 const std::filesystem::path& cert, const std::filesystem::path& key);

/** Several requests on one keep-alive connection (plain HTTP). */
std::vector<http_reply> send_keep_alive(std::uint16_t port, const std::vector<http_call>& calls);

/** Writes raw bytes, then reads until the server closes or `timeout_ms`; returns what came back. */
std::string raw_exchange(std::uint16_t port, const std::string& bytes, int timeout_ms,
                         bool keep_writing_slowly = false);

/** A plain TCP connection to the hub from the loopback address `source` (127.0.0.2 acts as a second client). */
class raw_connection {
 public:
  raw_connection(std::uint16_t port, const char* source = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &from.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    connected_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0 &&
                 ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  }
  ~raw_connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  raw_connection(raw_connection&& o) noexcept : fd_(o.fd_), connected_(o.connected_), got_(std::move(o.got_)) {
    o.fd_ = -1;
  }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  bool connected() const { return connected_; }
  bool write(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size());
  }
  /** Reads what has arrived without blocking; true once the hub has closed the connection. */
  bool poll_closed() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        got_.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    }
  }
  const std::string& received() const { return got_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string got_;
};

/** One request from `source` on its own connection; the raw answer once the hub closes it (5 s at most). */
inline std::string exchange_from(std::uint16_t port, const char* source, const std::string& request) {
  raw_connection c(port, source);
  if (!c.connected() || !c.write(request)) return {};
  (void)wait_until([&] { return c.poll_closed(); }, std::chrono::seconds(5));
  return c.received();
}

}  // namespace schakel::test
