#pragma once
/**
 * Structured JSON logs, one object per line on stderr: {"ts":…,"level":…,"event":…, fields…}.
 * Fields are for configuration names, counts, ids of signals and error texts that carry no record
 * content; callers never pass student keys, names or record contents.
 */
#include <string_view>

#include <nlohmann/json.hpp>

namespace schakel::log {

enum class level { debug, info, warn, error };

void set_level(level l);
/** The level's name as the config spells it and every log line carries it: debug, info, warn, error. */
std::string_view name(level l);
bool parse_level(std::string_view text, level& out);
void write(level l, std::string_view event, const nlohmann::json& fields = nlohmann::json::object());

inline void debug(std::string_view e, const nlohmann::json& f = nlohmann::json::object()) {
  write(level::debug, e, f);
}
inline void info(std::string_view e, const nlohmann::json& f = nlohmann::json::object()) {
  write(level::info, e, f);
}
inline void warn(std::string_view e, const nlohmann::json& f = nlohmann::json::object()) {
  write(level::warn, e, f);
}
inline void error(std::string_view e, const nlohmann::json& f = nlohmann::json::object()) {
  write(level::error, e, f);
}

}  // namespace schakel::log
