#pragma once
// The message load_config_text refuses `text` with (origin "test.yaml"); a test failure when it loads.
#include <string>

#include <gtest/gtest.h>

#include "config/config.hpp"

namespace schakel::config::testing {

inline std::string error_of(const std::string& text) {
  try {
    (void)load_config_text(text, "test.yaml");
  } catch (const config_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no config_error for:\n" << text;
  return {};
}

}  // namespace schakel::config::testing
