#include "privacy/audit_key.hpp"

#include <system_error>

#include "privacy/keys.hpp"

namespace schakel::privacy {

audit_files audit_files_of(const config::hub_config& cfg) {
  const std::filesystem::path dir(cfg.keys_dir);
  audit_files f;
  f.chain_key = dir / "audit.key";
  f.signing_key = dir / "audit-checkpoint.key";
  f.public_key = dir / "audit-checkpoint.pub";
  f.checkpoints = cfg.audit.checkpoint_file.empty() ? dir / "audit-checkpoints.log"
                                                    : std::filesystem::path(cfg.audit.checkpoint_file);
  return f;
}

std::string audit_chain_key(const config::hub_config& cfg, bool create) {
  const auto file = audit_files_of(cfg).chain_key;
  if (create) return load_or_create_key_file(file);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return {};
  return load_key_file(file);
}

}  // namespace schakel::privacy
