#pragma once
/**
 * For this repository's processor tests only (it needs the hub's signal schema and GoogleTest, which
 * the public SDK under include/ must not): a recording_context whose every completed signal must
 * pass the signal schema the core validates derived signals against.
 */
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "schakel/testing/processor_testing.hpp"
#include "schema/signal_validator.hpp"
#include "testing/emits_check.hpp"

namespace schakel::plugins::test_support {

/** Adds a test failure per schema violation of `sig` (a completed signal). */
inline void expect_valid_signal(const nlohmann::json& sig) {
  static const schema::signal_validator validator;
  for (const auto& e : validator.validate(sig)) {
    ADD_FAILURE() << "invalid derived signal: " << e.path << ": " << e.reason;
  }
}

/**
 * Checks each completed signal against the schema and, given the processor's declaration, that it
 * carries only declared types and keys.
 */
class validated_context : public sdk::testing::recording_context {
 public:
  validated_context(char id_prefix, std::string connector, std::string instance, std::string received_at,
                    std::optional<sdk::emitted_signals> declared = std::nullopt)
      : recording_context(id_prefix, std::move(connector), std::move(instance), std::move(received_at),
                          [declared = std::move(declared)](const nlohmann::json& sig) {
                            expect_valid_signal(sig);
                            if (declared) expect_declared(*declared, std::vector<nlohmann::json>{sig});
                          }) {}
};

}  // namespace schakel::plugins::test_support
