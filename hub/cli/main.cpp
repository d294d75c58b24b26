// The `schakel` command: serve, check-config, version, subscriptions, deadletters, alerts, calendar, audit, privacy,
// consent, links, parked, enrolment, trends, storage.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "calendar/calendar.hpp"
#include "calendar/calendar_cli.hpp"
#include "cli/admin_client.hpp"
#include "cli/link_commands.hpp"
#include "cli/privacy_commands.hpp"
#include "cli/storage_commands.hpp"
#include "cli/trend_commands.hpp"
#include "common/school_id.hpp"
#include "config/config.hpp"
#include "daemon/daemon.hpp"

#ifndef SCHAKEL_VERSION
#define SCHAKEL_VERSION "0.0.0"
#endif

namespace {

using namespace schakel;

// The PostgreSQL engine behind the store interface is not built yet: say so rather than pretend.
constexpr const char* postgres_not_served =
    "postgres is used by `schakel storage migrate` and `schakel storage status` only in this version; serve "
    "needs engine sqlite (docs/storage.md, \"PostgreSQL\")";

int fail(const std::string& message) {
  std::cerr << "schakel: " << message << "\n";
  return 1;
}

/**
 * What check-config refuses beyond the schema (plugin loading and each plugin's own settings
 * checks included), printed as `file: problem`. serve goes through this too, so a configuration
 * check-config refuses never starts, and both say why in the same words. True when nothing.
 */
bool config_usable(const std::string& file, const config::hub_config& cfg) {
  const auto problems = daemon::check_plugins(cfg);
  for (const auto& p : problems) std::cerr << file << ": " << p << "\n";
  return problems.empty();
}

std::string or_dash(const nlohmann::json& o, const char* key) {
  if (!o.contains(key) || o[key].is_null()) return "-";
  return o[key].is_string() ? o[key].get<std::string>() : o[key].dump();
}

/** `schakel subscriptions list`: one line per subscription, tab-separated, never content. */
void print_subscriptions(const nlohmann::json& body) {
  std::cout << "name\tstate\tqueue\toldest_age_s\tlast_success\tlast_error_at\tlast_error\tdisabled_since\t"
               "disabled_reason\n";
  const auto list = body.value("subscriptions", nlohmann::json::array());
  for (const auto& s : list)
    std::cout << or_dash(s, "name") << "\t" << or_dash(s, "state") << "\t" << or_dash(s, "queue_depth") << "\t"
              << or_dash(s, "oldest_undelivered_age_seconds") << "\t" << or_dash(s, "last_success") << "\t"
              << or_dash(s, "last_error_at") << "\t" << or_dash(s, "last_error") << "\t" << or_dash(s, "disabled_since")
              << "\t" << or_dash(s, "disabled_reason") << "\n";
  std::cout << list.size() << " subscription(s)\n";
}

}  // namespace

