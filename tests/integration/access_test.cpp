// Who may do what, against the real daemon: role tokens per endpoint, nothing granted to loopback,
// cross-site requests refused, forwarded addresses believed from trusted proxies only, the audit
// trail naming role and token, the deprecated admin_token still working, and the CLI's token file.
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "hub_fixture.hpp"
#include "support/admin_routes.hpp"

namespace schakel::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

const std::string legacy_token = "legacy-admin-token-0123456789abcdefghij";

const std::vector<std::string> roles{"operator", "privacy_officer", "linker", "trends", "metrics"};

struct access_it : ::testing::Test {
  temp_dir dir{"schakel-access"};
  hub_process hub{dir.path()};

  void start(const std::function<void(json&)>& change = {},
             const std::vector<std::pair<std::string, std::string>>& env = {}) {
    hub_options o;
    o.webhook_url = "http://127.0.0.1:9/webhook";
    auto cfg = hub_config(hub.data_dir(), o);
    if (change) change(cfg);
    hub.start(cfg, env);
  }

  http_reply call(const admin_route& r, const std::vector<std::pair<std::string, std::string>>& headers) {
    const bool has_body = std::string(r.method) == "POST" && std::string(r.path).find("/replay") == std::string::npos &&
                          std::string(r.path).find("/enable") == std::string::npos;
    auto h = headers;
    if (has_body) h.emplace_back("Content-Type", "application/json");
    return send(hub.port(), http_call{r.method, r.path, has_body ? "{}" : "", h});
  }

  std::vector<json> audit_records(const std::string& action) {
    const auto out = run_schakel(dir.path(), {"audit", "export", "--config", hub.config_file().string()}, "audit");
    EXPECT_EQ(out.exit, 0) << out.output;
    std::vector<json> found;
    std::istringstream lines(out.output);
    for (std::string line; std::getline(lines, line);) {
      auto j = json::parse(line, nullptr, false);
      if (j.is_object() && j.value("action", "") == action) found.push_back(std::move(j));
    }
    return found;
  }
};

TEST_F(access_it, a_cross_site_text_plain_consent_from_loopback_without_a_token_is_refused) {
  start();
  const std::string consent =
      R"({"school":"12AB","student_key":"S-1","partner":"Test partner","given_by":"student","purpose":"x"})";
  // What a page the operator visits can make the browser send: text/plain, the page's Origin, no token.
  const auto page =
      send(hub.port(),
           {"POST", "/v1/consents", consent, {{"Content-Type", "text/plain"}, {"Origin", "https://evil.example"}}});
  EXPECT_EQ(page.status, 403u) << page.body;
  EXPECT_EQ(page.header("content-type"), "application/problem+json");
  // Without an Origin, from loopback: still no token, so nothing.
  EXPECT_EQ(send(hub.port(), {"POST", "/v1/consents", consent, {{"Content-Type", "text/plain"}}}).status, 401u);
  // With the privacy officer's own token, text/plain is still not JSON.
  const auto plain = send(
      hub.port(), {"POST", "/v1/consents", consent, {{"Content-Type", "text/plain"}, bearer_of("privacy_officer")}});
  EXPECT_EQ(plain.status, 415u) << plain.body;
  EXPECT_NE(plain.body.find("application/json"), std::string::npos) << plain.body;
  EXPECT_TRUE(audit_records("consent.recorded").empty());
}

TEST_F(access_it, every_admin_route_answers_its_role_and_refuses_every_other) {
  start();
  for (const auto& r : test::admin_routes()) {
    for (const auto& role : roles) {
      const auto reply = call(r, {bearer_of(role)});
      if (role == r.role) {
        // Reached the endpoint: whatever it says about the request, it is not about the token.
        EXPECT_NE(reply.status, 401u) << r.path << " as " << role << ": " << reply.body;
        EXPECT_NE(reply.status, 403u) << r.path << " as " << role << ": " << reply.body;
        EXPECT_NE(reply.status, 415u) << r.path << " as " << role << ": " << reply.body;
      } else {
        EXPECT_EQ(reply.status, 403u) << r.path << " as " << role << ": " << reply.body;
      }
    }
    EXPECT_EQ(call(r, {}).status, 401u) << r.path << " without a token, from loopback";
    EXPECT_EQ(call(r, {{"Authorization", "Bearer " + ingest_token}}).status, 401u) << r.path << " with an ingest token";
  }
  EXPECT_EQ(send(hub.port(), as_role("operator", "GET", "/v1/not-an-endpoint")).status, 404u);
}

