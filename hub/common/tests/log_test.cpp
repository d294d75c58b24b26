#include "common/log.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace schakel::log {
namespace {

// The config says `log_level: warn`; spdlog's own name for that level is "warning", which is what
// the lines used to carry, so a filter on the configured name found nothing.
TEST(log, lines_carry_the_level_names_the_config_uses) {
  for (level l : {level::debug, level::info, level::warn, level::error}) {
    level parsed = level::error;
    ASSERT_TRUE(parse_level(name(l), parsed)) << name(l);
    EXPECT_EQ(parsed, l);
  }
  level unused = level::info;
  EXPECT_FALSE(parse_level("warning", unused));

  set_level(level::debug);
  testing::internal::CaptureStderr();
  warn("test.warned", {{"n", 1}});
  error("test.failed");
  const std::string out = testing::internal::GetCapturedStderr();
  set_level(level::info);
  std::istringstream lines(out);
  std::string line;
  std::map<std::string, std::string> levels;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    levels[j.at("event").get<std::string>()] = j.at("level").get<std::string>();
  }
  EXPECT_EQ(levels["test.warned"], "warn") << out;
  EXPECT_EQ(levels["test.failed"], "error") << out;
}

// Every event name the hub logs follows docs/observability.md: dotted `area.event`, snake_case.
// The scan reads the sources themselves, so a new log line that breaks the rule fails here.
TEST(log, every_event_name_in_the_sources_follows_the_naming_rules) {
  namespace fs = std::filesystem;
  const std::regex call(R"(log::(debug|info|warn|error|write)\(\s*([a-z_:]+\s*,\s*)?\"([^\"]*)\")");
  const std::regex rule(R"(^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$)");
  std::size_t seen = 0;
  for (const char* top : {"hub", "connectors", "plugins", "bench"}) {
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(SCHAKEL_SOURCE_DIR) / top)) {
      const auto ext = entry.path().extension();
      if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".hpp")) continue;
      if (entry.path().string().find("/tests/") != std::string::npos) continue;
      std::ifstream in(entry.path());
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      for (std::sregex_iterator it(text.begin(), text.end(), call), end; it != end; ++it) {
        ++seen;
        const std::string event = (*it)[3];
        EXPECT_TRUE(std::regex_match(event, rule)) << entry.path() << ": log event \"" << event << "\"";
      }
    }
  }
  // The hub has about ninety log calls; far fewer means the scan stopped matching the calls.
  EXPECT_GT(seen, 80u);
}

// docs/observability.md lists every metric: an operator writes alerts from that table, so a series
// the hub registers but the page does not name is one nobody will watch.
TEST(log, the_observability_page_lists_every_metric_the_hub_registers) {
  namespace fs = std::filesystem;
  std::ifstream doc(fs::path(SCHAKEL_SOURCE_DIR) / "docs/observability.md");
  const std::string page((std::istreambuf_iterator<char>(doc)), std::istreambuf_iterator<char>());
  const std::regex registration(R"((get_counter|get_histogram|add_gauge)\(\s*\"(schakel_[a-z0-9_]+)\")");
  std::size_t seen = 0;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(SCHAKEL_SOURCE_DIR) / "hub")) {
    const auto ext = entry.path().extension();
    if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".hpp")) continue;
    if (entry.path().string().find("/tests/") != std::string::npos) continue;
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (std::sregex_iterator it(text.begin(), text.end(), registration), end; it != end; ++it) {
      ++seen;
      const std::string name = (*it)[2];
      EXPECT_NE(page.find("`" + name + "`"), std::string::npos)
          << entry.path() << " registers " << name << ", which docs/observability.md does not list";
    }
  }
  EXPECT_GT(seen, 15u);
}

}  // namespace
}  // namespace schakel::log
