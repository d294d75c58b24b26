#include "privacy/hub_ids.hpp"

#include <gtest/gtest.h>

namespace schakel::privacy {
namespace {

using json = nlohmann::json;

constexpr const char* alert_id = "01JDZ3K7Q8M2X4V6N8P0R2T4W6";
constexpr const char* other_id = "01JDZ3K7Q8M2X4V6N8P0R2T4W7";

std::string tag(std::string_view id) {
  return "own-" + std::string(id.substr(22));
}

TEST(hub_ids, a_hub_id_is_exactly_a_ulid) {
  EXPECT_TRUE(is_hub_id(alert_id));
  EXPECT_TRUE(is_hub_id("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"));
  EXPECT_FALSE(is_hub_id("8ZZZZZZZZZZZZZZZZZZZZZZZZZ")) << "beyond 128 bits";
  EXPECT_FALSE(is_hub_id("01JDZ3K7Q8M2X4V6N8P0R2T4W")) << "25 characters";
  EXPECT_FALSE(is_hub_id("01JDZ3K7Q8M2X4V6N8P0R2T4W66")) << "27 characters";
  EXPECT_FALSE(is_hub_id("01jdz3k7q8m2x4v6n8p0r2t4w6")) << "lower case is not how the hub writes them";
  EXPECT_FALSE(is_hub_id("01JDZ3K7Q8M2X4V6N8P0R2T4WU")) << "U is not Crockford";
  EXPECT_FALSE(is_hub_id(""));
}

TEST(hub_ids, ids_are_found_as_whole_tokens_anywhere_in_a_text) {
  const std::string id = alert_id;
  EXPECT_EQ(replace_hub_ids(id, tag), "own-T4W6");
  EXPECT_EQ(replace_hub_ids("msg_" + id + "_1a2b3c4d", tag), "msg_own-T4W6_1a2b3c4d");
  EXPECT_EQ(replace_hub_ids(id + ":2026-11-23 and " + std::string(other_id), tag), "own-T4W6:2026-11-23 and own-T4W7");
  EXPECT_EQ(replace_hub_ids("X" + id, tag), "X" + id) << "a longer run is not an id";
  EXPECT_EQ(replace_hub_ids("S-000123 zat in de kantine", tag), "S-000123 zat in de kantine");
  EXPECT_EQ(replace_hub_ids("", tag), "");
}

TEST(hub_ids, every_string_value_and_key_at_any_depth_is_rewritten_and_nothing_else) {
  json doc = {{"id", alert_id},
              {"content", {{"evidence", {{"retracts", alert_id}, {"alert", other_id}, {"count", 4}}}}},
              {"derived_from", {alert_id, other_id}},
              {"nested", {{{"deep", {{"list", {std::string("see ") + alert_id}}}}}}},
              {std::string(other_id), true},
              {"plain", "S-000123"},
              {"number", 12345678901234567}};
  replace_hub_ids(doc, tag);
  const std::string text = doc.dump();
  EXPECT_EQ(text.find(alert_id), std::string::npos) << text;
  EXPECT_EQ(text.find(other_id), std::string::npos) << text;
  EXPECT_EQ(doc["id"], "own-T4W6");
  EXPECT_EQ(doc["content"]["evidence"]["retracts"], doc["id"]) << "the same id maps to the same stand-in";
  EXPECT_EQ(doc["content"]["evidence"]["alert"], "own-T4W7");
  EXPECT_EQ(doc["content"]["evidence"]["count"], 4);
  EXPECT_EQ(doc["derived_from"], json({"own-T4W6", "own-T4W7"}));
  EXPECT_EQ(doc["nested"][0]["deep"]["list"][0], "see own-T4W6");
  EXPECT_TRUE(doc.contains("own-T4W7"));
  EXPECT_EQ(doc["plain"], "S-000123");
  EXPECT_EQ(doc["number"], 12345678901234567);
}

}  // namespace
}  // namespace schakel::privacy
