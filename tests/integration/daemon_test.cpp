// End-to-end tests of the real daemon over real sockets: ingest, TLS, signed delivery, retries,
// dead letters, crash recovery, limits and bad input.
#include <csignal>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "example_env.hpp"
#include "hub_fixture.hpp"

namespace schakel::test {
namespace fs = std::filesystem;
namespace {

using namespace std::chrono_literals;

std::string auth(const std::string& t = ingest_token) {
  return "Bearer " + t;
}

struct daemon_test : ::testing::Test {
  temp_dir dir{"schakel-it"};
};

}  // namespace

TEST_F(daemon_test, tls_ingest_reaches_an_https_partner_as_signed_cloudevents) {
  auto hub_tls = make_test_tls(dir.path(), "hub");
  auto partner_tls = make_test_tls(dir.path(), "partner");
  receiver_process receiver(
      dir.path(), {"--tls-cert", partner_tls.server_cert.string(), "--tls-key", partner_tls.server_key.string()});
  hub_options o;
  o.tls = hub_tls;
  o.webhook_url = receiver.url();
  o.webhook_ca_file = partner_tls.ca_cert.string();
  hub_process hub(dir.path());
  hub.start(hub_config(hub.data_dir(), o));

  auto reply = hub.post_records(absence_records(5));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  auto body = nlohmann::json::parse(reply.body);
  ASSERT_EQ(body["accepted"].size(), 5u);
  EXPECT_TRUE(body["rejected"].empty());

  ASSERT_TRUE(wait_until([&] { return receiver.distinct_events() >= 5; }, 20s)) << hub.log();
  std::set<std::string> accepted_ids;
  for (const auto& a : body["accepted"]) accepted_ids.insert(a["id"].get<std::string>());
  for (const auto& e : receiver.events()) {
    const auto& ev = e["event"];
    EXPECT_EQ(ev["specversion"], "1.0");
    EXPECT_EQ(ev["type"], "nl.schakel.attendance.absence.recorded");
    EXPECT_EQ(ev["source"], "/schakel/connectors/src");
    EXPECT_TRUE(accepted_ids.count(ev["id"].get<std::string>())) << ev.dump();
    // Deny by default: the student key was not on the allowlist and must not leave the hub.
    EXPECT_FALSE(ev["data"].contains("subject") && ev["data"]["subject"].contains("student_key"));
    EXPECT_EQ(ev.dump().find("S-1000"), std::string::npos);
    EXPECT_EQ(ev["data"]["subject"]["class"], "2B");
  }
}

TEST_F(daemon_test, plain_http_is_refused_for_a_non_loopback_listener) {
  hub_options o;
  o.webhook_url = "http://127.0.0.1:9/webhook";
  auto cfg = hub_config(dir / "data", o);
  cfg["listen"]["address"] = "0.0.0.0";
  std::ofstream(dir / "bad.json") << cfg.dump();
  auto proc = child_process::spawn({SCHAKEL_BIN, "check-config", (dir / "bad.json").string()}, {}, dir / "out.log");
  EXPECT_EQ(proc.wait_for_exit(20s), 1);
  std::ifstream in(dir / "out.log");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("listen"), std::string::npos) << text;
}

