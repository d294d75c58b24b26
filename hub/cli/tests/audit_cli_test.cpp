#include "cli/audit_cli.hpp"

#include <stdlib.h>

#include <filesystem>
#include <future>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "audit/audit.hpp"
#include "cli/tests/audit_db.hpp"
#include "storage/store.hpp"
#include "support/temp_dir.hpp"

namespace schakel::audit {
namespace {

class audit_cli_test : public ::testing::Test {
 protected:
  /** n records, times 1000, 2000, ..., written through the store as the hub writes them. */
  void write_trail(int n) {
    auto s = storage::open_sqlite_store({.path = path_});
    std::vector<entry> es;
    for (int i = 1; i <= n; ++i) {
      entry e;
      e.time_ms = 1000 * i;
      e.action = "delivery.delivered";
      e.outcome = "success";
      e.actor = "partner-" + std::to_string(i);
      e.subject = "ps_" + std::to_string(i);
      es.push_back(e);
    }
    db_test::append_and_wait(*s, std::move(es));
    s->close();
  }

  /** Tampering as someone with the sqlite3 shell would. */
  void sql(const std::string& text) { db_test::run_sql(path_, text); }

  std::pair<int, std::string> verify() {
    std::ostringstream out, err;
    const int rc = run_audit_verify(path_, out, err);
    return {rc, out.str() + err.str()};
  }

  test::temp_dir dir_{"schakel-audit"};
  std::string path_ = (dir_ / "hub.db").string();
};

TEST_F(audit_cli_test, an_intact_trail_verifies) {
  write_trail(5);
  const auto [rc, text] = verify();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(text, "audit trail intact: 5 records (seq 1..5)\n");
}

TEST_F(audit_cli_test, an_empty_trail_is_intact_but_a_missing_file_is_an_error) {
  storage::open_sqlite_store({.path = path_})->close();
  EXPECT_EQ(verify(), std::make_pair(0, std::string("audit trail intact: 0 records\n")));
  std::ostringstream out, err;
  EXPECT_EQ(run_audit_verify((dir_ / "nope.db").string(), out, err), 2);
  EXPECT_NE(err.str().find("nope.db"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "nope.db")) << "verify must not create a database";
  EXPECT_EQ(run_audit_export((dir_ / "nope.db").string(), 0, 1, out, err), 2);
}

TEST_F(audit_cli_test, an_edited_text_is_found) {
  write_trail(5);
  sql("UPDATE audit_log SET text = replace(text, 'partner-3', 'partner-9') WHERE seq = 3");
  const auto [rc, text] = verify();
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(text.rfind("audit trail broken at record 3: ", 0), 0u) << text;
  EXPECT_NE(text.find("changed"), std::string::npos);
  EXPECT_EQ(text.find("partner"), std::string::npos) << "no content in the message";
}

TEST_F(audit_cli_test, a_deleted_record_is_found) {
  write_trail(5);
  sql("DELETE FROM audit_log WHERE seq = 2");
  const auto [rc, text] = verify();
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(text.rfind("audit trail broken at record 2: ", 0), 0u) << text;
  EXPECT_NE(text.find("missing"), std::string::npos);
}

TEST_F(audit_cli_test, swapped_records_are_found) {
  write_trail(5);
  sql("UPDATE audit_log SET seq = -1 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 4;"
      "UPDATE audit_log SET seq = 4 WHERE seq = -1;");
  const auto [rc, text] = verify();
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(text.rfind("audit trail broken at record 2: ", 0), 0u) << text;
}

TEST_F(audit_cli_test, an_edited_hash_is_found) {
  write_trail(5);
  sql("UPDATE audit_log SET hash = 'ab' || substr(hash, 3) WHERE seq = 4");
  sql("UPDATE audit_log SET hash = 'cd' || substr(hash, 3) WHERE seq = 4");  // surely different from the original
  const auto [rc, text] = verify();
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(text.rfind("audit trail broken at record 4: ", 0), 0u) << text;
}

TEST_F(audit_cli_test, an_edited_time_column_is_found) {
  write_trail(3);
  sql("UPDATE audit_log SET time_ms = 999999 WHERE seq = 2");
  const auto [rc, text] = verify();
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(text.rfind("audit trail broken at record 2: ", 0), 0u) << text;
}

TEST_F(audit_cli_test, export_writes_json_lines_in_the_window) {
  write_trail(5);
  std::ostringstream out, err;
  ASSERT_EQ(run_audit_export(path_, 2000, 4000, out, err), 0) << err.str();
  std::istringstream in(out.str());
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u) << "from is inclusive, to exclusive";
  EXPECT_EQ(lines[0]["seq"], 2);
  EXPECT_EQ(lines[0]["time_ms"], 2000);
  EXPECT_EQ(lines[0]["actor"], "partner-2");
  EXPECT_EQ(lines[1]["seq"], 3);
  EXPECT_EQ(lines[1]["hash"].get<std::string>().size(), 64u);
  // The exported line is the hashed entry plus seq and hash: the hash can be checked from it.
  auto e = lines[1];
  e.erase("seq");
  e.erase("hash");
  EXPECT_TRUE(from_json(e));
  EXPECT_TRUE(err.str().empty());
}

}  // namespace
}  // namespace schakel::audit
