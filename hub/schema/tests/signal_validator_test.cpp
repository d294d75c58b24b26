#include "schema/signal_validator.hpp"

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace schakel::schema {
namespace {

using json = nlohmann::json;

json example_signal() {
  return json::parse(R"({
    "id": "01JDZ3K7Q8M2X4V6N8P0R2T4W6",
    "schema_version": "1",
    "type": "nl.schakel.attendance.absence.recorded",
    "source": {"connector": "generic-json", "instance": "quickstart", "record_id": "A-1001"},
    "observed_at": "2026-11-23T08:30:00Z",
    "received_at": "2026-11-28T10:00:01.123Z",
    "subject": {
      "school": {"brin": "12AB", "vestiging": "00"},
      "student_key": "S-000123",
      "class": "2B", "school_year": "2026-2027", "leerjaar": 2
    },
    "content": {
      "domain": "attendance", "indicator": "absence_hours", "value": 2, "unit": "hours",
      "severity": "info", "instrument": "absence-registration", "evidence": {"code": "ZIEK"}
    },
    "governance": {"data_category": "ordinary", "legal_basis_hints": ["public_task"], "retention_days": 365},
    "derived_from": ["01JDZ3K7Q8M2X4V6N8P0R2T4W7", "01JDZ3K7Q8M2X4V6N8P0R2T4W8"]
  })");
}

// Finds the error at `path`; fails the test (with every error listed) when there is none.
schema_error error_at(const std::vector<schema_error>& errors, const std::string& path) {
  for (const auto& e : errors)
    if (e.path == path) return e;
  std::string all;
  for (const auto& e : errors) all += "\n  " + e.path + ": " + e.reason;
  ADD_FAILURE() << "no error at " << path << "; got:" << all;
  return {};
}

std::string all_text(const std::vector<schema_error>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.path + ": " + e.reason + "\n";
  return out;
}

class signal_validator_test : public ::testing::Test {
 protected:
  static const signal_validator& validator() {
    static const signal_validator v;
    return v;
  }
};

TEST_F(signal_validator_test, accepts_the_example_signal) {
  const auto errors = validator().validate(example_signal());
  EXPECT_TRUE(errors.empty()) << all_text(errors);
  EXPECT_TRUE(validator().is_valid(example_signal()));
}

TEST_F(signal_validator_test, accepts_a_minimal_class_level_signal) {
  json s = example_signal();
  s.erase("derived_from");
  s["subject"] = {{"school", {{"brin", "99ZZ"}}}};
  s["content"] = {{"domain", "wellbeing"}, {"indicator", "class.mood_index"}, {"severity", "urgent"}};
  s["governance"] = {{"data_category", "health"}};
  s["source"].erase("record_id");
  s["observed_at"] = "2026-11-23T08:30:00+01:00";
  EXPECT_TRUE(validator().validate(s).empty()) << all_text(validator().validate(s));
}

TEST_F(signal_validator_test, rejects_an_unknown_severity_without_echoing_it) {
  json s = example_signal();
  s["content"]["severity"] = "catastrophic-for-Jan-Jansen";
  const auto errors = validator().validate(s);
  ASSERT_EQ(errors.size(), 1u) << all_text(errors);
  EXPECT_EQ(errors[0].path, "content.severity");
  EXPECT_EQ(errors[0].reason, "must be one of info, attention, concern, urgent");
  EXPECT_EQ(all_text(errors).find("Jan-Jansen"), std::string::npos);
  EXPECT_FALSE(validator().is_valid(s));
}

TEST_F(signal_validator_test, reports_missing_required_properties_by_path) {
  json s = example_signal();
  s.erase("type");
  s["subject"]["school"].erase("brin");
  s["governance"].erase("data_category");
  const auto errors = validator().validate(s);
  EXPECT_EQ(error_at(errors, "type").reason, "required property missing");
  const auto brin = error_at(errors, "subject.school.brin");
  EXPECT_EQ(brin.reason, "required property missing");
  EXPECT_EQ(brin.kind, error_kind::missing_property);
  EXPECT_EQ(brin.parent, "subject.school");
  EXPECT_EQ(brin.property, "brin");
  EXPECT_EQ(error_at(errors, "governance.data_category").reason, "required property missing");
}

TEST_F(signal_validator_test, reports_unknown_properties) {
  json s = example_signal();
  s["subject"]["bsn"] = "123456782";
  s["extra"] = 1;
  const auto errors = validator().validate(s);
  const auto bsn = error_at(errors, "subject.bsn");
  EXPECT_EQ(bsn.reason, "unknown property");
  EXPECT_EQ(bsn.kind, error_kind::unknown_property);
  EXPECT_EQ(error_at(errors, "extra").reason, "unknown property");
  EXPECT_EQ(all_text(errors).find("123456782"), std::string::npos);
}

TEST_F(signal_validator_test, reports_an_indexed_path_for_array_items) {
  json s = example_signal();
  s["derived_from"].push_back("not-a-ulid-Piet");
  const auto errors = validator().validate(s);
  ASSERT_EQ(errors.size(), 1u) << all_text(errors);
  EXPECT_EQ(errors[0].path, "derived_from[2]");
  EXPECT_EQ(errors[0].reason, "must be a ULID (26 Crockford base32 characters)");
  EXPECT_EQ(all_text(errors).find("Piet"), std::string::npos);
}

TEST_F(signal_validator_test, rejects_each_kind_of_constraint_with_a_value_free_reason) {
  struct violation {
    std::string pointer;
    json value;
    std::string path;
    std::string reason;
  };
  const std::vector<violation> cases = {
      {"/type", "Attendance.Recorded", "type",
       "must be at least three lowercase dot-separated segments, each [a-z][a-z0-9_]*"},
      {"/type", "nl.schakel", "type", "must be at least three lowercase dot-separated segments, each [a-z][a-z0-9_]*"},
      {"/schema_version", "2", "schema_version", "must be 1"},
      {"/observed_at", "23-11-2026 08:30", "observed_at", "must be an RFC 3339 date-time with a time zone"},
      {"/received_at", "2026-11-28T10:00:01", "received_at", "must be an RFC 3339 date-time with a time zone"},
      {"/subject/school/brin", "12ab", "subject.school.brin", "must be 4 characters, digits or capital letters"},
      {"/subject/school/vestiging", "0", "subject.school.vestiging", "must be 2 digits"},
      {"/subject/student_key", "", "subject.student_key", "must not be empty"},
      {"/subject/student_key", std::string(65, 'k'), "subject.student_key", "must have at most 64 characters"},
      {"/subject/leerjaar", 7, "subject.leerjaar", "must be at most 6"},
      {"/subject/leerjaar", 0, "subject.leerjaar", "must be at least 1"},
      {"/subject/leerjaar", 2.5, "subject.leerjaar", "must be an integer"},
      {"/subject/leerjaar", "2", "subject.leerjaar", "must be an integer"},
      {"/subject/school_year", "2026/2027", "subject.school_year", "must be YYYY-YYYY"},
      {"/content/domain", "finance", "content.domain",
       "must be one of emotional, behavioural, social, wellbeing, attendance, health"},
      {"/content/indicator", "Absence", "content.indicator",
       "must be lowercase: a letter, then letters, digits, _ or ."},
      {"/content/value", json::object(), "content.value", "must be a number, a string or a boolean"},
      {"/content/evidence/nested", json::array(), "content.evidence.nested",
       "must be a string, a number, a boolean or a null"},
      {"/governance/data_category", "special", "governance.data_category", "must be one of ordinary, health"},
      {"/governance/legal_basis_hints/0", "gut_feeling", "governance.legal_basis_hints[0]",
       "must be one of consent, legal_obligation, public_task, vital_interest, contract, legitimate_interest"},
      {"/governance/legal_basis_hints", json::array({"consent", "consent"}), "governance.legal_basis_hints",
       "items must be unique"},
      {"/governance/retention_days", 3651, "governance.retention_days", "must be at most 3650"},
      {"/source", "generic-json", "source", "must be an object"},
      {"/derived_from", "01JDZ3K7Q8M2X4V6N8P0R2T4W7", "derived_from", "must be an array"},
  };
  for (const auto& c : cases) {
    json s = example_signal();
    s[json::json_pointer(c.pointer)] = c.value;
    const auto errors = validator().validate(s);
    SCOPED_TRACE(c.pointer);
    ASSERT_EQ(errors.size(), 1u) << all_text(errors);
    EXPECT_EQ(errors[0].path, c.path);
    EXPECT_EQ(errors[0].reason, c.reason);
    if (c.value.is_string() && c.value.get<std::string>().size() > 3) {
      EXPECT_EQ(all_text(errors).find(c.value.get<std::string>()), std::string::npos);
    }
    EXPECT_FALSE(validator().is_valid(s));
  }
}

TEST_F(signal_validator_test, limits_evidence_to_32_properties) {
  json s = example_signal();
  for (int i = 0; i < 33; ++i) s["content"]["evidence"]["k" + std::to_string(i)] = i;
  const auto errors = validator().validate(s);
  EXPECT_EQ(error_at(errors, "content.evidence").reason, "must have at most 32 properties");
}

TEST_F(signal_validator_test, rejects_a_document_that_is_not_an_object) {
  const auto errors = validator().validate(json::array());
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].path, "");
  EXPECT_EQ(errors[0].reason, "must be an object");
}

TEST_F(signal_validator_test, derives_field_paths_from_the_schema) {
  const auto& paths = validator().field_paths();
  for (const char* expected :
       {"id", "type", "source.record_id", "subject.school", "subject.school.brin", "subject.class", "content.severity",
        "content.evidence", "governance.retention_days", "derived_from"}) {
    EXPECT_NE(std::find(paths.begin(), paths.end(), expected), paths.end()) << expected;
  }
  EXPECT_EQ(std::find(paths.begin(), paths.end(), "subject.bsn"), paths.end());
  EXPECT_EQ(signal_field_paths(), paths);
}

TEST_F(signal_validator_test, is_thread_safe) {
  json bad = example_signal();
  bad["content"]["severity"] = "x";
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (!validator().is_valid(example_signal())) ++failures[t];
        if (validator().validate(bad).size() != 1) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace schakel::schema
