#include "daemon/access.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <string_view>

#include "common/encoding.hpp"

namespace schakel::daemon {

namespace {

constexpr std::string_view connectors_prefix = "/v1/connectors/";
constexpr std::string_view records_suffix = "/records";

/** Digests compared in constant time; an empty `expected` (no digest) never matches. */
bool same_digest(const std::string& given, const std::string& expected) {
  return expected.size() == SHA256_DIGEST_LENGTH && given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string bearer(const http::request& req) {
  const auto& h = req.header("authorization");
  if (h.size() > 7 && lower(std::string_view(h).substr(0, 7)) == "bearer ") return h.substr(7);
  return {};
}

bool has_body(const http::request& req) {
  const auto& length = req.header("content-length");
  return (!length.empty() && length != "0") || !req.header("transfer-encoding").empty();
}

/** The media type of a Content-Type value, lower case, without parameters. */
std::string media_type(const std::string& content_type) {
  std::string_view s(content_type);
  s = s.substr(0, s.find(';'));
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return lower(s);
}

http::response unauthorized(const std::string& path, const std::string& detail) {
  auto r = http::problem(401, "unauthorized", "Unauthorized", detail, path);
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

/** Whether a verified client certificate is the one a connector instance's configuration names. */
bool certificate_matches(const config::certificate_match& match, const http::peer_certificate& peer) {
  using field = config::certificate_match::field;
  if (match.by == field::subject) return peer.subject == match.value;
  const auto& names = match.by == field::san_dns ? peer.san_dns : peer.san_uri;
  return std::find(names.begin(), names.end(), match.value) != names.end();
}

refusal authentication_refused(const char* area, std::string reason, http::response r) {
  return refusal{std::move(r), area, std::move(reason), true};
}

}  // namespace

namespace {
route_rule rule(route_rule::kind what, const char* role = "", std::string instance = {}) {
  route_rule r;
  r.what = what;
  r.role = role;
  r.instance = std::move(instance);
  return r;
}
}  // namespace

std::optional<route_rule> route_of(const std::string& p) {
  using k = route_rule::kind;
  if (p == "/healthz" || p == "/readyz") return rule(k::open);
  if (p == "/metrics") return rule(k::metrics, "metrics");
  if (p.starts_with(connectors_prefix) && p.ends_with(records_suffix) &&
      p.size() > connectors_prefix.size() + records_suffix.size())
    return rule(k::ingest, "ingest",
                p.substr(connectors_prefix.size(), p.size() - connectors_prefix.size() - records_suffix.size()));
  if (p == "/v1/observations") return rule(k::observations, "ingest");
  if (p == "/v1/deadletters" || p.starts_with("/v1/deadletters/") || p == "/v1/subscriptions" ||
      p.starts_with("/v1/subscriptions/") || p == "/v1/processors")
    return rule(k::admin, "operator");
  // Recording that the parents were informed opens the way for a disclosure outside the school: the
  // privacy officer's decision, like a consent.
  if (p == "/v1/consents" || p.starts_with("/v1/consents/") || p.starts_with("/v1/alerts/"))
    return rule(k::admin, "privacy_officer");
  if (p == "/v1/links" || p == "/v1/parked") return rule(k::admin, "linker");
  if (p == "/v1/enrolment" || p == "/v1/trends/release") return rule(k::admin, "trends");
  if (p == "/v1/trends" || p == "/v1/trends/plot") return rule(k::trends_read, "trends");
  return std::nullopt;
}

access_policy::access_policy(const config::hub_config& cfg) : metrics_open_(cfg.access.metrics_open) {
  for (const auto& t : cfg.access.tokens) tokens_.push_back({t.name, t.roles, t.sha256, t.expires});
  if (!cfg.admin_token.empty())
    tokens_.push_back({"admin_token",
                       {config::admin_roles.begin(), config::admin_roles.end()},
                       encoding::sha256(cfg.admin_token),
                       std::nullopt});
  for (const auto& c : cfg.connectors)
    ingest_.push_back({c.name, c.token.empty() ? std::string() : encoding::sha256(c.token), c.plugin == "observations",
                       c.client_certificate});
  for (const auto& s : cfg.subscriptions)
    if (!s.pull_token.empty()) partners_.push_back({s.name, encoding::sha256(s.pull_token), false, std::nullopt});
  configured_hosts_ = cfg.access.public_hosts;
  std::string own = lower(cfg.listen.address);
  if (own.find(':') != std::string::npos && own.front() != '[') own = "[" + own + "]";
  listener_names_ = {"localhost", "127.0.0.1", "[::1]"};
  if (std::find(listener_names_.begin(), listener_names_.end(), own) == listener_names_.end())
    listener_names_.push_back(own);
}

std::vector<std::string> access_policy::public_hosts() const {
  if (!configured_hosts_.empty()) return configured_hosts_;
  std::vector<std::string> out;
  const auto port = port_.load();
  for (const auto& n : listener_names_) {
    out.push_back(n);
    if (port != 0) out.push_back(n + ":" + std::to_string(port));
  }
  return out;
}

std::optional<refusal> access_policy::same_site(const http::request& req, bool check_host) const {
  const auto hosts = public_hosts();
  const auto known = [&](const std::string& h) { return std::find(hosts.begin(), hosts.end(), h) != hosts.end(); };
  // A browser names the page that made a cross-site request in Origin; machine clients send none.
  if (const auto& origin = req.header("origin"); !origin.empty()) {
    const auto scheme_end = origin.find("://");
    const std::string authority = lower(scheme_end == std::string::npos ? "" : origin.substr(scheme_end + 3));
    if (authority.empty() || !known(authority))
      return refusal{
          http::problem(403, "cross-origin", "Cross-origin request refused",
                        "the Origin is none of this hub's public host names (access.public_hosts)", req.path),
          "origin", "origin"};
  }
  if (check_host && !known(lower(req.header("host"))))
    return refusal{
        http::problem(403, "wrong-host", "Unknown host",
                      "the Host header names none of this hub's public host names (access.public_hosts)", req.path),
        "host", "host"};
  return std::nullopt;
}

decision access_policy::admin(const http::request& req, const route_rule& rule,
                              std::chrono::system_clock::time_point now) const {
  const std::string& p = req.path;
  const char* area = rule.what == route_rule::kind::metrics       ? "metrics"
                     : rule.what == route_rule::kind::trends_read ? "trends"
                                                                  : "admin";
  const std::string wanted =
      std::string("a bearer token with the role ") + rule.role +
      (rule.what == route_rule::kind::trends_read ? " (or an aggregate subscription's pull token)" : "") +
      " is required";
  const std::string given = bearer(req);
  if (given.empty()) return authentication_refused(area, "no token", unauthorized(p, wanted));
  const std::string digest = encoding::sha256(given);
  const token_entry* found = nullptr;
  for (const auto& t : tokens_)  // every digest compared, in constant time each
    if (same_digest(digest, t.sha256)) found = &t;
  const keyed* partner = nullptr;
  for (const auto& s : partners_)
    if (same_digest(digest, s.sha256)) partner = &s;
  if (found == nullptr && partner != nullptr) {
    if (rule.what == route_rule::kind::trends_read) return grant{"partner", partner->name};
    return refusal{http::problem(403, "forbidden", "Forbidden", "a pull token reads released trends only", p), area,
                   "role"};
  }
  if (found == nullptr) return authentication_refused(area, "unknown token", unauthorized(p, wanted));
  // An expired token answers exactly like an unknown one; only the log tells the operator which.
  if (found->expires && *found->expires <= now)
    return authentication_refused(area, "expired token", unauthorized(p, wanted));
  if (std::find(found->roles.begin(), found->roles.end(), rule.role) == found->roles.end())
    return refusal{http::problem(403, "forbidden", "Forbidden",
                                 "the token " + found->name + " does not hold the role " + rule.role, p),
                   area, "role"};
  // A JSON endpoint takes JSON only: a form or text/plain post is what a cross-site page can send.
  const auto& type = req.header("content-type");
  if ((has_body(req) || !type.empty()) && media_type(type) != "application/json")
    return refusal{http::problem(415, "unsupported-media-type", "Unsupported media type",
                                 "send the body as Content-Type: application/json", p),
                   area, "content type"};
  return grant{rule.role, found->name};
}

/**
 * The connector instance the request's verified client certificate speaks for; null without one, or
 * when it matches several (a subject mapped to one instance, a SAN to another): a certificate speaks
 * for exactly one instance or for none.
 */
const access_policy::keyed* access_policy::certificate_instance(const http::request& req) const {
  if (!req.peer) return nullptr;
  const keyed* found = nullptr;
  for (const auto& i : ingest_) {
    if (!i.certificate || !certificate_matches(*i.certificate, *req.peer)) continue;
    if (found != nullptr) return nullptr;
    found = &i;
  }
  return found;
}

/**
 * A source authenticates with its instance's token or with its client certificate; either alone will
 * do. A token or certificate of another instance answers like a wrong one, so names cannot be probed.
 * /v1/observations takes the staff system whose token (or else certificate) the request carries.
 */
decision access_policy::ingest(const http::request& req, const route_rule& rule) const {
  const std::string given = bearer(req);
  const std::string digest = encoding::sha256(given);
  const bool for_path = rule.what == route_rule::kind::ingest;
  const keyed* found = nullptr;
  for (const auto& i : ingest_) {
    // Compared whatever the name, so an unknown instance takes as long as a known one and answers alike.
    const bool match = !given.empty() && same_digest(digest, i.sha256);
    if (for_path ? (match && i.name == rule.instance) : (match && i.observations)) found = &i;
  }
  if (found == nullptr) {
    const keyed* by_certificate = certificate_instance(req);
    if (by_certificate != nullptr && (for_path ? by_certificate->name == rule.instance : by_certificate->observations))
      found = by_certificate;
  }
  if (found == nullptr)
    return authentication_refused(
        "ingest", given.empty() && !req.peer ? "no token" : "unknown token",
        unauthorized(req.path, for_path
                                   ? "a valid bearer token for this instance is required"
                                   : "a staff system's bearer token (an instance of the observations connector) is "
                                     "required"));
  return grant{"ingest", found->name};
}

decision access_policy::decide(const http::request& req, std::chrono::system_clock::time_point now) const {
  const auto rule = route_of(req.path);
  if (!rule)
    return refusal{http::problem(404, "not-found", "Not found", "no such endpoint", req.path), "route", "route"};
  using k = route_rule::kind;
  switch (rule->what) {
    case k::open:
      return grant{};
    case k::metrics:
    case k::ingest:
    case k::observations:
      // Machine clients (connectors, scrapers) reach the hub by whatever name their network gives it,
      // so Host is not held against them; a browser page's Origin is.
      if (auto refused = same_site(req, false)) return std::move(*refused);
      if (rule->what == k::metrics)
        return metrics_open_ ? decision{grant{"metrics", "metrics_open"}} : admin(req, *rule, now);
      return ingest(req, *rule);
    case k::admin:
    case k::trends_read:
      if (auto refused = same_site(req, true)) return std::move(*refused);
      return admin(req, *rule, now);
  }
  return refusal{http::problem(404, "not-found", "Not found", "no such endpoint", req.path), "route", "route"};
}

}  // namespace schakel::daemon
