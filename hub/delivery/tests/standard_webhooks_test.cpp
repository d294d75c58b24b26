#include "delivery/standard_webhooks.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace schakel::delivery {
namespace {

// Vectors computed independently with the openssl CLI:
//   printf '%s' "$id.$ts.$body" | openssl dgst -sha256 -mac HMAC -macopt hexkey:<key hex> -binary | base64
constexpr std::string_view spec_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view spec_id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t spec_ts = 1614265330;
constexpr std::string_view spec_body = R"({"test": 2432232314})";
constexpr std::string_view spec_signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

// Key bytes "schakel-test-key-0123456789abcdef".
constexpr std::string_view own_secret = "whsec_c2NoYWtlbC10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGVm";

signing_key spec_key() {
  auto k = signing_key::parse(spec_secret);
  EXPECT_TRUE(k.has_value());
  return *k;
}

TEST(standard_webhooks, signs_the_published_vector) {
  EXPECT_EQ(sign(spec_key(), spec_id, spec_ts, spec_body), spec_signature);
}

TEST(standard_webhooks, signs_a_second_independent_vector) {
  auto key = signing_key::parse(own_secret);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->bytes(), "schakel-test-key-0123456789abcdef");
  EXPECT_EQ(sign(*key, "msg_01JDZ3K7Q8", 1764324001, R"({"specversion":"1.0","id":"x"})"),
            "v1,JoE2fXLsAv1TMN+4aKk30IQ6L/pxWsLMWS4Vwn61Yww=");
}

TEST(standard_webhooks, verifies_the_published_vector) {
  EXPECT_EQ(verify(spec_key(), spec_id, "1614265330", spec_body, spec_signature, spec_ts), verify_result::ok);
}

TEST(standard_webhooks, accepts_any_matching_entry_of_a_list) {
  const std::string header =
      "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1a,ignored " + std::string(spec_signature);
  EXPECT_EQ(verify(spec_key(), spec_id, "1614265330", spec_body, header, spec_ts), verify_result::ok);
}

TEST(standard_webhooks, rejects_tampering) {
  const auto key = spec_key();
  EXPECT_EQ(verify(key, spec_id, "1614265330", R"({"test": 2432232315})", spec_signature, spec_ts),
            verify_result::mismatch);
  EXPECT_EQ(verify(key, "msg_other", "1614265330", spec_body, spec_signature, spec_ts), verify_result::mismatch);
  EXPECT_EQ(verify(key, spec_id, "1614265331", spec_body, spec_signature, spec_ts), verify_result::mismatch);
  std::string flipped(spec_signature);
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify(key, spec_id, "1614265330", spec_body, flipped, spec_ts), verify_result::mismatch);
  auto other = signing_key::parse(own_secret);
  ASSERT_TRUE(other);
  EXPECT_EQ(verify(*other, spec_id, "1614265330", spec_body, spec_signature, spec_ts), verify_result::mismatch);
}

TEST(standard_webhooks, rejects_stale_future_and_malformed_timestamps) {
  const auto key = spec_key();
  EXPECT_EQ(verify(key, spec_id, "1614265330", spec_body, spec_signature, spec_ts + 301),
            verify_result::timestamp_out_of_tolerance);
  EXPECT_EQ(verify(key, spec_id, "1614265330", spec_body, spec_signature, spec_ts - 301),
            verify_result::timestamp_out_of_tolerance);
  EXPECT_EQ(verify(key, spec_id, "1614265330", spec_body, spec_signature, spec_ts + 300), verify_result::ok);
  EXPECT_EQ(verify(key, spec_id, "16142653x0", spec_body, spec_signature, spec_ts), verify_result::bad_timestamp);
  EXPECT_EQ(verify(key, spec_id, "", spec_body, spec_signature, spec_ts), verify_result::bad_timestamp);
}

TEST(standard_webhooks, reports_headers_without_v1) {
  EXPECT_EQ(verify(spec_key(), spec_id, "1614265330", spec_body, "v2,abc", spec_ts), verify_result::no_v1_signature);
  EXPECT_EQ(verify(spec_key(), spec_id, "1614265330", spec_body, "", spec_ts), verify_result::no_v1_signature);
}

TEST(standard_webhooks, a_secret_without_prefix_is_used_as_raw_key_bytes) {
  auto raw = signing_key::parse("plain-secret-of-24-bytes!");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->bytes(), "plain-secret-of-24-bytes!");
  auto same = signing_key::parse("whsec_" + base64_encode("plain-secret-of-24-bytes!"));
  ASSERT_TRUE(same);
  EXPECT_EQ(sign(*raw, "msg_1", 1700000000, "{}"), sign(*same, "msg_1", 1700000000, "{}"));
}

TEST(standard_webhooks, refuses_bad_secrets) {
  secret_error err{};
  EXPECT_FALSE(signing_key::parse("", &err));
  EXPECT_EQ(err, secret_error::empty_key);
  EXPECT_FALSE(signing_key::parse("whsec_not*base64!", &err));
  EXPECT_EQ(err, secret_error::invalid_base64);
  EXPECT_FALSE(signing_key::parse("whsec_abc", &err));  // length not a multiple of 4
  EXPECT_EQ(err, secret_error::invalid_base64);
  EXPECT_FALSE(signing_key::parse("whsec_", &err));
  EXPECT_EQ(err, secret_error::empty_key);
  EXPECT_EQ(to_string(secret_error::invalid_base64).find("MfKQ"), std::string_view::npos);
}

TEST(standard_webhooks, base64_round_trips_all_padding_lengths) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    const auto enc = base64_encode(s);
    EXPECT_EQ(enc.size() % 4, 0u);
    auto dec = base64_decode(enc);
    ASSERT_TRUE(dec) << enc;
    EXPECT_EQ(*dec, s);
  }
  EXPECT_EQ(base64_encode("ab"), "YWI=");
  EXPECT_FALSE(base64_decode("YW=I"));
  EXPECT_FALSE(base64_decode("Y==="));
}

}  // namespace
}  // namespace schakel::delivery
