#pragma once
/**
 * attendance connector: absence-registration exports (CSV or JSON) -> the attendance signals of
 * issue 3 (absence.recorded, absence.deleted, snapshot.completed). Kept apart from the plugin
 * registration (plugin.cpp) so unit tests and the fuzz target call it directly, without dlopen.
 */
#include <cstdint>
#include <string_view>

#include "common/body.hpp"
#include "schakel/plugin.hpp"
#include "settings.hpp"

namespace schakel::connectors::attendance {

/** Deepest JSON nesting accepted in a body; deeper bodies fail before parsing (bounded recursion). */
inline constexpr int max_json_depth = 32;

// CSV, JSON or NDJSON: chosen by Content-Type, else sniffed (common/body.hpp).
using text::body_format;
using text::choose_format;

class connector {
 public:
  /** Validates the settings; throws sdk::config_error naming the path and the reason. */
  explicit connector(std::string_view settings_json);
  explicit connector(settings s);

  /**
   * Maps every record of `body` in record order. CSV: the record index is the 1-based physical
   * line number; JSON: the 0-based index in the records array; NDJSON: the 0-based line number.
   * A bad record is a rejection (field = CSV column or JSON pointer, reason without values); only
   * an unreadable body (bad header, missing required column, broken JSON) is ctx.fail(). In
   * snapshot mode one snapshot.completed per complete school follows the records, with the index
   * one past the last record. Read-only: safe to call concurrently.
   */
  void ingest(std::string_view body, std::string_view content_type, sdk::ingest_context& ctx) const;

  const settings& config() const noexcept { return settings_; }

  /** What the connector can emit: absence recorded/deleted and snapshot completed, with their keys. */
  sdk::emitted_signals emits() const;

 private:
  settings settings_;
};

}  // namespace schakel::connectors::attendance
