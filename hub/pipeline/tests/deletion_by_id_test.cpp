// A source that knows only which record it deleted: the pipeline completes the deletion from the
// record stored under that id, or refuses it naming the field, never the id or the record.
#include <gtest/gtest.h>

#include "pipeline/ingest_pipeline.hpp"
#include "schema/signal_validator.hpp"

namespace schakel::pipeline {
namespace {

using nlohmann::json;
using state = storage::stored_record::state;

json recorded(const std::string& record_id, const std::string& student, const std::string& date) {
  return {{"type", "nl.schakel.attendance.absence.recorded"},
          {"source", {{"record_id", record_id}}},
          {"observed_at", date + "T08:30:00Z"},
          {"subject", {{"school", {{"brin", "12AB"}, {"vestiging", "00"}}}, {"student_key", student}, {"class", "2B"}}},
          {"content",
           {{"domain", "attendance"},
            {"indicator", "absence"},
            {"severity", "info"},
            {"evidence", {{"date", date}, {"category", "sick"}, {"code", "Z"}}}}},
          {"governance", {{"data_category", "health"}}}};
}

json deleted_by_id(const std::string& record_id) {
  return {{"type", "nl.schakel.attendance.absence.deleted"},
          {"source", {{"record_id", record_id}}},
          {"content",
           {{"domain", "attendance"},
            {"indicator", "absence"},
            {"severity", "info"},
            {"evidence", {{"reason", "deleted_in_source"}}}}},
          {"governance", {{"data_category", "ordinary"}}}};
}

/** A record as the store holds it: normalised by an earlier request. */
storage::stored_record stored(const json& signal) {
  json s = signal;
  s["id"] = "01JDZ3K7Q8M2X4V6N8P0R2T4W6";
  s["source"]["instance"] = "school";
  return {state::found, s.dump()};
}

struct deletion_by_id_test : ::testing::Test {
  deletion_by_id_test() {
    config::hub_config cfg;
    config::connector_instance c;
    c.name = "school";
    cfg.connectors.push_back(c);
    gate = std::make_unique<privacy::gate>(cfg, std::string(32, 'k'), consents);
    pipeline = std::make_unique<ingest_pipeline>(validator, *gate);
  }

  batch process(const std::vector<json>& signals, const stored_records& records = {}) {
    plugin_host::ingest_result r;
    for (std::size_t i = 0; i < signals.size(); ++i) {
      r.signals.push_back(signals[i].dump());
      r.signal_record_index.push_back(static_cast<std::int64_t>(i) + 2);  // CSV lines
    }
    return pipeline->process(r, "school", "attendance", 1795867200123, records);
  }

