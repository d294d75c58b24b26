#pragma once
/**
 * A parsed JSON Schema (draft-07, via valijson) that validates nlohmann::json documents and reports
 * problems by path, without ever echoing the values it rejected (they may be personal data).
 */
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace schakel::schema {

enum class error_kind : std::uint8_t {
  invalid,           ///< the value at `path` breaks a constraint
  missing_property,  ///< a required property is absent; `path` names where it should be
  unknown_property,  ///< a property the schema does not allow; `path` names it
};

/** One validation problem. Never contains the offending value, only where and why. */
struct schema_error {
  std::string path;    ///< `content.severity`, `derived_from[2]`; empty for the document itself
  std::string reason;  ///< value-free, e.g. "must be one of info, attention, concern, urgent"
  error_kind kind = error_kind::invalid;
  std::string parent{};    ///< for missing/unknown properties: path of the object that holds it
  std::string property{};  ///< for missing/unknown properties: the property name

  bool operator==(const schema_error&) const = default;
};

/** `content.severity`, `derived_from[2]`, `[0].x` for an index at the root. */
std::string join_path(std::string_view parent, std::string_view property);
std::string join_path(std::string_view parent, std::size_t index);

/**
 * A compiled schema. Construct once and reuse: validation is thread-safe and allocation-light when
 * the document is valid (the detailed error walk runs only after a failure).
 *
 * Non-standard annotation honoured in schemas: `"x-pattern-hint": "a ULID …"` turns a pattern
 * failure into the reason "must be a ULID …" instead of quoting the regular expression.
 */
class json_schema {
 public:
  /** Parses `schema_document` (draft-07); throws std::invalid_argument if valijson rejects it. */
  explicit json_schema(const nlohmann::json& schema_document);
  /** As above, from schema text (e.g. embedded_config_schema()). */
  explicit json_schema(std::string_view schema_text);
  ~json_schema();
  json_schema(json_schema&&) noexcept;
  json_schema& operator=(json_schema&&) noexcept;

  /** True when `document` is valid; stops at the first violation (the fast path). */
  bool is_valid(const nlohmann::json& document) const;

  /** Every violation (at most `max_errors`), in document order; empty when valid. */
  std::vector<schema_error> validate(const nlohmann::json& document, std::size_t max_errors = 64) const;

  /** The schema as given. */
  const nlohmann::json& document() const;

  /**
   * The subschema that governs the value at `path_segments` (property names and array indices as
   * strings, resolved against `instance` to tell the two apart), with `$ref`s followed; nullptr
   * when the schema says nothing about that location.
   */
  const nlohmann::json* subschema_for(const nlohmann::json& instance,
                                      const std::vector<std::string>& path_segments) const;

  /**
   * Every property path the schema declares, depth first in declaration order: `id`, `source`,
   * `source.connector`, … Arrays contribute their own path only; free-form objects stop the walk.
   */
  std::vector<std::string> property_paths() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace schakel::schema
