// The keyed chain and signed checkpoints: what someone with write access to the database alone can
// no longer do unseen.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "audit/audit.hpp"
#include "audit/checkpoint.hpp"
#include "support/temp_dir.hpp"

namespace schakel::audit {
namespace {

const std::string key(32, 'k');

/** A plain part of `plain` records, the marker, then `keyed` keyed records: the hub's shape. */
std::vector<record> keyed_chain(int plain, int keyed, const std::string& k = key) {
  std::vector<record> out;
  std::string prev = genesis_hash();
  const std::int64_t keyed_from = plain + 2;
  for (std::int64_t seq = 1; seq <= plain + 1 + keyed; ++seq) {
    entry e = seq == plain + 1 ? chain_keyed_marker(1000 * seq, keyed_from)
                               : by_system(1000 * seq, "delivery.delivered", "n" + std::to_string(seq));
    record r;
    r.seq = seq;
    r.time_ms = e.time_ms;
    r.text = to_json(e).dump();
    r.prev_hash = prev;
    r.hash = record_hash({keyed_from, k}, prev, seq, r.text);
    prev = r.hash;
    out.push_back(r);
  }
  return out;
}

verifier::result run(const std::vector<record>& rs, chain_keying keying) {
  verifier v(genesis_hash(), 1, std::move(keying));
  for (const auto& r : rs) v.add(r);
  return v.finish();
}

/** What someone with the database but not the key can do: change `seq` and recompute every later hash. */
void rewrite_from(std::vector<record>& rs, std::int64_t seq, const std::string& with_key, std::int64_t keyed_from) {
  auto& r = rs[static_cast<std::size_t>(seq - 1)];
  auto e = *from_json(nlohmann::json::parse(r.text));
  e.detail = "rewritten";
  r.text = to_json(e).dump();
  for (auto i = static_cast<std::size_t>(seq - 1); i < rs.size(); ++i) {
    if (i > 0) rs[i].prev_hash = rs[i - 1].hash;
    rs[i].hash = with_key.empty() ? chain_hash(rs[i].prev_hash, rs[i].seq, rs[i].text)
                                  : record_hash({keyed_from, with_key}, rs[i].prev_hash, rs[i].seq, rs[i].text);
  }
}

void expect_found_at(const verifier::result& r, std::int64_t seq, const std::string& why) {
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, seq);
  EXPECT_NE(r.reason.find(why), std::string::npos) << r.reason;
}

TEST(keyed_chain, hash_is_hmac_over_the_same_framing_and_depends_on_the_key) {
  const auto h = keyed_chain_hash(key, genesis_hash(), 7, "{}");
  EXPECT_EQ(h.size(), 64u);
  EXPECT_NE(h, chain_hash(genesis_hash(), 7, "{}"));
  EXPECT_NE(h, keyed_chain_hash(std::string(32, 'x'), genesis_hash(), 7, "{}"));
  EXPECT_NE(h, keyed_chain_hash(key, genesis_hash(), 8, "{}"));
  EXPECT_EQ(h, keyed_chain_hash(key, genesis_hash(), 7, "{}"));
  EXPECT_EQ(keyed_chain_hash("", genesis_hash(), 7, "{}"), "") << "no key, no keyed hash";
  // HMAC-SHA256 as any other tool computes it (openssl dgst -sha256 -hmac), so an auditor can recheck.
  EXPECT_EQ(keyed_chain_hash(key, "p", 7, "{}"), "b88176fa385737ed37b36acbef7fa5b21c20e945d6c43b3932567675eaaecf09");
}

TEST(keyed_chain, plain_part_marker_and_keyed_part_verify) {
  const auto rs = keyed_chain(3, 4);
  const auto r = run(rs, {5, key});
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.records, 8);
  // A fresh chain: the marker first, keyed from record 2.
  EXPECT_TRUE(run(keyed_chain(0, 3), {2, key}).ok);
}

TEST(keyed_chain, a_rewrite_recomputed_with_sha256_is_found) {
  auto rs = keyed_chain(2, 5);
  rewrite_from(rs, 6, "", 4);
  // Consistent as a plain chain: a verifier that checks SHA-256 only (as until now) is fooled.
  for (std::size_t i = 1; i < rs.size(); ++i) {
    EXPECT_EQ(rs[i].prev_hash, rs[i - 1].hash);
    if (rs[i].seq >= 6) {
      EXPECT_EQ(rs[i].hash, chain_hash(rs[i].prev_hash, rs[i].seq, rs[i].text));
    }
  }
  expect_found_at(run(rs, {4, key}), 6, "plain SHA-256 where the chain is keyed");
}

TEST(keyed_chain, a_rewrite_with_another_key_is_found) {
  auto rs = keyed_chain(0, 5);
  rewrite_from(rs, 3, std::string(32, 'x'), 2);
  expect_found_at(run(rs, {2, key}), 3, "another key");
}

TEST(keyed_chain, a_plain_record_rewritten_before_the_marker_breaks_the_keyed_part) {
  auto rs = keyed_chain(3, 3);
  rewrite_from(rs, 2, "", 0);  // everything recomputed plain, the keyed part too
  const auto r = run(rs, {5, key});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 5) << r.reason;
}

