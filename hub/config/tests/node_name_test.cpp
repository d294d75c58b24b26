// The node name: where it comes from and what it may be (docs/cluster.md, "Node names").
#include <unistd.h>

#include <array>

#include <gtest/gtest.h>

#include "config/config.hpp"

namespace schakel::config {
namespace {

const std::string base = "{\"data_dir\": \"/tmp/schakel-node-test/data\"}";

TEST(node_name, plain_short_names_pass_and_others_say_why) {
  for (const char* ok : {"hub-a", "web1.school.example", "N_2", "a"}) EXPECT_EQ(node_name_problem(ok), "") << ok;
  EXPECT_EQ(node_name_problem(std::string(64, 'n')), "");
  EXPECT_NE(node_name_problem(std::string(65, 'n')).find("longer than 64"), std::string::npos);
  EXPECT_NE(node_name_problem("").find("empty"), std::string::npos);
  for (const char* bad : {"two words", "a/b", "a\"b", "n\node", "caf\xc3\xa9", "a,b", "a=b"})
    EXPECT_NE(node_name_problem(bad).find("only letters"), std::string::npos) << bad;
}

TEST(node_name, the_flag_wins_then_the_config_then_the_host_name) {
  auto cfg = load_config_text(R"({"data_dir": "/tmp/d", "node": "from-config"})", "c.json");
  EXPECT_EQ(cfg.node, "from-config");
  EXPECT_EQ(settle_node_name(cfg, "from-flag"), "");
  EXPECT_EQ(cfg.node, "from-flag");

  cfg = load_config_text(R"({"data_dir": "/tmp/d", "node": "from-config"})", "c.json");
  EXPECT_EQ(settle_node_name(cfg, ""), "");
  EXPECT_EQ(cfg.node, "from-config");

  cfg = load_config_text(base, "c.json");
  EXPECT_TRUE(cfg.node.empty());
  std::array<char, 256> host{};
  ASSERT_EQ(::gethostname(host.data(), host.size() - 1), 0);
  const auto why = settle_node_name(cfg, "");
  if (node_name_problem(host.data()).empty()) {
    EXPECT_EQ(why, "");
    EXPECT_EQ(cfg.node, host.data());
  } else {
    EXPECT_NE(why.find("the host name"), std::string::npos) << why;
  }
}

TEST(node_name, a_bad_flag_names_the_flag_and_a_bad_config_value_is_a_schema_error) {
  auto cfg = load_config_text(base, "c.json");
  const auto why = settle_node_name(cfg, "two words");
  EXPECT_NE(why.find("--node \"two words\" cannot name this node"), std::string::npos) << why;
  try {
    load_config_text(R"({"data_dir": "/tmp/d", "node": "two words"})", "c.json");
    FAIL() << "a node name with a space was accepted";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("node"), std::string::npos) << e.what();
  }
}

TEST(node_name, audit_node_stays_apart_from_the_node_name) {
  const auto cfg = load_config_text(R"({"data_dir": "/tmp/d", "node": "hub-a", "audit": {"node": "old name"}})", "c");
  EXPECT_EQ(cfg.node, "hub-a");
  EXPECT_EQ(cfg.audit.node, "old name");
}

}  // namespace
}  // namespace schakel::config
