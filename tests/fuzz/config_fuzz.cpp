// libFuzzer target: load_config_text on arbitrary bytes must never crash, hang or leak; a
// config_error is the expected answer to nearly every input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)schakel::config::load_config_text(text, "fuzz.yaml");
  } catch (const schakel::config::config_error&) {
    // Refusing bad configuration is the loader's job.
  }
  return 0;
}
