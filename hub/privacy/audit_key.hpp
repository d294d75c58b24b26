#pragma once
/**
 * Where the audit trail keeps what must not sit in the database: the chain key, the checkpoint
 * signing key pair and the checkpoint file, all in keys_dir by default (docs/privacy.md).
 *
 * The daemon takes the chain key from its key_provider (name "audit", the file audit.key in keys_dir);
 * audit_chain_key reads that same file for the CLI's `audit verify`, which never creates one.
 */
#include <filesystem>
#include <string>

#include "config/config.hpp"

namespace schakel::privacy {

struct audit_files {
  std::filesystem::path chain_key;    ///< <keys_dir>/audit.key: HMAC key of the chain (0600)
  std::filesystem::path signing_key;  ///< <keys_dir>/audit-checkpoint.key: Ed25519 private key (0600)
  std::filesystem::path public_key;   ///< <keys_dir>/audit-checkpoint.pub: what a verifier needs
  std::filesystem::path checkpoints;  ///< audit.checkpoint_file, default <keys_dir>/audit-checkpoints.log
};

audit_files audit_files_of(const config::hub_config& cfg);

/**
 * The audit chain key. create: made (32 random bytes, 0600) when missing, as the hub does at start;
 * otherwise "" when there is none (a verifier must not invent a key). Throws std::runtime_error
 * naming the file when it exists but cannot be used.
 */
std::string audit_chain_key(const config::hub_config& cfg, bool create);

}  // namespace schakel::privacy
