#pragma once
/**
 * Test doubles for running a processor without loading it (header-only, for plugin unit tests; not
 * linked into a plugin):
 *   memory_services     — sdk::processor_services over a std::map, capturing log lines; no calendar
 *                         unless a test overrides school_day.
 *   recording_context   — sdk::processor_context that keeps what was emitted, completed the way the
 *                         core would, and lets a test check each completed signal.
 *   test_ulid           — deterministic ULID-shaped ids.
 *   config_error_of     — the config_error message a settings parse throws, or "".
 */
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "schakel/plugin.hpp"
#include "schakel/sdk/processor_services.hpp"

namespace schakel::sdk::testing {

/** `01<prefix>` + zeros + n as 4 digits: 26 characters, valid ULID syntax, sorted by n. */
inline std::string test_ulid(char prefix, int n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "01%c0000000000000000000%04d", prefix, n);
  return buf;
}

/** State in memory (committed at once) and log lines captured in order. */
class memory_services : public processor_services {
 public:
  std::map<std::string, std::string> state;
  std::vector<std::string> logs;

  std::optional<std::string> state_get(std::string_view key) override {
    auto it = state.find(std::string(key));
    if (it == state.end()) return std::nullopt;
    return it->second;
  }
  bool state_put(std::string_view key, std::string_view value) override {
    state[std::string(key)] = std::string(value);
    return true;
  }
  /** No calendar for any school; override to supply one. */
  std::optional<day_kind> school_day(std::string_view, std::string_view, std::int32_t) override { return std::nullopt; }
  void log(schakel_log_level, std::string_view message) override { logs.emplace_back(message); }
};

/**
 * Keeps every emitted signal: `raw` exactly as the processor wrote it, `emitted` completed the way
 * the core completes a derived signal (id test_ulid(id_prefix, n), schema_version, source.connector
 * and source.instance, received_at) and then handed to `check` (say, a schema validation). With
 * `refuse` set, emit returns "" (the host refused) and keeps nothing.
 */
class recording_context : public processor_context {
 public:
  using check_function = std::function<void(const nlohmann::json& completed)>;

  std::vector<nlohmann::json> raw;
  std::vector<nlohmann::json> emitted;
  int next = 1;
  bool refuse = false;

  recording_context(char id_prefix, std::string connector, std::string instance, std::string received_at,
                    check_function check = nullptr)
      : id_prefix_(id_prefix),
        connector_(std::move(connector)),
        instance_(std::move(instance)),
        received_at_(std::move(received_at)),
        check_(std::move(check)) {}

  std::string emit(std::string text) override {
    if (refuse) return "";
    nlohmann::json sig = nlohmann::json::parse(text);
    raw.push_back(sig);
    std::string id = test_ulid(id_prefix_, next++);
    sig["id"] = id;
    sig["schema_version"] = "1";
    sig["source"]["connector"] = connector_;
    sig["source"]["instance"] = instance_;
    sig["received_at"] = received_at_;
    if (check_) check_(sig);
    emitted.push_back(std::move(sig));
    return id;
  }

 private:
  char id_prefix_;
  std::string connector_;
  std::string instance_;
  std::string received_at_;
  check_function check_;
};

/** The message of the config_error `parse(text)` throws, or "" when it accepts the text. */
template <class Parse>
std::string config_error_of(Parse&& parse, std::string_view text) {
  try {
    parse(text);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace schakel::sdk::testing
