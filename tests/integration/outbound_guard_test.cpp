// The outbound guard end to end with the real daemon: a receiver on 127.0.0.1 is reached only when
// the subscription allowlists it, a name that resolves to loopback is refused at run time, and the
// hub never delivers to its own listen port, whatever is allowlisted.
#include <fstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <gtest/gtest.h>

#include "hub_fixture.hpp"

namespace schakel::test {
namespace fs = std::filesystem;
namespace {

using namespace std::chrono_literals;

struct outbound_guard_test : ::testing::Test {
  temp_dir dir{"schakel-outbound"};

  /** A port nobody listens on now (bound, then closed): the hub then listens there itself. */
  static std::uint16_t free_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return probe.local_endpoint().port();
  }

  static std::string metrics(std::uint16_t port) { return metrics_text(port); }

  static bool refused_at_least(std::uint16_t port, int n) {
    const std::string m = metrics(port);
    const std::string key = "schakel_delivery_refused_destination_total{subscription=\"partner\",node=\"test-node\"} ";
    const auto at = m.find(key);
    return at != std::string::npos && std::stoi(m.substr(at + key.size())) >= n;
  }

  /** Runs `schakel check-config` on `config`: the exit code and what it printed. */
  cli_result check_config(const nlohmann::json& config, const std::string& name) {
    const fs::path file = dir / (name + ".json");
    std::ofstream(file) << config.dump();
    return run_schakel(dir.path(), {"check-config", file.string()}, name);
  }
};

TEST_F(outbound_guard_test, a_literal_loopback_receiver_without_an_allowlist_is_refused_before_anything_runs) {
  receiver_process receiver(dir.path(), {});
  hub_options o;
  o.webhook_url = receiver.url();  // http://127.0.0.1:<port>/webhook
  o.allow_destinations = nlohmann::json::array();
  const auto config = hub_config(dir / "data", o);
  const auto checked = check_config(config, "check");
  EXPECT_EQ(checked.exit, 1) << checked.output;
  EXPECT_NE(checked.output.find("subscriptions[0].delivery.webhook.url: subscription \"partner\" delivers to "
                                "127.0.0.1, a loopback address (loopback)"),
            std::string::npos)
      << checked.output;
  // serve refuses the same configuration in the same words.
  fs::create_directories(dir / "data");
  fs::permissions(dir / "data", fs::perms::owner_all);
  std::ofstream(dir / "serve.json") << config.dump();
  auto serve =
      child_process::spawn({SCHAKEL_BIN, "serve", "--config", (dir / "serve.json").string()}, {}, dir / "serve.log");
  EXPECT_EQ(serve.wait_for_exit(20s), 1);
  std::ifstream in(dir / "serve.log");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("a loopback address (loopback)"), std::string::npos) << text;
  EXPECT_TRUE(receiver.events().empty());
}

TEST_F(outbound_guard_test, the_issues_three_urls_fail_check_config_naming_the_subscription) {
  const auto own_port = free_port();
  const std::pair<std::string, std::string> cases[] = {
      {"https://169.254.169.254/latest/meta-data/", "169.254.169.254, the cloud metadata address"},
      {"https://10.0.0.1/hook", "10.0.0.1, a private-network address"},
      {"https://127.0.0.1:" + std::to_string(own_port) + "/v1/subscriptions",
       "127.0.0.1, the hub's own listen address and port"},
  };
  int n = 0;
  for (const auto& [url, expected] : cases) {
    hub_options o;
    o.webhook_url = url;
    o.allow_destinations = nlohmann::json::array({"127.0.0.0/8"});  // does not open the hub itself
    auto config = hub_config(dir / "data", o);
    config["listen"]["port"] = own_port;
    const auto r = check_config(config, "case" + std::to_string(++n));
    EXPECT_EQ(r.exit, 1) << url << "\n" << r.output;
    EXPECT_NE(r.output.find("subscription \"partner\" delivers to " + expected), std::string::npos) << url << "\n"
                                                                                                    << r.output;
  }
}

