#pragma once
/**
 * For this repository's plugin tests only: holds every signal a plugin emits in its tests against what
 * the plugin declares it emits (plugin.hpp emitted_signals), so the declaration the hub checks
 * subscriptions against cannot drift from the code that writes the signals.
 */
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "schakel/plugin.hpp"

namespace schakel::plugins::test_support {

/** "type …", "content.x of …" or "content.evidence.y of …" for each part of `signal` not declared. */
inline std::vector<std::string> undeclared_parts(const sdk::emitted_signals& declared, const nlohmann::json& signal) {
  std::vector<std::string> out;
  const std::string type = signal.value("type", "");
  const auto it = declared.find(type);
  if (it == declared.end()) {
    out.push_back("type " + type + " is not declared");
    return out;
  }
  const auto content = signal.find("content");
  if (content == signal.end() || !content->is_object()) return out;
  for (const auto& [key, value] : content->items()) {
    if (key == "evidence") {
      if (!value.is_object()) continue;
      for (const auto& [ek, ev] : value.items())
        if (!it->second.evidence.contains(ek))
          out.push_back("content.evidence." + ek + " of " + type + " is not declared");
    } else if (!it->second.content.contains(key)) {
      out.push_back("content." + key + " of " + type + " is not declared");
    }
  }
  return out;
}

/** One test failure per undeclared part of each signal. */
template <class Signals>
void expect_declared(const sdk::emitted_signals& declared, const Signals& signals) {
  for (const auto& signal : signals)
    for (const auto& problem : undeclared_parts(declared, signal)) ADD_FAILURE() << problem;
}

}  // namespace schakel::plugins::test_support