TEST_F(daemon_test, bad_input_gets_specific_problem_answers) {
  receiver_process receiver(dir.path(), {});
  hub_options o;
  o.webhook_url = receiver.url();
  o.read_timeout = "400ms";
  o.max_body_bytes = 64 * 1024;
  hub_process hub(dir.path());
  hub.start(hub_config(hub.data_dir(), o));
  const auto port = hub.port();

  // 401: no token, wrong token.
  auto r = send(port, {"POST", "/v1/connectors/src/records", "[]", {{"Content-Type", "application/json"}}});
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
  r = hub.post_records(absence_records(1), std::string(ingest_token.size(), 'x'));
  EXPECT_EQ(r.status, 401u);
  // 401: an unknown instance answers like a wrong token, so instance names cannot be probed.
  r = hub.post_records(absence_records(1), ingest_token, "nope");
  EXPECT_EQ(r.status, 401u);
  // 405: wrong method.
  r = send(port, {"GET", "/v1/connectors/src/records", "", {{"Authorization", auth()}}});
  EXPECT_EQ(r.status, 405u);
  // 400: not JSON.
  r = hub.post_records("{\"leerling\": ");
  EXPECT_EQ(r.status, 400u);
  auto p = nlohmann::json::parse(r.body);
  EXPECT_EQ(p["status"], 400);
  EXPECT_FALSE(p["detail"].get<std::string>().empty());
  // 422: every record rejected, each named.
  r = hub.post_records(
      R"([{"id":"1","brin":"12AB","uren":1},{"id":"2","leerling":"S-1","brin":"12AB","uren":"veel"}])");
  ASSERT_EQ(r.status, 422u) << r.body;
  p = nlohmann::json::parse(r.body);
  ASSERT_EQ(p["rejected"].size(), 2u) << r.body;
  EXPECT_EQ(p["rejected"][0]["index"], 0);
  EXPECT_EQ(p["rejected"][1]["index"], 1);
  EXPECT_EQ(r.body.find("veel"), std::string::npos) << "errors must not echo record values";
  // 200: partly accepted.
  r = hub.post_records(R"([{"id":"1","brin":"12AB","uren":1},{"id":"2","leerling":"S-1","brin":"12AB","uren":2}])");
  ASSERT_EQ(r.status, 200u) << r.body;
  p = nlohmann::json::parse(r.body);
  EXPECT_EQ(p["accepted"].size(), 1u);
  EXPECT_EQ(p["accepted"][0]["index"], 1);
  ASSERT_EQ(p["rejected"].size(), 1u);
  EXPECT_EQ(p["rejected"][0]["index"], 0);
  // A signal that fails the schema is a rejection, not stored: BRIN must be 4 characters.
  r = hub.post_records(R"([{"id":"3","leerling":"S-2","brin":"12ABCDE","uren":2}])");
  ASSERT_EQ(r.status, 422u) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["rejected"][0]["field"], "subject.school.brin") << r.body;
  // 413: body too large.
  r = hub.post_records(std::string(70 * 1024, ' '));
  EXPECT_EQ(r.status, 413u);
  // 431: header too large.
  std::string big(9000, 'a');
  auto raw = raw_exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n", 5000);
  EXPECT_NE(raw.find("HTTP/1.1 431"), std::string::npos) << raw.substr(0, 200);
  // 408: a request that stalls.
  raw = raw_exchange(port,
                     "POST /v1/connectors/src/records HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth() +
                         "\r\nContent-Length: 100\r\n\r\n[",
                     5000);
  EXPECT_NE(raw.find("HTTP/1.1 408"), std::string::npos) << raw.substr(0, 200);
  // 400: not HTTP at all.
  raw = raw_exchange(port, "HELLO THERE\r\n\r\n", 5000);
  EXPECT_NE(raw.find("HTTP/1.1 400"), std::string::npos) << raw.substr(0, 200);
  // 404 on unknown paths, dead-letter API bad ids.
  EXPECT_EQ(send(port, {"GET", "/nope"}).status, 404u);
  EXPECT_EQ(send(port, as_role("operator", "POST", "/v1/deadletters/abc/replay")).status, 400u);
  EXPECT_EQ(send(port, as_role("operator", "POST", "/v1/deadletters/999999/replay")).status, 404u);
  EXPECT_EQ(send(port, as_role("operator", "DELETE", "/v1/deadletters")).status, 405u);
  // Still serving after all of that, with keep-alive.
  auto replies =
      send_keep_alive(port, {{"GET", "/healthz"}, {"GET", "/readyz"}, as_role("metrics", "GET", "/metrics")});
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].status, 200u);
  EXPECT_EQ(replies[1].status, 200u);
  EXPECT_NE(replies[2].body.find("schakel_records_rejected_total{connector=\"src\",node=\"test-node\"}"),
            std::string::npos);
  // No student key, record value or token in the log.
  const auto log = hub.log();
  EXPECT_EQ(log.find("S-1"), std::string::npos);
  EXPECT_EQ(log.find(ingest_token), std::string::npos);
}

