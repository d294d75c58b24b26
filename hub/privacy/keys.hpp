#pragma once
/**
 * Keys and keyed hashes: the hub's own key (subject references, BSN hashes) and each partner's
 * pseudonym keys. A pseudonym is HMAC-SHA256(key, subject identity), so it is stable for one key and
 * unlinkable across keys without them; partners never see the key.
 */
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace schakel::privacy {

/**
 * Reads a secret key file: raw bytes, or text holding hex or base64 (trailing newline ignored);
 * at least 32 bytes of key after decoding. Throws std::runtime_error "<file>: <why>" (never the
 * key). Refuses a file group or others can access (common/private_path.hpp) — secrets stay with the
 * hub's user.
 */
std::string load_key_file(const std::filesystem::path& file);

/**
 * Creates `file` with 32 random bytes (mode 0600) if it does not exist, then loads it. For keys the
 * hub makes itself (privacy/key_provider.hpp).
 */
std::string load_or_create_key_file(const std::filesystem::path& file);

/**
 * Creates `file` (mode 0600, never replacing an existing one) holding `bytes`, synced to disk.
 * Returns 0, or the errno of the step that failed (EEXIST: `file` exists and was left alone); a
 * file it created but could not finish is removed, so no half-written key is ever loaded.
 */
int create_synced_file(const std::filesystem::path& file, std::string_view bytes);

/** HMAC-SHA256(key, message), first 20 bytes, RFC 4648 base32 lowercase without padding: 32 characters. */
std::string keyed_hash(std::string_view key, std::string_view message);

/** What a student is, for hashing: "<brin>:<student_key>" (school keys are unique within a school only). */
std::string subject_identity(std::string_view brin, std::string_view student_key);

/** A partner's pseudonym under one key. */
struct pseudonym {
  std::string key_id;
  std::string value;
};

/** One partner's keys, loaded once; which are in use depends on the day (rotation with overlap). */
class key_ring {
 public:
  /** Loads every key file; throws std::runtime_error naming the key id and the file problem. */
  explicit key_ring(const std::vector<config::pseudonym_key>& keys);

  /**
   * The pseudonyms of `identity` under every key in use on the UTC day of `now_ms`, newest
   * (latest active_from) first. Empty when no key is in use that day.
   */
  std::vector<pseudonym> pseudonyms(std::string_view identity, std::int64_t now_ms) const;

 private:
  struct loaded {
    std::string id;
    std::string secret;
    std::string active_from;   // YYYY-MM-DD or ""
    std::string retire_after;  // YYYY-MM-DD or ""
  };
  std::vector<loaded> keys_;
};

}  // namespace schakel::privacy
