// `schakel audit verify` against a real SQLite file, a keyed chain and signed checkpoints: a rewrite,
// a cut tail, an older copy of the database and an altered checkpoint are each named; a legacy
// plain chain keyed from a marker on still verifies.
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "audit/audit.hpp"
#include "audit/checkpoint.hpp"
#include "cli/audit_cli.hpp"
#include "cli/tests/audit_db.hpp"
#include "storage/store.hpp"
#include "support/temp_dir.hpp"

namespace schakel::audit {
namespace {

namespace fs = std::filesystem;

class audit_verify_keyed : public ::testing::Test {
 protected:
  /** n records appended as the hub appends them; key "" opens the store as a pre-keying hub did. */
  void append(int n, const std::string& with_key) {
    auto s = storage::open_sqlite_store({.path = db_.string(), .audit_key = with_key});
    std::vector<entry> es;
    for (int i = 0; i < n; ++i) {
      entry e = by_system(1'767'225'600'000 + 1000 * (next_++), "delivery.delivered", "http 204");
      e.actor = "partner";
      es.push_back(e);
    }
    db_test::append_and_wait(*s, std::move(es));
    s->close();
  }
  void append(int n) { append(n, key_); }

  /** A checkpoint of the committed head, as the daemon writes one. */
  void checkpoint_now() {
    auto s = storage::open_sqlite_store({.path = db_.string()});
    const auto head = s->read_audit_head();
    s->close();
    ASSERT_TRUE(head);
    const auto keyed_from = head->keyed_from;
    checkpoint_writer w(
        checkpoint_signer::load_or_create(keys_ / "audit-checkpoint.key", keys_ / "audit-checkpoint.pub"), log_,
        "hub-1");
    ASSERT_TRUE(w.write_if_moved(head->seq, head->hash, keyed_from, 1'767'225'600'000 + 1000 * next_));
  }

  void sql(const std::string& text) { db_test::run_sql(db_.string(), text); }

  struct row {
    std::int64_t seq;
    std::string text, prev, hash;
  };
  std::vector<row> rows() {
    std::vector<row> out;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT seq, text, prev_hash, hash FROM audit_log ORDER BY seq", -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW)
      out.push_back({sqlite3_column_int64(st, 0), reinterpret_cast<const char*>(sqlite3_column_text(st, 1)),
                     reinterpret_cast<const char*>(sqlite3_column_text(st, 2)),
                     reinterpret_cast<const char*>(sqlite3_column_text(st, 3))});
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }

  /** What the database administrator without keys_dir can do: change `seq`, recompute every later hash. */
  void rewrite_with_sha256_from(std::int64_t seq) {
    std::string prev = genesis_hash();
    std::string script = "BEGIN;";
    for (auto& r : rows()) {
      if (r.seq < seq) {
        prev = r.hash;
        continue;
      }
      if (r.seq == seq) {
        auto j = nlohmann::json::parse(r.text);
        j["detail"] = "http 500";
        r.text = j.dump();
      }
      const auto hash = chain_hash(prev, r.seq, r.text);
      script += "UPDATE audit_log SET text = '" + r.text + "', prev_hash = '" + prev + "', hash = '" + hash +
                "' WHERE seq = " + std::to_string(r.seq) + ";";
      prev = hash;
    }
    sql(script + "COMMIT;");
  }

  std::pair<int, std::string> verify() {
    std::ostringstream out, err;
    const verify_keys keys{.chain_key = key_,
                           .chain_key_file = keys_ / "audit.key",
                           .public_key = keys_ / "audit-checkpoint.pub",
                           .checkpoints = log_};
    const int rc = run_audit_verify(db_.string(), keys, out, err);
    return {rc, out.str() + err.str()};
  }

