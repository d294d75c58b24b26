#include "schema/json_schema.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

#include "schema/embedded.hpp"

namespace schakel::schema {
namespace {

using json = nlohmann::json;

TEST(json_schema, joins_paths) {
  EXPECT_EQ(join_path("", "content"), "content");
  EXPECT_EQ(join_path("content", "severity"), "content.severity");
  EXPECT_EQ(join_path("derived_from", std::size_t{2}), "derived_from[2]");
  EXPECT_EQ(join_path("", std::size_t{0}), "[0]");
}

TEST(json_schema, embeds_both_schemas) {
  EXPECT_EQ(json::parse(embedded_signal_schema())["$id"], "https://schakel.nl/schemas/signal.v1.schema.json");
  EXPECT_EQ(json::parse(embedded_config_schema())["$id"], "https://schakel.nl/schemas/config.v1.schema.json");
}

TEST(json_schema, rejects_a_schema_that_is_not_json) {
  EXPECT_THROW(json_schema(std::string_view("{not json")), std::invalid_argument);
}

TEST(json_schema, tells_an_index_from_a_property_named_like_one) {
  const json_schema schema(json::parse(R"({
    "type": "object",
    "properties": {
      "list": {"type": "array", "items": {"type": "integer"}},
      "map": {"type": "object", "additionalProperties": {"type": "integer"}}
    }
  })"));
  const auto errors = schema.validate(json::parse(R"({"list": [1, "x"], "map": {"1": "y"}})"));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].path, "list[1]");
  EXPECT_EQ(errors[0].reason, "must be an integer");
  EXPECT_EQ(errors[1].path, "map.1");
}

TEST(json_schema, finds_the_subschema_for_a_location) {
  const json_schema schema(embedded_config_schema());
  const json doc = json::parse(R"({"connectors": [{"name": "a"}]})");
  const json* port = schema.subschema_for(doc, {"listen", "port"});
  ASSERT_NE(port, nullptr);
  EXPECT_EQ((*port)["type"], "integer");
  const json* name = schema.subschema_for(doc, {"connectors", "0", "name"});
  ASSERT_NE(name, nullptr);
  EXPECT_EQ((*name)["type"], "string");  // followed the $ref into definitions
  EXPECT_EQ(schema.subschema_for(doc, {"nope"}), nullptr);
}

TEST(json_schema, reports_exclusive_limits_and_item_counts) {
  const json_schema schema(json::parse(R"({
    "type": "object",
    "properties": {
      "n": {"type": "number", "exclusiveMinimum": 0},
      "a": {"type": "array", "minItems": 2}
    }
  })"));
  const auto errors = schema.validate(json::parse(R"({"n": 0, "a": [1]})"));
  ASSERT_EQ(errors.size(), 2u);
  // nlohmann::json keeps object keys sorted, so "a" is reported before "n".
  EXPECT_EQ(errors[0].path, "a");
  EXPECT_EQ(errors[0].reason, "must have at least 2 items");
  EXPECT_EQ(errors[1].path, "n");
  EXPECT_EQ(errors[1].reason, "must be greater than 0");
}

}  // namespace
}  // namespace schakel::schema

namespace schakel::schema {

// Regression (fuzz find in the config loader): valijson's UTF-8 length walk read past the end of a
// string ending in a truncated multi-byte sequence. Such strings are now refused before valijson.
TEST(json_schema_utf8, invalid_utf8_is_an_error_at_its_path_not_a_crash) {
  json_schema schema(
      nlohmann::json::parse(R"({"type":"object","properties":{"dir":{"type":"string","minLength":1}}})"));
  nlohmann::json doc = {{"dir", std::string("/\xef\xba")}};  // truncated 3-byte sequence
  EXPECT_FALSE(schema.is_valid(doc));
  auto errors = schema.validate(doc);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "dir");
  EXPECT_EQ(errors[0].reason, "is not valid UTF-8");
  EXPECT_TRUE(schema.is_valid(nlohmann::json{{"dir", "/caf\xc3\xa9"}}));
  EXPECT_FALSE(schema.is_valid(nlohmann::json{{"dir", std::string("\xc0\xaf")}}));      // overlong
  EXPECT_FALSE(schema.is_valid(nlohmann::json{{"dir", std::string("\xed\xa0\x80")}}));  // surrogate
}

}  // namespace schakel::schema
