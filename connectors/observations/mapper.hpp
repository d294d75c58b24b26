#pragma once
/**
 * observations connector: what school staff notice about a student (a mentor, a teacher, the
 * conciërge, canteen staff …), sent by a staff system as JSON -> one
 * nl.schakel.observation.recorded signal per observation (issue 5 point 3). Kept apart from the
 * plugin registration (plugin.cpp) so unit tests and the fuzz target call it directly.
 */
#include <optional>
#include <string>
#include <string_view>

#include "schakel/plugin.hpp"
#include "settings.hpp"

namespace schakel::connectors::observations {

/** Deepest JSON nesting accepted in a body; deeper bodies fail before parsing (bounded recursion). */
inline constexpr int max_json_depth = 32;

/** The signal type this connector emits. */
inline constexpr std::string_view observation_type = "nl.schakel.observation.recorded";

/** content.instrument of every signal. */
inline constexpr std::string_view observation_instrument = "staff-observation";

class connector {
 public:
  /** Validates the settings; throws sdk::config_error naming the path and the reason. */
  explicit connector(std::string_view settings_json);
  explicit connector(settings s);

  /**
   * Maps every observation of a JSON body (`application/json` or `application/<x>+json`; any other
   * content type fails): one observation object (record index 0), an array of them, or
   * `{"observations": [...]}` (index = array index). A bad record is rejected with its index, the
   * JSON pointer of the offending field and a reason that never quotes a value; the other records
   * are still emitted, in order. Only an unreadable body is ctx.fail(). Read-only: safe to call
   * concurrently.
   */
  void ingest(std::string_view body, std::string_view content_type, sdk::ingest_context& ctx) const;

  const settings& config() const noexcept { return settings_; }

  /** What the connector can emit: staff observations, with the note only an audience of school may keep. */
  sdk::emitted_signals emits() const;

 private:
  settings settings_;
};

/** True for `application/json` and `application/<x>+json` (parameters and case ignored). */
bool is_json_media_type(std::string_view content_type) noexcept;

/**
 * `observed_at` as the signal carries it: `YYYY-MM-DD` -> `YYYY-MM-DDT00:00:00Z`; an RFC 3339
 * date-time with a zone (the signal schema's timestamp pattern, on a real calendar date) is kept as
 * given. nullopt for anything else.
 */
std::optional<std::string> observed_at_of(std::string_view text);

}  // namespace schakel::connectors::observations
