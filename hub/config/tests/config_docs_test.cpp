// docs/configuration.md against the configuration schema the binary enforces: every key the tables
// document exists in the schema, and every key the schema accepts is documented (itself, or through
// the row of an enclosing or enclosed key). Deployers type keys from that page; one that drifted
// from the code is refused at start with "unknown key", or never learnt of at all.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  EXPECT_TRUE(in.good()) << p;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class config_docs : public testing::Test {
 protected:
  void SetUp() override {
    schema_ = json::parse(read_file(fs::path(SCHAKEL_SOURCE_DIR) / "schemas/config.v1.schema.json"));
    documented_ = documented_keys(read_file(fs::path(SCHAKEL_SOURCE_DIR) / "docs/configuration.md"));
  }

  /** Key paths in the first column of the "## Keys" tables, with `connectors[].` etc. as prefixes. */
  static std::set<std::string> documented_keys(const std::string& md) {
    std::set<std::string> keys;
    std::istringstream lines(md);
    std::string line, prefix;
    bool in_keys = false;
    const std::regex section(R"(^### `([a-z_]+)\[\]`)");
    const std::regex row(R"(^\| `([a-z_.\[\]]+)`)");
    std::smatch m;
    while (std::getline(lines, line)) {
      if (line.rfind("## ", 0) == 0) {
        in_keys = line == "## Keys";
        prefix.clear();
        continue;
      }
      if (!in_keys) continue;
      if (line.rfind("### ", 0) == 0) {
        if (line == "### Top level")
          prefix.clear();
        else
          prefix = std::regex_search(line, m, section) ? m[1].str() + "[]." : std::string("?");
        continue;
      }
      if (std::regex_search(line, m, row) && prefix != "?") keys.insert(prefix + m[1].str());
    }
    return keys;
  }

  /** The schema node a key path names, following $ref; nullptr when the schema has no such key. */
  const json* resolve(const std::string& path) const {
    const json* node = &schema_;
    std::string segment;
    std::istringstream parts(path);
    while (std::getline(parts, segment, '.')) {
      bool array = segment.size() > 2 && segment.compare(segment.size() - 2, 2, "[]") == 0;
      if (array) segment.resize(segment.size() - 2);
      node = deref(node);
      if (!node->contains("properties") || !(*node)["properties"].contains(segment)) return nullptr;
      node = deref(&(*node)["properties"][segment]);
      if (array) {
        if (!node->contains("items")) return nullptr;
        node = deref(&(*node)["items"]);
      }
    }
    return node;
  }

  const json* deref(const json* node) const {
    while (node->contains("$ref")) {
      const std::string ref = (*node)["$ref"];
      node = &schema_.at(json::json_pointer(ref.substr(1)));
    }
    return node;
  }

  /** Every key path the schema accepts, arrays of objects written `name[]`, free-form maps not entered. */
  void collect(const json& node_in, const std::string& prefix, std::vector<std::string>& out) const {
    const json& node = *deref(&node_in);
    if (!node.contains("properties")) return;
    for (const auto& [key, child_in] : node["properties"].items()) {
      const json& child = *deref(&child_in);
      const std::string path = prefix + key;
      out.push_back(path);
      if (child.contains("items") && deref(&child["items"])->contains("properties")) {
        collect(child["items"], path + "[].", out);
      } else {
        collect(child, path + ".", out);
      }
    }
  }

  static std::string strip_arrays(std::string s) {
    for (auto at = s.find("[]"); at != std::string::npos; at = s.find("[]")) s.erase(at, 2);
    return s;
  }

  json schema_;
  std::set<std::string> documented_;
};

TEST_F(config_docs, every_documented_key_exists_in_the_schema) {
  ASSERT_GT(documented_.size(), 40u) << "the tables were not found: did docs/configuration.md change shape?";
  for (const auto& key : documented_)
    EXPECT_NE(resolve(key), nullptr) << "docs/configuration.md documents `" << key
                                     << "`, which the schema does not accept";
}

TEST_F(config_docs, every_key_the_schema_accepts_is_documented) {
  std::vector<std::string> accepted;
  collect(schema_, "", accepted);
  ASSERT_GT(accepted.size(), 40u);
  std::set<std::string> documented;
  for (const auto& d : documented_) documented.insert(strip_arrays(d));
  for (const auto& raw : accepted) {
    const std::string key = strip_arrays(raw);
    bool covered = documented.count(key) > 0;
    for (const auto& d : documented) {
      // A row for `trends` covers its sub-keys (described in that row); rows for `listen.tls.cert_file`
      // cover `listen` and `listen.tls`.
      if (key.rfind(d + ".", 0) == 0 || d.rfind(key + ".", 0) == 0) covered = true;
    }
    EXPECT_TRUE(covered) << "the schema accepts `" << raw << "`, which docs/configuration.md does not document";
  }
}

}  // namespace