TEST_F(access_it, two_tokens_of_a_role_both_work_and_an_expired_one_is_refused) {
  const std::string first = "ops-first-token-0123456789abcdefghijklm";
  const std::string second = "ops-second-token-0123456789abcdefghijkl";
  const std::string gone = "ops-gone-token-0123456789abcdefghijklmn";
  start(
      [&](json& cfg) {
        cfg["access"]["tokens"] = {{{"name", "ops-first"}, {"roles", {"operator"}}, {"token", "${SCHAKEL_OPS_FIRST}"}},
                                   {{"name", "ops-second"},
                                    {"roles", {"operator"}},
                                    {"token", "${SCHAKEL_OPS_SECOND}"},
                                    {"expires", "2099-01-01T00:00:00Z"}},
                                   {{"name", "ops-gone"},
                                    {"roles", {"operator"}},
                                    {"token", "${SCHAKEL_OPS_GONE}"},
                                    {"expires", "2020-01-01"}}};
      },
      {{"SCHAKEL_OPS_FIRST", first}, {"SCHAKEL_OPS_SECOND", second}, {"SCHAKEL_OPS_GONE", gone}});
  const auto with = [&](const std::string& t) {
    return send(hub.port(), {"GET", "/v1/processors", {}, {{"Authorization", "Bearer " + t}}}).status;
  };
  EXPECT_EQ(with(first), 200u);
  EXPECT_EQ(with(second), 200u);
  EXPECT_EQ(with(gone), 401u);
  const auto warned = log_events(hub.log(), "config.token_expiry");
  ASSERT_EQ(warned.size(), 1u) << hub.log();
  EXPECT_NE(warned[0].dump().find("ops-gone"), std::string::npos) << warned[0].dump();
  ASSERT_TRUE(wait_until([&] { return !log_events(hub.log(), "http.auth_failed").empty(); }, 5s));
  EXPECT_EQ(log_events(hub.log(), "http.auth_failed")[0].value("reason", ""), "expired token");
  for (const auto& t : {first, second, gone}) EXPECT_EQ(hub.log().find(t), std::string::npos);
}

TEST_F(access_it, a_host_or_origin_that_is_not_a_public_host_name_is_refused) {
  start([](json& cfg) { cfg["access"]["public_hosts"] = {"hub.school.example", "hub.school.example:8443"}; });
  const auto ops = bearer_of("operator");
  const auto status = [&](std::vector<std::pair<std::string, std::string>> h) {
    h.push_back(ops);
    return send(hub.port(), {"GET", "/v1/processors", {}, h}).status;
  };
  EXPECT_EQ(status({{"Host", "hub.school.example"}}), 200u);
  EXPECT_EQ(status({{"Host", "hub.school.example:8443"}, {"Origin", "https://hub.school.example:8443"}}), 200u);
  EXPECT_EQ(status({}), 403u) << "Host 127.0.0.1 is not configured";
  EXPECT_EQ(status({{"Host", "hub.school.example"}, {"Origin", "https://evil.example"}}), 403u);
  // Connectors are machine clients: any Host, but a page's Origin is refused on ingest too.
  EXPECT_EQ(hub.post_records(absence_records(1)).status, 200u);
  EXPECT_EQ(send(hub.port(), {"POST",
                              "/v1/connectors/src/records",
                              absence_records(1),
                              {{"Authorization", "Bearer " + ingest_token},
                               {"Content-Type", "application/json"},
                               {"Origin", "https://evil.example"}}})
                .status,
            403u);
}

