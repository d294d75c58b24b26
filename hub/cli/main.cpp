// The `schakel` command: serve, check-config, version, deadletters.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/admin_client.hpp"
#include "config/config.hpp"
#include "daemon/daemon.hpp"

#ifndef SCHAKEL_VERSION
#define SCHAKEL_VERSION "0.0.0"
#endif

namespace {

using namespace schakel;

int fail(const std::string& message) {
  std::cerr << "schakel: " << message << "\n";
  return 1;
}

cli::admin_target target_from(const config::hub_config& cfg, const std::string& ca_file) {
  cli::admin_target t;
  t.host = cfg.listen.address == "0.0.0.0" ? "127.0.0.1" : cfg.listen.address == "::" ? "::1" : cfg.listen.address;
  std::uint16_t port = cfg.listen.port;
  if (port == 0) {
    // Port 0 in the config: the daemon wrote the port it bound.
    std::ifstream in(std::filesystem::path(cfg.data_dir) / "port");
    in >> port;
    if (port == 0)
      throw std::runtime_error("the config uses port 0 and " + cfg.data_dir +
                               "/port is missing; is the daemon running?");
  }
  t.port = std::to_string(port);
  t.tls = cfg.listen.tls.has_value();
  t.ca_file = ca_file;
  t.token = cfg.admin_token;
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Schakel: links school signals to youth health care, privacy-filtered and audited"};
  app.require_subcommand(1);

  std::string config_file;
  auto* serve = app.add_subcommand("serve", "Run the hub");
  serve->add_option("--config,-c", config_file, "Configuration file (YAML or JSON)")->required();

  std::string check_file;
  auto* check = app.add_subcommand("check-config", "Validate a configuration and load its plugins (dry run)");
  check->add_option("file", check_file, "Configuration file")->required();

  auto* version = app.add_subcommand("version", "Print the version");

  auto* dl = app.add_subcommand("deadletters", "List or replay dead letters of a running hub");
  dl->require_subcommand(1);
  std::string dl_config, dl_subscription, ca_file;
  std::int64_t replay_id = 0;
  auto* dl_list = dl->add_subcommand("list", "List dead letters (newest first)");
  dl_list->add_option("--config,-c", dl_config, "The hub's configuration file")->required();
  dl_list->add_option("--subscription", dl_subscription, "Only this subscription");
  dl_list->add_option("--ca-file", ca_file, "CA bundle to verify the hub's TLS certificate");
  auto* dl_replay = dl->add_subcommand("replay", "Queue a dead letter for delivery again");
  dl_replay->add_option("id", replay_id, "Dead-letter id")->required();
  dl_replay->add_option("--config,-c", dl_config, "The hub's configuration file")->required();
  dl_replay->add_option("--ca-file", ca_file, "CA bundle to verify the hub's TLS certificate");

  CLI11_PARSE(app, argc, argv);

  try {
    if (*version) {
      std::cout << "schakel " << SCHAKEL_VERSION << " (signal schema v1, plugin ABI 1.0)\n";
      return 0;
    }
    if (*serve) return daemon::serve(config::load_config_file(config_file));
    if (*check) {
      auto cfg = config::load_config_file(check_file);
      auto problems = daemon::check_plugins(cfg);
      for (const auto& p : problems) std::cerr << check_file << ": " << p << "\n";
      if (!problems.empty()) return 1;
      std::cout << check_file << ": ok (" << cfg.connectors.size() << " connector instance(s), "
                << cfg.subscriptions.size() << " subscription(s))\n";
      return 0;
    }
    if (*dl) {
      auto cfg = config::load_config_file(dl_config);
      auto target = target_from(cfg, ca_file);
      cli::admin_reply reply;
      if (*dl_list) {
        reply = cli::admin_request(
            target, "GET", "/v1/deadletters" + (dl_subscription.empty() ? "" : "?subscription=" + dl_subscription));
      } else {
        reply = cli::admin_request(target, "POST", "/v1/deadletters/" + std::to_string(replay_id) + "/replay");
      }
      auto body = nlohmann::json::parse(reply.body, nullptr, false);
      if (reply.status != 200) {
        std::string detail = body.is_object() ? body.value("detail", reply.body) : reply.body;
        return fail("HTTP " + std::to_string(reply.status) + ": " + detail);
      }
      if (*dl_list) {
        for (const auto& d : body["dead_letters"])
          std::cout << d["id"] << "\t" << d["subscription"].get<std::string>() << "\t"
                    << d["webhook_id"].get<std::string>() << "\t" << d["events"] << " event(s)\t" << d["attempts"]
                    << " attempt(s)\t" << d["dead_at"].get<std::string>() << "\t" << d["reason"].get<std::string>()
                    << "\n";
        std::cout << body["dead_letters"].size() << " dead letter(s)\n";
      } else {
        std::cout << "replayed " << replay_id << " (" << body["subscription"].get<std::string>() << ")\n";
      }
      return 0;
    }
  } catch (const config::config_error& e) {
    return fail(e.what());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return 0;
}
