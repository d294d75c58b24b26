#pragma once
/**
 * The attendance-rules processor test fixture: a state store with an autumn-2026 school calendar, a
 * schema-validating context, and builders for the attendance connector's signals. Shared by the
 * processor's test files.
 */
#include "processor.hpp"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "rules.hpp"
#include "schakel/testing/processor_testing.hpp"
#include "testing/validated_context.hpp"

namespace schakel::plugins::attendance_rules::test {

using json = nlohmann::json;

inline std::int32_t d(const char* text) {
  return *parse_date(text);
}

/** State store + a school calendar (autumn 2026) + captured logs. */
class fake_services final : public sdk::testing::memory_services {
 public:
  std::set<std::int32_t> holidays;
  std::set<std::int32_t> study_days;
  std::set<std::string> schools_without_calendar;

  fake_services() {
    for (auto x = d("2026-07-20"); x <= d("2026-09-04"); ++x) holidays.insert(x);  // summer
    for (auto x = d("2026-10-19"); x <= d("2026-10-23"); ++x) holidays.insert(x);  // autumn
    for (auto x = d("2026-12-21"); x <= d("2027-01-01"); ++x) holidays.insert(x);  // Christmas
    study_days.insert(d("2026-11-11"));
  }
  std::optional<sdk::day_kind> school_day(std::string_view brin, std::string_view, std::int32_t day) override {
    if (schools_without_calendar.count(std::string(brin)) > 0) return std::nullopt;
    if (weekday(day) >= 5) return sdk::day_kind::weekend;
    if (holidays.count(day) > 0) return sdk::day_kind::holiday;
    if (study_days.count(day) > 0) return sdk::day_kind::study_day;
    return sdk::day_kind::school_day;
  }
};

using sdk::testing::test_ulid;

/** Collects emitted signals, completed like the core does and validated against the signal schema. */
class fake_context final : public test_support::validated_context {
 public:
  fake_context()
      : validated_context('H', "attendance-rules", "rules", "2027-01-10T10:00:00.000Z",
                          attendance_rules_processor::emits()) {}
};

struct rec {
  std::string cat = "sick";
  std::optional<int> lessons = std::nullopt;
  std::optional<int> minutes = std::nullopt;
  bool whole_day = false;
  std::optional<int> age = std::nullopt;
  std::optional<bool> bq = std::nullopt;
  std::string snapshot = "";
  std::string brin = "99XX";
  std::string student = "S-1";
  std::string instance = "mag";
};

class attendance_rules : public testing::Test {
 protected:
  fake_services svc_;
  std::unique_ptr<attendance_rules_processor> proc_;
  int next_input_ = 1;
  std::vector<std::string> pending_;

  void make(const std::string& settings = "") { proc_ = std::make_unique<attendance_rules_processor>(settings, svc_); }

  /** An absence.recorded as the attendance connector emits it, with the id the core gave it. */
  std::string recorded(const std::string& record_id, const std::string& date, const rec& r = {}) {
    json ev = {{"date", date}, {"category", r.cat}, {"code", r.cat.substr(0, 1)}};
    if (r.lessons) ev["lessons"] = *r.lessons;
    if (r.minutes) ev["minutes"] = *r.minutes;
    if (r.whole_day) ev["whole_day"] = true;
    if (r.age) ev["age"] = *r.age;
    if (r.bq) ev["basic_qualification"] = *r.bq;
    if (!r.snapshot.empty()) ev["snapshot"] = r.snapshot;
    json sig = {
        {"id", test_ulid('J', next_input_++)},
        {"schema_version", "1"},
        {"type", "nl.schakel.attendance.absence.recorded"},
        {"source", {{"connector", "attendance"}, {"instance", r.instance}, {"record_id", record_id}}},
        {"observed_at", date + "T08:30:00Z"},
        {"received_at", "2027-01-10T09:00:00Z"},
        {"subject",
         {{"school", {{"brin", r.brin}, {"vestiging", "00"}}},
          {"student_key", r.student},
          {"class", "2B"},
          {"school_year", "2026-2027"},
          {"leerjaar", 2}}},
        {"content",
         {{"domain", "attendance"},
          {"indicator", "absence"},
          {"severity", "info"},
          {"instrument", "absence-registration"},
          {"evidence", ev}}},
        {"governance",
         {{"data_category", r.cat == "sick" ? "health" : "ordinary"}, {"legal_basis_hints", {"public_task"}}}},
    };
    return sig.dump();
  }

