#pragma once
/**
 * Byte- and text-level helpers shared by the file-reading connectors (attendance, tracking): encodings, CSV line splitting, dates,
 * times and the FNV-1a hash behind derived record ids and snapshot ids. No knowledge of signals or
 * settings, so each piece is testable (and fuzzable) on its own.
 */
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace schakel::connectors::text {

/** 64-bit FNV-1a over `bytes`. */
std::uint64_t fnv1a64(std::string_view bytes) noexcept;

/** `fnv1a64(bytes)` as 16 lowercase hex digits. */
std::string fnv1a64_hex(std::string_view bytes);

/** True when `body` starts with the UTF-8 byte order mark EF BB BF. */
bool has_utf8_bom(std::string_view body) noexcept;

/**
 * Offset of the first byte that is not part of well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF), or npos when all of `text` is valid.
 */
std::size_t invalid_utf8_at(std::string_view text) noexcept;

/**
 * Windows-1252 -> UTF-8. 0x80-0x9F use the code page's table; its five undefined bytes map to the
 * C1 control of the same number (as the WHATWG encoding standard does), so no byte is ever lost.
 */
std::string windows1252_to_utf8(std::string_view text);

/** Trims spaces and tabs (and a trailing CR) on both ends. */
std::string_view trim(std::string_view s) noexcept;

/** ASCII lower-casing; other bytes are kept. */
std::string ascii_lower(std::string_view s);

bool iequals(std::string_view a, std::string_view b) noexcept;

/** One line's cells, or why the line cannot be split. */
struct split_result {
  std::vector<std::string> cells;  ///< unquoted, `""` unescaped, not trimmed
  std::string error;               ///< value-free reason; empty on success
};

/**
 * Splits one physical CSV line (no line break inside) on `delimiter`. RFC 4180 quoting: a field
 * that starts with `"` runs to the closing `"`, `""` inside is one quote, and it may hold the
 * delimiter. A quote left open at the end of the line is an error: embedded line breaks are not
 * supported. A `"` inside an unquoted field is kept as a literal character.
 */
split_result split_csv_line(std::string_view line, char delimiter);

/** The delimiter (';' or ',') that occurs more often outside quotes in `header`; ';' on a tie. */
char detect_delimiter(std::string_view header) noexcept;

/** A calendar date. */
struct date {
  int year = 0;
  int month = 0;
  int day = 0;

  std::string iso() const;  ///< YYYY-MM-DD
  friend auto operator<=>(const date&, const date&) = default;
};

/**
 * Parses `dd-mm-jjjj` / `d-m-jjjj` (separators `-`, `/` or `.`, one kind per date) or ISO
 * `YYYY-MM-DD`. Years 1900-2199 only (a mistyped year is an error, not a date 2000 years ago).
 * nullopt for anything else, including impossible dates such as 31-04-2026.
 */
std::optional<date> parse_date(std::string_view text) noexcept;

/** Minutes since midnight of `HH:MM`, `H:MM` or `HH:MM:SS` (seconds ignored); nullopt otherwise. */
std::optional<int> parse_time(std::string_view text) noexcept;

/** `HH:MM` of minutes since midnight. */
std::string format_time(int minutes);

/** A non-negative decimal integer made of digits only, at most `max`; nullopt otherwise. */
std::optional<int> parse_count(std::string_view text, int max) noexcept;

/** Whole years between `birth` and `on` (the birthday itself counts as reached); may be negative. */
int age_on(const date& birth, const date& on) noexcept;

}  // namespace schakel::connectors::text
