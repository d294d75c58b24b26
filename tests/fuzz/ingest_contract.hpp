#pragma once
/**
 * The ingest_context every connector fuzzer hands its connector: it aborts (so libFuzzer reports it)
 * when the connector breaks the plugin contract — anything reported after a failure, a record index
 * going backwards, an empty reason, an emitted text that is not a JSON object — and passes each
 * emitted signal to `check_signal` for the connector's own invariants.
 */
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "schakel/plugin.hpp"

namespace schakel::fuzz {

class ingest_contract : public sdk::ingest_context {
 public:
  void emit(std::string json, std::int64_t index) final {
    if (failed_ || index < last_index_) std::abort();
    last_index_ = index;
    auto doc = nlohmann::json::parse(json, nullptr, false);
    if (!doc.is_object() || !doc.contains("type") || !doc["type"].is_string()) std::abort();
    check_signal(doc);
  }
  void reject(std::int64_t index, std::string_view, std::string_view reason) final {
    if (failed_ || index < last_index_ || reason.empty()) std::abort();
    last_index_ = index;
  }
  void fail(std::string_view reason) final {
    if (reason.empty() || failed_) std::abort();
    failed_ = true;
  }
  bool failed() const final { return failed_; }

 protected:
  /** The connector's own invariants on one emitted signal; std::abort() when one is broken. */
  virtual void check_signal(nlohmann::json& signal) = 0;  // mutable: operator[] on a missing key is then safe

 private:
  bool failed_ = false;
  std::int64_t last_index_ = -1;
};

}  // namespace schakel::fuzz