TEST_F(access_it, loopback_grants_nothing_and_metrics_need_their_token_unless_opened) {
  start();
  EXPECT_EQ(send(hub.port(), {"GET", "/v1/deadletters"}).status, 401u);
  EXPECT_EQ(send(hub.port(), {"GET", "/metrics"}).status, 401u);
  EXPECT_NE(metrics_text(hub.port()).find("schakel_http_requests_total"), std::string::npos);
  ASSERT_EQ(hub.process().terminate(SIGTERM, 20s), 0);
  start([](json& cfg) { cfg["access"]["metrics_open"] = true; });
  const auto open = send(hub.port(), {"GET", "/metrics"});
  EXPECT_EQ(open.status, 200u);
  EXPECT_NE(open.body.find("schakel_auth_failures_total"), std::string::npos);
}

/** A keep-alive connection from `source` that sent one request; the answer's status line, the connection held. */
struct held_connection {
  raw_connection conn;
  std::string status;
};

held_connection hold(std::uint16_t port, const char* source, const std::string& forwarded_for) {
  held_connection h{raw_connection(port, source), {}};
  EXPECT_TRUE(h.conn.connected());
  h.conn.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: " + forwarded_for + "\r\n\r\n");
  (void)wait_until(
      [&] {
        const bool closed = h.conn.poll_closed();
        return closed || (h.conn.received().find("\r\n\r\n") != std::string::npos && h.conn.received().back() == '}');
      },
      5s);
  h.status = h.conn.received().substr(0, 12);
  return h;
}

TEST_F(access_it, a_forwarded_client_address_is_believed_only_from_a_trusted_proxy) {
  start([](json& cfg) {
    cfg["access"]["trusted_proxies"] = {"127.0.0.2/32"};
    cfg["limits"]["max_connections_per_address"] = 2;
  });
  // Through the trusted proxy the limit counts the client it names, not the proxy.
  std::vector<held_connection> held;
  held.push_back(hold(hub.port(), "127.0.0.2", "198.51.100.7"));
  held.push_back(hold(hub.port(), "127.0.0.2", "198.51.100.7"));
  EXPECT_EQ(held[0].status, "HTTP/1.1 200");
  EXPECT_EQ(held[1].status, "HTTP/1.1 200");
  EXPECT_EQ(hold(hub.port(), "127.0.0.2", "198.51.100.7").status, "HTTP/1.1 503");
  held.push_back(hold(hub.port(), "127.0.0.2", "198.51.100.8"));
  EXPECT_EQ(held.back().status, "HTTP/1.1 200");
  // From anyone else the header is ignored: the peer's own address is what is counted.
  held.push_back(hold(hub.port(), "127.0.0.3", "198.51.100.20"));
  held.push_back(hold(hub.port(), "127.0.0.3", "198.51.100.21"));
  EXPECT_EQ(held[3].status, "HTTP/1.1 200");
  EXPECT_EQ(held[4].status, "HTTP/1.1 200");
  EXPECT_EQ(hold(hub.port(), "127.0.0.3", "198.51.100.22").status, "HTTP/1.1 503");

  // And the log names the believed client of a refused request.
  const auto refuse_from = [&](const char* source, const std::string& xff) {
    return exchange_from(
        hub.port(), source,
        "GET /v1/processors HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: " + xff + "\r\nConnection: close\r\n\r\n");
  };
  const auto logged_client = [&](const std::string& client) {
    for (const auto& e : log_events(hub.log(), "http.auth_failed"))
      if (e.value("client", "") == client) return true;
    return false;
  };
  // The log is rate-limited (one line a second): ask until the line is there.
  EXPECT_TRUE(wait_until(
      [&] {
        return refuse_from("127.0.0.2", "198.51.100.9").starts_with("HTTP/1.1 401") && logged_client("198.51.100.9");
      },
      5s))
      << hub.log();
  EXPECT_TRUE(wait_until(
      [&] {
        return refuse_from("127.0.0.4", "198.51.100.10").starts_with("HTTP/1.1 401") && logged_client("127.0.0.4");
      },
      5s))
      << hub.log();
  EXPECT_FALSE(logged_client("198.51.100.10"));
}

