#pragma once
/**
 * The tracking-trends processor test fixture: a schema-validating context and a builder for the
 * tracking connector's measurement signals. Shared by the processor's test files.
 */
#include "processor.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "schakel/testing/processor_testing.hpp"
#include "testing/validated_context.hpp"

namespace schakel::plugins::tracking_trends::test {

using json = nlohmann::json;
using sdk::testing::test_ulid;

/** Collects emitted signals, completed like the core does and validated against the signal schema. */
class fake_context final : public test_support::validated_context {
 public:
  fake_context()
      : validated_context('T', "tracking-trends", "trends", "2027-03-20T10:00:00.000Z",
                          tracking_trends_processor::emits()) {}
};

inline const char* const band_names[] = {"above_average", "average", "below_average", "far_below_average"};

inline const std::string four_bands =
    R"({"instruments": {"zien": {"bands": ["above_average", "average", "below_average", "far_below_average"]}}})";

/** One row of an LVS export, as the tracking connector turns it into a measurement signal. */
struct meas {
  std::string date = "2026-10-05";
  double score = 20;
  int rank = 1;
  std::string scale = "welbevinden";
  std::string domain = "wellbeing";
  std::string respondent = "student";
  std::string round = "";
  std::string student = "S-1";
  std::string instrument = "zien";
  bool norm = false;  ///< a norm-only export: content.value is the norm score
};

class tracking_trends : public testing::Test {
 protected:
  sdk::testing::memory_services svc_;
  fake_context ctx_;
  std::unique_ptr<tracking_trends_processor> proc_;
  int next_input_ = 1;
  std::vector<std::string> input_ids_;

  void make(const std::string& settings = four_bands) {
    proc_ = std::make_unique<tracking_trends_processor>(settings, svc_);
  }

  std::string signal(const meas& m) {
    json ev = {{"instrument", m.instrument},
               {"respondent", m.respondent},
               {"scale", m.scale},
               {"band", band_names[m.rank]},
               {"band_rank", m.rank}};
    if (!m.round.empty()) ev["round"] = m.round;
    if (m.norm) ev["value_kind"] = "norm_score";
    input_ids_.push_back(test_ulid('J', next_input_++));
    json sig = {
        {"id", input_ids_.back()},
        {"schema_version", "1"},
        {"type", "nl.schakel.tracking.measurement.recorded"},
        {"source", {{"connector", "tracking"}, {"instance", "tracking"}, {"record_id", "row"}}},
        {"observed_at", m.date + "T00:00:00Z"},
        {"received_at", "2027-03-20T09:00:00Z"},
        {"subject",
         {{"school", {{"brin", "99XX"}, {"vestiging", "00"}}},
          {"student_key", m.student},
          {"class", "2B"},
          {"school_year", "2026-2027"},
          {"leerjaar", 2}}},
        {"content",
         {{"domain", m.domain},
          {"indicator", "tracking.scale"},
          {"value", m.score},
          {"severity", "info"},
          {"instrument", m.instrument},
          {"evidence", ev}}},
        {"governance", {{"data_category", "ordinary"}}},
    };
    return sig.dump();
  }

  /** Feeds one batch and flushes; returns what that batch emitted. */
  std::vector<json> batch(const std::vector<meas>& rows) {
    const std::size_t before = ctx_.emitted.size();
    for (const auto& r : rows) proc_->process(signal(r), ctx_);
    proc_->flush(ctx_);
    return {ctx_.emitted.begin() + static_cast<std::ptrdiff_t>(before), ctx_.emitted.end()};
  }

  static std::vector<std::string> types(const std::vector<json>& sigs) {
    std::vector<std::string> out;
    for (const auto& s : sigs) out.push_back(s["type"].get<std::string>());
    return out;
  }
};

inline const std::string at_risk = "nl.schakel.tracking.score.at_risk";
inline const std::string declined = "nl.schakel.tracking.score.declined";
inline const std::string withdrawn = "nl.schakel.tracking.pattern.withdrawn";
inline const std::string retracted = "nl.schakel.tracking.alert.retracted";

}  // namespace schakel::plugins::tracking_trends::test
