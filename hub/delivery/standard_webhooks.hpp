#pragma once
/**
 * Standard Webhooks v1 signatures (https://www.standardwebhooks.com/): HMAC-SHA256 over
 * "<webhook-id>.<webhook-timestamp>.<body>", sent as "v1,<base64>" in `webhook-signature`.
 *
 * The secret ("whsec_" + base64 key) is parsed once into a `signing_key`; signing and verifying
 * never throw and never allocate more than the signature text, so they are fit for the hot path.
 */
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/encoding.hpp"

namespace schakel::delivery {

/** Why a secret could not be parsed; the message never repeats the secret itself. */
enum class secret_error { invalid_base64, empty_key };
std::string_view to_string(secret_error e);

/** A decoded HMAC key. Copyable, immutable; the key bytes are wiped on destruction. */
class signing_key {
 public:
  /**
   * Parses "whsec_<base64>" (the Standard Webhooks form) or, without that prefix, takes the value's
   * bytes as the key. Returns nullopt and sets `err` when the base64 is invalid or the key is empty.
   */
  static std::optional<signing_key> parse(std::string_view secret, secret_error* err = nullptr);
  /** A key from raw bytes (tests, or secrets stored without the prefix). */
  static signing_key from_bytes(std::string bytes);

  signing_key(const signing_key&) = default;
  signing_key(signing_key&&) noexcept = default;
  signing_key& operator=(const signing_key&) = default;
  signing_key& operator=(signing_key&&) noexcept = default;
  ~signing_key();

  const std::string& bytes() const { return key_; }

 private:
  explicit signing_key(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

/** The header value "v1,<base64(HMAC-SHA256(key, id.timestamp.body))>". */
std::string sign(const signing_key& key, std::string_view webhook_id, std::int64_t timestamp_s, std::string_view body);

/** Outcome of `verify`; `ok` is the only success. */
enum class verify_result { ok, bad_timestamp, timestamp_out_of_tolerance, no_v1_signature, mismatch };
std::string_view to_string(verify_result r);

/**
 * Checks a `webhook-signature` header (space-separated "v1,<b64>" entries; other versions are
 * ignored) against the body. Compares in constant time. `timestamp` is the raw `webhook-timestamp`
 * header (integer seconds) and must lie within `tolerance` of `now_s` either way, against replays.
 */
verify_result verify(const signing_key& key, std::string_view webhook_id, std::string_view timestamp,
                     std::string_view body, std::string_view signature_header, std::int64_t now_s,
                     std::chrono::seconds tolerance = std::chrono::seconds(300));

using encoding::base64_decode;
using encoding::base64_encode;

}  // namespace schakel::delivery
