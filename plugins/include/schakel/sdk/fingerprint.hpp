#pragma once
/**
 * A short, stable, non-cryptographic fingerprint: processors compare an alert with the one they sent
 * before (same fingerprint, nothing new to say) and shorten over-long keys. Not for anything an
 * adversary chooses to collide.
 */
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace schakel::sdk {

/** 16 lowercase hex digits of FNV-1a 64 over `text`. */
inline std::string fnv1a_hex(std::string_view text) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace schakel::sdk
