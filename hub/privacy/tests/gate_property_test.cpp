// Property-based tests of the privacy gate: random signals x random policies, from fixed seeds (so a
// failure names its seed and case and can be replayed), many cases per property.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "common/signal.hpp"
#include "privacy/gate.hpp"
#include "routing/router.hpp"

namespace schakel::privacy {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int cases_per_seed = 400;
const std::vector<std::uint32_t> seeds = {1, 2, 3, 20261129, 4242};
constexpr std::int64_t now = 1795867200000;  // 2026-11-28

// Every field path a subscription may list (the leaves and objects of signal v1 that carry data).
const std::vector<std::string> field_pool = {"id",
                                             "type",
                                             "observed_at",
                                             "received_at",
                                             "source.record_id",
                                             "source",
                                             "subject.school",
                                             "subject.school.brin",
                                             "subject.student_key",
                                             "subject.class",
                                             "subject.leerjaar",
                                             "subject",
                                             "content.domain",
                                             "content.indicator",
                                             "content.value",
                                             "content.severity",
                                             "content.evidence",
                                             "content.evidence.code",
                                             "content.evidence.note",
                                             "governance.data_category",
                                             "derived_from"};

struct generator {
  std::mt19937 rng;
  explicit generator(std::uint32_t seed) : rng(seed) {}

  int upto(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  bool coin() { return upto(2) == 0; }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(upto(static_cast<int>(v.size())))];
  }

  /** Student keys that cannot occur by chance inside lowercase base32 pseudonyms or hub ids. */
  std::string student_key() {
    std::string k = "S-";
    for (int i = 0; i < 6; ++i) k += static_cast<char>('A' + upto(26));
    return k;
  }

  json signal(const std::string& key) {
    json s = {
        {"id", "01JDZ3K7Q8M2X4V6N8P0R2T4W" + std::to_string(upto(10))},
        {"schema_version", "1"},
        {"type", pick<std::string>({"nl.schakel.attendance.absence.recorded", "nl.schakel.attendance.mazl.triggered",
                                    "nl.schakel.tracking.score.at_risk", "nl.schakel.trend.class.weekly"})},
        {"source", {{"connector", "generic-json"}, {"instance", pick<std::string>({"a", "b"})}}},
        {"observed_at", "2026-11-23T08:30:00Z"},
        {"received_at", "2026-11-28T10:00:01.123Z"},
        {"subject", {{"school", {{"brin", pick<std::string>({"12AB", "34CD"})}}}}},
        {"content",
         {{"domain", pick<std::string>({"attendance", "emotional", "health"})},
          {"indicator", "x"},
          {"severity", pick<std::string>({"info", "attention", "concern", "urgent"})}}},
        {"governance", {{"data_category", coin() ? "health" : "ordinary"}}}};
    if (!key.empty()) s["subject"]["student_key"] = key;
    if (coin()) s["subject"]["class"] = "2B";
    if (coin()) s["source"]["record_id"] = "R-" + key;  // a record number that embeds the key
    if (coin()) s["content"]["evidence"] = {{"code", "Z"}, {"note", "about " + key}};
    if (coin()) s["derived_from"] = json::array({"01JDZ3K7Q8M2X4V6N8P0R2T4W9"});
    if (coin()) s["content"]["value"] = upto(20);
    return s;
  }
};

class gate_property : public ::testing::Test {
 protected:
  gate_property() : dir_(fs::temp_directory_path() / ("schakel-gate-prop-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
  }
  ~gate_property() override { fs::remove_all(dir_); }

  std::string key_file(const std::string& name, std::uint32_t fill) {
    const auto path = dir_ / name;
    std::ofstream(path) << std::string(56, 'a') << std::hex << (0x10000000u + fill) << "\n";
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
    return path.string();
  }

  /** A random policy as a careless operator might write it (the gate must hold without check-config). */
  config::subscription random_subscription(generator& g, const std::string& name) {
    config::subscription s;
    s.name = name;
    s.partner = "partner " + name;
    const int n = 1 + g.upto(6);
    std::set<std::string> fields;
    for (int i = 0; i < n; ++i) fields.insert(g.pick(field_pool));
    s.fields.assign(fields.begin(), fields.end());
    s.privacy.identity = g.pick<std::string>({"identified", "pseudonymous", "aggregate", ""});
    s.privacy.purpose = "purpose " + name;
    s.privacy.legal_basis = g.pick<std::string>({"consent", "legal_obligation", "public_task", "vital_interest", ""});
    s.privacy.health_ground = g.pick<std::string>({"", "", "explicit_consent", "health_care"});
    if (g.coin()) s.filter.types = {g.pick<std::string>({"nl.schakel.attendance.*", "nl.schakel.trend.*"})};
    if (s.privacy.identity == "pseudonymous")
      s.privacy.pseudonym_keys.push_back(
          {"k", key_file(name + ".key", static_cast<std::uint32_t>(g.upto(1 << 20))), "", ""});
    return s;
  }

  fs::path dir_;
  consent_registry consents_;
};

/** Dotted paths of every leaf in `data` (array elements are part of their array's path). */
void leaves(const json& j, const std::string& at, std::vector<std::string>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) leaves(v, at.empty() ? k : at + "." + k, out);
  } else {
    out.push_back(at);
  }
}

