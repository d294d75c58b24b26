#pragma once
/** Runs the real `schakel` daemon and the real `schakel-receiver` as child processes. */
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hub_client.hpp"
#include "support/absence_fixture.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_tls.hpp"

namespace schakel::test {

/** The node name hub_process gives `schakel serve --node` unless the config sets `node`: in every metric. */
inline const std::string test_node = "test-node";
inline const std::string ingest_token = "test-ingest-token-0123456789abcdefghijklmnop";
inline const std::string webhook_secret = "whsec_uw2N4WfZfUU3NJ96ocX0s5q69eg/nZQKzcechTyyp7U=";
/** delivery.webhook.allow_destinations for a receiver on this host: loopback is refused otherwise. */
inline const nlohmann::json loopback_allowlist = nlohmann::json::array({"127.0.0.1/32"});

/** delivery.webhook for a receiver on this host at `url`, signed with webhook_secret. */
inline nlohmann::json loopback_webhook(const std::string& url) {
  return {{"url", url}, {"secret", webhook_secret}, {"allow_destinations", loopback_allowlist}};
}

/**
 * The fixture's `access` section: one token per admin role (operator, privacy_officer, linker, trends,
 * metrics), each named test-<role>. hub_config() includes it; configs built by hand add it.
 */
nlohmann::json access_section();
/** The fixture's token for `role` (one of config::admin_roles). */
const std::string& role_token(const std::string& role);
/** An Authorization header carrying the fixture's token for `role`. */
std::pair<std::string, std::string> bearer_of(const std::string& role);
/** An admin call as `role`: its bearer token, and Content-Type: application/json when it has a body. */
http_call as_role(const std::string& role, std::string method, std::string target, std::string body = {});
/** Writes the fixture's token for `role` to dir/<role>.token (0600) for the CLI's --token-file; returns its path. */
std::filesystem::path token_file(const std::filesystem::path& dir, const std::string& role);
/** GET /metrics with the fixture's metrics token (or `token`). */
std::string metrics_text(std::uint16_t port, const std::filesystem::path& ca_file = {}, const std::string& token = {});

/** `n` absence records as a JSON array; student keys S-<first+i>. */
std::string absence_records(int n, int first = 0);

struct hub_options {
  std::string webhook_url;
  std::string webhook_secret = test::webhook_secret;
  std::string token = test::ingest_token;
  std::string webhook_ca_file;
  /// delivery.webhook.allow_destinations; the test receivers listen on 127.0.0.1.
  nlohmann::json allow_destinations = loopback_allowlist;
  std::optional<tls_files> tls;
  std::uint32_t max_attempts = 12;
  std::string initial_backoff = "50ms";
  std::string max_backoff = "200ms";
  bool batched = false;
  std::int64_t max_outbox_depth = 1000000;
  std::string read_timeout = "15s";
  std::int64_t max_body_bytes = 1024 * 1024;
  std::int64_t max_connections = 256;
  std::vector<std::string> fields{"type", "subject.class", "content.severity", "content.value", "source.record_id"};
  /// The subscription's privacy policy (the fixture's absences are health data: sick leave).
  nlohmann::json privacy{{"identity", "identified"},
                         {"purpose", "integration test partner"},
                         {"legal_basis", "public_task"},
                         {"health_ground", "health_care"}};
};

nlohmann::json hub_config(const std::filesystem::path& data_dir, const hub_options& o);

/**
 * An attendance connector (magister-like profile, school 99XX00) named `name` that also watches
 * `drop_dir` (50 ms polls, no settle time), with the given absence codes.
 */
nlohmann::json attendance_drop_connector(const std::string& name, const std::filesystem::path& drop_dir,
                                         const nlohmann::json& codes = {{"O", "unauthorised"}});

class hub_process {
 public:
  explicit hub_process(const std::filesystem::path& dir) : dir_(dir) {}
  /**
   * Writes the config and starts `schakel serve` (with `env` added; with --node test_node unless the
   * config sets `node`); waits for its port.
   */
  void start(const nlohmann::json& config, const std::vector<std::pair<std::string, std::string>>& env = {});
  std::uint16_t port() const { return port_; }
  child_process& process() { return *proc_; }
  std::string log() const;
  std::filesystem::path data_dir() const { return dir_ / "data"; }
  std::filesystem::path config_file() const { return dir_ / "config.json"; }

  http_reply post_records(const std::string& body, const std::string& token = ingest_token,
                          const std::string& instance = "src");

 private:
  std::filesystem::path dir_;
  std::optional<child_process> proc_;
  std::uint16_t port_ = 0;
  std::filesystem::path ca_file_;
};

class receiver_process {
 public:
  /** Starts `schakel-receiver` with extra arguments (e.g. --fail-first 1). */
  receiver_process(const std::filesystem::path& dir, const std::vector<std::string>& args,
                   const std::string& secret = webhook_secret);
  std::uint16_t port() const { return port_; }
  std::string url() const;
  /** Every verified delivery so far, one JSON object per event (parsed from --out). */
  std::vector<nlohmann::json> events() const;
  /** Distinct CloudEvent ids received. */
  std::size_t distinct_events() const;
  /** The CloudEvents (the `event` of each delivery) of one type, in arrival order. */
  std::vector<nlohmann::json> of_type(const std::string& type) const;
  child_process& process() { return *proc_; }

 private:
  std::filesystem::path out_;
  std::optional<child_process> proc_;
  std::uint16_t port_ = 0;
  bool tls_ = false;
};

struct cli_result {
  int exit = -1;
  std::string output;  ///< stdout and stderr together
};
/** Runs `schakel <args>` to completion (30 s at most); its output goes to dir/<name>.out. */
cli_result run_schakel(const std::filesystem::path& dir, const std::vector<std::string>& args, const std::string& name);

/** The daemon's log lines (JSON, one a line) of one event, parsed, in order. */
std::vector<nlohmann::json> log_events(const std::string& log, const std::string& event);

/** Creates `p` (and its parents) and returns it: for members initialised in order. */
std::filesystem::path made(const std::filesystem::path& p);

/** True once every processor of the hub on `port` has committed everything in the log (GET /v1/processors). */
bool processors_caught_up(std::uint16_t port, const std::string& admin_token,
                          const std::filesystem::path& ca_file = {});

}  // namespace schakel::test
