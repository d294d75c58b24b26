#pragma once
/**
 * Plugin state: a key-value map per namespace (a plugin instance, a processor's position, the trend
 * releaser's bookkeeping). Written alone here, or with an append through signal_log::append_with_state.
 * Threading: as store.hpp. Transactions per operation: docs/storage.md, "Roles".
 *
 * Two types: async_plugin_state is what a request handler gets; plugin_state adds the blocking forms
 * that a plugin's state API and the processors use on their own threads (docs/storage.md, "Who may block").
 */
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "storage/types.hpp"

namespace schakel::storage {

class async_plugin_state {
 public:
  virtual ~async_plugin_state() = default;

  /** The value of `key` in `ns`, or nullopt when absent, through `done` on an engine thread. */
  virtual void state_get(const std::string& ns, const std::string& key, result_fn<std::optional<std::string>> done) = 0;
  /** Writes one value; `done` runs once it is on disk. */
  virtual void state_put(const std::string& ns, const std::string& key, const std::string& value, done_fn done) = 0;
};

class plugin_state : public async_plugin_state {
 public:
  using async_plugin_state::state_get;
  using async_plugin_state::state_put;

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
  /** Blocking: waits for the commit; a failure is logged, not returned. */
  virtual void state_put(const std::string& ns, const std::string& key, const std::string& value) = 0;

  /** For an engine whose reads never wait (a fake in memory): answers at once, on the caller's thread. */
  void state_get(const std::string& ns, const std::string& key, result_fn<std::optional<std::string>> done) override {
    std::error_code error;
    auto value = state_get_checked(ns, key, error);
    done(error, std::move(value));
  }
  void state_put(const std::string& ns, const std::string& key, const std::string& value, done_fn done) override {
    state_put(ns, key, value);
    done({});
  }
};

}  // namespace schakel::storage