  test::temp_dir dir_{"schakel-audit-keyed"};
  fs::path db_ = dir_ / "schakel.db";
  fs::path keys_ = dir_.path();
  fs::path log_ = dir_ / "audit-checkpoints.log";
  std::string key_ = std::string(32, 'k');
  int next_ = 0;
};

TEST_F(audit_verify_keyed, a_fresh_database_is_keyed_from_its_first_record_on) {
  append(3);
  checkpoint_now();
  const auto rs = rows();
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_NE(rs[0].text.find("audit.chain_keyed"), std::string::npos) << "the marker comes first";
  EXPECT_EQ(rs[0].hash, chain_hash(genesis_hash(), 1, rs[0].text));
  EXPECT_EQ(rs[1].hash, keyed_chain_hash(key_, rs[0].hash, 2, rs[1].text));
  const auto [rc, text] = verify();
  EXPECT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("audit trail intact: 4 records (seq 1..4)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("keyed chain (HMAC-SHA256 under the audit key) from record 2"), std::string::npos) << text;
  EXPECT_NE(text.find("checked against the latest checkpoint line 1 of"), std::string::npos) << text;
  EXPECT_NE(text.find(": record 4, node hub-1; all 1 checkpoints agree"), std::string::npos) << text;
}

TEST_F(audit_verify_keyed, a_legacy_plain_chain_stays_verifiable_up_to_its_marker) {
  append(4, "");  // before keying: plain SHA-256, as every hub wrote until now
  append(2);      // the first start with a key appends the marker (record 5), then keyed records
  checkpoint_now();
  const auto rs = rows();
  ASSERT_EQ(rs.size(), 7u);
  EXPECT_EQ(rs[3].hash, chain_hash(rs[2].hash, 4, rs[3].text));
  EXPECT_NE(rs[4].text.find("audit.chain_keyed"), std::string::npos);
  EXPECT_EQ(rs[5].hash, keyed_chain_hash(key_, rs[4].hash, 6, rs[5].text));
  const auto [rc, text] = verify();
  EXPECT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("keyed chain (HMAC-SHA256 under the audit key) from record 6"), std::string::npos) << text;
}

TEST_F(audit_verify_keyed, a_rewrite_recomputed_with_sha256_is_found) {
  append(5);
  rewrite_with_sha256_from(3);
  const auto [rc, text] = verify();
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(text,
            "audit trail broken at record 3: hash is plain SHA-256 where the chain is keyed (rewritten "
            "without the audit key)\n");
  // Without the key nobody can check a keyed chain: an error, never "intact".
  std::ostringstream out, err;
  EXPECT_EQ(run_audit_verify(db_.string(), out, err), 2);
  EXPECT_NE(err.str().find("no audit key"), std::string::npos);
}

TEST_F(audit_verify_keyed, stripping_the_keyed_part_is_found) {
  append(3);
  checkpoint_now();
  // Pretend the chain was never keyed: the marker becomes an ordinary record, all recomputed plain.
  sql("UPDATE audit_anchor SET keyed_from = 0;"
      "UPDATE audit_log SET text = replace(text, 'audit.chain_keyed', 'audit.note') WHERE seq = 1;");
  rewrite_with_sha256_from(1);
  auto [rc, text] = verify();
  EXPECT_EQ(rc, 1);
  EXPECT_NE(text.find("audit trail rewritten: "), std::string::npos) << text;
  // Without any checkpoint, the key itself says the chain was keyed.
  fs::remove(log_);
  std::tie(rc, text) = verify();
  EXPECT_EQ(rc, 1);
  EXPECT_NE(text.find("audit trail rewritten: an audit key exists"), std::string::npos) << text;
}

TEST_F(audit_verify_keyed, a_cut_tail_is_found_through_the_checkpoint) {
  append(6);
  checkpoint_now();
  sql("DELETE FROM audit_log WHERE seq > 4");
  {
    std::ostringstream out, err;
    EXPECT_EQ(run_audit_verify(db_.string(), {.chain_key = key_}, out, err), 0)
        << "the chain alone cannot tell: " << out.str() << err.str();
  }
  const auto [rc, text] = verify();
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(text.rfind("audit trail truncated: the database ends at record 4, but checkpoint line 1 of ", 0), 0u)
      << text;
  EXPECT_NE(text.find("vouches for records up to 7"), std::string::npos) << text;
}

TEST_F(audit_verify_keyed, an_older_copy_of_the_database_is_found) {
  append(3);
  checkpoint_now();  // line 1: record 4
  const auto old = dir_ / "old.db";
  fs::copy_file(db_, old);
  append(3);
  checkpoint_now();  // line 2: record 7
  {
    // An older copy restored as is: it ends before the latest checkpoint.
    fs::copy_file(old, db_, fs::copy_options::overwrite_existing);
    const auto [rc, text] = verify();
    EXPECT_EQ(rc, 1);
    EXPECT_EQ(text.rfind("audit trail truncated: the database ends at record 4, but checkpoint line 2 of ", 0), 0u)
        << text;
  }
  // The hub runs on the restored copy and signs its new head: the earlier checkpoint still disagrees.
  append(5);
  checkpoint_now();  // line 3: record 9 of the restored chain
  const auto [rc, text] = verify();
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(text.rfind("audit trail rolled back: record 7 differs from what checkpoint line 2 of ", 0), 0u) << text;
}

TEST_F(audit_verify_keyed, an_altered_or_forged_checkpoint_is_found) {
  append(2);
  checkpoint_now();
  append(2);
  checkpoint_now();
  ASSERT_EQ(verify().first, 0) << verify().second;
  // Move the latest checkpoint back to record 2 so a cut tail would pass: the signature no longer holds.
  auto lines = read_checkpoints(log_);
  ASSERT_EQ(lines.size(), 2u);
  auto c = *lines[1].value;
  c.seq = 2;
  c.head = lines[0].value->head;
  {
    std::ofstream f(log_, std::ios::trunc);
    f << to_line(*lines[0].value) << "\n" << to_line(c) << "\n";
  }
  auto [rc, text] = verify();
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(text.rfind("audit checkpoint line 2 of " + log_.string(), 0), 0u) << text;
  EXPECT_NE(text.find("signature does not verify (forged or altered)"), std::string::npos) << text;
  std::ofstream(log_, std::ios::trunc) << to_line(*lines[0].value) << "\n{\"seq\": 9}\n";
  std::tie(rc, text) = verify();
  EXPECT_EQ(rc, 1);
  EXPECT_NE(text.find("line 2 of " + log_.string() + ": not a checkpoint (altered)"), std::string::npos) << text;
}

TEST_F(audit_verify_keyed, a_keyed_chain_refuses_appends_without_its_key) {
  append(1);
  auto s = storage::open_sqlite_store({.path = db_.string()});
  std::promise<std::error_code> p;
  auto f = p.get_future();
  s->append_audit({by_system(1, "delivery.delivered", "x")}, [&p](std::error_code ec) { p.set_value(ec); });
  ASSERT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_TRUE(f.get()) << "a keyed chain must not continue plain";
  s->close();
  EXPECT_EQ(rows().size(), 2u);
}

TEST_F(audit_verify_keyed, retention_purging_the_marker_keeps_the_chain_verifiable) {
  append(3);
  checkpoint_now();
  {
    // Every record is years old by now: a purge removes them all and moves the anchor past the marker.
    auto s = storage::open_sqlite_store({.path = db_.string(), .audit_key = key_});
    storage::retention_plan plan;
    plan.audit_days = 1;
    EXPECT_GT(s->purge(plan, 1'767'225'600'000 + 400LL * 24 * 3600 * 1000).audit_records, 0);
    s->close();
  }
  append(2);
  checkpoint_now();
  ASSERT_EQ(rows().front().seq, 5) << "the purge left its own record (5) after the purged 1..4";
  const auto [rc, text] = verify();
  EXPECT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("keyed chain (HMAC-SHA256 under the audit key) from record 2"), std::string::npos) << text;
}

}  // namespace
}  // namespace schakel::audit