bool allowed_by(const std::string& leaf, const std::vector<std::string>& fields, bool pseudonymous) {
  if (pseudonymous && (leaf == "subject.pseudonym" || leaf == "subject.pseudonym_key" || leaf == "subject.pseudonyms"))
    return true;
  return std::any_of(fields.begin(), fields.end(), [&](const std::string& f) {
    return leaf == f || (leaf.size() > f.size() && leaf.compare(0, f.size(), f) == 0 && leaf[f.size()] == '.');
  });
}

TEST_F(gate_property, a_payload_never_holds_a_field_outside_the_allowlist_nor_a_raw_key_where_it_may_not) {
  std::size_t delivered = 0, checked_pseudonymous = 0;
  for (const auto seed : seeds) {
    generator g(seed);
    for (int c = 0; c < cases_per_seed; ++c) {
      std::vector<config::subscription> subs;
      for (int i = 0; i < 3; ++i)
        subs.push_back(random_subscription(g, "s" + std::to_string(c) + "-" + std::to_string(i)));
      config::hub_config cfg;
      cfg.subscriptions = subs;
      gate gt(cfg, std::string(32, 'h'), consents_);
      const std::string key = g.coin() ? g.student_key() : std::string();
      const json signal = g.signal(key);
      std::vector<storage::outbox_item> out;
      gt.route(signal, signal["id"], now, out);
      for (const auto& item : out) {
        ++delivered;
        const auto& sub =
            *std::find_if(subs.begin(), subs.end(), [&](const auto& s) { return s.name == item.subscription; });
        SCOPED_TRACE("seed " + std::to_string(seed) + " case " + std::to_string(c) + " subscription " + sub.name);
        const auto event = json::parse(item.event_json);
        std::vector<std::string> paths;
        leaves(event["data"], "", paths);
        for (const auto& p : paths) {
          if (!p.empty()) {
            EXPECT_TRUE(allowed_by(p, sub.fields, sub.privacy.identity == "pseudonymous")) << p;
          }
        }
        // Deny by default: an incomplete policy delivers nothing.
        EXPECT_FALSE(sub.privacy.identity.empty());
        if (sub.privacy.identity != "aggregate") {
          EXPECT_FALSE(sub.privacy.legal_basis.empty());
        }
        if (signal["governance"]["data_category"] == "health") {
          EXPECT_TRUE(sub.privacy.legal_basis == "consent" || !sub.privacy.health_ground.empty() ||
                      sub.privacy.identity == "aggregate");
        }
        if (!key.empty() && sub.privacy.identity != "identified") {
          // Pseudonymous and aggregate: the raw key appears nowhere in what leaves, not even inside
          // another field (a record number or a note that embeds it is dropped or must not be listed).
          if (item.event_json.find(key) != std::string::npos) {
            // Only a field the operator listed and that embeds the key can carry it; the gate never adds it.
            const bool embedded_listed = std::any_of(sub.fields.begin(), sub.fields.end(), [](const std::string& f) {
              return f == "source" || f == "source.record_id" || f == "content.evidence" ||
                     f == "content.evidence.note";
            });
            EXPECT_TRUE(embedded_listed) << item.event_json;
            EXPECT_FALSE(event["data"].contains(nlohmann::json::json_pointer("/subject/student_key")));
          }
          EXPECT_NE(sub.privacy.identity, "aggregate") << "a row about one student reached an aggregate subscription";
          ++checked_pseudonymous;
        }
      }
    }
  }
  // The generator must actually exercise the properties, not pass vacuously.
  EXPECT_GT(delivered, 500u);
  EXPECT_GT(checked_pseudonymous, 50u);
}

