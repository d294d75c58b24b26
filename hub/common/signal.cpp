#include "common/signal.hpp"

#include <array>
#include <ctime>
#include <mutex>

#include <openssl/rand.h>

namespace schakel {

std::optional<severity> parse_severity(std::string_view text) {
  if (text == "info") return severity::info;
  if (text == "attention") return severity::attention;
  if (text == "concern") return severity::concern;
  if (text == "urgent") return severity::urgent;
  return std::nullopt;
}

std::string_view to_string(severity s) {
  switch (s) {
    case severity::info:
      return "info";
    case severity::attention:
      return "attention";
    case severity::concern:
      return "concern";
    case severity::urgent:
      return "urgent";
  }
  return "info";
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_rfc3339(std::int64_t epoch_ms) {
  std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
  int millis = static_cast<int>(epoch_ms % 1000);
  if (millis < 0) {
    millis += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::string new_signal_id() {
  static constexpr char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  static std::mutex mutex;
  static std::int64_t last_ms = -1;
  static std::array<std::uint8_t, 10> last_random{};

  std::array<std::uint8_t, 16> bytes{};
  {
    std::lock_guard lock(mutex);
    std::int64_t ms = now_ms();
    if (ms <= last_ms) {
      // Same (or a backwards) millisecond: increment the random part so ids stay strictly ordered.
      ms = last_ms;
      for (int i = 9; i >= 0; --i) {
        if (++last_random[static_cast<std::size_t>(i)] != 0) break;
      }
    } else {
      last_ms = ms;
      if (RAND_bytes(last_random.data(), static_cast<int>(last_random.size())) != 1) {
        // Falling back to time-derived bytes keeps ids unique within this process (monotonic part).
        for (std::size_t i = 0; i < last_random.size(); ++i) last_random[i] = static_cast<std::uint8_t>(ms >> (i % 6));
      }
      last_random[0] &= 0x7f;  // headroom so increments within one millisecond cannot overflow
    }
    for (int i = 5; i >= 0; --i) {
      bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms & 0xff);
      ms >>= 8;
    }
    for (std::size_t i = 0; i < 10; ++i) bytes[6 + i] = last_random[i];
  }
  // 128 bits -> 26 base32 characters, most significant first (the first character carries 3 bits).
  std::string out(26, '0');
  unsigned __int128 v = 0;
  for (auto b : bytes) v = (v << 8) | b;
  for (int i = 25; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = alphabet[static_cast<unsigned>(v & 31)];
    v >>= 5;
  }
  return out;
}

}  // namespace schakel
