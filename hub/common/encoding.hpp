#pragma once
/** Byte encodings the hub shares (webhook secrets, key files). */
#include <optional>
#include <string>
#include <string_view>

namespace schakel::encoding {

/** Lowercase hexadecimal, two digits a byte (digests, keys, tokens). */
std::string hex_encode(std::string_view bytes);

/** SHA-256 of `bytes`: the 32 raw bytes (token digests compared in constant time); "" only if OpenSSL fails. */
std::string sha256(std::string_view bytes);
/** SHA-256 of `bytes` in lowercase hex (64 digits); "" only if OpenSSL fails. */
std::string sha256_hex(std::string_view bytes);

/** Standard base64 (with padding) via OpenSSL EVP. */
std::string base64_encode(std::string_view bytes);
/** Strict standard base64 decode; nullopt on any invalid character or length. */
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace schakel::encoding
