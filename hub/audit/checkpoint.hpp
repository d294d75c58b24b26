#pragma once
/**
 * Signed checkpoints of the audit chain: {seq, head hash, time, node, keyed_from}, signed with an
 * Ed25519 key kept outside the database (keys_dir), one JSON line each in a file the database
 * administrator does not control. A verifier needs only the public key: a checkpoint says "record
 * `seq` had hash `head` at `time`", so a tail cut after it, an older copy of the database restored
 * or a chain rewritten before it no longer agrees with it (docs/privacy.md).
 */
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace schakel::audit {

struct checkpoint {
  std::int64_t seq = 0;         ///< the last record covered (0: an empty chain)
  std::string head = {};        ///< that record's hash (or the anchor's, when every record was purged)
  std::int64_t time_ms = 0;     ///< when the checkpoint was made (Unix ms, UTC)
  std::string node = {};        ///< which hub node wrote it
  std::int64_t keyed_from = 0;  ///< first keyed seq of the chain (0: plain)
  std::string signature = {};   ///< Ed25519 over signed_text(), lowercase hex
};

/** The exact bytes that are signed: a version tag and every field, newline-separated. */
std::string signed_text(const checkpoint& c);

/** One JSON line (no newline) and back; nullopt when a field is missing or of the wrong type. */
std::string to_line(const checkpoint& c);
std::optional<checkpoint> from_line(const std::string& line);

/** An Ed25519 private key (PEM, PKCS#8) that signs checkpoints. */
class checkpoint_signer {
 public:
  /**
   * Loads `private_file`, or creates a new key pair there (0600) when it does not exist; either way
   * writes the public key (PEM) to `public_file` when that is missing, so a verifier without the
   * private key can check. Throws std::runtime_error "<file>: <why>".
   */
  static checkpoint_signer load_or_create(const std::filesystem::path& private_file,
                                          const std::filesystem::path& public_file);
  /** Fills c.signature. Throws std::runtime_error when OpenSSL fails. */
  void sign(checkpoint& c) const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

/** An Ed25519 public key (PEM) that checks checkpoints. */
class checkpoint_verifier {
 public:
  /** Throws std::runtime_error "<file>: <why>" when the file is missing or not an Ed25519 public key. */
  static checkpoint_verifier load(const std::filesystem::path& public_file);
  bool verify(const checkpoint& c) const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

/**
 * Appends one line to `file` (created 0600) and fsyncs it before returning: a checkpoint that is
 * reported written survives a crash. Throws std::runtime_error "<file>: <why>".
 */
void append_checkpoint(const std::filesystem::path& file, const checkpoint& c);

/** One line of a checkpoint file: its number (1-based) and what it holds (nullopt: unreadable). */
struct checkpoint_line {
  std::size_t line = 0;
  std::optional<checkpoint> value;
};
/** Every non-empty line of `file` in order; empty when the file does not exist. Throws when it cannot be read. */
std::vector<checkpoint_line> read_checkpoints(const std::filesystem::path& file);

/**
 * Writes checkpoints for one node: only when the head moved since the last one (in this run or, at
 * start, the last line of the file), so an idle hub does not grow the file. Not thread-safe: one
 * caller at a time (the daemon's housekeeping thread, then its shutdown).
 */
class checkpoint_writer {
 public:
  /** Reads the file's last checkpoint. Throws std::runtime_error when the file cannot be read. */
  checkpoint_writer(checkpoint_signer signer, std::filesystem::path file, std::string node);
  /** The written checkpoint, or nullopt when `seq`/`head` is what the last one holds. Throws on I/O errors. */
  std::optional<checkpoint> write_if_moved(std::int64_t seq, const std::string& head, std::int64_t keyed_from,
                                           std::int64_t now_ms);
  /** The last checkpoint in the file (read at start or written since). */
  const std::optional<checkpoint>& last() const { return last_; }

 private:
  checkpoint_signer signer_;
  std::filesystem::path file_;
  std::string node_;
  std::optional<checkpoint> last_;
};

}  // namespace schakel::audit