  schema::signal_validator validator;
  privacy::consent_registry consents;
  std::unique_ptr<privacy::gate> gate;
  std::unique_ptr<ingest_pipeline> pipeline;
};

}  // namespace

TEST_F(deletion_by_id_test, only_deletions_without_a_subject_are_looked_up_each_id_once) {
  plugin_host::ingest_result r;
  json with_subject = deleted_by_id("R-3");
  with_subject["subject"] = recorded("R-3", "S-3", "2026-11-23")["subject"];
  r.signals = {deleted_by_id("R-1").dump(), recorded("R-2", "S-2", "2026-11-23").dump(),
               with_subject.dump(),         deleted_by_id("R-1").dump(),
               deleted_by_id("R-4").dump(), "not json .deleted\""};
  EXPECT_EQ(ingest_pipeline::deletions_by_id(r), (std::vector<std::string>{"R-1", "R-4"}));
}

TEST_F(deletion_by_id_test, takes_the_student_school_and_date_from_the_stored_record) {
  const auto b = process({deleted_by_id("R-17")}, {{"R-17", stored(recorded("R-17", "S-1001", "2026-11-23"))}});
  ASSERT_TRUE(b.rejected.empty()) << b.rejected[0].field << ": " << b.rejected[0].reason;
  ASSERT_EQ(b.rows.size(), 1u);
  const json d = json::parse(b.rows[0].json);
  EXPECT_EQ(d["type"], "nl.schakel.attendance.absence.deleted");
  EXPECT_EQ(d["subject"]["student_key"], "S-1001");
  EXPECT_EQ(d["subject"]["school"], json::parse(R"({"brin": "12AB", "vestiging": "00"})"));
  EXPECT_EQ(d["observed_at"], "2026-11-23T08:30:00Z") << "the record's time, not the arrival";
  EXPECT_EQ(d["content"]["evidence"], json::parse(R"({"date": "2026-11-23", "reason": "deleted_in_source"})"));
  EXPECT_EQ(d["governance"]["data_category"], "ordinary") << "nothing else of the record is copied";
  EXPECT_FALSE(d["content"]["evidence"].contains("category"));
  EXPECT_EQ(d["source"]["record_id"], "R-17");
  EXPECT_EQ(d["source"]["instance"], "school");
}

TEST_F(deletion_by_id_test, an_id_never_stored_is_refused_and_the_rest_of_the_batch_is_kept) {
  const auto b = process({recorded("R-1", "S-1", "2026-11-23"), deleted_by_id("R-404"), deleted_by_id("R-2")},
                         {{"R-404", {state::unknown, {}}}, {"R-2", stored(recorded("R-2", "S-2", "2026-11-24"))}});
  ASSERT_EQ(b.accepted.size(), 2u);
  EXPECT_EQ(b.accepted[0].index, 2);
  EXPECT_EQ(b.accepted[1].index, 4);
  ASSERT_EQ(b.rejected.size(), 1u);
  EXPECT_EQ(b.rejected[0].index, 3);
  EXPECT_EQ(b.rejected[0].field, "source.record_id");
  EXPECT_NE(b.rejected[0].reason.find("never stored a record with this id"), std::string::npos) << b.rejected[0].reason;
  EXPECT_EQ(b.rejected[0].reason.find("R-404"), std::string::npos) << "the id itself is not echoed";
  EXPECT_EQ(b.rows.size(), 2u);
}

TEST_F(deletion_by_id_test, a_purged_record_gets_its_own_reason) {
  const auto b = process({deleted_by_id("R-old")}, {{"R-old", {state::purged, {}}}});
  EXPECT_TRUE(b.accepted.empty());
  ASSERT_EQ(b.rejected.size(), 1u);
  EXPECT_EQ(b.rejected[0].field, "source.record_id");
  EXPECT_NE(b.rejected[0].reason.find("removed by retention"), std::string::npos) << b.rejected[0].reason;
}

TEST_F(deletion_by_id_test, an_id_without_a_lookup_answer_is_never_accepted_half_empty) {
  const auto b = process({deleted_by_id("R-1")});
  EXPECT_TRUE(b.rows.empty());
  ASSERT_EQ(b.rejected.size(), 1u);
  EXPECT_EQ(b.rejected[0].field, "source.record_id");
}

TEST_F(deletion_by_id_test, a_record_earlier_in_the_same_body_is_found_without_the_store) {
  const auto b = process({recorded("R-5", "S-5", "2026-11-25"), deleted_by_id("R-5")});
  ASSERT_TRUE(b.rejected.empty()) << b.rejected[0].reason;
  ASSERT_EQ(b.rows.size(), 2u);
  const json d = json::parse(b.rows[1].json);
  EXPECT_EQ(d["subject"]["student_key"], "S-5");
  EXPECT_EQ(d["content"]["evidence"]["date"], "2026-11-25");
}

TEST_F(deletion_by_id_test, a_deletion_that_names_its_subject_is_taken_as_it_is) {
  json full = deleted_by_id("R-9");
  full["subject"] = recorded("R-9", "S-9", "2026-11-23")["subject"];
  full["observed_at"] = "2026-11-23T00:00:00Z";
  full["content"]["evidence"]["date"] = "2026-11-23";
  const auto b = process({full});  // no lookup answer needed, and none given
  ASSERT_TRUE(b.rejected.empty()) << b.rejected[0].reason;
  EXPECT_EQ(json::parse(b.rows[0].json)["subject"]["student_key"], "S-9");
}

}  // namespace schakel::pipeline