TEST_F(daemon_test, a_500_then_200_is_retried_with_the_same_webhook_id_and_body) {
  receiver_process receiver(dir.path(), {"--status-sequence", "500,200"});
  hub_options o;
  o.webhook_url = receiver.url();
  hub_process hub(dir.path());
  hub.start(hub_config(hub.data_dir(), o));
  ASSERT_EQ(hub.post_records(absence_records(1)).status, 200u);
  ASSERT_TRUE(wait_until([&] { return receiver.distinct_events() >= 1; }, 20s)) << hub.log();
  auto events = receiver.events();
  ASSERT_EQ(events.size(), 1u) << "the 500 attempt must not be recorded as received";
  // The receiver has the event before the hub has read the 200: wait for the hub to count it.
  std::string metrics;
  EXPECT_TRUE(wait_until([&] {
    metrics = metrics_text(hub.port());
    return metrics.find("schakel_deliveries_total{subscription=\"partner\",outcome=\"ok\",node=\"test-node\"} 1") !=
           std::string::npos;
  })) << metrics;
  EXPECT_NE(metrics.find("schakel_deliveries_total{subscription=\"partner\",outcome=\"retried\",node=\"test-node\"} 1"),
            std::string::npos)
      << metrics;
}

TEST_F(daemon_test, dead_letter_then_replay_from_api_and_cli) {
  receiver_process receiver(dir.path(), {"--fail-first", "2"});
  hub_options o;
  o.webhook_url = receiver.url();
  o.max_attempts = 2;
  o.initial_backoff = "10ms";
  o.max_backoff = "20ms";
  hub_process hub(dir.path());
  hub.start(hub_config(hub.data_dir(), o));
  ASSERT_EQ(hub.post_records(absence_records(1)).status, 200u);

  nlohmann::json list;
  ASSERT_TRUE(wait_until(
      [&] {
        list = nlohmann::json::parse(send(hub.port(), as_role("operator", "GET", "/v1/deadletters")).body);
        return list["dead_letters"].size() == 1;
      },
      20s))
      << hub.log();
  auto dl = list["dead_letters"][0];
  EXPECT_EQ(dl["subscription"], "partner");
  EXPECT_EQ(dl["attempts"], 2);
  EXPECT_NE(dl["reason"].get<std::string>().find("500"), std::string::npos) << dl.dump();
  EXPECT_EQ(receiver.distinct_events(), 0u);

  // The CLI lists it too, then replays it.
  const auto operator_token = token_file(dir.path(), "operator").string();
  auto ls = child_process::spawn(
      {SCHAKEL_BIN, "deadletters", "list", "--config", hub.config_file().string(), "--token-file", operator_token}, {},
      dir / "cli.log");
  ASSERT_EQ(ls.wait_for_exit(20s), 0);
  auto replay = child_process::spawn({SCHAKEL_BIN, "deadletters", "replay", std::to_string(dl["id"].get<long long>()),
                                      "--config", hub.config_file().string()},
                                     {{"SCHAKEL_TOKEN_FILE", operator_token}}, dir / "cli.log");
  ASSERT_EQ(replay.wait_for_exit(20s), 0);
  std::ifstream in(dir / "cli.log");
  std::string cli_out((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(cli_out.find("1 dead letter(s)"), std::string::npos) << cli_out;
  EXPECT_NE(cli_out.find("replayed"), std::string::npos) << cli_out;

  ASSERT_TRUE(wait_until([&] { return receiver.distinct_events() == 1; }, 20s)) << hub.log();
  EXPECT_EQ(receiver.events()[0]["webhook_id"], dl["webhook_id"]) << "a replay keeps the webhook id";
  list = nlohmann::json::parse(send(hub.port(), as_role("operator", "GET", "/v1/deadletters")).body);
  EXPECT_TRUE(list["dead_letters"].empty());
}

TEST_F(daemon_test, kill_9_during_slow_deliveries_loses_nothing_that_was_acknowledged) {
  receiver_process receiver(dir.path(), {"--delay-ms", "30"});
  hub_options o;
  o.webhook_url = receiver.url();
  hub_process hub(dir.path());
  auto cfg = hub_config(hub.data_dir(), o);
  hub.start(cfg);
  std::set<std::string> acknowledged;
  for (int batch = 0; batch < 6; ++batch) {
    auto r = hub.post_records(absence_records(25, batch * 25));
    ASSERT_EQ(r.status, 200u) << r.body;
    const auto answer = nlohmann::json::parse(r.body);
    ASSERT_EQ(answer["accepted"].size(), 25u) << r.body;
    for (const auto& a : answer["accepted"]) acknowledged.insert(a["id"].get<std::string>());
  }
  ASSERT_EQ(acknowledged.size(), 150u);
  // Some deliveries are done, most are still queued or in flight.
  ASSERT_TRUE(wait_until([&] { return receiver.distinct_events() >= 3; }, 20s));
  ASSERT_LT(receiver.distinct_events(), 150u) << "the receiver is too fast for this test to mean anything";
  ::kill(hub.process().pid(), SIGKILL);
  ASSERT_TRUE(hub.process().wait_for_exit(10s).has_value());

  hub_process restarted(dir.path());
  restarted.start(cfg);
  ASSERT_TRUE(wait_until([&] { return receiver.distinct_events() >= 150; }, 60s)) << restarted.log();
  std::set<std::string> received;
  std::map<std::string, std::string> webhook_of;
  for (const auto& e : receiver.events()) {
    const auto id = e["event"]["id"].get<std::string>();
    received.insert(id);
    auto [it, fresh] = webhook_of.emplace(id, e["webhook_id"].get<std::string>());
    EXPECT_EQ(it->second, e["webhook_id"].get<std::string>()) << "a redelivery carries the same webhook-id";
  }
  EXPECT_EQ(received, acknowledged);
}

TEST_F(daemon_test, any_24_byte_token_and_raw_secret_work_end_to_end) {
  const std::string raw_secret = "raw-secret-value-24bytes";  // no whsec_ prefix: used as key bytes
  receiver_process receiver(dir.path(), {}, raw_secret);
  hub_options o;
  o.webhook_url = receiver.url();
  o.webhook_secret = raw_secret;
  o.token = "token-of-exactly-24-byte";
  hub_process hub(dir.path());
  hub.start(hub_config(hub.data_dir(), o));
  EXPECT_EQ(hub.post_records(absence_records(2), o.token).status, 200u);
  EXPECT_EQ(hub.post_records(absence_records(2), "token-of-exactly-24-bytX").status, 401u);
  ASSERT_TRUE(wait_until([&] { return receiver.distinct_events() >= 2; }, 20s)) << hub.log();
}

// Regression: a by-value executor copy in the ingest await was destroyed twice (g++ 12 coroutine
// temporaries) and crashed the daemon on the second request of a keep-alive connection.
TEST_F(daemon_test, many_ingest_requests_on_one_keep_alive_connection) {
  receiver_process receiver(dir.path(), {});
  hub_options o;
  o.webhook_url = receiver.url();
  hub_process hub(dir.path());
  hub.start(hub_config(hub.data_dir(), o));
  std::vector<http_call> calls;
  for (int i = 0; i < 300; ++i)
    calls.push_back({"POST",
                     "/v1/connectors/src/records",
                     absence_records(1, i),
                     {{"Authorization", auth()}, {"Content-Type", "application/json"}}});
  auto replies = send_keep_alive(hub.port(), calls);
  ASSERT_EQ(replies.size(), 300u);
  for (const auto& r : replies) ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_TRUE(hub.process().running());
  ASSERT_TRUE(wait_until([&] { return receiver.distinct_events() >= 300; }, 30s)) << hub.log();
}

TEST_F(daemon_test, sigterm_drains_and_exits_cleanly) {
  receiver_process receiver(dir.path(), {});
  hub_options o;
  o.webhook_url = receiver.url();
  hub_process hub(dir.path());
  hub.start(hub_config(hub.data_dir(), o));
  ASSERT_EQ(hub.post_records(absence_records(3)).status, 200u);
  EXPECT_EQ(hub.process().terminate(SIGTERM, 20s), 0);
  EXPECT_NE(hub.log().find("hub.stopped"), std::string::npos);
}

TEST_F(daemon_test, a_full_outbox_pushes_back_with_503_and_retry_after) {
  receiver_process receiver(dir.path(), {"--fail-first", "100000"});
  hub_options o;
  o.webhook_url = receiver.url();
  o.max_outbox_depth = 10;
  o.initial_backoff = "10s";
  o.max_backoff = "10s";
  hub_process hub(dir.path());
  hub.start(hub_config(hub.data_dir(), o));
  ASSERT_EQ(hub.post_records(absence_records(10)).status, 200u);
  auto r = hub.post_records(absence_records(1, 10));
  EXPECT_EQ(r.status, 503u) << r.body;
  EXPECT_FALSE(r.header("retry-after").empty());
}

TEST_F(daemon_test, batched_subscription_receives_signed_batches) {
  receiver_process receiver(dir.path(), {});
  hub_options o;
  o.webhook_url = receiver.url();
  o.batched = true;
  hub_process hub(dir.path());
  hub.start(hub_config(hub.data_dir(), o));
  ASSERT_EQ(hub.post_records(absence_records(120)).status, 200u);
  ASSERT_TRUE(wait_until([&] { return receiver.distinct_events() >= 120; }, 20s)) << hub.log();
  std::set<std::string> webhook_ids;
  for (const auto& e : receiver.events()) webhook_ids.insert(e["webhook_id"].get<std::string>());
  EXPECT_LT(webhook_ids.size(), 120u) << "events must arrive in batches, not one webhook each";
}

TEST(cli, version_and_check_config_of_every_example) {
  temp_dir dir{"schakel-cli"};
  auto v = child_process::spawn({SCHAKEL_BIN, "version"}, {}, dir / "v.log");
  EXPECT_EQ(v.wait_for_exit(10s), 0);
  int examples = 0;
  for (const auto& entry : fs::directory_iterator(SCHAKEL_SOURCE_DIR "/deploy/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    ++examples;
    const auto env = example_environment(entry.path(), dir.path());
    EXPECT_FALSE(env.empty()) << entry.path() << " lists no SCHAKEL_* variables at its top";
    auto c = child_process::spawn({SCHAKEL_BIN, "check-config", entry.path().string()}, env, dir / "check.log");
    EXPECT_EQ(c.wait_for_exit(20s), 0) << entry.path();
  }
  EXPECT_GE(examples, 2);
  std::ifstream in(dir / "check.log");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("ok"), std::string::npos) << text;
}

TEST(cli, check_config_names_the_path_of_a_mistake) {
  temp_dir dir{"schakel-cli"};
  hub_options o;
  o.webhook_url = "http://127.0.0.1:9/webhook";
  auto cfg = hub_config(dir / "data", o);
  cfg["connectors"][0]["settings"]["mapping"]["subject.klas"] = {{"pointer", "/klas"}};
  std::ofstream(dir / "c.json") << cfg.dump();
  auto c = child_process::spawn({SCHAKEL_BIN, "check-config", (dir / "c.json").string()}, {}, dir / "out.log");
  EXPECT_EQ(c.wait_for_exit(20s), 1);
  std::ifstream in(dir / "out.log");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("subject.klas"), std::string::npos) << text;
  EXPECT_NE(text.find("generic-json"), std::string::npos) << text;

  cfg = hub_config(dir / "data", o);
  cfg["connectors"][0]["plugin"] = "no-such-plugin";
  std::ofstream(dir / "d.json") << cfg.dump();
  auto d = child_process::spawn({SCHAKEL_BIN, "check-config", (dir / "d.json").string()}, {}, dir / "out2.log");
  EXPECT_EQ(d.wait_for_exit(20s), 1);
  std::ifstream in2(dir / "out2.log");
  std::string text2((std::istreambuf_iterator<char>(in2)), {});
  EXPECT_NE(text2.find("no-such-plugin.so"), std::string::npos) << text2;
}

}  // namespace schakel::test
