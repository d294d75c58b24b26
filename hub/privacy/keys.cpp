#include "privacy/keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <system_error>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/encoding.hpp"
#include "common/private_path.hpp"

namespace schakel::privacy {
namespace {

constexpr std::size_t min_key_bytes = 32;

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& why) {
  throw std::runtime_error(file.string() + ": " + why);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> decode_hex(std::string_view text) {
  if (text.empty() || text.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = hex_value(text[i]);
    const int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

/**
 * Text keys (hex, base64) are what people paste into files; anything else is taken as raw bytes.
 * Hex is tried first: a hex string is also valid base64 alphabet, and hex is what we write ourselves.
 */
std::string decode_key(const std::string& content) {
  std::string_view text = content;
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (auto hex = decode_hex(text)) return *std::move(hex);
  if (auto b64 = encoding::base64_decode(text)) return *std::move(b64);
  return content;
}

std::string base32_lower(const unsigned char* data, std::size_t size) {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out;
  out.reserve((size * 8 + 4) / 5);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < size; ++i) {
    acc = (acc << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(alphabet[(acc >> bits) & 0x1F]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(acc << (5 - bits)) & 0x1F]);
  return out;
}

/** UTC calendar day of an epoch-ms instant, YYYY-MM-DD (sorts like the config's dates). */
std::string utc_day(std::int64_t epoch_ms) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(epoch_ms)));
  const year_month_day ymd(day);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

}  // namespace

std::string load_key_file(const std::filesystem::path& file) {
  std::error_code ec;
  const auto st = std::filesystem::status(file, ec);
  if (ec || !std::filesystem::exists(st)) fail(file, "not found");
  if (!std::filesystem::is_regular_file(st)) fail(file, "not a regular file");
  require_private(file);
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot open");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(file, "cannot read");
  if (content.empty()) fail(file, "empty");
  std::string key = decode_key(content);
  if (key.size() < min_key_bytes) {
    fail(file, "key too short (" + std::to_string(key.size()) + " bytes after decoding, need at least " +
                   std::to_string(min_key_bytes) + ")");
  }
  return key;
}

int create_synced_file(const std::filesystem::path& file, std::string_view bytes) {
  // O_EXCL: never overwrite an existing key (that would orphan every hash made with it).
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return errno;
  int error = 0;
  std::size_t written = 0;
  while (error == 0 && written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) error = n < 0 ? errno : EIO;
    if (n > 0) written += static_cast<std::size_t>(n);
  }
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  // A half-written key file would be loaded next start as a different key: remove it.
  if (error != 0) ::unlink(file.c_str());
  return error;
}

std::string load_or_create_key_file(const std::filesystem::path& file) {
  std::array<unsigned char, min_key_bytes> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) fail(file, "no random bytes for a new key");
  std::string text =
      encoding::hex_encode(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size())) + "\n";
  std::fill(raw.begin(), raw.end(), 0);
  const int error = create_synced_file(file, text);
  std::fill(text.begin(), text.end(), '\0');
  if (error == EEXIST) return load_key_file(file);
  if (error != 0) fail(file, "cannot write a new key: " + std::error_code(error, std::generic_category()).message());
  return load_key_file(file);
}

std::string keyed_hash(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len) == nullptr ||
      mac_len < 20) {
    throw std::runtime_error("keyed_hash: HMAC-SHA256 failed");
  }
  // 160 bits keep collisions out of reach for any school population and encode to exactly 32 chars.
  return base32_lower(mac, 20);
}

std::string subject_identity(std::string_view brin, std::string_view student_key) {
  std::string out;
  out.reserve(brin.size() + 1 + student_key.size());
  out.append(brin).append(":").append(student_key);
  return out;
}

key_ring::key_ring(const std::vector<config::pseudonym_key>& keys) {
  keys_.reserve(keys.size());
  for (const auto& k : keys) {
    try {
      keys_.push_back(loaded{k.id, load_key_file(k.file), k.active_from, k.retire_after});
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("pseudonym key " + k.id + ": " + e.what());
    }
  }
  // Newest first; a key without active_from has always been active, so it counts as the oldest.
  // YYYY-MM-DD compares correctly as text and "" sorts before every date.
  std::stable_sort(keys_.begin(), keys_.end(),
                   [](const loaded& a, const loaded& b) { return a.active_from > b.active_from; });
}

std::vector<pseudonym> key_ring::pseudonyms(std::string_view identity, std::int64_t now_ms) const {
  const std::string today = utc_day(now_ms);
  std::vector<pseudonym> out;
  for (const auto& k : keys_) {
    const bool started = k.active_from.empty() || k.active_from <= today;
    const bool retired = !k.retire_after.empty() && today > k.retire_after;
    if (started && !retired) out.push_back(pseudonym{k.id, keyed_hash(k.secret, identity)});
  }
  return out;
}

}  // namespace schakel::privacy
