#pragma once
/**
 * generic-json mapping logic: JSON / NDJSON bodies -> candidate signals, per the validated settings.
 * Kept apart from the plugin registration (plugin.cpp) so unit tests and the fuzz target call it
 * directly, without loading a shared library.
 */
#include <string_view>

#include "schakel/plugin.hpp"
#include "settings.hpp"

namespace schakel::connectors::generic_json {

/** Deepest JSON nesting accepted in a body; deeper bodies fail before parsing (bounded recursion). */
inline constexpr int max_depth = 64;

class connector {
 public:
  /** Validates the settings; throws sdk::config_error naming the path and the reason. */
  explicit connector(std::string_view settings_json);
  explicit connector(settings s);

  /**
   * Maps every record of `body`. A JSON body is an array of records, one object, or (with
   * `records`) a document holding the array at that pointer. An NDJSON body
   * (application/x-ndjson, application/jsonl) has one record per line; the record index is then the
   * 0-based line number. Per-record failures are rejections; only an unreadable body is fail().
   * Read-only: safe to call concurrently.
   */
  void ingest(std::string_view body, std::string_view content_type, sdk::ingest_context& ctx) const;

  const settings& config() const noexcept { return settings_; }

  /** The types and content/evidence keys this mapping can produce: its rules' targets, nothing else. */
  sdk::emitted_signals emits() const;

 private:
  void map_record(const nlohmann::json& record, std::int64_t index, sdk::ingest_context& ctx) const;

  settings settings_;
};

/** True for the NDJSON media types (parameters and case ignored). */
bool is_ndjson(std::string_view content_type);

/**
 * Normalises a date to RFC 3339: YYYY-MM-DD and DD-MM-YYYY become midnight UTC, RFC 3339 date-times
 * are checked and returned with upper-case 'T'/'Z'. nullopt when the text is none of these or names
 * an impossible date.
 */
std::optional<std::string> normalise_date(std::string_view text);

}  // namespace schakel::connectors::generic_json
