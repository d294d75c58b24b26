// The access decision, as a pure function of method, path and headers: each role reaches its routes
// and no other, loopback grants nothing, and cross-site requests are refused before any token is read.
#include "daemon/access.hpp"

#include "common/encoding.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/ip/address.hpp>

#include "http/forwarded.hpp"
#include "support/admin_routes.hpp"

namespace schakel::daemon {
namespace {

using namespace std::chrono_literals;

std::string digest(const std::string& s) {
  return encoding::sha256(s);
}

std::string token_for(const std::string& name) {
  return name + "-token-0123456789abcdefghijklmnopqrstuvwxyz";
}

config::access_token token(const std::string& name, std::vector<std::string> roles,
                           std::optional<std::chrono::system_clock::time_point> expires = std::nullopt) {
  config::access_token t;
  t.name = name;
  t.roles = std::move(roles);
  t.sha256 = digest(token_for(name));
  t.expires = expires;
  t.at = "access.tokens[?]";
  return t;
}

const auto now = std::chrono::system_clock::time_point{std::chrono::sys_days{std::chrono::year{2026} / 12 / 7}};

config::hub_config base_config() {
  config::hub_config cfg;
  cfg.listen.address = "127.0.0.1";
  cfg.access.tokens = {token("ops-a", {"operator"}),
                       token("ops-b", {"operator"}, now + 24h),
                       token("ops-old", {"operator"}, now - 1s),
                       token("privacy", {"privacy_officer"}),
                       token("linker", {"linker"}),
                       token("trends", {"trends"}),
                       token("metrics", {"metrics"})};
  config::connector_instance src;
  src.name = "src";
  src.plugin = "generic-json";
  src.token = token_for("src");
  config::connector_instance staff;
  staff.name = "staff";
  staff.plugin = "observations";
  staff.token = token_for("staff");
  cfg.connectors = {src, staff};
  config::subscription regional;
  regional.name = "regional";
  regional.pull_token = token_for("regional");
  cfg.subscriptions = {regional};
  return cfg;
}

http::request request(std::string method, std::string path, const std::string& bearer_name = {},
                      std::vector<std::pair<std::string, std::string>> extra = {}) {
  http::request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.target = r.path;
  r.client = "127.0.0.1";  // loopback, as every client on the host: it must grant nothing
  r.headers.emplace_back("host", "127.0.0.1");
  if (!bearer_name.empty()) r.headers.emplace_back("authorization", "Bearer " + token_for(bearer_name));
  for (auto& h : extra) r.headers.push_back(std::move(h));
  return r;
}

std::string header_of(const http::response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

unsigned status_of(const decision& d) {
  if (const auto* r = std::get_if<refusal>(&d)) return r->response.status;
  return 0;  // granted
}

// The token (by name) that holds each role.
const std::vector<std::pair<const char*, const char*>> holders{{"operator", "ops-a"},
                                                               {"privacy_officer", "privacy"},
                                                               {"linker", "linker"},
                                                               {"trends", "trends"},
                                                               {"metrics", "metrics"}};

TEST(access_policy, each_role_reaches_its_routes_and_is_refused_403_on_every_other) {
  access_policy policy(base_config());
  policy.set_port(8080);
  for (const auto& r : test::admin_routes()) {
    for (const auto& [role, holder] : holders) {
      const auto d = policy.decide(request(r.method, r.path, holder), now);
      if (std::string(role) == r.role) {
        ASSERT_EQ(status_of(d), 0u) << r.path << " as " << role;
        EXPECT_EQ(std::get<grant>(d).role, role);
        EXPECT_EQ(std::get<grant>(d).name, holder);
      } else {
        ASSERT_EQ(status_of(d), 403u) << r.path << " as " << role;
        EXPECT_FALSE(std::get<refusal>(d).authentication);
      }
    }
    // From loopback without a token, or with one the hub does not know: 401, counted.
    for (const std::string who : {"", "nobody"}) {
      const auto d = policy.decide(request(r.method, r.path, who), now);
      ASSERT_EQ(status_of(d), 401u) << r.path << " as '" << who << "'";
      EXPECT_TRUE(std::get<refusal>(d).authentication);
      EXPECT_EQ(header_of(std::get<refusal>(d).response, "WWW-Authenticate"), "Bearer");
    }
    // An ingest token is no admin token.
    EXPECT_EQ(status_of(policy.decide(request(r.method, r.path, "src"), now)), 401u) << r.path;
  }
}

TEST(access_policy, a_path_not_in_the_table_is_refused) {
  access_policy policy(base_config());
  EXPECT_EQ(status_of(policy.decide(request("GET", "/v1/admin", "ops-a"), now)), 404u);
  EXPECT_EQ(status_of(policy.decide(request("GET", "/v1/deadlettersX", "ops-a"), now)), 404u);
  EXPECT_EQ(status_of(policy.decide(request("GET", "/healthz"), now)), 0u);
  EXPECT_EQ(status_of(policy.decide(request("GET", "/readyz"), now)), 0u);
}

TEST(access_policy, two_tokens_of_a_role_both_work_and_an_expired_one_is_refused_like_a_wrong_one) {
  access_policy policy(base_config());
  for (const char* name : {"ops-a", "ops-b"}) {
    const auto d = policy.decide(request("GET", "/v1/processors", name), now);
    ASSERT_EQ(status_of(d), 0u) << name;
    EXPECT_EQ(std::get<grant>(d).name, name);
  }
  const auto expired = policy.decide(request("GET", "/v1/processors", "ops-old"), now);
  ASSERT_EQ(status_of(expired), 401u);
  EXPECT_EQ(std::get<refusal>(expired).reason, "expired token");
  const auto wrong = policy.decide(request("GET", "/v1/processors", "nobody"), now);
  EXPECT_EQ(std::get<refusal>(expired).response.body, std::get<refusal>(wrong).response.body);
  // ops-b stops working at its expiry.
  EXPECT_EQ(status_of(policy.decide(request("GET", "/v1/processors", "ops-b"), now + 25h)), 401u);
}

TEST(access_policy, a_cross_site_text_plain_post_is_refused_whoever_sends_it) {
  access_policy policy(base_config());
  policy.set_port(8080);
  // What a web page can make a browser send without a preflight: no token, text/plain, its Origin.
  const auto page =
      request("POST", "/v1/consents", "",
              {{"origin", "https://evil.example"}, {"content-type", "text/plain"}, {"content-length", "80"}});
  EXPECT_EQ(status_of(policy.decide(page, now)), 403u);
  // The privacy officer's own token with text/plain: 415, not parsed as JSON.
  const auto plain =
      request("POST", "/v1/consents", "privacy", {{"content-type", "text/plain"}, {"content-length", "2"}});
  const auto d = policy.decide(plain, now);
  ASSERT_EQ(status_of(d), 415u);
  EXPECT_NE(std::get<refusal>(d).response.body.find("application/json"), std::string::npos);
  // A body without any Content-Type is refused too; application/json with a charset is fine.
  EXPECT_EQ(status_of(policy.decide(request("POST", "/v1/links", "linker", {{"content-length", "2"}}), now)), 415u);
  EXPECT_EQ(
      status_of(policy.decide(request("POST", "/v1/links", "linker",
                                      {{"content-type", "Application/JSON; charset=utf-8"}, {"content-length", "2"}}),
                              now)),
      0u);
  // Bodiless POSTs (replay, enable) need no Content-Type.
  EXPECT_EQ(status_of(policy.decide(request("POST", "/v1/deadletters/1/replay", "ops-a"), now)), 0u);
  // The hub's own origin is same-site.
  EXPECT_EQ(
      status_of(policy.decide(request("GET", "/v1/processors", "ops-a", {{"origin", "http://127.0.0.1:8080"}}), now)),
      0u);
}

TEST(access_policy, host_and_origin_must_be_public_host_names_for_admin_and_partner_routes) {
  auto cfg = base_config();
  cfg.access.public_hosts = {"hub.school.example", "hub.school.example:8443"};
  access_policy policy(cfg);
  policy.set_port(8080);
  const auto with_host = [&](const std::string& host, const std::string& path, const std::string& who,
                             std::vector<std::pair<std::string, std::string>> extra = {}) {
    auto r = request("GET", path, who, std::move(extra));
    r.headers[0].second = host;
    return status_of(policy.decide(r, now));
  };
  EXPECT_EQ(with_host("hub.school.example", "/v1/processors", "ops-a"), 0u);
  EXPECT_EQ(with_host("HUB.school.example:8443", "/v1/processors", "ops-a"), 0u);
  EXPECT_EQ(with_host("127.0.0.1:8080", "/v1/processors", "ops-a"), 403u) << "the defaults no longer apply";
  EXPECT_EQ(with_host("evil.example", "/v1/trends", "regional"), 403u);
  EXPECT_EQ(with_host("hub.school.example", "/v1/trends", "regional"), 0u);
  EXPECT_EQ(with_host("hub.school.example", "/v1/processors", "ops-a", {{"origin", "https://evil.example"}}), 403u);
  EXPECT_EQ(with_host("hub.school.example", "/v1/processors", "ops-a", {{"origin", "null"}}), 403u);
  EXPECT_EQ(with_host("hub.school.example", "/v1/processors", "ops-a", {{"origin", "https://hub.school.example:8443"}}),
            0u);
  // Connectors and scrapers may call the hub by any name; a browser page's Origin is refused all the same.
  EXPECT_EQ(with_host("10.1.2.3:8080", "/v1/connectors/src/records", "src"), 0u);
  EXPECT_EQ(with_host("10.1.2.3:8080", "/metrics", "metrics"), 0u);
  EXPECT_EQ(with_host("10.1.2.3:8080", "/v1/connectors/src/records", "src", {{"origin", "https://evil.example"}}),
            403u);
}

TEST(access_policy, default_public_hosts_are_the_listeners_own_names_with_and_without_its_port) {
  auto cfg = base_config();
  cfg.listen.address = "::1";
  access_policy policy(cfg);
  policy.set_port(8443);
  const auto hosts = policy.public_hosts();
  for (const char* h : {"localhost", "localhost:8443", "127.0.0.1", "127.0.0.1:8443", "[::1]", "[::1]:8443"})
    EXPECT_NE(std::find(hosts.begin(), hosts.end(), h), hosts.end()) << h;
  EXPECT_EQ(hosts.size(), 6u);
}

TEST(access_policy, metrics_need_their_role_unless_opened) {
  access_policy policy(base_config());
  EXPECT_EQ(status_of(policy.decide(request("GET", "/metrics"), now)), 401u);
  EXPECT_EQ(status_of(policy.decide(request("GET", "/metrics", "metrics"), now)), 0u);
  auto cfg = base_config();
  cfg.access.metrics_open = true;
  EXPECT_EQ(status_of(access_policy(cfg).decide(request("GET", "/metrics"), now)), 0u);
}

TEST(access_policy, ingest_tokens_name_their_instance_and_an_unknown_instance_answers_like_a_wrong_token) {
  access_policy policy(base_config());
  const auto ok = policy.decide(request("POST", "/v1/connectors/src/records", "src"), now);
  ASSERT_EQ(status_of(ok), 0u);
  EXPECT_EQ(std::get<grant>(ok).role, "ingest");
  EXPECT_EQ(std::get<grant>(ok).name, "src");
  const auto unknown = policy.decide(request("POST", "/v1/connectors/nope/records", "src"), now);
  const auto wrong = policy.decide(request("POST", "/v1/connectors/src/records", "staff"), now);
  ASSERT_EQ(status_of(unknown), 401u);
  ASSERT_EQ(status_of(wrong), 401u);
  const auto detail = [](const decision& d) {
    return nlohmann::json::parse(std::get<refusal>(d).response.body)["detail"];
  };
  EXPECT_EQ(detail(unknown), detail(wrong));
  const auto staff = policy.decide(request("POST", "/v1/observations", "staff"), now);
  ASSERT_EQ(status_of(staff), 0u);
  EXPECT_EQ(std::get<grant>(staff).name, "staff");
  EXPECT_EQ(status_of(policy.decide(request("POST", "/v1/observations", "src"), now)), 401u);
  // An admin token writes no signals.
  EXPECT_EQ(status_of(policy.decide(request("POST", "/v1/connectors/src/records", "ops-a"), now)), 401u);
}

TEST(access_policy, a_pull_token_reads_its_own_trends_and_nothing_else) {
  access_policy policy(base_config());
  const auto d = policy.decide(request("GET", "/v1/trends", "regional"), now);
  ASSERT_EQ(status_of(d), 0u);
  EXPECT_EQ(std::get<grant>(d).role, "partner");
  EXPECT_EQ(std::get<grant>(d).name, "regional");
  EXPECT_EQ(status_of(policy.decide(request("GET", "/v1/trends/plot", "regional"), now)), 0u);
  for (const auto& r : test::admin_routes()) {
    if (std::string(r.path).starts_with("/v1/trends") && std::string(r.method) == "GET") continue;
    EXPECT_EQ(status_of(policy.decide(request(r.method, r.path, "regional"), now)), 403u) << r.path;
  }
}

TEST(access_policy, the_deprecated_admin_token_holds_every_admin_role_but_not_ingest_or_partner) {
  auto cfg = base_config();
  cfg.admin_token = token_for("legacy");
  access_policy policy(cfg);
  for (const auto& r : test::admin_routes()) {
    const auto d = policy.decide(request(r.method, r.path, "legacy"), now);
    ASSERT_EQ(status_of(d), 0u) << r.path;
    EXPECT_EQ(std::get<grant>(d).name, "admin_token");
    EXPECT_EQ(std::get<grant>(d).role, r.role);
  }
  EXPECT_EQ(status_of(policy.decide(request("POST", "/v1/connectors/src/records", "legacy"), now)), 401u);
}

// --- the client address: Forwarded / X-Forwarded-For believed from trusted proxies only ---

boost::asio::ip::address ip(const char* s) {
  return boost::asio::ip::make_address(s);
}

http::request forwarded(std::vector<std::pair<std::string, std::string>> headers) {
  http::request r;
  r.headers = std::move(headers);
  return r;
}

TEST(forwarded, a_client_address_is_believed_only_from_a_trusted_proxy) {
  const http::network_list proxies({"10.0.0.5/32", "10.9.0.0/16", "fd00::/8"});
  const auto xff = forwarded({{"x-forwarded-for", "198.51.100.7"}});
  EXPECT_EQ(http::believed_client(ip("10.0.0.5"), xff, proxies), ip("198.51.100.7"));
  EXPECT_EQ(http::believed_client(ip("10.0.0.6"), xff, proxies), ip("10.0.0.6"))
      << "not a proxy: its word is not taken";
  EXPECT_EQ(http::believed_client(ip("10.0.0.6"), xff, http::network_list{}), ip("10.0.0.6"));
  // Hop by hop from the nearest: a client cannot put an address of its choice in front of the chain.
  const auto chain = forwarded({{"x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.9.1.1"}});
  EXPECT_EQ(http::believed_client(ip("10.0.0.5"), chain, proxies), ip("198.51.100.7"));
  // RFC 7239, with a quoted IPv6 address and port; it wins over X-Forwarded-For.
  const auto fwd = forwarded(
      {{"forwarded", "for=192.0.2.60;proto=https, for=\"[2001:db8::17]:4711\""}, {"x-forwarded-for", "203.0.113.9"}});
  EXPECT_EQ(http::believed_client(ip("fd00::1"), fwd, proxies), ip("2001:db8::17"));
  // An unreadable hop ends the walk at the proxy that named it.
  EXPECT_EQ(http::believed_client(ip("10.0.0.5"), forwarded({{"forwarded", "for=unknown"}}), proxies), ip("10.0.0.5"));
  // A v4-mapped peer (dual-stack socket) is the IPv4 address it is.
  EXPECT_EQ(http::believed_client(ip("::ffff:10.0.0.5"), xff, proxies), ip("198.51.100.7"));
  EXPECT_THROW(http::network_list({"10.0.0.0/33"}), std::invalid_argument);
  EXPECT_THROW(http::network_list({"proxy.example"}), std::invalid_argument);
}

}  // namespace
}  // namespace schakel::daemon
