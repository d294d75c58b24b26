#pragma once
/**
 * generic-json settings: validated once into an immutable typed object; the mapper never re-reads
 * the raw JSON. See README.md for the format.
 */
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace schakel::connectors::generic_json {

/** A JSON pointer (RFC 6901) split into unescaped tokens; "" (no tokens) is the whole document. */
struct pointer {
  std::string text;                 ///< as written in the settings, used as the rejection's field
  std::vector<std::string> tokens;  ///< unescaped reference tokens

  /** Parses `text`; nullopt when it is not a JSON pointer. */
  static std::optional<pointer> parse(std::string_view text);
  /** The value `tokens` reach in `doc`, or nullptr. Never throws, never inserts. */
  const nlohmann::json* find(const nlohmann::json& doc) const noexcept;
};

/** Conversion a rule applies to the source value before any map lookup. */
enum class conversion { none, string, number, integer, boolean, date };

/** How one signal field gets its value. */
struct rule {
  std::string target;                  ///< dotted signal path, e.g. "subject.student_key"
  nlohmann::json::json_pointer where;  ///< the same path as a pointer into the signal
  std::optional<pointer> source;       ///< `pointer` rule; empty for a `const` rule
  nlohmann::json constant;             ///< `const` rule's value
  bool required = false;
  std::optional<nlohmann::json> default_value;  ///< used as-is (not converted, not mapped) when missing
  std::optional<std::unordered_map<std::string, nlohmann::json>> map;
  std::optional<nlohmann::json> map_default;
  conversion as = conversion::none;
};

struct settings {
  std::optional<pointer> records;   ///< where the array of records is; none: the body is the array/object
  std::optional<std::string> type;  ///< fixed signal type (else a rule targets "type")
  std::vector<rule> rules;          ///< in the order the settings list them
};

/**
 * Validates the settings JSON text. Throws schakel::sdk::config_error with the path and the reason,
 * e.g. "settings.mapping.subject.student_keyy: unknown field".
 */
settings parse_settings(std::string_view settings_json);

/** The signal fields a connector may set (the targets a rule may name), for docs and errors. */
const std::vector<std::string_view>& settable_targets();

}  // namespace schakel::connectors::generic_json
