#include "audit/audit.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace schakel::audit {
namespace {

entry sample() {
  entry e;
  e.time_ms = 1'767'225'600'000;
  e.action = "delivery.delivered";
  e.outcome = "success";
  e.actor = "ggd-west";
  e.actor_role = "partner";
  e.purpose = "jgz-signalering";
  e.legal_basis = "public_task+art9:h";
  e.subject = "ps_4f2a";
  e.object_id = "01JD0000000000000000000000";
  e.object_type = "nl.schakel.attendance.absence.recorded";
  e.sensitivity = "health";
  e.access_point = "ggd";
  e.detail = "http 204";
  return e;
}

/** A chain of n records built the way the store builds it. */
std::vector<record> chain(int n, std::string start = genesis_hash(), std::int64_t first = 1) {
  std::vector<record> out;
  std::string prev = std::move(start);
  for (int i = 0; i < n; ++i) {
    entry e = sample();
    e.time_ms += i;
    e.object_id = "obj" + std::to_string(i);
    record r;
    r.seq = first + i;
    r.time_ms = e.time_ms;
    r.text = to_json(e).dump();
    r.prev_hash = prev;
    r.hash = chain_hash(prev, r.seq, r.text);
    prev = r.hash;
    out.push_back(r);
  }
  return out;
}

verifier::result run(const std::vector<record>& rs, std::string start = genesis_hash(), std::int64_t first = 1) {
  verifier v(std::move(start), first);
  for (const auto& r : rs) v.add(r);
  return v.finish();
}

TEST(audit_entry, canonical_text_has_a_fixed_key_order_and_omits_empty_fields) {
  entry e;
  e.time_ms = 1;
  e.outcome = "success";
  e.action = "a";
  EXPECT_EQ(to_json(e).dump(), R"({"action":"a","outcome":"success","time_ms":1})");
  // Field assignment order does not matter; the text is the same bytes.
  entry f;
  f.action = "a";
  f.time_ms = 1;
  f.outcome = "success";
  EXPECT_EQ(to_json(f).dump(), to_json(e).dump());
  e.detail = "";
  e.subject = "ps";
  EXPECT_EQ(to_json(e).dump(), R"({"action":"a","outcome":"success","subject":"ps","time_ms":1})");
}

TEST(audit_entry, round_trips_and_requires_time_action_and_outcome) {
  const auto e = sample();
  const auto back = from_json(nlohmann::json::parse(to_json(e).dump()));
  ASSERT_TRUE(back);
  EXPECT_EQ(to_json(*back), to_json(e));
  EXPECT_EQ(back->legal_basis, "public_task+art9:h");
  EXPECT_EQ(back->access_point, "ggd");
  for (const char* key : {"time_ms", "action", "outcome"}) {
    auto j = to_json(e);
    j.erase(key);
    EXPECT_FALSE(from_json(j)) << key;
  }
  auto wrong = to_json(e);
  wrong["time_ms"] = "yesterday";
  EXPECT_FALSE(from_json(wrong));
  wrong = to_json(e);
  wrong["detail"] = 5;
  EXPECT_FALSE(from_json(wrong));
  EXPECT_FALSE(from_json(nlohmann::json::array()));
}

TEST(audit_chain, hash_is_sha256_over_prev_seq_and_text) {
  EXPECT_EQ(genesis_hash(), std::string(64, '0'));
  // Computed independently: sha256("0"*64 + "\n1\n" + text).
  EXPECT_EQ(chain_hash(genesis_hash(), 1, R"({"action":"a","outcome":"success","time_ms":1})"),
            "cd9cb3b4a72824cb94433b87fa3c34cff91aa2c7bf6e3a04e2b9dc3d663c35e6");
  // The framing keeps seq and text apart: "1" + "2x" is not "12" + "x".
  EXPECT_NE(chain_hash(genesis_hash(), 1, "2x"), chain_hash(genesis_hash(), 12, "x"));
  EXPECT_NE(chain_hash(genesis_hash(), 1, "t"), chain_hash(std::string(63, '0') + "1", 1, "t"));
}

TEST(audit_verifier, an_untouched_chain_is_intact) {
  const auto rs = chain(5);
  const auto r = run(rs);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.records, 5);
  EXPECT_EQ(r.first_bad_seq, 0);
  EXPECT_TRUE(run({}).ok);
}

TEST(audit_verifier, a_changed_text_is_named) {
  auto rs = chain(5);
  rs[2].text.replace(rs[2].text.find("http 204"), 8, "http 500");
  const auto r = run(rs);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 3);
  EXPECT_EQ(r.records, 5);
  EXPECT_NE(r.reason.find("record 3"), std::string::npos);
  EXPECT_NE(r.reason.find("changed"), std::string::npos);
  EXPECT_EQ(r.reason.find("http"), std::string::npos) << "the reason quotes no content";
}

TEST(audit_verifier, a_removed_record_is_named) {
  auto rs = chain(5);
  rs.erase(rs.begin() + 1);
  auto r = run(rs);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 2);
  EXPECT_NE(r.reason.find("missing"), std::string::npos);

  // Removed and the rest renumbered to hide the gap: the chain link gives it away.
  rs = chain(5);
  rs.erase(rs.begin() + 1);
  for (std::size_t i = 1; i < rs.size(); ++i) rs[i].seq -= 1;
  r = run(rs);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 2);
  EXPECT_NE(r.reason.find("prev_hash"), std::string::npos);

  // The first record removed: the start does not match the anchor.
  rs = chain(3);
  rs.erase(rs.begin());
  EXPECT_EQ(run(rs).first_bad_seq, 1);
}

TEST(audit_verifier, reordered_records_are_named) {
  auto rs = chain(5);
  std::swap(rs[1], rs[3]);
  auto r = run(rs);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 2);
  // Swapped with their seq numbers swapped back, as a SQL UPDATE of seq would leave them.
  rs = chain(5);
  std::swap(rs[1].seq, rs[2].seq);
  std::swap(rs[1], rs[2]);
  r = run(rs);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 2);
}

TEST(audit_verifier, a_changed_hash_is_named) {
  auto rs = chain(4);
  rs[3].hash[0] = rs[3].hash[0] == 'a' ? 'b' : 'a';
  auto r = run(rs);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 4);
  // Rehashing one record to match its edit breaks the next link.
  rs = chain(4);
  entry forged = sample();
  forged.time_ms = rs[1].time_ms;
  forged.detail = "http 500";
  rs[1].text = to_json(forged).dump();
  rs[1].hash = chain_hash(rs[1].prev_hash, rs[1].seq, rs[1].text);
  r = run(rs);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 3);
}

TEST(audit_verifier, the_time_column_must_match_the_text) {
  auto rs = chain(3);
  rs[1].time_ms -= 1000;
  const auto r = run(rs);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 2);
  EXPECT_NE(r.reason.find("time"), std::string::npos);
}

TEST(audit_verifier, starts_from_a_retention_anchor) {
  const auto full = chain(6);
  const std::vector<record> tail(full.begin() + 3, full.end());
  EXPECT_TRUE(run(tail, full[2].hash, 4).ok);
  EXPECT_FALSE(run(tail).ok) << "without the anchor the purged start looks like a removal";
  EXPECT_EQ(run(tail, full[1].hash, 4).first_bad_seq, 4);
}

}  // namespace
}  // namespace schakel::audit
