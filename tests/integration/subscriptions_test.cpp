// A partner that answered 410 Gone is disabled, stays so across restarts, and gets everything it
// missed, in order, once an operator enables it (CLI and admin API). `serve` refuses what
// `check-config` refuses, in the same words; /readyz says 503 while a source is not running.
#include <csignal>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "hub_fixture.hpp"

namespace schakel::test {
namespace fs = std::filesystem;
namespace {

using namespace std::chrono_literals;

nlohmann::json subscription(std::uint16_t port) {
  const auto reply = send(port, as_role("operator", "GET", "/v1/subscriptions"));
  EXPECT_EQ(reply.status, 200u) << reply.body;
  const auto body = nlohmann::json::parse(reply.body, nullptr, false);
  if (!body.is_object() || body["subscriptions"].size() != 1) return {};
  return body["subscriptions"][0];
}

/** Disabled and stored with the 410 as the last error (the gauge flips first, the store follows). */
bool disabled_and_recorded(std::uint16_t port) {
  const auto st = subscription(port);
  return st.is_object() && st["state"] == "disabled" && st["last_error"].is_string();
}

bool gauge_is(std::uint16_t port, int value) {
  const auto metrics = metrics_text(port);
  return metrics.find("schakel_subscription_disabled{subscription=\"partner\",node=\"test-node\"} " +
                      std::to_string(value)) != std::string::npos;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

/** The CloudEvent ids the partner received, in arrival order. */
std::vector<std::string> received_ids(const receiver_process& receiver) {
  std::vector<std::string> out;
  for (const auto& e : receiver.events()) out.push_back(e["event"].value("id", std::string()));
  return out;
}

/** Posts records and appends the ids of the stored signals to `ids`, in order. */
void post(hub_process& hub, int n, int first, std::vector<std::string>& ids) {
  const auto reply = hub.post_records(absence_records(n, first));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  const auto body = nlohmann::json::parse(reply.body);
  for (const auto& a : body["accepted"]) ids.push_back(a["id"].get<std::string>());
}

struct subscriptions_test : ::testing::Test {
  temp_dir dir{"schakel-subs"};
};

}  // namespace

TEST_F(subscriptions_test, gone_disables_until_enabled_then_the_partner_gets_what_it_missed_in_order) {
  // R-0 is refused with 410; after the CLI's enable R-0..R-2 are taken; R-3 is refused again and the
  // API enables the subscription a second time.
  receiver_process receiver(dir.path(), {"--status-sequence", "410,200,200,200,410"});
  hub_options o;
  o.webhook_url = receiver.url();
  auto cfg = hub_config(dir.path() / "data", o);
  cfg["subscriptions"][0]["delivery"]["lanes"] = 1;  // one lane: "in order" means all events
  auto hub = std::make_unique<hub_process>(dir.path());
  hub->start(cfg);

  std::vector<std::string> sent;
  post(*hub, 1, 0, sent);
  ASSERT_TRUE(wait_until([&] { return gauge_is(hub->port(), 1); }, 20s)) << hub->log();
  ASSERT_TRUE(wait_until([&] { return disabled_and_recorded(hub->port()); }, 20s)) << hub->log();
  post(*hub, 2, 1, sent);  // queued while disabled
  ASSERT_EQ(sent.size(), 3u);

  auto st = subscription(hub->port());
  EXPECT_EQ(st["name"], "partner");
  EXPECT_EQ(st["state"], "disabled") << st.dump();
  EXPECT_EQ(st["disabled_reason"], "HTTP 410 Gone") << st.dump();
  EXPECT_TRUE(st["disabled_since"].is_string()) << st.dump();
  EXPECT_EQ(st["queue_depth"], 3) << st.dump();
  EXPECT_TRUE(st["oldest_undelivered_age_seconds"].is_number()) << st.dump();
  EXPECT_NE(st["last_error"].get<std::string>().find("410"), std::string::npos) << st.dump();
  EXPECT_TRUE(st["last_success"].is_null()) << st.dump();
  EXPECT_EQ(receiver.distinct_events(), 0u);
  EXPECT_EQ(count_of(hub->log(), "\"subscription.disabled\""), 1u) << hub->log();
  EXPECT_EQ(count_of(st.dump(), "S-1"), 0u) << "no student key in the status";

  // A restart keeps it disabled, and delivers nothing.
  ASSERT_EQ(hub->process().terminate(SIGTERM, 20s), 0);
  hub = std::make_unique<hub_process>(dir.path());
  hub->start(cfg);
  EXPECT_TRUE(gauge_is(hub->port(), 1));
  EXPECT_EQ(subscription(hub->port())["state"], "disabled");
  const auto listed = run_schakel(dir.path(),
                                  {"subscriptions", "list", "--config", hub->config_file().string(), "--token-file",
                                   token_file(dir.path(), "operator").string()},
                                  "list");
  ASSERT_EQ(listed.exit, 0) << listed.output;
  EXPECT_NE(listed.output.find("partner\tdisabled\t3\t"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("HTTP 410 Gone"), std::string::npos) << listed.output;
  EXPECT_EQ(receiver.distinct_events(), 0u);

  // The CLI enables it: the partner receives what it missed, in order.
  const auto enabled = run_schakel(dir.path(),
                                   {"subscriptions", "enable", "partner", "--config", hub->config_file().string(),
                                    "--token-file", token_file(dir.path(), "operator").string()},
                                   "enable");
  ASSERT_EQ(enabled.exit, 0) << enabled.output;
  ASSERT_TRUE(wait_until([&] { return receiver.distinct_events() >= 3; }, 20s)) << hub->log();
  EXPECT_EQ(received_ids(receiver), sent) << "what it missed, in order, once each";
  EXPECT_TRUE(gauge_is(hub->port(), 0));
  ASSERT_TRUE(wait_until([&] { return subscription(hub->port())["queue_depth"] == 0; }, 20s));
  st = subscription(hub->port());
  EXPECT_EQ(st["state"], "enabled");
  EXPECT_TRUE(st["last_success"].is_string()) << st.dump();
  EXPECT_TRUE(st["disabled_since"].is_null()) << st.dump();
  EXPECT_NE(hub->log().find("\"subscription.enabled\""), std::string::npos) << hub->log();

  // Gone again; this time the admin API enables it.
  post(*hub, 1, 3, sent);
  ASSERT_TRUE(wait_until([&] { return gauge_is(hub->port(), 1); }, 20s)) << hub->log();
  ASSERT_TRUE(wait_until([&] { return subscription(hub->port())["state"] == "disabled"; }, 20s)) << hub->log();
  EXPECT_EQ(send(hub->port(), as_role("operator", "POST", "/v1/subscriptions/nobody/enable")).status, 404u);
  const auto api = send(hub->port(), as_role("operator", "POST", "/v1/subscriptions/partner/enable"));
  ASSERT_EQ(api.status, 200u) << api.body;
  ASSERT_TRUE(wait_until([&] { return receiver.distinct_events() >= 4; }, 20s)) << hub->log();
  EXPECT_EQ(received_ids(receiver), sent);
  EXPECT_TRUE(gauge_is(hub->port(), 0));
  const auto again = send(hub->port(), as_role("operator", "POST", "/v1/subscriptions/partner/enable"));
  EXPECT_EQ(again.status, 409u) << again.body;
  EXPECT_NE(again.body.find("not-disabled"), std::string::npos) << again.body;

  // Both enables and both disables are on the audit trail, naming the subscription, no student.
  const auto audit = run_schakel(dir.path(), {"audit", "export", "--config", hub->config_file().string()}, "audit");
  ASSERT_EQ(audit.exit, 0) << audit.output;
  std::size_t enables = 0, disables = 0;
  std::istringstream lines(audit.output);
  for (std::string line; std::getline(lines, line);) {
    const auto r = nlohmann::json::parse(line, nullptr, false);
    if (!r.is_object()) continue;
    if (r.value("action", "") == "subscription.enabled") {
      ++enables;
      EXPECT_EQ(r.value("object_id", ""), "partner") << line;
      // The role the token was used in, and the token's name: who did it, not merely "an admin".
      EXPECT_EQ(r.value("actor_role", ""), "operator") << line;
      EXPECT_EQ(r.value("actor", ""), "test-operator") << line;
      EXPECT_FALSE(r.contains("subject")) << line;
    }
    if (r.value("action", "") == "subscription.disabled") ++disables;
  }
  EXPECT_EQ(enables, 2u) << audit.output;
  EXPECT_EQ(disables, 2u) << audit.output;
}

TEST_F(subscriptions_test, serve_refuses_a_plugin_level_error_with_the_words_of_check_config) {
  hub_options o;
  o.webhook_url = "http://127.0.0.1:9/webhook";
  auto cfg = hub_config(dir.path() / "data", o);
  cfg["connectors"][0]["settings"]["mapping"]["subject.klas"] = {{"pointer", "/klas"}};
  const auto file = (dir.path() / "c.json").string();
  std::ofstream(file) << cfg.dump();
  const auto checked = run_schakel(dir.path(), {"check-config", file}, "check");
  const auto served = run_schakel(dir.path(), {"serve", "--config", file}, "serve");
  EXPECT_EQ(checked.exit, 1) << checked.output;
  EXPECT_EQ(served.exit, 1) << served.output;
  ASSERT_NE(checked.output.find("subject.klas"), std::string::npos) << checked.output;
  // Log lines carry times; the refusals (`file: problem`) must be word for word the same.
  const auto refusals = [&](const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
      if (line.starts_with(file + ": ")) out.push_back(line);
    return out;
  };
  EXPECT_FALSE(refusals(checked.output).empty()) << checked.output;
  EXPECT_EQ(refusals(served.output), refusals(checked.output)) << served.output;
  EXPECT_FALSE(fs::exists(dir.path() / "data" / "port")) << "the hub never listened";
}

TEST_F(subscriptions_test, readyz_is_503_naming_the_instance_while_its_drop_folder_is_unreadable) {
  receiver_process receiver(dir.path(), {});
  hub_options o;
  o.webhook_url = receiver.url();
  auto cfg = hub_config(dir.path() / "data", o);
  const auto drop = dir.path() / "drop";
  cfg["connectors"][0]["drop_folder"] = {{"path", drop.string()}, {"poll_interval", "50ms"}, {"settle", "0ms"}};
  hub_process hub(dir.path());
  hub.start(cfg);
  ASSERT_TRUE(wait_until([&] { return send(hub.port(), {"GET", "/readyz"}).status == 200; }, 20s)) << hub.log();

  // The folder goes away (an unmounted share): the instance no longer takes anything in.
  fs::rename(drop, dir.path() / "drop.away");
  http_reply r;
  ASSERT_TRUE(wait_until(
      [&] {
        r = send(hub.port(), {"GET", "/readyz"});
        return r.status == 503;
      },
      20s))
      << hub.log();
  const auto body = nlohmann::json::parse(r.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << r.body;
  EXPECT_EQ(body["status"], 503);
  ASSERT_EQ(body["not_running"].size(), 1u) << r.body;
  EXPECT_EQ(body["not_running"][0]["name"], "src");
  EXPECT_EQ(body["not_running"][0]["kind"], "connector");
  EXPECT_NE(body["detail"].get<std::string>().find("src"), std::string::npos) << r.body;

  fs::rename(dir.path() / "drop.away", drop);
  EXPECT_TRUE(wait_until([&] { return send(hub.port(), {"GET", "/readyz"}).status == 200; }, 20s)) << hub.log();
}

}  // namespace schakel::test
