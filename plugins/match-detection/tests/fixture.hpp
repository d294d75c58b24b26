#pragma once
/**
 * The match-detection processor test fixture: a state store, a schema-validating context and builders
 * for concern signals and their retractions. Shared by the processor's test files.
 */
#include "processor.hpp"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "schakel/testing/processor_testing.hpp"
#include "state.hpp"
#include "testing/validated_context.hpp"

namespace schakel::plugins::match_detection::test {

using json = nlohmann::json;

// The roles of the brief's example configuration.
inline constexpr const char* roles_settings = R"({"roles": {"attendance": "school-attendance",
    "attendance-rules": "school-attendance", "jgz-fhir": "jgz", "tracking": "school-care",
    "schakel-alerts": "school-care"}})";

using fake_services = sdk::testing::memory_services;
using sdk::testing::test_ulid;

/** Collects emitted signals, completed like the core does and validated against the signal schema. */
class fake_context final : public test_support::validated_context {
 public:
  fake_context()
      : validated_context('M', "match-detection", "match", "2026-06-01T10:00:00.000Z",
                          match_detection_processor::emits()) {}
};

struct sig_opts {
  std::string severity = "concern";
  std::string category = "ordinary";
  std::string brin = "99XX";
  std::string student = "S-1";
  std::string type = "nl.schakel.test.concern";
  bool class_level = false;
};

inline std::set<std::string> keys_of(const json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) out.insert(k);
  return out;
}

class match_detection : public testing::Test {
 protected:
  fake_services svc_;
  fake_context ctx_;
  std::unique_ptr<match_detection_processor> proc_;
  int next_input_ = 1;
  std::vector<std::string> pending_;

  void SetUp() override { make(); }

  void TearDown() override {
    // No log line may carry a student key (issue 4, point 6).
    for (const auto& line : svc_.logs) {
      EXPECT_EQ(line.find("S-1"), std::string::npos) << line;
      EXPECT_EQ(line.find("S-2"), std::string::npos) << line;
    }
  }

  void make(const std::string& settings = roles_settings) {
    proc_ = std::make_unique<match_detection_processor>(settings, svc_);
  }

  /** A stored signal from connector/processor instance `instance`, as the core would hand it over. */
  std::string signal(const std::string& instance, const std::string& observed_at, const sig_opts& o = {}) {
    json subject = {{"school", {{"brin", o.brin}, {"vestiging", "01"}}},
                    {"class", "2B"},
                    {"school_year", "2025-2026"},
                    {"leerjaar", 2}};
    if (!o.class_level) subject["student_key"] = o.student;
    json sig = {
        {"id", test_ulid('J', next_input_++)},
        {"schema_version", "1"},
        {"type", o.type},
        {"source", {{"connector", "generic-json"}, {"instance", instance}, {"record_id", "rec-7"}}},
        {"observed_at", observed_at},
        {"received_at", "2026-06-01T09:00:00Z"},
        {"subject", subject},
        {"content",
         {{"domain", "emotional"},
          {"indicator", "sdq_total"},
          {"value", 21},
          {"severity", o.severity},
          {"instrument", "sdq"},
          {"evidence", {{"note", "private detail"}}}}},
        {"governance", {{"data_category", o.category}, {"legal_basis_hints", {"public_task"}}}},
    };
    return sig.dump();
  }

  static std::string id_of(const std::string& text) { return json::parse(text).at("id").get<std::string>(); }

  /** A retraction of `retracted` as attendance-rules writes one. */
  std::string retraction(const std::string& retracted, const std::string& observed_at) {
    const json orig = json::parse(retracted);
    json sig = orig;
    sig["id"] = test_ulid('R', next_input_++);
    sig["type"] = "nl.schakel.attendance.alert.retracted";
    sig["observed_at"] = observed_at;
    sig["content"]["evidence"] = {
        {"retracts", orig["id"]}, {"retracts_type", orig["type"]}, {"reason", "no_longer_holds"}};
    sig["derived_from"] = {orig["id"]};
    return sig.dump();
  }

  /** Feeds the signals as one batch. Returns the signals emitted by that batch. */
  std::vector<json> batch(const std::vector<std::string>& signals) {
    const std::size_t before = ctx_.emitted.size();
    for (const auto& s : signals) proc_->process(s, ctx_);
    proc_->flush(ctx_);
    return {ctx_.emitted.begin() + static_cast<std::ptrdiff_t>(before), ctx_.emitted.end()};
  }
};

}  // namespace schakel::plugins::match_detection::test