TEST_F(gate_property, pseudonyms_are_stable_for_one_partner_and_differ_across_partners) {
  for (const auto seed : seeds) {
    generator g(seed);
    std::vector<config::subscription> subs;
    for (int i = 0; i < 4; ++i) {
      config::subscription s;
      s.name = "p" + std::to_string(i);
      s.partner = s.name;
      s.fields = {"type"};
      s.privacy = {"pseudonymous",
                   "purpose",
                   "public_task",
                   "health_care",
                   "",
                   "avg",
                   {{"k", key_file(std::to_string(seed) + s.name, seed * 10 + static_cast<std::uint32_t>(i)), "", ""}}};
      subs.push_back(s);
    }
    config::hub_config cfg;
    cfg.subscriptions = subs;
    gate gt(cfg, std::string(32, 'h'), consents_);
    std::map<std::string, std::map<std::string, std::string>> seen;  // student -> partner -> pseudonym
    std::set<std::string> all;
    for (int c = 0; c < cases_per_seed; ++c) {
      const std::string key = g.student_key();
      std::vector<storage::outbox_item> out;
      gt.route(g.signal(key), "01JDZ3K7Q8M2X4V6N8P0R2T4W6", now, out);
      for (const auto& item : out) {
        const std::string p = json::parse(item.event_json)["data"]["subject"]["pseudonym"];
        auto [it, fresh] = seen[key].emplace(item.subscription, p);
        EXPECT_EQ(it->second, p) << "unstable pseudonym, seed " << seed;
        if (fresh) all.insert(p);
      }
    }
    std::size_t pairs = 0;
    for (const auto& [student, by_partner] : seen) pairs += by_partner.size();
    EXPECT_EQ(all.size(), pairs) << "two (student, partner) pairs share a pseudonym, seed " << seed;
  }
}

TEST_F(gate_property, nothing_is_delivered_after_a_withdrawal) {
  for (const auto seed : seeds) {
    generator g(seed);
    config::subscription s;
    s.name = "zat";
    s.partner = "ZAT";
    s.fields = {"type"};
    s.privacy.identity = "identified";
    s.privacy.purpose = "care team";
    s.privacy.legal_basis = "consent";
    s.privacy.consent_framework = g.coin() ? "wgbo" : "avg";
    config::hub_config cfg;
    cfg.subscriptions = {s};
    consent_registry registry;
    gate gt(cfg, std::string(32, 'h'), registry);
    for (int c = 0; c < cases_per_seed; ++c) {
      const std::string ref = "ref-" + std::to_string(c);
      const int birth_year = 2005 + g.upto(12);
      const std::string birth = std::to_string(birth_year) + "-0" + std::to_string(1 + g.upto(9)) + "-15";
      std::int64_t recorded = 1;
      // Every party gives consent, then one random party withdraws; at any later day: nothing.
      for (auto who : {consenter::parent, consenter::student}) {
        consent_record r;
        r.kind = consent_kind::consent;
        r.given_by = who;
        r.partner = "ZAT";
        r.given_on = "2020-01-01";
        r.birth_date = birth;
        r.recorded_ms = recorded++;
        registry.add(ref, r);
      }
      storage::unit_member m;
      m.subject_ref = ref;
      m.data_category = g.coin() ? "health" : "ordinary";
      const bool before = gt.check_delivery("zat", m, now).allowed;
      EXPECT_TRUE(before) << "seed " << seed << " case " << c << " (all parties consented)";
      consent_record w;
      w.kind = consent_kind::withdrawal;
      w.given_by = g.coin() ? consenter::parent : consenter::student;
      w.partner = "ZAT";
      w.given_on = "2026-11-01";
      w.birth_date = birth;
      w.recorded_ms = recorded++;
      // A withdrawal by a party whose consent is not required (a parent of a 16+ student under AVG)
      // changes nothing; by a required party it stops everything.
      registry.add(ref, w);
      for (int d = 0; d < 3; ++d) {
        const std::int64_t at = now + d * 86400000LL * 30;
        const int age = age_on(birth, format_rfc3339(at).substr(0, 10));
        const auto need = required_consenters(
            s.privacy.consent_framework == "wgbo" ? legal_framework::wgbo : legal_framework::avg, age);
        const bool required = std::find(need.begin(), need.end(), w.given_by) != need.end();
        EXPECT_EQ(gt.check_delivery("zat", m, at).allowed, !required)
            << "seed " << seed << " case " << c << " age " << age;
      }
    }
  }
}

}  // namespace
}  // namespace schakel::privacy
