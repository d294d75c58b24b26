#pragma once
/**
 * tracking connector: social-emotional measurement exports (CSV, JSON array, NDJSON) ->
 * nl.schakel.tracking.measurement.recorded signals (issue 5), one per student x date x instrument x
 * respondent x scale. Kept apart from the plugin registration (plugin.cpp) so unit tests and the
 * fuzz target call it directly, without dlopen.
 */
#include <string_view>

#include "common/body.hpp"
#include "profile.hpp"
#include "schakel/plugin.hpp"

namespace schakel::connectors::tracking {

/** Deepest JSON nesting accepted in a body; deeper bodies fail before parsing (bounded recursion). */
inline constexpr int max_json_depth = 32;

/** The signal type this connector emits. */
inline constexpr std::string_view measurement_type = "nl.schakel.tracking.measurement.recorded";

// CSV, JSON or NDJSON: chosen by Content-Type, else sniffed (common/body.hpp).
using text::body_format;
using text::choose_format;

class connector {
 public:
  /** Validates the settings; throws sdk::config_error naming the path and the reason. */
  explicit connector(std::string_view settings_json);
  explicit connector(settings s);

  /**
   * Maps every record of `body`. Record index: CSV the 1-based physical line number, JSON the
   * 0-based array index, NDJSON the 0-based line number. A bad record (or, in a wide export, a bad
   * scale cell) is a rejection naming the CSV column or JSON pointer and a reason that never quotes
   * the value; the other records are still mapped. Only an unreadable body (no header row, missing
   * column, broken JSON) is ctx.fail(). Read-only: safe to call concurrently.
   */
  void ingest(std::string_view body, std::string_view content_type, sdk::ingest_context& ctx) const;

  const settings& config() const noexcept { return settings_; }

  /** What the connector can emit: one measurement type with the scale's band and scores as evidence. */
  sdk::emitted_signals emits() const;

 private:
  settings settings_;
};

}  // namespace schakel::connectors::tracking
