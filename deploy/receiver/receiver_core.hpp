#pragma once
/**
 * A partner-side webhook receiver for demos and tests: accepts CloudEvents POSTed by the hub
 * (single or batch), verifies every Standard Webhooks signature (401 on a bad one), answers with a
 * scripted status sequence, and records what it accepted.
 *
 * Runs on a single-threaded executor (one io_context thread); the accessors are thread-safe.
 */
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

namespace schakel::receiver {

struct options {
  std::string listen = "127.0.0.1:0";  ///< host:port or [v6]:port; port 0 picks a free one
  std::string secret;                  ///< whsec_… ; required
  std::string tls_cert;                ///< PEM chain; with tls_key serves HTTPS
  std::string tls_key;
  std::string client_ca;         ///< with tls_cert: require a client certificate signed by this CA (mutual TLS)
  std::uint32_t fail_first = 0;  ///< answer 500 to the first N verified requests
  std::vector<unsigned> status_sequence;  ///< then these statuses in order, then 200
  /// After the sequence, answer 500 to this fraction (0..1) of verified requests, at random but
  /// repeatably (seeded by fail_seed): a flaky partner for soak runs.
  double fail_rate = 0;
  std::uint64_t fail_seed = 1;
  std::string retry_after;             ///< Retry-After value sent with every non-2xx answer
  std::chrono::milliseconds delay{0};  ///< wait before answering (slow partner)
  std::size_t ok_body_bytes = 0;       ///< pad each 2xx answer's body to this many bytes (a chatty partner)
  std::string out_file;                ///< append one JSON line per accepted event
  /// Append one JSON line per request, whatever the answer: every header and the body as received,
  /// and the status answered (what a privacy officer reads to see all that reaches the partner).
  std::string raw_out_file;
  bool quiet = false;          ///< no human-readable line per event on stdout
  std::string port_file;       ///< write the bound port ("<port>\n") here
  std::size_t max_events = 0;  ///< call on_max_events after this many distinct event ids
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  std::chrono::seconds tolerance{300};  ///< webhook-timestamp tolerance
  /// Keep every request (body included) for requests()/accepted_event_ids(): in-process tests want
  /// it; the standalone receiver turns it off so a long demo or load run does not grow without bound.
  bool keep_requests = true;
};

/**
 * The status to answer each verified request with: 500 for the first `fail_first`, then the
 * `status_sequence`, then 200 except for a `fail_rate` share of 500s. Not thread-safe.
 */
class status_script {
 public:
  explicit status_script(const options& o);
  unsigned next();

 private:
  std::uint32_t fail_first_;
  std::vector<unsigned> sequence_;
  double fail_rate_;
  std::mt19937_64 rng_;
  std::uint64_t count_ = 0;
};

/** What one request carried and how it was answered. */
struct received_request {
  std::string webhook_id;
  std::string timestamp;
  std::string signature;
  std::string content_type;
  std::string user_agent;
  std::vector<std::pair<std::string, std::string>> headers;  ///< every header, names lower-cased
  std::string body;
  unsigned status = 0;  ///< the status answered
  bool verified = false;
};

class receiver {
 public:
  /** Parses the secret, loads TLS files and binds. Throws std::runtime_error naming the problem. */
  receiver(boost::asio::any_io_executor ex, options opts);
  ~receiver();
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;

  std::uint16_t port() const;
  /** Starts accepting and writes the port file. */
  void start();
  /** Closes the listener and open connections; returns at once. */
  void stop();
  /** Runs (on the executor) once max_events distinct events were accepted. */
  void on_max_events(std::function<void()> cb);

  std::vector<received_request> requests() const;
  /** Event ids accepted (2xx), in arrival order, duplicates included. */
  std::vector<std::string> accepted_event_ids() const;
  std::size_t distinct_events() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

/** Parses "host:port" / "[v6]:port"; false on a malformed value. */
bool split_listen(const std::string& text, std::string& host, std::uint16_t& port);

}  // namespace schakel::receiver
