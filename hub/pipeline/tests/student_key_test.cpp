// A student key with a NUL or another control character is refused at ingest: such a key would be
// cut short by C APIs, split log lines and CSV exports, or name two students as one. The refusal
// names the record and the field, never the key.
#include <gtest/gtest.h>

#include "pipeline/ingest_pipeline.hpp"
#include "schema/signal_validator.hpp"

namespace schakel::pipeline {
namespace {

using nlohmann::json;

json absence(const std::string& student_key) {
  return {{"type", "nl.schakel.attendance.absence.recorded"},
          {"observed_at", "2026-11-02T08:30:00Z"},
          {"subject", {{"school", {{"brin", "12AB"}, {"vestiging", "00"}}}, {"student_key", student_key}}},
          {"content", {{"domain", "attendance"}, {"indicator", "absence"}, {"severity", "info"}}},
          {"governance", {{"data_category", "ordinary"}}}};
}

TEST(student_key, a_control_character_refuses_the_record_naming_record_and_field_not_the_key) {
  config::hub_config cfg;
  config::connector_instance c;
  c.name = "school";
  cfg.connectors.push_back(c);
  privacy::consent_registry consents;
  const privacy::gate gate(cfg, std::string(32, 'k'), consents);
  const schema::signal_validator validator;
  const ingest_pipeline pipeline(validator, gate);

  const std::vector<std::string> keys = {
      "S-1001", std::string("S-1002\0x", 8), "S-1003\n", "S-1004\t", "S-1005\x1b", "S-1006\x7f", "Zoë-1007"};
  plugin_host::ingest_result r;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    r.signals.push_back(absence(keys[i]).dump());
    r.signal_record_index.push_back(static_cast<std::int64_t>(i) + 2);  // CSV lines
  }
  const batch b = pipeline.process(r, "school", "attendance", 1795867200123);

  ASSERT_EQ(b.accepted.size(), 2u);
  EXPECT_EQ(b.accepted[0].index, 2);
  EXPECT_EQ(b.accepted[1].index, 8);  // any other character, UTF-8 included, is fine
  ASSERT_EQ(b.rejected.size(), 5u);
  for (std::size_t i = 0; i < b.rejected.size(); ++i) {
    const auto& refused = b.rejected[i];
    EXPECT_EQ(refused.index, static_cast<std::int64_t>(i) + 3);
    EXPECT_EQ(refused.field, "subject.student_key");
    EXPECT_EQ(refused.reason, "must be free of control characters (NUL, tab, line breaks, DEL)");
    EXPECT_EQ(refused.reason.find("S-100"), std::string::npos);
  }
}

}  // namespace
}  // namespace schakel::pipeline
