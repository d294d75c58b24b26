#pragma once
/**
 * Where the hub's secret keys come from. Keys live apart from the data they protect (config
 * `keys_dir`, docs/privacy.md "Keeping keys apart from data"): whoever holds a backup of the data
 * directory and the hub key can reverse every BSN hash. The daemon asks a key_provider for every key
 * it needs by name, so a KMS or HSM can take the file provider's place without touching its callers.
 */
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace schakel::privacy {

/**
 * A source of named secrets. A name is 1–64 characters of [a-z0-9_-] ("hub", "audit"); what it
 * holds is at least 32 bytes. Names in use: "hub" (subject references, BSN hashes, partners'
 * stand-ins for hub ids), "audit" (the audit chain's HMAC key).
 */
class key_provider {
 public:
  virtual ~key_provider() = default;

  /**
   * The secret called `name`, created on first use and the same on every later call and start.
   * Throws std::runtime_error naming the key and the problem, never its bytes.
   */
  virtual std::string key(std::string_view name) = 0;

  /** Where the keys are, for logs and messages ("/var/lib/schakel-keys"); never a secret. */
  virtual std::string where() const = 0;
};

/**
 * Keys as files `<dir>/<name>.key` (hex, mode 0600) in a directory only the hub's user may enter.
 * The directory is created 0700 when missing and refused when group or others can reach it.
 */
class file_key_provider final : public key_provider {
 public:
  /** Throws std::runtime_error when `dir` cannot be created or is not private. */
  explicit file_key_provider(std::filesystem::path dir);

  std::string key(std::string_view name) override;
  std::string where() const override { return dir_.string(); }

  /** The file that holds (or will hold) key `name`. Throws std::invalid_argument for a bad name. */
  std::filesystem::path file_of(std::string_view name) const;

 private:
  std::filesystem::path dir_;
};

/**
 * Moves a key file from where an earlier version kept it (`from`, e.g. <data_dir>/hub.key) to where
 * it belongs now (`to`), so hashes and pseudonyms made with it stay valid. Never makes a new key.
 * Crash-safe: at every moment one complete copy exists at `from` or `to` (or both, equal), and a
 * restart finishes the move:
 *  - same filesystem: a hard link at `to`, then `from` removed (rename would replace a `to` that
 *    appeared meanwhile; link refuses to);
 *  - another filesystem: copied to a temporary file beside `to`, synced, read back and compared,
 *    renamed to `to`, then `from` removed;
 *  - both present and the same key: `from` removed; both present and different: std::runtime_error,
 *    nothing touched (which one the data was made with is the operator's call).
 * Returns how it moved ("link", "copy", "duplicate_removed"), or nullopt when `from` does not exist.
 */
std::optional<std::string> move_key_file(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace schakel::privacy
