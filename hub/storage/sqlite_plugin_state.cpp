// The SQLite engine's plugin state: a key-value map per namespace.

#include "common/signal.hpp"
#include "storage/sqlite_engine.hpp"

namespace schakel::storage::detail {

job sqlite_store::state_put_job(std::string ns, std::string key, std::string value) {
  return {"state_put",
          [this, ns = std::move(ns), key = std::move(key), value = std::move(value)](effects&) -> std::error_code {
            int rc = SQLITE_OK;
            auto st = writer_.prepare(
                "INSERT INTO state (ns, key, value, updated_ms) VALUES (?1, ?2, ?3, ?4) "
                "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, "
                "updated_ms = excluded.updated_ms",
                rc);
            if (!st) return from_sqlite(rc);
            rc = st->bind(1, ns).bind(2, key).bind_blob(3, value).bind(4, schakel::now_ms()).step();
            return rc == SQLITE_DONE ? std::error_code{} : from_sqlite(rc);
          },
          {}};
}

void sqlite_store::state_put(const std::string& ns, const std::string& key, const std::string& value) {
  const auto ec = run_sync(state_put_job(ns, key, value));
  // The contract gives state_put no error channel; the failure is logged (without the value).
  if (ec) log::error("storage.state_put_failed", {{"ns", ns}, {"error", ec.message()}});
}

void sqlite_store::state_put(const std::string& ns, const std::string& key, const std::string& value, done_fn done) {
  auto j = state_put_job(ns, key, value);
  j.finish = wrap(std::move(done));
  enqueue(std::move(j));
}

void sqlite_store::state_get(const std::string& ns, const std::string& key,
                             result_fn<std::optional<std::string>> done) {
  read_later("state_get", [this, ns, key, done = std::move(done)] {
    std::error_code error;
    auto value = state_get_checked(ns, key, error);
    done(error, std::move(value));
  });
}

std::optional<std::string> sqlite_store::state_get(const std::string& ns, const std::string& key) {
  std::error_code ignored;
  return state_get_checked(ns, key, ignored);
}

std::optional<std::string> sqlite_store::state_get_checked(const std::string& ns, const std::string& key,
                                                           std::error_code& error) {
  std::optional<std::string> value;
  error = read_rows(
      "state_get", "SELECT value FROM state WHERE ns = ?1 AND key = ?2",
      [&](statement& st) { st.bind(1, ns).bind(2, key); },
      [&](statement& st) {
        value = st.blob(0);
        return false;
      });
  return error ? std::nullopt : value;
}

std::error_code sqlite_store::do_state_writes(const std::vector<state_write>& writes, effects& fx) {
  if (writes.empty()) return {};
  int rc = SQLITE_OK;
  auto put = writer_.prepare(
      "INSERT INTO state (ns, key, value, updated_ms) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms",
      rc);
  if (!put) return from_sqlite(rc);
  auto del = writer_.prepare("DELETE FROM state WHERE ns = ?1 AND key = ?2", rc);
  if (!del) return from_sqlite(rc);
  const auto now = schakel::now_ms();
  for (const auto& w : writes) {
    if (w.ns.empty()) {
      fx.detail = "a state write has an empty namespace";
      return storage_errc::invalid_argument;
    }
    auto ec = w.erase ? step_done(del->bind(1, w.ns).bind(2, w.key))
                      : step_done(put->bind(1, w.ns).bind(2, w.key).bind_blob(3, w.value).bind(4, now));
    if (ec) {
      fx.detail = writer_.last_error() + " (state of " + w.ns + ")";
      return ec;
    }
    (w.erase ? del : put)->reset();
  }
  return {};
}

}  // namespace schakel::storage::detail
