#pragma once
/**
 * Who may do what over HTTP (docs/access.md). One pure decision per request, from its method, path
 * and headers alone (the body is not read yet): which role the route needs, whether the request is
 * same-site (Host, Origin, Content-Type) and whether its bearer token holds that role. Nothing is
 * granted for where a connection comes from: loopback is a client like any other.
 */
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "http/server.hpp"

namespace schakel::daemon {

/** A request let in: the role it acts in and who holds it. */
struct grant {
  std::string role;  ///< "" (health checks), ingest, partner, operator, privacy_officer, linker, trends, metrics
  /// The token's name (access.tokens[].name, or "admin_token"); for ingest the connector instance; for
  /// partner the subscription.
  std::string name;
};

/** A request refused before its body is read. */
struct refusal {
  http::response response;
  const char* area = "";  ///< for the http.auth_failed log: metrics, ingest, admin, trends
  std::string reason;     ///< no token, unknown token, expired token, role, host, origin, content type, route
  /// A missing, unknown or expired token (401): counted in schakel_auth_failures_total and logged.
  bool authentication = false;
};

using decision = std::variant<grant, refusal>;

/** What a path needs: nullopt when the path is no endpoint of the hub (refused: deny by default). */
struct route_rule {
  enum class kind { open, metrics, ingest, observations, admin, trends_read };
  kind what = kind::open;
  const char* role = "";  ///< for admin: the role required
  std::string instance;   ///< for ingest: the connector instance named in the path
};
std::optional<route_rule> route_of(const std::string& path);

class access_policy {
 public:
  /** Takes the digests of every token the configuration names; keeps no token itself. */
  explicit access_policy(const config::hub_config& cfg);

  /** The port the listener bound: the default public host names carry it (the config may say 0). */
  void set_port(std::uint16_t port) { port_ = port; }

  decision decide(const http::request& req, std::chrono::system_clock::time_point now) const;

  /** The host names a Host or Origin may carry (lower case; with and without the port by default). */
  std::vector<std::string> public_hosts() const;

 private:
  struct token_entry {
    std::string name;
    std::vector<std::string> roles;
    std::string sha256;
    std::optional<std::chrono::system_clock::time_point> expires;
  };
  struct keyed {
    std::string name;    ///< instance or subscription
    std::string sha256;  ///< empty when the instance has no token (its certificate is its only key)
    bool observations = false;
    std::optional<config::certificate_match> certificate;
  };

  std::optional<refusal> same_site(const http::request& req, bool check_host) const;
  decision admin(const http::request& req, const route_rule& rule, std::chrono::system_clock::time_point now) const;
  decision ingest(const http::request& req, const route_rule& rule) const;
  const keyed* certificate_instance(const http::request& req) const;

  std::vector<token_entry> tokens_;
  std::vector<keyed> ingest_;
  std::vector<keyed> partners_;
  std::vector<std::string> configured_hosts_;
  std::vector<std::string> listener_names_;
  bool metrics_open_ = false;
  std::atomic<std::uint16_t> port_{0};
};

}  // namespace schakel::daemon