  std::string deleted(const std::string& record_id, const std::string& date, const rec& r = {}) {
    json sig = {
        {"id", test_ulid('J', next_input_++)},
        {"type", "nl.schakel.attendance.absence.deleted"},
        {"source", {{"connector", "attendance"}, {"instance", r.instance}, {"record_id", record_id}}},
        {"subject", {{"school", {{"brin", r.brin}, {"vestiging", "00"}}}, {"student_key", r.student}}},
        {"content",
         {{"domain", "attendance"},
          {"indicator", "absence"},
          {"severity", "info"},
          {"evidence", {{"date", date}, {"reason", "deleted_in_source"}}}}},
        {"governance", {{"data_category", "ordinary"}}},
    };
    return sig.dump();
  }

  std::string snapshot(const std::string& id, const std::string& from, const std::string& to, int count,
                       const std::string& instance = "mag") {
    json sig = {
        {"id", test_ulid('J', next_input_++)},
        {"type", "nl.schakel.attendance.snapshot.completed"},
        {"source", {{"connector", "attendance"}, {"instance", instance}}},
        {"subject", {{"school", {{"brin", "99XX"}, {"vestiging", "00"}}}}},
        {"content",
         {{"domain", "attendance"},
          {"indicator", "snapshot"},
          {"value", count},
          {"severity", "info"},
          {"evidence", {{"snapshot", id}, {"from", from}, {"to", to}}}}},
        {"governance", {{"data_category", "ordinary"}}},
    };
    return sig.dump();
  }

  std::string referral(const std::string& alert_id, std::string* referral_id = nullptr,
                       const std::string& student = "S-1") {
    const std::string id = test_ulid('J', next_input_++);
    if (referral_id != nullptr) *referral_id = id;
    json sig = {
        {"id", id},
        {"type", "nl.schakel.alert.referral.recorded"},
        {"source", {{"connector", "core"}, {"instance", "api"}}},
        {"subject", {{"school", {{"brin", "99XX"}, {"vestiging", "00"}}}, {"student_key", student}}},
        {"content",
         {{"domain", "attendance"},
          {"indicator", "referral"},
          {"severity", "info"},
          {"evidence", {{"alert", alert_id}, {"parents_informed_on", "2026-11-20"}, {"informed_by", "mentor"}}}}},
        {"governance", {{"data_category", "health"}}},
        {"derived_from", {alert_id}},
    };
    return sig.dump();
  }

  /** One batch: every signal, then flush. Returns what the batch emitted. */
  std::vector<json> batch(const std::vector<std::string>& signals, fake_context* use = nullptr) {
    fake_context local;
    fake_context& ctx = use != nullptr ? *use : local;
    const std::size_t before = ctx.emitted.size();
    for (const auto& s : signals) proc_->process(s, ctx);
    proc_->flush(ctx);
    return {ctx.emitted.begin() + static_cast<std::ptrdiff_t>(before), ctx.emitted.end()};
  }

  /** Sick records, one per date, ids "r-<date>". */
  std::vector<std::string> sick(const std::vector<std::string>& dates, rec r = {}) {
    std::vector<std::string> out;
    for (const auto& date : dates) out.push_back(recorded("r-" + r.student + "-" + date, date, r));
    return out;
  }

  std::vector<std::string> input_ids(const std::vector<std::string>& signals) {
    std::vector<std::string> ids;
    for (const auto& s : signals) ids.push_back(json::parse(s)["id"].get<std::string>());
    return ids;
  }
};

inline std::vector<std::string> derived(const json& sig) {
  return sig.at("derived_from").get<std::vector<std::string>>();
}
inline const json& ev(const json& sig) {
  return sig.at("content").at("evidence");
}

}  // namespace schakel::plugins::attendance_rules::test