int main(int argc, char** argv) {
  // Whatever this process creates (the data directory, the database and its WAL, keys, quarantine
  // reports) holds minors' data or secrets: the hub's user only, whatever the shell's umask.
  ::umask(077);
  CLI::App app{"Schakel: links school signals to youth health care, privacy-filtered and audited"};
  app.require_subcommand(1);
  // Given anywhere on the line (every subcommand falls through to these): the commands that call the
  // admin API send the token in this file. A token in argv is readable by every user (ps, /proc).
  app.fallthrough();
  std::string token_file;
  app.add_option("--token-file", token_file,
                 "File holding the bearer token for the hub's API (else $SCHAKEL_TOKEN_FILE)");
  std::string token_argument;
  auto* token_given = app.add_option("--token", token_argument)->group("");  // hidden: only to refuse it clearly

  std::string config_file;
  auto* serve = app.add_subcommand("serve", "Run the hub");
  serve->add_option("--config,-c", config_file, "Configuration file (YAML or JSON)")->required();
  std::string node_name;
  serve->add_option("--node", node_name,
                    "This node's name in metrics, checkpoints and /v1/processors (default: node, else the host name)");

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

  auto* subs = app.add_subcommand("subscriptions", "Delivery state of a running hub's subscriptions");
  subs->require_subcommand(1);
  std::string subs_config, subs_name;
  auto* subs_list =
      subs->add_subcommand("list", "State, queue depth, oldest undelivered age, last success and error, why disabled");
  subs_list->add_option("--config,-c", subs_config, "The hub's configuration file")->required();
  subs_list->add_option("--ca-file", ca_file, "CA bundle to verify the hub's TLS certificate");
  auto* subs_enable = subs->add_subcommand(
      "enable", "Deliver again to a subscription disabled by 410 Gone, starting with what it missed (audited)");
  subs_enable->add_option("name", subs_name, "Subscription name")->required();
  subs_enable->add_option("--config,-c", subs_config, "The hub's configuration file")->required();
  subs_enable->add_option("--ca-file", ca_file, "CA bundle to verify the hub's TLS certificate");

  auto* alerts = app.add_subcommand("alerts", "Act on alerts of a running hub");
  alerts->require_subcommand(1);
  std::string alert_id, alert_config, informed_on, informed_by;
  auto* refer = alerts->add_subcommand(
      "refer", "Record that the parents were informed, so the alert may be referred (M@ZL to the JGZ doctor)");
  refer->add_option("id", alert_id, "The alert's signal id (the CloudEvent id the coordinator received)")->required();
  refer->add_option("--config,-c", alert_config, "The hub's configuration file")->required();
  refer->add_option("--parents-informed-on", informed_on, "Date the parents were informed (YYYY-MM-DD)")->required();
  refer->add_option("--informed-by", informed_by, "Role of who informed them (e.g. mentor)")->required();
  refer->add_option("--ca-file", ca_file, "CA bundle to verify the hub's TLS certificate");

  auto* cal = app.add_subcommand("calendar", "Check calendar files or show a school's school weeks");
  cal->require_subcommand(1);
  std::vector<std::string> cal_files;
  std::string cal_config, cal_school, cal_from, cal_to;
  auto* cal_check = cal->add_subcommand("check", "Load .ics/.csv calendar files and report errors with file:line");
  cal_check->add_option("files", cal_files, "Calendar files")->required();
  auto* cal_show = cal->add_subcommand("show", "Print a school's weeks: school days, days off, skipped weeks");
  cal_show->add_option("--config,-c", cal_config, "Configuration file with the schools section")->required();
  cal_show->add_option("--school", cal_school, "BRIN, or BRIN + 2-digit vestiging")->required();
  cal_show->add_option("--from", cal_from, "First date (YYYY-MM-DD), default 2026-08-01");
  cal_show->add_option("--to", cal_to, "Last date (YYYY-MM-DD), default 2027-07-31");

  cli::privacy_commands privacy_cmds(app);
  cli::link_commands link_cmds(app);
  cli::trend_commands trend_cmds(app);
  cli::storage_commands storage_cmds(app);

  CLI11_PARSE(app, argc, argv);
  if (token_given->count() > 0)
    return fail(
        "--token: a token on the command line is visible to every user of this machine; put it in a file "
        "(mode 0600) and give --token-file PATH, or set SCHAKEL_TOKEN_FILE");
  cli::set_token_file(token_file);

  try {
    if (privacy_cmds.selected()) return privacy_cmds.run();
    if (link_cmds.selected()) return link_cmds.run();
    if (trend_cmds.selected()) return trend_cmds.run();
    if (storage_cmds.selected()) return storage_cmds.run();
    if (*version) {
      std::cout << "schakel " << SCHAKEL_VERSION << " (signal schema v1, plugin ABI 1.1)\n";
      return 0;
    }
    if (*serve) {
      auto cfg = config::load_config_file(config_file);
      if (const auto why = config::settle_node_name(cfg, node_name); !why.empty()) return fail(why);
      if (cfg.storage.engine == config::storage_engine::postgres) {
        std::cerr << config_file << ": storage.engine: " << postgres_not_served << "\n";
        return 1;
      }
      if (!config_usable(config_file, cfg)) return 1;
      return daemon::serve(cfg);
    }
    if (*check) {
      auto cfg = config::load_config_file(check_file);
      bool usable = config_usable(check_file, cfg);
      // Names are resolved here only: serve checks each address its delivery client resolves instead.
      const auto destinations = config::check_destination_names(cfg);
      for (const auto& w : destinations.warnings) std::cerr << check_file << ": warning: " << w << "\n";
      for (const auto& e : destinations.errors) std::cerr << check_file << ": " << e << "\n";
      usable = usable && destinations.errors.empty();
      if (!usable) return 1;
      if (!cfg.admin_token.empty()) std::cerr << check_file << ": warning: " << config::admin_token_hint << "\n";
      if (cfg.storage.engine == config::storage_engine::postgres)
        std::cerr << check_file << ": warning: storage.engine: " << postgres_not_served << "\n";
      for (const auto& w : config::access_warnings(cfg, std::chrono::system_clock::now()))
        std::cerr << check_file << ": warning: " << w << "\n";
      std::cout << check_file << ": ok (" << cfg.connectors.size() << " connector instance(s), "
                << cfg.processors.size() << " processor(s), " << cfg.schools.size() << " school(s), "
                << cfg.subscriptions.size() << " subscription(s))\n";
      return 0;
    }
    if (*cal_check) return calendar::calendar_check(cal_files, std::cout, std::cerr);
    if (*cal_show) {
      auto cfg = config::load_config_file(cal_config);
      const auto registry = calendar::registry_from_config(cfg.schools, cfg.config_dir);
      const auto from = calendar::parse_date(cal_from.empty() ? "2026-08-01" : cal_from);
      const auto to = calendar::parse_date(cal_to.empty() ? "2027-07-31" : cal_to);
      if (!from || !to) return fail("--from and --to must be dates (YYYY-MM-DD or dd-mm-jjjj)");
      if (!is_school_id(cal_school))
        return fail("--school must be a BRIN (4 capital letters or digits) or BRIN + vestiging (6)");
      return calendar::calendar_show(registry, std::string_view(cal_school).substr(0, 4),
                                     cal_school.size() == 6 ? std::string_view(cal_school).substr(4) : "", *from, *to,
                                     std::cout);
    }
    if (*refer) {
      auto cfg = config::load_config_file(alert_config);
      auto target = cli::admin_target_from(cfg, ca_file);
      const nlohmann::json body = {{"parents_informed_on", informed_on}, {"informed_by", informed_by}};
      auto reply = cli::admin_request(target, "POST", "/v1/alerts/" + alert_id + "/referral", body.dump());
      auto answer = nlohmann::json::parse(reply.body, nullptr, false);
      if (reply.status != 202) {
        std::string detail = answer.is_object() ? answer.value("detail", reply.body) : reply.body;
        return fail("HTTP " + std::to_string(reply.status) + ": " + detail);
      }
      std::cout << "referral recorded for alert " << alert_id << " (" << answer.value("referral", "") << ")\n";
      return 0;
    }
    if (*subs) {
      auto cfg = config::load_config_file(subs_config);
      auto target = cli::admin_target_from(cfg, ca_file);
      const auto reply = *subs_list ? cli::admin_request(target, "GET", "/v1/subscriptions")
                                    : cli::admin_request(target, "POST", "/v1/subscriptions/" + subs_name + "/enable");
      auto body = nlohmann::json::parse(reply.body, nullptr, false);
      if (reply.status != 200) {
        std::string detail = body.is_object() ? body.value("detail", reply.body) : reply.body;
        return fail("HTTP " + std::to_string(reply.status) + ": " + detail);
      }
      if (*subs_list) {
        print_subscriptions(body);
      } else {
        std::cout << "enabled " << subs_name << "\n";
      }
      return 0;
    }
    if (*dl) {
      auto cfg = config::load_config_file(dl_config);
      auto target = cli::admin_target_from(cfg, ca_file);
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
