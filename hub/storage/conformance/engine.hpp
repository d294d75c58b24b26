#pragma once
/**
 * What a storage engine hands the conformance suite (README.md beside this file). The suite is written
 * once against `storage::store` and instantiated per engine, in that engine's own test executable, with
 * the macros of fixture.hpp:
 *
 *   SCHAKEL_STORAGE_CONFORMANCE(postgres_engine());          // every case the hub relies on
 *   SCHAKEL_STORAGE_CONFORMANCE_STAGING(postgres_engine());  // only if the engine stages drop files
 */
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/store.hpp"

namespace schakel::storage::conformance {

/**
 * One test case's database, fresh and empty when made; the engine removes it (files, a dropped
 * database) when the handle is destroyed, after every store opened on it is gone.
 */
class database {
 public:
  virtual ~database() = default;

  /**
   * Opens a store on this database. Called again after the previous store was closed (or destroyed),
   * it sees the same data: that is how cases restart the hub. Throws std::system_error with a
   * storage_errc when the database cannot be opened or migrated, naming where() in what().
   */
  virtual std::unique_ptr<store> open() = 0;

  /**
   * Writes legacy_content() into this still empty database exactly as schema `version` (one of
   * engine::earlier_schema_versions) stores it, and leaves the database at that version, without
   * opening a store: open() must then migrate it.
   */
  virtual void write_at_schema(int version) = 0;

  /** Marks this database (a store was opened on it and closed) as written by a newer build. */
  virtual void mark_schema_newer() = 0;

  /** How a start-up error names this database (a file path, a connection target). */
  virtual std::string where() const = 0;
};

struct engine {
  std::string name;  ///< ends every case's name: letters, digits and '_' only
  std::function<std::unique_ptr<database>()> fresh;
  /// Every version a database of this engine may still be at (empty: the migration case is skipped).
  std::vector<int> earlier_schema_versions;
};

/**
 * What write_at_schema() stores, in terms every schema version can hold: two signals in log order; for
 * subscription "a", lane 0, the first's event pending and the second's dead-lettered (with
 * `dead_reason`); one plugin-state value; one disabled subscription. Signals and items were stored at
 * `stored_ms`.
 */
struct legacy {
  std::vector<signal_row> signals;
  outbox_item pending;
  outbox_item dead;
  std::string dead_reason;
  state_write state;
  std::string disabled_subscription;
  std::int64_t stored_ms = 0;
};

inline const legacy& legacy_content() {
  static const legacy content = [] {
    legacy l;
    const std::string type = "nl.schakel.test.thing.happened";
    l.signals = {{"M1", type, "test", R"({"id":"M1"})"}, {"M2", type, "test", R"({"id":"M2"})"}};
    l.pending = {"a", "M1", 0, R"({"ce":"M1"})", type, "pseudo-1", "ordinary", "msg_M1_legacy"};
    l.dead = {"a", "M2", 0, R"({"ce":"M2"})", type, "pseudo-2", "health", "msg_M2_legacy"};
    l.dead_reason = "http 400";
    l.state = {"plugin", "cursor", "42", false};
    l.disabled_subscription = "gone";
    l.stored_ms = 1'000'000'000'000;  // 2001: older than any retention a case sets
    return l;
  }();
  return content;
}

inline std::string engine_name(const ::testing::TestParamInfo<engine>& info) {
  return info.param.name;
}

/** How GoogleTest (and ctest's test list) shows the parameter: by name, not as bytes. */
inline void PrintTo(const engine& e, std::ostream* os) {
  *os << e.name;
}

}  // namespace schakel::storage::conformance
