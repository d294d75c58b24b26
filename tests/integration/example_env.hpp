#pragma once
/** The environment an example configuration needs, given by the convention its header documents. */
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "hub_fixture.hpp"

namespace schakel::test {

/**
 * A value for the SCHAKEL_* variable `name` by the examples' convention: *_URL a loopback URL, *_PORT a
 * port, *_DIR a folder, *_FILE a key file (32 bytes as hex, 0600), *_SECRET a webhook secret, anything
 * else a token.
 */
inline std::string example_value(const std::string& name, const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  if (name.ends_with("_URL")) return "http://127.0.0.1:9999/hook";
  if (name.ends_with("_PORT")) return "8080";
  if (name.ends_with("_DIR")) return (dir / name).string();
  if (name.ends_with("_SECRET")) return webhook_secret;
  if (name.ends_with("_FILE")) {
    const std::string file = (dir / name).string();
    std::ofstream(file) << "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
    return file;
  }
  return "a-secret-of-at-least-24-bytes-long-" + name;
}

/**
 * The SCHAKEL_* variables an example lists in its header comment, each given a value by the
 * convention. An example that uses a variable it does not list fails check-config.
 */
inline std::vector<std::pair<std::string, std::string>> example_environment(const std::filesystem::path& example,
                                                                            const std::filesystem::path& dir) {
  std::vector<std::pair<std::string, std::string>> env;
  std::ifstream in(example);
  std::string line;
  while (std::getline(in, line) && line.rfind("#", 0) == 0) {
    std::istringstream words(line.substr(1));
    std::string name;
    words >> name;
    if (name.rfind("SCHAKEL_", 0) != 0) continue;
    env.emplace_back(name, example_value(name, dir));
  }
  return env;
}

/** Every ${SCHAKEL_…} a text names, with a value by the convention (for documentation fragments). */
inline std::vector<std::pair<std::string, std::string>> referenced_environment(const std::string& text,
                                                                               const std::filesystem::path& dir) {
  std::vector<std::pair<std::string, std::string>> env;
  std::set<std::string> seen;
  static const std::regex var(R"(\$\{(SCHAKEL_[A-Z0-9_]+)\})");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), var); it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[1];
    if (seen.insert(name).second) env.emplace_back(name, example_value(name, dir));
  }
  return env;
}

}  // namespace schakel::test
