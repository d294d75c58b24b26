// Every configuration a deployer may copy is one `schakel check-config` accepts: each example in
// deploy/examples, and each YAML block of docs/*.md and of every README, merged into the example
// configuration it belongs to. A block the test cannot place fails it: none is skipped.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "example_env.hpp"
#include "hub_fixture.hpp"

namespace schakel::test {
namespace fs = std::filesystem;
namespace {

using namespace std::chrono_literals;

const fs::path source_dir = SCHAKEL_SOURCE_DIR;
const fs::path examples_dir = source_dir / "deploy" / "examples";

struct doc_block {
  fs::path file;  ///< relative to the source directory
  int line = 0;   ///< of the opening fence
  std::string text;
};

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/** The ```yaml blocks of a Markdown file, with the fence's indentation removed (blocks inside lists). */
std::vector<doc_block> yaml_blocks(const fs::path& relative) {
  std::vector<doc_block> out;
  std::ifstream in(source_dir / relative);
  static const std::regex open(R"(^(\s*)```\s*ya?ml\s*$)");
  static const std::regex close(R"(^\s*```\s*$)");
  std::string line;
  int n = 0;
  std::optional<doc_block> current;
  std::size_t indent = 0;
  std::smatch m;
  while (std::getline(in, line)) {
    ++n;
    if (!current && std::regex_match(line, m, open)) {
      current = doc_block{relative, n, ""};
      indent = m[1].length();
    } else if (current && std::regex_match(line, close)) {
      out.push_back(std::move(*current));
      current.reset();
    } else if (current) {
      current->text += (line.size() >= indent ? line.substr(indent) : std::string()) + "\n";
    }
  }
  return out;
}

/** The Markdown files of docs/ and every README.md of the repository (build trees and dependencies left out). */
std::vector<fs::path> documents() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(source_dir / "docs"))
    if (e.path().extension() == ".md") out.push_back(fs::relative(e.path(), source_dir));
  for (auto it = fs::recursive_directory_iterator(source_dir); it != fs::recursive_directory_iterator(); ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() && (name.starts_with("build") || name.starts_with(".") || name == "node_modules")) {
      it.disable_recursion_pending();
      continue;
    }
    if (name == "README.md") out.push_back(fs::relative(it->path(), source_dir));
  }
  std::sort(out.begin(), out.end());
  return out;
}

/**
 * The example configuration each document's blocks belong to ("file#n" names the n-th block of a file
 * when it differs from the file's). A document with YAML blocks missing here fails the test.
 */
const std::map<std::string, std::string> base_of = {
    {"docs/calendars.md", "attendance.yaml"},
    {"docs/access.md", "quickstart.yaml"},
    {"docs/configuration.md", "quickstart.yaml"},
    {"docs/privacy.md", "quickstart.yaml"},
    {"docs/privacy.md#2", "jgz.yaml"},
    {"docs/rules.md", "attendance.yaml"},
    {"docs/storage.md", "quickstart.yaml"},
    {"docs/trends.md", "regional.yaml"},
    {"connectors/attendance/README.md", "attendance.yaml"},
    {"connectors/generic-json/README.md", "quickstart.yaml"},
    {"connectors/jgz-fhir/README.md", "jgz.yaml"},
    {"connectors/observations/README.md", "tracking.yaml"},
    {"connectors/tracking/README.md", "tracking.yaml"},
    {"plugins/match-detection/README.md", "tracking.yaml"},
    {"deploy/examples/calendars/README.md", "attendance.yaml"},
};

/** The plugin whose `settings` a bare settings block of a document shows. */
std::string settings_plugin_of(const fs::path& file) {
  const auto parts = std::vector<fs::path>(file.begin(), file.end());
  if (parts.size() == 3 && (parts[0] == "connectors" || parts[0] == "plugins")) return parts[1].string();
  if (file == "docs/rules.md") return "attendance-rules";
  return "";
}

/**
 * Maps merge key by key; lists of named items merge item by name (new names are appended). A plugin's
 * `settings` are one whole: a document's settings replace the base's.
 */
void merge(YAML::Node base, const YAML::Node& fragment) {
  for (const auto& kv : fragment) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node value = kv.second;
    YAML::Node target = base[key];
    if (key == "settings") {
      base[key] = value;
    } else if (value.IsMap() && target.IsMap()) {
      merge(target, value);
    } else if (value.IsSequence() && target.IsSequence() && value.size() > 0 && value[0].IsMap() && value[0]["name"]) {
      for (const auto& item : value) {
        bool merged = false;
        for (auto existing : target) {
          if (existing["name"] && existing["name"].as<std::string>() == item["name"].as<std::string>()) {
            merge(existing, item);
            merged = true;
          }
        }
        if (!merged) target.push_back(item);
      }
    } else {
      base[key] = value;
    }
  }
}

/** The configuration's top-level keys, as the schema lists them (a new section needs no edit here). */
const std::set<std::string> top_level_keys = [] {
  std::set<std::string> keys;
  std::ifstream in(source_dir / "schemas" / "config.v1.schema.json");
  const auto schema = nlohmann::json::parse(in);  // named: items() would outlive a temporary
  for (const auto& [key, value] : schema.at("properties").items()) keys.insert(key);
  return keys;
}();

/**
 * Places `fragment` in `base`: a whole or partial configuration at the top; a `settings` block, or in
 * a plugin's own document a block of settings keys, as the settings of the first instance of that
 * plugin; a subscription's `privacy` policy (it has `identity`) in the base's first subscription.
 * "" when placed, otherwise why not.
 */
