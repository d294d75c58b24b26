#pragma once
/**
 * Reading fields of a parsed signal without exceptions: a missing member or one of another type is
 * "absent", so a processor checks what it needs once and skips (and logs) a signal without it.
 */
#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

namespace schakel::sdk {

/** The value at `path` (member names, outermost first), or nullptr when any step is missing or not an object. */
inline const nlohmann::json* find_path(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* cur = &j;
  for (const char* p : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(p);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

/** The string at `path`, or "" when absent or not a string. */
inline std::string string_at(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* v = find_path(j, path);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

}  // namespace schakel::sdk
