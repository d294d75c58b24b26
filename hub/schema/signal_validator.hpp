#pragma once
/** Validation of the common signal against the embedded schemas/signal.v1.schema.json. */
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "schema/json_schema.hpp"

namespace schakel::schema {

/**
 * Validates complete signals (after the core has added id, timestamps and provenance). Construct
 * once — parsing the schema costs milliseconds — and share: validate() is thread-safe.
 */
class signal_validator {
 public:
  signal_validator();

  /** Every violation by path with a value-free reason; empty when the signal is valid. */
  std::vector<schema_error> validate(const nlohmann::json& signal) const;

  /** The ingest hot path: true when valid, without building any error. */
  bool is_valid(const nlohmann::json& signal) const;

  /** Field paths a signal can carry (`subject.school`, `content.severity`, …), from the schema. */
  const std::vector<std::string>& field_paths() const { return field_paths_; }

  const json_schema& schema() const { return schema_; }

 private:
  json_schema schema_;
  std::vector<std::string> field_paths_;
};

/** The field paths of the embedded signal schema, computed once (for config checks). */
const std::vector<std::string>& signal_field_paths();

}  // namespace schakel::schema
