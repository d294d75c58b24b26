#pragma once
/**
 * Plugin state: a key-value map per namespace (a plugin instance, a processor's position, the trend
 * releaser's bookkeeping). Written alone here, or with an append through signal_log::append_with_state.
 * Threading: as store.hpp. Transactions per operation: docs/storage.md, "Roles".
 */
#include <optional>
#include <string>
#include <system_error>

#include "storage/types.hpp"

namespace schakel::storage {

class plugin_state {
 public:
  virtual ~plugin_state() = default;

  /** A key-value map per plugin instance. Blocking; small values. */
  virtual std::optional<std::string> state_get(const std::string& ns, const std::string& key) = 0;
  /**
   * As state_get, telling "absent" from "could not read": `error` is set when the engine failed.
   * A processor that took a failed read for "no state" would start a student afresh and repeat
   * alerts, so the processor runner abandons such a batch instead.
   */
  virtual std::optional<std::string> state_get_checked(const std::string& ns, const std::string& key,
                                                       std::error_code& error) {
    error.clear();
    return state_get(ns, key);
  }
  virtual void state_put(const std::string& ns, const std::string& key, const std::string& value) = 0;
};

}  // namespace schakel::storage