TEST_F(access_it, the_audit_trail_names_the_role_and_the_token_of_each_admin_action) {
  start();
  ASSERT_EQ(send(hub.port(), as_role("operator", "GET", "/v1/deadletters")).status, 200u);
  const auto viewed = audit_records("deadletter.viewed");
  ASSERT_EQ(viewed.size(), 1u);
  EXPECT_EQ(viewed[0].value("actor", ""), "test-operator") << viewed[0].dump();
  EXPECT_EQ(viewed[0].value("actor_role", ""), "operator") << viewed[0].dump();
}

TEST_F(access_it, the_deprecated_admin_token_holds_every_admin_role_and_says_how_to_move) {
  start([](json& cfg) {
    cfg.erase("access");
    cfg["admin_token"] = legacy_token;
  });
  const std::vector<std::pair<std::string, std::string>> legacy{{"Authorization", "Bearer " + legacy_token}};
  for (const auto& r : test::admin_routes()) {
    const auto reply = call(r, legacy);
    EXPECT_NE(reply.status, 401u) << r.path << ": " << reply.body;
    EXPECT_NE(reply.status, 403u) << r.path << ": " << reply.body;
  }
  // Not a connector's token.
  EXPECT_EQ(hub.post_records(absence_records(1), legacy_token).status, 401u);
  const auto warned = log_events(hub.log(), "config.admin_token_deprecated");
  ASSERT_EQ(warned.size(), 1u) << hub.log();
  EXPECT_NE(warned[0].dump().find("access.tokens"), std::string::npos) << warned[0].dump();
  const auto viewed = audit_records("deadletter.viewed");
  ASSERT_FALSE(viewed.empty());
  EXPECT_EQ(viewed[0].value("actor", ""), "admin_token");
  EXPECT_EQ(viewed[0].value("actor_role", ""), "operator");
  // The CLI falls back to it when given no token file, and says so.
  const auto cli =
      run_schakel(dir.path(), {"deadletters", "list", "--config", hub.config_file().string()}, "legacy-cli");
  EXPECT_EQ(cli.exit, 0) << cli.output;
  EXPECT_NE(cli.output.find("deprecated"), std::string::npos) << cli.output;
  EXPECT_NE(cli.output.find("0 dead letter(s)"), std::string::npos) << cli.output;
}

TEST_F(access_it, the_cli_reads_its_token_from_a_file_and_refuses_one_on_the_command_line) {
  start();
  const std::string config = hub.config_file().string();
  const auto with_argument =
      run_schakel(dir.path(), {"deadletters", "list", "--config", config, "--token", role_token("operator")}, "arg");
  EXPECT_NE(with_argument.exit, 0);
  EXPECT_NE(with_argument.output.find("--token-file"), std::string::npos) << with_argument.output;
  EXPECT_EQ(with_argument.output.find(role_token("operator")), std::string::npos) << with_argument.output;

  const auto without = run_schakel(dir.path(), {"deadletters", "list", "--config", config}, "none");
  EXPECT_NE(without.exit, 0);
  EXPECT_NE(without.output.find("no token"), std::string::npos) << without.output;

  const auto wrong_role = run_schakel(
      dir.path(),
      {"deadletters", "list", "--config", config, "--token-file", token_file(dir.path(), "linker").string()}, "linker");
  EXPECT_NE(wrong_role.exit, 0);
  EXPECT_NE(wrong_role.output.find("HTTP 403"), std::string::npos) << wrong_role.output;

  const auto ok = run_schakel(
      dir.path(),
      {"--token-file", token_file(dir.path(), "operator").string(), "deadletters", "list", "--config", config}, "ok");
  EXPECT_EQ(ok.exit, 0) << ok.output;
  EXPECT_NE(ok.output.find("0 dead letter(s)"), std::string::npos) << ok.output;
  auto by_env =
      child_process::spawn({SCHAKEL_BIN, "deadletters", "list", "--config", config},
                           {{"SCHAKEL_TOKEN_FILE", token_file(dir.path(), "operator").string()}}, dir / "env.out");
  EXPECT_EQ(by_env.wait_for_exit(30s), 0);
}

}  // namespace
}  // namespace schakel::test
