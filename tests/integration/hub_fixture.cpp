#include "hub_fixture.hpp"

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace schakel::test {
namespace fs = std::filesystem;

nlohmann::json access_section() {
  nlohmann::json tokens = nlohmann::json::array();
  for (const char* role : {"operator", "privacy_officer", "linker", "trends", "metrics"})
    tokens.push_back({{"name", std::string("test-") + role}, {"roles", {role}}, {"token", role_token(role)}});
  return {{"tokens", tokens}};
}

const std::string& role_token(const std::string& role) {
  static const std::map<std::string, std::string> tokens = [] {
    std::map<std::string, std::string> out;
    for (const char* role : {"operator", "privacy_officer", "linker", "trends", "metrics"})
      out[role] = std::string("test-") + role + "-token-0123456789abcdefghijklmn";
    return out;
  }();
  return tokens.at(role);
}

std::pair<std::string, std::string> bearer_of(const std::string& role) {
  return {"Authorization", "Bearer " + role_token(role)};
}

http_call as_role(const std::string& role, std::string method, std::string target, std::string body) {
  std::vector<std::pair<std::string, std::string>> headers{bearer_of(role)};
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  return http_call{std::move(method), std::move(target), std::move(body), std::move(headers)};
}

fs::path token_file(const fs::path& dir, const std::string& role) {
  const auto path = dir / (role + ".token");
  std::ofstream(path) << role_token(role) << "\n";
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  return path;
}

std::string metrics_text(std::uint16_t port, const fs::path& ca_file, const std::string& token) {
  return send(port,
              http_call{"GET",
                        "/metrics",
                        {},
                        {{"Authorization", "Bearer " + (token.empty() ? role_token("metrics") : token)}}},
              ca_file)
      .body;
}

std::string absence_records(int n, int first) {
  nlohmann::json arr = nlohmann::json::array();
  for (int i = first; i < first + n; ++i)
    arr.push_back({{"id", "R-" + std::to_string(i)},
                   {"leerling", "S-" + std::to_string(100000 + i)},
                   {"brin", "12AB"},
                   {"klas", "2B"},
                   {"uren", 1 + i % 4},
                   {"ernst", i % 2 ? "hoog" : "laag"}});
  return arr.dump();
}

nlohmann::json attendance_drop_connector(const std::string& name, const fs::path& drop_dir,
                                         const nlohmann::json& codes) {
  return {{"name", name},
          {"plugin", "attendance"},
          {"token", ingest_token},
          {"drop_folder", {{"path", drop_dir.string()}, {"poll_interval", "50ms"}, {"settle", "0ms"}}},
          {"settings",
           {{"profile", "magister-like"}, {"school", {{"brin", "99XX"}, {"vestiging", "00"}}}, {"codes", codes}}}};
}

nlohmann::json hub_config(const fs::path& data_dir, const hub_options& o) {
  nlohmann::json listen = {{"address", "127.0.0.1"}, {"port", 0}};
  if (o.tls) listen["tls"] = {{"cert_file", o.tls->server_cert.string()}, {"key_file", o.tls->server_key.string()}};
  nlohmann::json webhook = {{"url", o.webhook_url}, {"secret", o.webhook_secret}};
  if (!o.webhook_ca_file.empty()) webhook["ca_file"] = o.webhook_ca_file;
  if (!o.allow_destinations.empty()) webhook["allow_destinations"] = o.allow_destinations;
  nlohmann::json delivery = {{"webhook", webhook},
                             {"retry",
                              {{"max_attempts", o.max_attempts},
                               {"max_age", "1h"},
                               {"initial_backoff", o.initial_backoff},
                               {"max_backoff", o.max_backoff}}},
                             {"request_timeout", "5s"}};
  if (o.batched) delivery["batch"] = {{"max_events", 50}, {"linger", "100ms"}};
  return {{"listen", listen},
          {"data_dir", data_dir.string()},
          // Beside the data directory, inside the test's own temp folder (never the user's home).
          {"keys_dir", (data_dir.parent_path() / "keys").string()},
          {"access", access_section()},
          {"log_level", "info"},
          {"limits",
           {{"max_body_bytes", o.max_body_bytes},
            {"max_header_bytes", 8192},
            {"read_timeout", o.read_timeout},
            {"max_connections", o.max_connections},
            {"max_outbox_depth", o.max_outbox_depth}}},
          {"connectors",
           {{{"name", "src"}, {"plugin", "generic-json"}, {"token", o.token}, {"settings", absence_mapping()}}}},
          {"subscriptions",
           {{{"name", "partner"},
             {"partner", "Test partner"},
             {"fields", o.fields},
             {"privacy", o.privacy},
             {"delivery", delivery}}}}};
}

void hub_process::start(const nlohmann::json& config, const std::vector<std::pair<std::string, std::string>>& env) {
  // Private, as the daemon insists: it refuses a data directory that group or others can enter.
  fs::create_directories(data_dir());
  fs::permissions(data_dir(), fs::perms::owner_all);
  fs::remove(data_dir() / "port");
  std::ofstream(config_file()) << config.dump(2);
  if (config["listen"].contains("tls"))
    ca_file_ = fs::path(config["listen"]["tls"]["cert_file"].get<std::string>()).parent_path() / "hub-ca.pem";
  std::vector<std::string> argv{SCHAKEL_BIN, "serve", "--config", config_file().string()};
  // A fixed name, so tests can match metric lines whatever this machine's host name is.
  if (!config.contains("node")) argv.insert(argv.end(), {"--node", test_node});
  proc_.emplace(child_process::spawn(argv, env, dir_ / "hub.log"));
  auto port = read_port_file(data_dir() / "port", std::chrono::seconds(20));
  if (!port) throw std::runtime_error("the hub did not start; log:\n" + log());
  port_ = *port;
}

std::string hub_process::log() const {
  std::ifstream in(dir_ / "hub.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

http_reply hub_process::post_records(const std::string& body, const std::string& token, const std::string& instance) {
  http_call call{"POST",
                 "/v1/connectors/" + instance + "/records",
                 body,
                 {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}}};
  return send(port_, call, fs::exists(ca_file_) ? ca_file_ : fs::path{});
}

receiver_process::receiver_process(const fs::path& dir, const std::vector<std::string>& args,
                                   const std::string& secret) {
  out_ = dir / "received.jsonl";
  std::vector<std::string> argv = {
      SCHAKEL_RECEIVER_BIN, "--listen", "127.0.0.1:0", "--port-file", (dir / "receiver.port").string(), "--out",
      out_.string(),        "--quiet"};
  for (const auto& a : args) {
    if (a == "--tls-cert") tls_ = true;
    argv.push_back(a);
  }
  proc_.emplace(child_process::spawn(argv, {{"SCHAKEL_WEBHOOK_SECRET", secret}}, dir / "receiver.log"));
  auto port = read_port_file(dir / "receiver.port");
  if (!port) throw std::runtime_error("the receiver did not start");
  port_ = *port;
}

std::string receiver_process::url() const {
  return std::string(tls_ ? "https" : "http") + "://" + (tls_ ? "localhost" : "127.0.0.1") + ":" +
         std::to_string(port_) + "/webhook";
}

std::vector<nlohmann::json> receiver_process::events() const {
  std::vector<nlohmann::json> out;
  std::ifstream in(out_);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

std::size_t receiver_process::distinct_events() const {
  std::set<std::string> ids;
  for (const auto& e : events()) ids.insert(e["event"]["id"].get<std::string>());
  return ids.size();
}

std::vector<nlohmann::json> receiver_process::of_type(const std::string& type) const {
  std::vector<nlohmann::json> out;
  for (const auto& e : events())
    if (e["event"]["type"] == type) out.push_back(e["event"]);
  return out;
}

cli_result run_schakel(const fs::path& dir, const std::vector<std::string>& args, const std::string& name) {
  std::vector<std::string> argv{SCHAKEL_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto out = dir / (name + ".out");
  auto p = child_process::spawn(argv, {}, out);
  cli_result r;
  r.exit = p.wait_for_exit(std::chrono::seconds(30)).value_or(-1);
  std::ifstream in(out);
  r.output.assign(std::istreambuf_iterator<char>(in), {});
  return r;
}

std::vector<nlohmann::json> log_events(const std::string& log, const std::string& event) {
  std::vector<nlohmann::json> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("event", "") == event) out.push_back(std::move(j));
  }
  return out;
}

fs::path made(const fs::path& p) {
  fs::create_directories(p);
  return p;
}

bool processors_caught_up(std::uint16_t port, const std::string& admin_token, const fs::path& ca_file) {
  const auto reply =
      send(port, http_call{"GET", "/v1/processors", {}, {{"Authorization", "Bearer " + admin_token}}}, ca_file);
  if (reply.status != 200) return false;
  const auto body = nlohmann::json::parse(reply.body, nullptr, false);
  if (!body.is_object() || !body.contains("processors")) return false;
  for (const auto& p : body["processors"])
    if (!p.value("caught_up", false)) return false;
  return true;
}

}  // namespace schakel::test