TEST(keyed_chain, the_marker_must_stand_right_before_the_keyed_part) {
  const auto rs = keyed_chain(2, 3);  // marker at 3, keyed from 4
  // The database claims the keyed part starts later (so the records before could be recomputed plain).
  EXPECT_FALSE(run(rs, {5, key}).ok);
  // ... or that the chain is plain throughout: the marker gives it away.
  const auto plain = run(rs, {});
  EXPECT_FALSE(plain.ok);
  EXPECT_EQ(plain.first_bad_seq, 3);
}

TEST(keyed_chain, keyed_records_need_the_key) {
  const auto r = run(keyed_chain(0, 2), {2, ""});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("no audit key"), std::string::npos);
}

class checkpoint_files : public ::testing::Test {
 protected:
  test::temp_dir dir_{"schakel-checkpoint"};
  std::filesystem::path priv_ = dir_ / "audit-checkpoint.key";
  std::filesystem::path pub_ = dir_ / "audit-checkpoint.pub";
  std::filesystem::path log_ = dir_ / "audit-checkpoints.log";
};

TEST_F(checkpoint_files, a_signed_checkpoint_verifies_and_any_change_does_not) {
  const auto signer = checkpoint_signer::load_or_create(priv_, pub_);
  EXPECT_EQ(test::permission_bits(priv_), 0600u);
  ASSERT_TRUE(std::filesystem::exists(pub_));
  checkpoint c{.seq = 42, .head = std::string(64, 'a'), .time_ms = 1'767'225'600'000, .node = "hub-1", .keyed_from = 2};
  signer.sign(c);
  EXPECT_EQ(c.signature.size(), 128u);
  const auto verifier = checkpoint_verifier::load(pub_);
  EXPECT_TRUE(verifier.verify(c));
  for (auto change : std::vector<void (*)(checkpoint&)>{
           [](checkpoint& x) { x.seq = 43; },
           [](checkpoint& x) { x.head[0] = 'b'; },
           [](checkpoint& x) { x.time_ms += 1; },
           [](checkpoint& x) { x.node = "hub-2"; },
           [](checkpoint& x) { x.keyed_from = 0; },
           [](checkpoint& x) { x.signature[5] = x.signature[5] == '0' ? '1' : '0'; },
           [](checkpoint& x) { x.signature = "zz"; },
       }) {
    auto altered = c;
    change(altered);
    EXPECT_FALSE(verifier.verify(altered)) << to_line(altered);
  }
  // Another key pair (a forger's) does not verify under the published key.
  const auto forger = checkpoint_signer::load_or_create(dir_ / "other.key", dir_ / "other.pub");
  auto forged = c;
  forger.sign(forged);
  EXPECT_FALSE(verifier.verify(forged));
}

TEST_F(checkpoint_files, the_key_pair_is_kept_across_starts) {
  checkpoint c{.seq = 1, .head = "h", .time_ms = 1, .node = "n", .keyed_from = 2, .signature = ""};
  checkpoint_signer::load_or_create(priv_, pub_).sign(c);
  const auto pub = test::file_text(pub_);
  checkpoint d = c;
  checkpoint_signer::load_or_create(priv_, pub_).sign(d);
  EXPECT_EQ(test::file_text(pub_), pub);
  EXPECT_TRUE(checkpoint_verifier::load(pub_).verify(d));
  EXPECT_THROW(checkpoint_verifier::load(dir_ / "missing.pub"), std::runtime_error);
  std::filesystem::permissions(priv_, std::filesystem::perms::group_read, std::filesystem::perm_options::add);
  EXPECT_THROW(checkpoint_signer::load_or_create(priv_, pub_), std::runtime_error) << "an exposed private key";
}

TEST_F(checkpoint_files, the_writer_appends_only_when_the_head_moved_and_resumes_from_the_file) {
  {
    checkpoint_writer w(checkpoint_signer::load_or_create(priv_, pub_), log_, "hub-1");
    EXPECT_FALSE(w.last());
    EXPECT_TRUE(w.write_if_moved(3, "h3", 2, 1000));
    EXPECT_FALSE(w.write_if_moved(3, "h3", 2, 2000)) << "an idle hub does not grow the file";
    EXPECT_TRUE(w.write_if_moved(5, "h5", 2, 3000));
  }
  EXPECT_EQ(test::permission_bits(log_), 0600u);
  checkpoint_writer again(checkpoint_signer::load_or_create(priv_, pub_), log_, "hub-1");
  ASSERT_TRUE(again.last());
  EXPECT_EQ(again.last()->seq, 5);
  EXPECT_FALSE(again.write_if_moved(5, "h5", 2, 4000));
  const auto lines = read_checkpoints(log_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].line, 2u);
  ASSERT_TRUE(lines[1].value);
  EXPECT_TRUE(checkpoint_verifier::load(pub_).verify(*lines[1].value));
  std::ofstream(log_, std::ios::app) << "not json\n";
  const auto with_junk = read_checkpoints(log_);
  ASSERT_EQ(with_junk.size(), 3u);
  EXPECT_FALSE(with_junk[2].value);
}

}  // namespace
}  // namespace schakel::audit
