#include "common/encoding.hpp"

#include <string>

#include <gtest/gtest.h>

namespace schakel::encoding {
namespace {

// RFC 4648 section 10 test vectors.
TEST(encoding, hex_is_lowercase_base16) {
  EXPECT_EQ(hex_encode(""), "");
  EXPECT_EQ(hex_encode("f"), "66");
  EXPECT_EQ(hex_encode("foobar"), "666f6f626172");
  EXPECT_EQ(hex_encode(std::string("\x00\x0f\xa0\xff", 4)), "000fa0ff");
}

TEST(encoding, base64_round_trips_and_refuses_malformed_text) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zm9vYg=="), std::optional<std::string>("foob"));
  EXPECT_EQ(base64_decode("Zm9vYg="), std::nullopt);   // length not a multiple of 4
  EXPECT_EQ(base64_decode("Zm9v=mFy"), std::nullopt);  // padding inside
  EXPECT_EQ(base64_decode("Zm9v YmF"), std::nullopt);  // not in the alphabet
}

}  // namespace
}  // namespace schakel::encoding