std::string place(YAML::Node base, const YAML::Node& fragment, const fs::path& file) {
  if (!fragment.IsMap() || fragment.size() == 0) return "not a YAML mapping";
  const bool top_level = std::all_of(fragment.begin(), fragment.end(), [](const auto& kv) {
    return top_level_keys.count(kv.first.template as<std::string>()) > 0;
  });
  const std::string plugin = settings_plugin_of(file);
  const bool settings_block = fragment.size() == 1 && fragment["settings"];
  if (settings_block || (!top_level && !plugin.empty())) {
    if (plugin.empty()) return "a settings block in a document that belongs to no plugin";
    for (const char* section : {"connectors", "processors"}) {
      for (auto instance : base[section]) {
        if (instance["plugin"].as<std::string>() != plugin) continue;
        instance["settings"] = settings_block ? fragment["settings"] : fragment;
        return "";
      }
    }
    return "the base example has no instance of plugin " + plugin;
  }
  if (fragment.size() == 1 && fragment["privacy"] && fragment["privacy"]["identity"]) {
    if (!base["subscriptions"] || base["subscriptions"].size() == 0) return "the base example has no subscription";
    YAML::Node first = base["subscriptions"][0];
    merge(first, fragment);
    return "";
  }
  if (!top_level) return "its keys are neither top-level keys nor settings of the document's plugin";
  merge(base, fragment);
  // Paths of the machine the document was written for: the test's binary finds its own plugins.
  base.remove("plugin_dir");
  return "";
}

/**
 * Writes `node` as YAML, double-quoting every scalar that was quoted in the source (yaml-cpp tags
 * those "!"): "true" or "1" written as plain scalars would come back as a boolean or a number.
 */
void emit(YAML::Emitter& out, const YAML::Node& node) {
  if (node.IsMap()) {
    out << YAML::BeginMap;
    for (const auto& kv : node) {
      out << YAML::Key;
      emit(out, kv.first);
      out << YAML::Value;
      emit(out, kv.second);
    }
    out << YAML::EndMap;
  } else if (node.IsSequence()) {
    out << YAML::BeginSeq;
    for (const auto& item : node) emit(out, item);
    out << YAML::EndSeq;
  } else if (node.IsScalar()) {
    if (node.Tag() == "!") out << YAML::DoubleQuoted;
    out << node.Scalar();
  } else {
    out << YAML::Null;
  }
}

/** Runs check-config on `config`; "" when it accepts it, else its output. */
std::string check_config(const fs::path& config, const std::vector<std::pair<std::string, std::string>>& env,
                         const fs::path& log) {
  fs::remove(log);
  auto c = child_process::spawn({SCHAKEL_BIN, "check-config", config.string()}, env, log);
  const auto code = c.wait_for_exit(30s);
  if (code == 0) return "";
  return "exit " + (code ? std::to_string(*code) : std::string("(timeout)")) + "\n" + read_text(log);
}

/** A folder that stands in for deploy/examples: the example's relative files (calendars, exports) linked in. */
fs::path example_like_dir(const fs::path& root) {
  const fs::path dir = root / "config";
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(examples_dir))
    if (e.path().extension() != ".yaml") fs::create_symlink(e.path(), dir / e.path().filename());
  return dir;
}

TEST(config_docs, every_example_passes_check_config) {
  temp_dir dir{"schakel-docs"};
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(examples_dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++checked;
    const auto env = example_environment(entry.path(), dir.path());
    EXPECT_EQ(check_config(entry.path(), env, dir / "check.log"), "") << entry.path();
  }
  EXPECT_GE(checked, 5);
  std::cout << "check-config accepted " << checked << " example configuration(s)\n";
}

TEST(config_docs, every_yaml_block_of_the_docs_passes_check_config) {
  temp_dir dir{"schakel-docs"};
  const fs::path config_dir = example_like_dir(dir.path());
  int found = 0;
  int checked = 0;
  for (const auto& doc : documents()) {
    const auto blocks = yaml_blocks(doc);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      ++found;
      const auto& block = blocks[i];
      const std::string where = block.file.string() + ":" + std::to_string(block.line);
      auto base_it = base_of.find(doc.string() + "#" + std::to_string(i + 1));
      if (base_it == base_of.end()) base_it = base_of.find(doc.string());
      if (base_it == base_of.end()) {
        ADD_FAILURE() << where << ": no base example for this document's YAML blocks (add it to base_of)";
        continue;
      }
      YAML::Node fragment;
      try {
        fragment = YAML::Load(block.text);
      } catch (const YAML::Exception& e) {
        ADD_FAILURE() << where << ": not YAML: " << e.what();
        continue;
      }
      const fs::path base_file = examples_dir / base_it->second;
      YAML::Node base = YAML::LoadFile(base_file.string());
      if (const std::string why = place(base, fragment, doc); !why.empty()) {
        ADD_FAILURE() << where << ": cannot be checked: " << why;
        continue;
      }
      const fs::path merged = config_dir / ("block-" + std::to_string(found) + ".yaml");
      YAML::Emitter out;
      emit(out, base);
      std::ofstream(merged) << out.c_str() << "\n";
      auto env = example_environment(base_file, dir.path());
      for (auto& var : referenced_environment(block.text, dir.path())) env.push_back(std::move(var));
      const std::string problem = check_config(merged, env, dir / "check.log");
      EXPECT_EQ(problem, "") << where << " (merged into " << base_it->second << "):\n" << out.c_str();
      if (problem.empty()) ++checked;
    }
  }
  // The extractor must have found the blocks the documents are known to hold.
  EXPECT_GE(found, 14);
  EXPECT_EQ(checked, found);
  std::cout << "check-config accepted " << checked << " of " << found << " documentation block(s)\n";
}

}  // namespace
}  // namespace schakel::test