TEST_F(outbound_guard_test, check_config_resolves_a_name_to_loopback_and_refuses_it_unless_allowlisted) {
  receiver_process receiver(dir.path(), {});
  hub_options o;
  o.webhook_url = "http://localhost:" + std::to_string(receiver.port()) + "/webhook";
  o.allow_destinations = nlohmann::json::array();
  auto r = check_config(hub_config(dir / "data", o), "name");
  EXPECT_EQ(r.exit, 1) << r.output;
  EXPECT_NE(r.output.find("subscription \"partner\" delivers to localhost ("), std::string::npos) << r.output;
  o.allow_destinations = nlohmann::json::array({"127.0.0.1/32", "::1/128"});
  r = check_config(hub_config(dir / "data", o), "name-allowed");
  EXPECT_EQ(r.exit, 0) << r.output;
}

TEST_F(outbound_guard_test, a_name_resolving_to_loopback_is_refused_at_run_time_and_delivered_once_allowlisted) {
  receiver_process receiver(dir.path(), {});
  hub_options o;
  // A name, so serve starts (it does not resolve names): the delivery client must refuse it.
  o.webhook_url = "http://localhost:" + std::to_string(receiver.port()) + "/webhook";
  o.allow_destinations = nlohmann::json::array();
  o.max_attempts = 3;
  {
    hub_process hub(dir / "refused");
    hub.start(hub_config(hub.data_dir(), o));
    ASSERT_EQ(hub.post_records(absence_records(2)).status, 200u) << hub.log();
    ASSERT_TRUE(wait_until([&] { return refused_at_least(hub.port(), 3); }, 20s)) << metrics(hub.port());
    ASSERT_TRUE(wait_until([&] { return !log_events(hub.log(), "delivery.dead_lettered").empty(); }, 20s)) << hub.log();
    const auto refused = log_events(hub.log(), "delivery.destination_refused");
    ASSERT_FALSE(refused.empty()) << hub.log();
    EXPECT_EQ(refused[0].value("refusal", ""), "loopback") << refused[0].dump();
    EXPECT_NE(refused[0].value("reason", "").find("destination: localhost resolves to a loopback address"),
              std::string::npos)
        << refused[0].dump();
    EXPECT_TRUE(receiver.events().empty());
    hub.process().terminate();
  }
  // The same subscription with the receiver's address allowlisted: delivered.
  o.allow_destinations = nlohmann::json::array({"127.0.0.1/32"});
  hub_process hub(dir / "allowed");
  hub.start(hub_config(hub.data_dir(), o));
  ASSERT_EQ(hub.post_records(absence_records(2)).status, 200u) << hub.log();
  ASSERT_TRUE(wait_until([&] { return receiver.events().size() >= 2; }, 20s)) << hub.log();
  EXPECT_TRUE(refused_at_least(hub.port(), 0));
  EXPECT_FALSE(refused_at_least(hub.port(), 1)) << metrics(hub.port());
}

TEST_F(outbound_guard_test, the_hub_never_delivers_to_its_own_listen_port_even_when_allowlisted) {
  const auto own_port = free_port();
  hub_options o;
  // Through a name (serve would refuse the literal 127.0.0.1:<own port> at load).
  o.webhook_url = "http://localhost:" + std::to_string(own_port) + "/v1/connectors/src/records";
  o.allow_destinations = nlohmann::json::array({"127.0.0.0/8", "::1/128"});
  o.max_attempts = 2;
  auto config = hub_config(dir / "data", o);
  config["listen"]["port"] = own_port;
  hub_process hub(dir.path());
  hub.start(config);
  ASSERT_EQ(hub.port(), own_port);
  ASSERT_EQ(hub.post_records(absence_records(1)).status, 200u) << hub.log();
  ASSERT_TRUE(wait_until([&] { return refused_at_least(hub.port(), 2); }, 20s)) << metrics(hub.port());
  const auto refused = log_events(hub.log(), "delivery.destination_refused");
  ASSERT_FALSE(refused.empty()) << hub.log();
  EXPECT_EQ(refused[0].value("refusal", ""), "own_listener") << refused[0].dump();
  // Nothing reached the ingest endpoint but the one batch the test posted.
  EXPECT_NE(metrics(hub.port()).find("schakel_records_received_total{connector=\"src\",node=\"test-node\"} 1\n"),
            std::string::npos)
      << metrics(hub.port());
}

}  // namespace
}  // namespace schakel::test
