#pragma once
/**
 * A minimal blocking HTTP/1.1 GET over loopback for the benchmark harness's status polls: one
 * connection per request (Connection: close), no TLS, no chunked decoding beyond what the daemon
 * sends (it answers with Content-Length). Polls are a few per second, so simplicity wins over reuse.
 */
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace schakel::attendance_bench {

struct http_answer {
  int status = 0;
  std::string body;
};

/**
 * GET http://127.0.0.1:<port><target> with an optional bearer token. nullopt when the connection
 * fails, the answer is malformed or `timeout` passes.
 */
std::optional<http_answer> http_get(std::uint16_t port, const std::string& target, const std::string& bearer,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace schakel::attendance_bench
