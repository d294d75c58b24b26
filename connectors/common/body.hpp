#pragma once
/**
 * What kind of body a connector was handed, and how to name a JSON key in an error. Shared by the
 * connectors that accept the same export as CSV, JSON or NDJSON (attendance, tracking).
 */
#include <string>
#include <string_view>

namespace schakel::connectors::text {

enum class body_format { csv, json, ndjson };

/**
 * The reader for a body: `text/csv`, `application/csv` -> CSV; `application/json` (and `+json`) ->
 * JSON; `application/x-ndjson`, `application/ndjson`, `application/jsonl` -> NDJSON. Anything else is
 * sniffed after spaces and a BOM: `[` -> JSON; `{` -> NDJSON when the first line is a whole object
 * on its own without a `records` member, else JSON (a pretty-printed or `{"records": …}` document);
 * anything else -> CSV.
 */
body_format choose_format(std::string_view content_type, std::string_view body) noexcept;

/** `key` as a one-level JSON pointer (`/` + key with `~` -> `~0`, `/` -> `~1`), for error fields. */
std::string json_pointer_of(std::string_view key);

}  // namespace schakel::connectors::text
