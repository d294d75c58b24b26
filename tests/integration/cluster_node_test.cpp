// Several `schakel serve` nodes on one database: each has a node name (metrics, checkpoints,
// /v1/processors), and a node whose hub or audit key differs from the one the database was made with
// refuses to start and writes nothing (docs/cluster.md).
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>

#include <gtest/gtest.h>

#include "audit/checkpoint.hpp"
#include "hub_fixture.hpp"

namespace schakel::test {
namespace fs = std::filesystem;
namespace {

using namespace std::chrono_literals;

std::string file_bytes(const fs::path& f) {
  std::ifstream in(f, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_key(const fs::path& f, const std::string& bytes) {
  fs::remove(f);
  std::ofstream(f, std::ios::binary) << bytes;
  fs::permissions(f, fs::perms::owner_read | fs::perms::owner_write);
}

/** One text value of a read-only query ("" when no row). */
std::string query(const fs::path& db_file, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_text(st, 0) != nullptr)
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

void execute(const fs::path& db_file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_file.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

struct cluster_node_test : ::testing::Test {
  temp_dir dir{"schakel-node"};
  hub_process hub{dir.path()};
  fs::path keys_dir = hub.data_dir().parent_path() / "keys";  // where hub_config() puts it
  fs::path db = hub.data_dir() / "schakel.db";

  nlohmann::json config() {
    auto cfg = hub_config(hub.data_dir(), {});
    cfg.erase("subscriptions");  // nothing is delivered here
    return cfg;
  }

  /** A first start that stores signals and audit records, stopped cleanly. */
  void first_start() {
    hub.start(config());
    ASSERT_EQ(hub.post_records(absence_records(3)).status, 200u) << hub.log();
    ASSERT_EQ(send(hub.port(), as_role("operator", "GET", "/v1/deadletters")).status, 200u);  // audited
    ASSERT_EQ(hub.process().terminate(), 0) << hub.log();
  }

  /** hub.log keeps every start's lines: those of the start after `from` characters. */
  std::vector<nlohmann::json> events_since(std::size_t from, const std::string& event) {
    return log_events(hub.log().substr(from), event);
  }

  cli_result serve_once(const std::string& name) {
    return run_schakel(dir.path(), {"serve", "--config", hub.config_file().string(), "--node", test_node}, name);
  }

  /** What must not change when a node is refused: the database bytes, what it holds, the checkpoints. */
  struct snapshot {
    std::string db_bytes, signals, audit_head, state_rows, checkpoints;
    bool operator==(const snapshot&) const = default;
  };
  snapshot take() {
    return {file_bytes(db), query(db, "SELECT count(*) FROM signals"),
            query(db, "SELECT seq || ' ' || hash FROM audit_log ORDER BY seq DESC LIMIT 1"),
            query(db, "SELECT count(*) FROM state"), file_bytes(keys_dir / "audit-checkpoints.log")};
  }

  /** A key that differs from `key_file`'s, refused; the database exactly as before; the old key starts again. */
  void refused_then_restored(const fs::path& key_file, const std::string& name) {
    first_start();
    const std::string original = file_bytes(key_file);
    const auto before = take();
    ASSERT_EQ(before.signals, "3");
    write_key(key_file, std::string(64, 'b') + "\n");

    const auto refused = serve_once("refused");
    EXPECT_NE(refused.exit, 0) << refused.output;
    EXPECT_NE(refused.exit, -1) << "it must stop by itself, not hang: " << refused.output;
    const auto start_failed = log_events(refused.output, "hub.start_failed");
    ASSERT_EQ(start_failed.size(), 1u) << refused.output;
    const auto why = start_failed[0].value("error", "");
    EXPECT_NE(why.find(name + " key " + key_file.string()), std::string::npos) << why;
    EXPECT_NE(why.find("this database was made with"), std::string::npos) << why;
    EXPECT_NE(why.find("copy " + key_file.filename().string()), std::string::npos) << why;
    EXPECT_EQ(why.find(std::string(64, 'b')), std::string::npos) << "never the key itself";
    EXPECT_TRUE(log_events(refused.output, "hub.listening").empty()) << refused.output;
    EXPECT_TRUE(take() == before) << "a refused node wrote to the database or the checkpoints";

    write_key(key_file, original);
    const auto from = hub.log().size();
    hub.start(config());
    EXPECT_EQ(hub.post_records(absence_records(2, 10)).status, 200u) << hub.log();
    EXPECT_TRUE(events_since(from, "keys.fingerprint_recorded").empty()) << "recorded once, at the first start";
    ASSERT_EQ(hub.process().terminate(), 0) << hub.log();
    EXPECT_EQ(query(db, "SELECT count(*) FROM signals"), "5");
  }
};

}  // namespace

TEST_F(cluster_node_test, the_first_start_records_both_key_fingerprints_and_never_the_keys) {
  hub.start(config());
  const auto recorded = log_events(hub.log(), "keys.fingerprint_recorded");
  ASSERT_EQ(recorded.size(), 2u) << hub.log();
  EXPECT_EQ(recorded[0].value("key", ""), "hub");
  EXPECT_EQ(recorded[1].value("key", ""), "audit");
  ASSERT_EQ(hub.process().terminate(), 0) << hub.log();
  EXPECT_EQ(query(db, "SELECT count(*) FROM state WHERE ns = 'schakel.keys'"), "2");
  const auto hub_fp = query(db, "SELECT value FROM state WHERE ns = 'schakel.keys' AND key = 'hub'");
  EXPECT_EQ(hub_fp.size(), 32u) << hub_fp;
  for (const char* key : {"hub.key", "audit.key"}) {
    auto text = file_bytes(keys_dir / key);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    EXPECT_EQ(query(db, "SELECT count(*) FROM state WHERE instr(value, '" + text.substr(0, 16) + "') > 0"), "0");
  }
}

TEST_F(cluster_node_test, another_hub_key_on_the_same_database_is_refused_and_writes_nothing) {
  refused_then_restored(keys_dir / "hub.key", "hub");
}

TEST_F(cluster_node_test, another_audit_key_on_the_same_database_is_refused_and_writes_nothing) {
  refused_then_restored(keys_dir / "audit.key", "audit");
}

TEST_F(cluster_node_test, a_database_from_before_fingerprints_gets_them_at_its_next_start) {
  first_start();
  execute(db, "DELETE FROM state WHERE ns = 'schakel.keys'");  // as an earlier version left it
  const auto from = hub.log().size();
  hub.start(config());
  EXPECT_EQ(events_since(from, "keys.fingerprint_recorded").size(), 2u) << hub.log();
  ASSERT_EQ(hub.process().terminate(), 0) << hub.log();
  EXPECT_EQ(query(db, "SELECT count(*) FROM state WHERE ns = 'schakel.keys'"), "2");
  // From now on it is held to them.
  write_key(keys_dir / "hub.key", std::string(64, 'c') + "\n");
  EXPECT_NE(serve_once("refused").exit, 0);
}

TEST_F(cluster_node_test, every_metric_series_carries_the_node_label) {
  auto cfg = config();
  cfg["node"] = "hub-a.example_1";
  hub.start(cfg);
  ASSERT_EQ(hub.post_records(absence_records(1)).status, 200u) << hub.log();
  const auto text = metrics_text(hub.port());
  std::istringstream lines(text);
  int series = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    ++series;
    EXPECT_NE(line.find("node=\"hub-a.example_1\""), std::string::npos) << line;
  }
  EXPECT_GT(series, 10) << text;
  EXPECT_NE(text.find("schakel_records_received_total{connector=\"src\",node=\"hub-a.example_1\"} 1\n"),
            std::string::npos)
      << text;
}

TEST_F(cluster_node_test, the_node_flag_names_the_node_in_processors_and_checkpoints) {
  const fs::path drop_dir = made(dir.path() / "drop");
  auto cfg = config();
  cfg["schools"] = {{{"brin", "99XX"}, {"vestiging", "00"}}};
  cfg["connectors"] = {attendance_drop_connector("school", drop_dir)};
  cfg["processors"] = {{{"name", "rules"}, {"plugin", "attendance-rules"}, {"inputs", {"school"}}}};
  hub.start(cfg);  // --node test-node: the config names none
  const auto reply = send(hub.port(), as_role("operator", "GET", "/v1/processors"));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  const auto body = nlohmann::json::parse(reply.body);
  EXPECT_EQ(body.value("node", ""), test_node) << body.dump();
  ASSERT_EQ(body["processors"].size(), 1u) << body.dump();
  EXPECT_EQ(body["processors"][0].value("node", ""), test_node) << body.dump();
  const auto listening = log_events(hub.log(), "hub.listening");
  ASSERT_EQ(listening.size(), 1u);
  EXPECT_EQ(listening[0].value("node", ""), test_node);
  ASSERT_EQ(hub.process().terminate(), 0) << hub.log();
  // Without audit.node the checkpoints carry the same node name.
  const auto cps = audit::read_checkpoints(keys_dir / "audit-checkpoints.log");
  ASSERT_FALSE(cps.empty());
  for (const auto& c : cps) {
    ASSERT_TRUE(c.value);
    EXPECT_EQ(c.value->node, test_node);
  }
}

TEST_F(cluster_node_test, the_deprecated_audit_node_still_names_checkpoints_and_warns) {
  auto cfg = config();
  cfg["audit"] = {{"node", "old checkpoint name"}};
  hub.start(cfg);
  ASSERT_EQ(hub.process().terminate(), 0) << hub.log();
  const auto warned = log_events(hub.log(), "config.audit_node_deprecated");
  ASSERT_EQ(warned.size(), 1u) << hub.log();
  EXPECT_EQ(warned[0].value("level", ""), "warn");
  EXPECT_EQ(warned[0].value("node", ""), test_node);
  const auto cps = audit::read_checkpoints(keys_dir / "audit-checkpoints.log");
  ASSERT_FALSE(cps.empty());
  for (const auto& c : cps) {
    ASSERT_TRUE(c.value);
    EXPECT_EQ(c.value->node, "old checkpoint name");
  }
  // Metrics still carry the one node name.
  hub.start(cfg);
  EXPECT_NE(metrics_text(hub.port()).find("schakel_auth_failures_total{node=\"test-node\"}"), std::string::npos);
}

TEST_F(cluster_node_test, a_bad_node_name_is_refused_before_anything_starts) {
  std::ofstream(hub.config_file()) << config().dump();
  for (const std::string& bad : std::vector<std::string>{"has space", "slash/node", "ümlaut", std::string(65, 'n')}) {
    const auto r = run_schakel(dir.path(), {"serve", "--config", hub.config_file().string(), "--node", bad}, "bad");
    EXPECT_EQ(r.exit, 1) << bad << ": " << r.output;
    EXPECT_NE(r.output.find("schakel: --node \""), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("cannot name this node"), std::string::npos) << r.output;
  }
  EXPECT_FALSE(fs::exists(db)) << "refused before the database was opened";
  auto cfg = config();
  cfg["node"] = "two words";
  std::ofstream(hub.config_file()) << cfg.dump();
  const auto check = run_schakel(dir.path(), {"check-config", hub.config_file().string()}, "check");
  EXPECT_NE(check.exit, 0) << check.output;
  EXPECT_NE(check.output.find("node"), std::string::npos) << check.output;
}

}  // namespace schakel::test
