#include "delivery/standard_webhooks.hpp"

#include <charconv>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace schakel::delivery {

namespace {

constexpr std::string_view secret_prefix = "whsec_";

// HMAC-SHA256(key, id "." ts "." body) into `out` (32 bytes). One-shot HMAC() would need the
// message concatenated; feeding the three parts avoids copying a 100 KiB body.
bool hmac_sha256(const std::string& key, std::string_view id, std::string_view ts, std::string_view body,
                 unsigned char (&out)[32]) {
  // Fetching the algorithm is a provider lookup; do it once. EVP_MAC objects are immutable and
  // shareable across threads.
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return false;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  bool ok = false;
  if (ctx != nullptr) {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
    size_t len = 0;
    ok = EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) == 1 &&
         EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(id.data()), id.size()) == 1 &&
         EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>("."), 1) == 1 &&
         EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(ts.data()), ts.size()) == 1 &&
         EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>("."), 1) == 1 &&
         EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(body.data()), body.size()) == 1 &&
         EVP_MAC_final(ctx, out, &len, sizeof out) == 1 && len == sizeof out;
    EVP_MAC_CTX_free(ctx);
  }
  return ok;
}

}  // namespace

std::string_view to_string(secret_error e) {
  switch (e) {
    case secret_error::invalid_base64:
      return "secret is not valid base64 after \"whsec_\"";
    case secret_error::empty_key:
      return "secret key is empty";
  }
  return "unknown secret error";
}

std::string_view to_string(verify_result r) {
  switch (r) {
    case verify_result::ok:
      return "ok";
    case verify_result::bad_timestamp:
      return "webhook-timestamp is not an integer";
    case verify_result::timestamp_out_of_tolerance:
      return "webhook-timestamp outside tolerance";
    case verify_result::no_v1_signature:
      return "no v1 signature in webhook-signature";
    case verify_result::mismatch:
      return "signature mismatch";
  }
  return "unknown verify result";
}

std::optional<signing_key> signing_key::parse(std::string_view secret, secret_error* err) {
  auto fail = [&](secret_error e) {
    if (err != nullptr) *err = e;
    return std::optional<signing_key>{};
  };
  if (secret.substr(0, secret_prefix.size()) != secret_prefix) {
    // Not in the Standard Webhooks form: the value itself is the key (the deployment convention lets
    // a secret be any value of 24+ bytes; the config loader enforces the length).
    if (secret.empty()) return fail(secret_error::empty_key);
    return signing_key(std::string(secret));
  }
  auto key = base64_decode(secret.substr(secret_prefix.size()));
  if (!key) return fail(secret_error::invalid_base64);
  if (key->empty()) return fail(secret_error::empty_key);
  return signing_key(std::move(*key));
}

signing_key signing_key::from_bytes(std::string bytes) {
  return signing_key(std::move(bytes));
}

signing_key::~signing_key() {
  if (!key_.empty()) OPENSSL_cleanse(key_.data(), key_.size());
}

std::string sign(const signing_key& key, std::string_view webhook_id, std::int64_t timestamp_s, std::string_view body) {
  char ts[24];
  const auto [end, ec] = std::to_chars(ts, ts + sizeof ts, timestamp_s);
  unsigned char mac[32];
  if (ec != std::errc{} || !hmac_sha256(key.bytes(), webhook_id, std::string_view(ts, end - ts), body, mac)) return {};
  std::string out = "v1,";
  out += base64_encode(std::string_view(reinterpret_cast<const char*>(mac), sizeof mac));
  return out;
}

verify_result verify(const signing_key& key, std::string_view webhook_id, std::string_view timestamp,
                     std::string_view body, std::string_view signature_header, std::int64_t now_s,
                     std::chrono::seconds tolerance) {
  std::int64_t ts = 0;
  const auto [ptr, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (timestamp.empty() || ec != std::errc{} || ptr != timestamp.data() + timestamp.size()) {
    return verify_result::bad_timestamp;
  }
  const std::int64_t skew = ts > now_s ? ts - now_s : now_s - ts;
  if (skew > tolerance.count()) return verify_result::timestamp_out_of_tolerance;

  unsigned char mac[32];
  if (!hmac_sha256(key.bytes(), webhook_id, timestamp, body, mac)) return verify_result::mismatch;
  const std::string expected = base64_encode(std::string_view(reinterpret_cast<const char*>(mac), sizeof mac));

  bool any_v1 = false;
  bool match = false;
  std::size_t pos = 0;
  while (pos < signature_header.size()) {
    std::size_t end = signature_header.find(' ', pos);
    if (end == std::string_view::npos) end = signature_header.size();
    const std::string_view entry = signature_header.substr(pos, end - pos);
    pos = end + 1;
    if (entry.substr(0, 3) != "v1,") continue;
    any_v1 = true;
    const std::string_view candidate = entry.substr(3);
    // Every v1 entry is compared fully (no early exit) so timing reveals nothing about which matched.
    if (candidate.size() == expected.size() && CRYPTO_memcmp(candidate.data(), expected.data(), expected.size()) == 0) {
      match = true;
    }
  }
  if (!any_v1) return verify_result::no_v1_signature;
  return match ? verify_result::ok : verify_result::mismatch;
}

}  // namespace schakel::delivery
