#pragma once
/**
 * For this repository's connector tests only (it needs the hub's signal schema, which the public SDK
 * under include/ must not): an ingest_context that records what a connector emits, rejects and fails,
 * and checks each emitted signal against the signal schema after adding the fields the hub core sets.
 */
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "schakel/plugin.hpp"
#include "schema/signal_validator.hpp"

namespace schakel::plugins::test_support {

struct recorded_rejection {
  std::int64_t index;
  std::string field;
  std::string reason;
};

class ingest_recorder final : public sdk::ingest_context {
 public:
  explicit ingest_recorder(std::string connector) : connector_(std::move(connector)) {}

  void emit(std::string text, std::int64_t index) override {
    nlohmann::json signal = nlohmann::json::parse(text);
    nlohmann::json full = signal;
    full["id"] = "01JDZ3K7Q8M2X4V6N8P0R2T4W6";
    full["schema_version"] = "1";
    full["source"]["connector"] = connector_;
    full["source"]["instance"] = "test";
    full["received_at"] = "2026-11-28T10:00:01.123Z";
    // A deletion by record id alone: the hub completes it from the stored record (subject, and
    // observed_at when missing) before it validates, so stand-ins for those are checked here.
    const std::string type = full.value("type", "");
    if (type.ends_with(".deleted") && !full.contains("subject") && full["source"].contains("record_id")) {
      full["subject"] = {{"school", {{"brin", "99XX"}}}, {"student_key", "stored"}};
      if (!full.contains("observed_at")) full["observed_at"] = "2026-11-23T00:00:00Z";
    }
    static const schema::signal_validator validator;
    for (const auto& e : validator.validate(full)) schema_errors.push_back(e.path + ": " + e.reason);
    raw.push_back(std::move(text));
    signals.push_back(std::move(signal));
    indexes.push_back(index);
  }
  void reject(std::int64_t index, std::string_view field, std::string_view reason) override {
    rejections.push_back({index, std::string(field), std::string(reason)});
  }
  void fail(std::string_view reason) override {
    failure = std::string(reason);
    failed_ = true;
  }
  bool failed() const override { return failed_; }

  std::vector<nlohmann::json> signals;
  std::vector<std::string> raw;  ///< the emitted text, byte for byte
  std::vector<std::int64_t> indexes;
  std::vector<recorded_rejection> rejections;
  std::vector<std::string> schema_errors;  ///< "path: reason" per violation, over all signals
  std::string failure;

 private:
  std::string connector_;
  bool failed_ = false;
};

}  // namespace schakel::plugins::test_support
