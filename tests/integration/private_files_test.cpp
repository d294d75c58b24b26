// The daemon's files hold minors' health data: whatever the shell's umask, the data directory is
// 0700 and every file the daemon writes in it 0600; an open data directory, database or secret file
// stops `serve` with the path and the chmod that fixes it. Modes are read with stat: the tests run as
// root, and root reads a 0600 file as easily as a 0644 one.
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "hub_fixture.hpp"

namespace schakel::test {
namespace fs = std::filesystem;
namespace {

using namespace std::chrono_literals;

mode_t mode_of(const fs::path& p) {
  struct ::stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    ADD_FAILURE() << p << " does not exist";
    return 0;
  }
  return st.st_mode & 07777;
}

std::string octal(mode_t m) {
  std::ostringstream out;
  out << std::oct << m;
  return out.str();
}

struct private_files_test : ::testing::Test {
  void SetUp() override { old_umask_ = ::umask(022); }  // the usual default: the daemon must not inherit it
  void TearDown() override { ::umask(old_umask_); }

  fs::path data_dir() const { return dir.path() / "var" / "schakel"; }
  fs::path config_file() const { return dir.path() / "config.json"; }
  fs::path log_file() const { return dir.path() / "hub.log"; }

  child_process spawn(const nlohmann::json& cfg) {
    std::ofstream(config_file()) << cfg.dump(2);
    return child_process::spawn({SCHAKEL_BIN, "serve", "--config", config_file().string()}, {}, log_file());
  }

  /** Starts `serve` and waits for its port; the data directory is left for the daemon to create. */
  std::uint16_t started() {
    auto port = read_port_file(data_dir() / "port", 20s);
    if (!port) ADD_FAILURE() << "the hub did not start; log:\n" << log();
    return port.value_or(0);
  }

  /** Runs `serve` expecting a refusal: its exit code and its output. */
  std::pair<int, std::string> refused(const nlohmann::json& cfg) {
    fs::remove(log_file());
    auto hub = spawn(cfg);
    const auto code = hub.wait_for_exit(20s);
    EXPECT_TRUE(code.has_value()) << "serve kept running; log:\n" << log();
    return {code.value_or(0), log()};
  }

  std::string log() const {
    std::ifstream in(log_file());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  /** A config the hub starts with; deliveries go nowhere (nothing listens), which is fine here. */
  nlohmann::json config() const {
    hub_options o;
    o.webhook_url = "http://127.0.0.1:9/webhook";
    return hub_config(data_dir(), o);
  }

  temp_dir dir{"schakel-it-private"};
  mode_t old_umask_ = 022;
};

}  // namespace

TEST_F(private_files_test, the_daemon_creates_its_directory_0700_and_every_file_in_it_0600_under_umask_022) {
  auto hub = spawn(config());
  const auto port = started();
  ASSERT_NE(port, 0);
  // A write, so the database, its WAL and its shared-memory file all exist.
  const http_call call{"POST",
                       "/v1/connectors/src/records",
                       absence_records(3),
                       {{"Authorization", "Bearer " + ingest_token}, {"Content-Type", "application/json"}}};
  const auto reply = send(port, call);
  ASSERT_EQ(reply.status, 200u) << reply.body;

  EXPECT_EQ(octal(mode_of(data_dir())), "700");
  const fs::path db = data_dir() / "schakel.db";
  for (const fs::path& f : {db, fs::path(db.string() + "-wal"), fs::path(db.string() + "-shm")})
    EXPECT_EQ(octal(mode_of(f)), "600") << f;
  // Everything else the daemon wrote there (its port file, ...) too.
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(data_dir())) {
    ++files;
    EXPECT_EQ(octal(mode_of(e.path())), e.is_directory() ? "700" : "600") << e.path();
  }
  EXPECT_GE(files, 4u) << "schakel.db, -wal, -shm and port at least";
  // The key is kept apart, as private.
  const fs::path keys = data_dir().parent_path() / "keys";
  EXPECT_EQ(octal(mode_of(keys)), "700");
  EXPECT_EQ(octal(mode_of(keys / "hub.key")), "600");
  EXPECT_EQ(hub.terminate(), 0);
}

TEST_F(private_files_test, serve_refuses_a_world_readable_database_naming_it_and_the_chmod) {
  {
    auto hub = spawn(config());
    ASSERT_NE(started(), 0);
    ASSERT_EQ(hub.terminate(), 0);
  }
  const fs::path db = data_dir() / "schakel.db";
  fs::permissions(db, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  const auto [code, out] = refused(config());
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find(db.string() + " is readable by group and others (mode 0644); fix: chmod 600 " + db.string()),
            std::string::npos)
      << out;

  // Once fixed as told, it starts again.
  fs::permissions(db, fs::perms::owner_read | fs::perms::owner_write);
  fs::remove(data_dir() / "port");
  auto hub = spawn(config());
  EXPECT_NE(started(), 0);
  EXPECT_EQ(hub.terminate(), 0);
}

TEST_F(private_files_test, serve_refuses_an_open_data_directory_or_wal_file) {
  fs::create_directories(data_dir());
  fs::permissions(data_dir(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  auto [code, out] = refused(config());
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find(data_dir().string() + " is readable by group and others (mode 0755); fix: chmod 700 " +
                     data_dir().string()),
            std::string::npos)
      << out;
  EXPECT_FALSE(fs::exists(data_dir() / "schakel.db")) << "nothing is written into an open directory";

  // A WAL file left group-writable (a copied backup, a careless restore) is refused as well.
  fs::permissions(data_dir(), fs::perms::owner_all);
  const fs::path wal = data_dir() / "schakel.db-wal";
  std::ofstream(wal).close();
  fs::permissions(wal, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_write);
  std::tie(code, out) = refused(config());
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find(wal.string() + " is writable by group (mode 0620); fix: chmod 600 " + wal.string()),
            std::string::npos)
      << out;
}

TEST_F(private_files_test, serve_refuses_a_world_readable_secret_file) {
  const fs::path token_file = dir.path() / "ingest.token";
  std::ofstream(token_file) << ingest_token << "\n";  // 0644 under umask 022
  auto cfg = config();
  cfg["connectors"][0]["token"] = "${file:" + token_file.string() + "}";
  const auto [code, out] = refused(cfg);
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("connectors[0].token"), std::string::npos) << out;
  EXPECT_NE(out.find(token_file.string() + " is readable by group and others (mode 0644); fix: chmod 600 " +
                     token_file.string()),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find(ingest_token), std::string::npos) << "the secret itself is never printed";
  EXPECT_FALSE(fs::exists(data_dir())) << "refused before anything was created";

  fs::permissions(token_file, fs::perms::owner_read);
  auto hub = spawn(cfg);
  EXPECT_NE(started(), 0);
  EXPECT_EQ(hub.terminate(), 0);
}

}  // namespace schakel::test
