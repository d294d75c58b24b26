#pragma once
/**
 * Reading a plugin's settings JSON into typed values. Every failure throws sdk::config_error with the
 * message `<path>: <reason>`, the path starting at `settings` (`settings.window_days: must be between
 * 1 and 3650`), and never quotes the value the user wrote.
 */
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "schakel/plugin.hpp"

namespace schakel::sdk {

/**
 * The value named `text` in a table of {name, value} pairs (an enum's spellings in settings and
 * signals); false, with `out` untouched, when no name matches.
 */
template <class T, std::size_t N>
constexpr bool parse_name(std::string_view text, const std::pair<std::string_view, T> (&names)[N], T& out) {
  for (const auto& [name, value] : names) {
    if (name == text) {
      out = value;
      return true;
    }
  }
  return false;
}

/** Throws config_error("<path>: <reason>"). */
[[noreturn]] inline void settings_fail(std::string_view path, std::string_view reason) {
  std::string message(path);
  message += ": ";
  message += reason;
  throw config_error(message);
}

/** `<path>.<key>`: the path of a member. */
inline std::string settings_path(std::string_view path, std::string_view key) {
  std::string out(path);
  out += '.';
  out += key;
  return out;
}

/**
 * The settings text as a JSON object: "" and `null` are an empty object (all defaults); anything
 * else that is not an object fails at `settings`.
 */
inline nlohmann::json parse_settings_object(std::string_view json_text) {
  nlohmann::json root = nlohmann::json::object();
  if (!json_text.empty()) {
    root = nlohmann::json::parse(json_text, nullptr, false);
    if (root.is_discarded()) settings_fail("settings", "not valid JSON");
  }
  if (root.is_null()) root = nlohmann::json::object();
  if (!root.is_object()) settings_fail("settings", "must be an object");
  return root;
}

/**
 * Merges `over` into `base` (the defaults, whose shape is the schema): objects key by key,
 * recursively; anything else in `over` replaces. A key `base` lacks fails as "unknown field" at the
 * path where the user wrote it, so a typo is never silently ignored.
 */
inline void merge_settings(nlohmann::json& base, const nlohmann::json& over, const std::string& path) {
  if (!over.is_object()) settings_fail(path, "must be an object");
  for (const auto& [key, value] : over.items()) {
    const std::string sub = settings_path(path, key);
    auto it = base.find(key);
    if (it == base.end()) settings_fail(sub, "unknown field");
    if (it->is_object()) {
      merge_settings(*it, value, sub);
    } else {
      *it = value;
    }
  }
}

/** A whole number (also written as 3.0) in [lo, hi]. */
inline int read_whole_number(const nlohmann::json& v, std::string_view path, int lo, int hi) {
  if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())) {
    settings_fail(path, "must be a whole number");
  }
  const double d = v.get<double>();
  if (d < lo || d > hi) settings_fail(path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return static_cast<int>(d);
}

inline bool read_boolean(const nlohmann::json& v, std::string_view path) {
  if (!v.is_boolean()) settings_fail(path, "must be true or false");
  return v.get<bool>();
}

/** One of the `allowed` strings (returned as written there); the error lists them as `a | b | c`. */
inline std::string read_one_of(const nlohmann::json& v, std::string_view path,
                               std::initializer_list<std::string_view> allowed) {
  std::string options;
  for (std::string_view a : allowed) {
    if (v.is_string() && v.get_ref<const std::string&>() == a) return std::string(a);
    if (!options.empty()) options += " | ";
    options += a;
  }
  settings_fail(path, "must be one of " + options);
}

/**
 * The members of one settings object, each read at `<path>.<key>`. The object must outlive the reader.
 * Members are required: a missing one fails as `missing` (merge over built-in defaults to make them optional).
 */
class settings_reader {
 public:
  /** Fails at `path` with "must be an object" when `object` is not one. */
  settings_reader(const nlohmann::json& object, std::string path) : object_(object), path_(std::move(path)) {
    if (!object_.is_object()) settings_fail(path_, "must be an object");
  }

  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const { return settings_path(path_, key); }

  const nlohmann::json& at(std::string_view key) const {
    auto it = object_.find(key);
    if (it == object_.end()) settings_fail(path_of(key), "missing");
    return *it;
  }

  settings_reader object(std::string_view key) const { return settings_reader(at(key), path_of(key)); }
  int whole_number(std::string_view key, int lo, int hi) const { return read_whole_number(at(key), path_of(key), lo, hi); }
  bool boolean(std::string_view key) const { return read_boolean(at(key), path_of(key)); }
  std::string one_of(std::string_view key, std::initializer_list<std::string_view> allowed) const {
    return read_one_of(at(key), path_of(key), allowed);
  }

 private:
  const nlohmann::json& object_;
  std::string path_;
};

}  // namespace schakel::sdk
