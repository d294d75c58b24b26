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

TEST(encoding, sha256_is_the_fips_180_digest_in_hex) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
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
