#pragma once
/** Vocabulary of the common signal (schema v1) shared by every hub part. */
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace schakel {

/** Ordered: a filter's minimum severity admits this level and every later one. */
enum class severity : std::uint8_t { info = 0, attention = 1, concern = 2, urgent = 3 };

std::optional<severity> parse_severity(std::string_view text);
std::string_view to_string(severity s);

/** Milliseconds since the Unix epoch, the one clock unit stored everywhere. */
std::int64_t now_ms();

/** RFC 3339 UTC with milliseconds, e.g. 2026-11-28T10:00:00.123Z. */
std::string format_rfc3339(std::int64_t epoch_ms);

/**
 * A new signal id: a ULID (26 Crockford base32 characters, 48-bit millisecond time + 80 random bits),
 * so ids sort by creation time and never collide across restarts. Thread-safe; monotonic within one
 * process even when several ids share a millisecond.
 */
std::string new_signal_id();

}  // namespace schakel
