// The SQLite engine's signal log: appends (with their outbox items, state and parked reports in one job),
// reads of the log, record lookups, and a drop file staged in parts.

#include <cstdio>
#include <map>

#include "common/signal.hpp"
#include "storage/sqlite_engine.hpp"

namespace schakel::storage::detail {

namespace {

// Rows moved per step of a publish: bounds the memory a publish holds at once.
constexpr std::int64_t publish_step = 1000;

/** FNV-1a: stable across platforms and releases, unlike std::hash, because webhook ids persist. */
std::string subscription_tag(std::string_view name) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : name) {
    h ^= c;
    h *= 16777619u;
  }
  char out[9];
  std::snprintf(out, sizeof out, "%08x", h);
  return out;
}

std::string single_webhook_id(std::string_view signal_id, std::string_view subscription) {
  std::string id = "msg_";
  id += signal_id;
  id += '_';
  id += subscription_tag(subscription);
  return id;
}

}  // namespace

void sqlite_store::append(std::vector<signal_row> signals, std::vector<outbox_item> items, done_fn done) {
  append_with_state(std::move(signals), std::move(items), {}, std::move(done));
}

void sqlite_store::append_with_state(std::vector<signal_row> signals, std::vector<outbox_item> items,
                                     std::vector<state_write> state, done_fn done) {
  struct payload {
    std::vector<signal_row> signals;
    std::vector<outbox_item> items;
    std::vector<state_write> state;
  };
  auto data = std::make_shared<payload>(payload{std::move(signals), std::move(items), std::move(state)});
  enqueue({"append",
           [this, data](effects& fx) {
             if (auto ec = do_append(data->signals, data->items, fx)) return ec;
             return do_state_writes(data->state, fx);
           },
           [done = std::move(done)](std::error_code ec) {
             if (done) done(ec);
           }});
}

std::vector<logged_signal> sqlite_store::read_signals_after(std::int64_t after_seq, std::size_t limit) {
  std::vector<logged_signal> out;
  read_rows(
      "read_signals_after", "SELECT seq, id, type, instance, json FROM signals WHERE seq > ?1 ORDER BY seq LIMIT ?2",
      [&](statement& st) { st.bind(1, after_seq).bind(2, static_cast<std::int64_t>(limit)); },
      [&](statement& st) {
        logged_signal& s = out.emplace_back();
        s.seq = st.int64(0);
        s.id = st.text(1);
        s.type = st.text(2);
        s.instance = st.text(3);
        s.json = st.text(4);
        return true;
      });
  return out;
}

void sqlite_store::append_with_parked(std::vector<signal_row> signals, std::vector<outbox_item> items,
                                      std::vector<state_write> state, std::vector<parked_signal> parked, done_fn done) {
  struct payload {
    std::vector<signal_row> signals;
    std::vector<outbox_item> items;
    std::vector<state_write> state;
    std::vector<parked_signal> parked;
  };
  auto data =
      std::make_shared<payload>(payload{std::move(signals), std::move(items), std::move(state), std::move(parked)});
  enqueue({"append_with_parked",
           [this, data](effects& fx) {
             if (auto ec = do_append(data->signals, data->items, fx)) return ec;
             if (auto ec = do_park(data->parked, fx)) return ec;
             return do_state_writes(data->state, fx);
           },
           [done = std::move(done)](std::error_code ec) {
             if (done) done(ec);
           }});
}

void sqlite_store::stage_part(const std::string& key, std::vector<signal_row> signals, std::vector<outbox_item> items,
                              std::vector<parked_signal> parked, done_fn done) {
  struct payload {
    std::string key;
    std::vector<signal_row> signals;
    std::vector<outbox_item> items;
    std::vector<parked_signal> parked;
  };
  auto data = std::make_shared<payload>(payload{key, std::move(signals), std::move(items), std::move(parked)});
  enqueue({"stage_part",
           [this, data](effects& fx) { return do_stage(data->key, data->signals, data->items, data->parked, fx); },
           wrap(std::move(done))});
}

void sqlite_store::publish_staged(const std::string& key, std::vector<state_write> state,
                                  std::function<void(std::size_t)> progress, done_fn done) {
  auto writes = std::make_shared<std::vector<state_write>>(std::move(state));
  enqueue({"publish_staged",
           [this, key, writes, progress = std::move(progress)](effects& fx) {
             if (auto ec = do_publish_staged(key, progress, fx)) return ec;
             if (auto ec = do_discard_staged(key, fx)) return ec;
             return do_state_writes(*writes, fx);
           },
           wrap(std::move(done))});
}

void sqlite_store::discard_staged(const std::string& key, done_fn done) {
  enqueue({"discard_staged", [this, key](effects& fx) { return do_discard_staged(key, fx); }, wrap(std::move(done))});
}

void sqlite_store::find_records(std::string instance, std::vector<std::string> record_ids, std::string staged_unit,
                                std::function<void(std::error_code, std::vector<stored_record>)> done) {
  // A job on the store thread, like an append: the request's coroutine awaits it instead of
  // blocking a network thread on the reader's lock, and it sees every commit acknowledged before.
  auto found = std::make_shared<std::vector<stored_record>>();
  enqueue(
      {"find_records",
       [this, instance = std::move(instance), record_ids = std::move(record_ids), staged_unit = std::move(staged_unit),
        found](effects&) { return do_find_records(instance, record_ids, staged_unit, *found); },
       [found, done = std::move(done)](std::error_code ec) {
         if (done) done(ec, ec ? std::vector<stored_record>{} : std::move(*found));
       }});
}

std::optional<std::string> sqlite_store::get_signal(const std::string& id) {
  std::optional<std::string> json;
  read_signal(id, json);
  return json;
}

void sqlite_store::get_signal(const std::string& id, result_fn<std::optional<std::string>> done) {
  read_later("get_signal", [this, id, done = std::move(done)] {
    std::optional<std::string> json;
    const auto ec = read_signal(id, json);
    done(ec, std::move(json));
  });
}

std::error_code sqlite_store::read_signal(const std::string& id, std::optional<std::string>& json) {
  return read_rows(
      "get_signal", "SELECT json FROM signals WHERE id = ?1", [&](statement& st) { st.bind(1, id); },
      [&](statement& st) {
        json = st.text(0);
        return false;
      });
}

std::int64_t sqlite_store::signal_count() {
  return signal_count_.load(std::memory_order_relaxed);
}

std::error_code sqlite_store::do_find_records(const std::string& instance, const std::vector<std::string>& record_ids,
                                              const std::string& staged_unit, std::vector<stored_record>& out) {
  int rc = SQLITE_OK;
  // A staged part is newer than anything in the log (staged_signals_record is the index).
  auto staged = writer_.prepare(
      "SELECT json FROM staged_signals WHERE unit = ?1 AND json_extract(json, '$.source.record_id') = ?2 "
      "AND instance = ?3 ORDER BY seq DESC LIMIT 1",
      rc);
  if (!staged) return from_sqlite(rc);
  // The expression is the index's (signals_by_record); the latest version is the highest seq.
  auto latest = writer_.prepare(
      "SELECT json FROM signals WHERE instance = ?1 AND json_extract(json, '$.source.record_id') = ?2 "
      "ORDER BY seq DESC LIMIT 1",
      rc);
  if (!latest) return from_sqlite(rc);
  auto tombstone =
      writer_.prepare("SELECT 1 FROM purged_records WHERE instance = ?1 AND record_hash = ?2 AND until_ms >= ?3", rc);
  if (!tombstone) return from_sqlite(rc);
  const std::int64_t now = schakel::now_ms();
  out.clear();
  out.reserve(record_ids.size());
  for (const auto& id : record_ids) {
    stored_record& r = out.emplace_back();
    if (!staged_unit.empty()) {
      rc = staged->bind(1, staged_unit).bind(2, id).bind(3, instance).step();
      if (rc == SQLITE_ROW) {
        r.what = stored_record::state::found;
        r.json = staged->text(0);
      }
      staged->reset();
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return from_sqlite(rc);
      if (r.what == stored_record::state::found) continue;
    }
    rc = latest->bind(1, instance).bind(2, id).step();
    if (rc == SQLITE_ROW) {
      r.what = stored_record::state::found;
      r.json = latest->text(0);
    }
    latest->reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return from_sqlite(rc);
    if (r.what == stored_record::state::found) continue;
    rc = tombstone->bind(1, instance).bind(2, record_hash(id)).bind(3, now).step();
    tombstone->reset();
    if (rc == SQLITE_ROW) r.what = stored_record::state::purged;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return from_sqlite(rc);
  }
  return {};
}

std::error_code sqlite_store::do_append(const std::vector<signal_row>& signals, const std::vector<outbox_item>& items,
                                        effects& fx) {
  for (std::size_t i = 0; i < signals.size(); ++i) {
    if (signals[i].id.empty() || signals[i].json.empty()) {
      fx.detail = "signal " + std::to_string(i) + " has an empty id or document";
      return storage_errc::invalid_argument;
    }
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].subscription.empty() || items[i].signal_id.empty() || items[i].event_json.empty()) {
      fx.detail = "outbox item " + std::to_string(i) + " has an empty subscription, signal id or event";
      return storage_errc::invalid_argument;
    }
  }
  const auto now = schakel::now_ms();
  int rc = SQLITE_OK;
  if (!signals.empty()) {
    auto st =
        writer_.prepare("INSERT INTO signals (id, type, instance, stored_ms, json) VALUES (?1, ?2, ?3, ?4, ?5)", rc);
    if (!st) return from_sqlite(rc);
    for (const auto& s : signals) {
      if (auto ec = step_done(st->bind(1, s.id).bind(2, s.type).bind(3, s.instance).bind(4, now).bind(5, s.json))) {
        fx.detail = writer_.last_error() + " (signal " + s.id + ")";
        return ec;
      }
      st->reset();
    }
  }
  if (!items.empty()) {
    auto st = writer_.prepare(
        "INSERT INTO outbox (unit_id, subscription, lane, seq, signal_id, webhook_id, body, created_ms, "
        "signal_type, subject_ref, data_category) VALUES (?1, ?2, ?3, ?1, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        rc);
    if (!st) return from_sqlite(rc);
    for (const auto& it : items) {
      const auto webhook_id = it.webhook_id.empty() ? single_webhook_id(it.signal_id, it.subscription) : it.webhook_id;
      if (auto ec = step_done(st->bind(1, next_id_++)
                                  .bind(2, it.subscription)
                                  .bind(3, static_cast<std::int64_t>(it.lane))
                                  .bind(4, it.signal_id)
                                  .bind(5, webhook_id)
                                  .bind(6, it.event_json)
                                  .bind(7, now)
                                  .bind(8, it.signal_type)
                                  .bind(9, it.subject_ref)
                                  .bind(10, it.data_category))) {
        fx.detail = writer_.last_error();
        return ec;
      }
      st->reset();
    }
  }
  fx.signals = static_cast<std::int64_t>(signals.size());
  for (const auto& it : items) fx.depth.emplace_back(it.subscription, 1);
  return {};
}

/** Inserts each row with one prepared statement; `what` names a row in the error detail. */
template <class Row, class Bind>
std::error_code sqlite_store::insert_each(const char* sql, const std::vector<Row>& rows, const char* what, effects& fx,
                                          Bind bind) {
  if (rows.empty()) return {};
  int rc = SQLITE_OK;
  auto st = writer_.prepare(sql, rc);
  if (!st) return from_sqlite(rc);
  for (const auto& r : rows) {
    st->reset();
    if (auto ec = step_done(bind(*st, r))) {
      fx.detail = writer_.last_error() + " (" + what + ")";
      return ec;
    }
  }
  return {};
}

std::error_code sqlite_store::do_stage(const std::string& key, const std::vector<signal_row>& signals,
                                       const std::vector<outbox_item>& items, const std::vector<parked_signal>& parked,
                                       effects& fx) {
  if (auto ec = insert_each("INSERT INTO staged_signals (unit, id, type, instance, json) VALUES (?1, ?2, ?3, ?4, ?5)",
                            signals, "staged signal", fx, [&](statement& st, const signal_row& r) -> statement& {
                              return st.bind(1, key).bind(2, r.id).bind(3, r.type).bind(4, r.instance).bind(5, r.json);
                            }))
    return ec;
  if (auto ec = insert_each("INSERT INTO staged_outbox (unit, subscription, signal_id, lane, event_json, signal_type, "
                            "subject_ref, data_category, webhook_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                            items, "staged outbox item", fx, [&](statement& st, const outbox_item& it) -> statement& {
                              return st.bind(1, key)
                                  .bind(2, it.subscription)
                                  .bind(3, it.signal_id)
                                  .bind(4, static_cast<std::int64_t>(it.lane))
                                  .bind(5, it.event_json)
                                  .bind(6, it.signal_type)
                                  .bind(7, it.subject_ref)
                                  .bind(8, it.data_category)
                                  .bind(9, it.webhook_id);
                            }))
    return ec;
  return insert_each(
      "INSERT INTO staged_parked (unit, id, type, instance, plugin, link_hash, received_ms, json) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
      parked, "staged parked signal", fx, [&](statement& st, const parked_signal& p) -> statement& {
        return st.bind(1, key)
            .bind(2, p.id)
            .bind(3, p.type)
            .bind(4, p.instance)
            .bind(5, p.plugin)
            .bind(6, p.link_hash)
            .bind(7, p.received_ms)
            .bind(8, p.json);
      });
}

/**
 * Reads the staged rows of `key` from `table` in steps of publish_step, in staging order, handing
 * each step to `move`: at most one step is in memory at a time.
 */
template <class Row>
std::error_code sqlite_store::for_each_staged_step(const char* sql, const std::string& key, Row (*read)(statement&),
                                                   const std::function<std::error_code(std::vector<Row>&)>& move) {
  std::int64_t after = 0;
  for (;;) {
    std::vector<Row> rows;
    {
      int rc = SQLITE_OK;
      auto st = writer_.prepare(sql, rc);
      if (!st) return from_sqlite(rc);
      st->bind(1, key).bind(2, after).bind(3, publish_step);
      while ((rc = st->step()) == SQLITE_ROW) {
        after = st->int64(0);
        rows.push_back(read(*st));
      }
      if (rc != SQLITE_DONE) return from_sqlite(rc);
    }
    if (rows.empty()) return {};
    if (auto ec = move(rows)) return ec;
  }
}

std::error_code sqlite_store::do_publish_staged(const std::string& key,
                                                const std::function<void(std::size_t)>& progress, effects& fx) {
  std::int64_t moved = 0;
  auto ec = for_each_staged_step<signal_row>(
      "SELECT seq, id, type, instance, json FROM staged_signals WHERE unit = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
      key,
      [](statement& st) {
        return signal_row{st.text(1), st.text(2), st.text(3), st.text(4)};
      },
      [&](std::vector<signal_row>& rows) {
        if (auto e = do_append(rows, {}, fx)) return e;
        moved += static_cast<std::int64_t>(rows.size());
        if (progress) progress(static_cast<std::size_t>(moved));
        return std::error_code{};
      });
  if (ec) return ec;
  // Outbox depth is counted per subscription, not per item, so a large file adds few entries.
  std::map<std::string, std::int64_t> depth;
  ec = for_each_staged_step<outbox_item>(
      "SELECT seq, subscription, signal_id, lane, event_json, signal_type, subject_ref, data_category, webhook_id "
      "FROM staged_outbox WHERE unit = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
      key,
      [](statement& st) {
        // The webhook id is the privacy gate's stand-in for this partner: lost here, a pseudonymous
        // partner would get the engine's msg_<hub signal id> for every file-borne event.
        return outbox_item{st.text(1), st.text(2), static_cast<std::uint32_t>(st.int64(3)),
                           st.text(4), st.text(5), st.text(6),
                           st.text(7), st.text(8)};
      },
      [&](std::vector<outbox_item>& items) {
        if (auto e = do_append({}, items, fx)) return e;
        for (const auto& [sub, delta] : fx.depth) depth[sub] += delta;
        fx.depth.clear();
        return std::error_code{};
      });
  if (ec) return ec;
  ec = for_each_staged_step<parked_signal>(
      "SELECT seq, id, type, instance, plugin, link_hash, received_ms, json FROM staged_parked "
      "WHERE unit = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
      key,
      [](statement& st) {
        return parked_signal{st.text(1), st.text(2), st.text(3), st.text(4), st.text(5), st.int64(6), st.text(7)};
      },
      [&](std::vector<parked_signal>& parked) { return do_park(parked, fx); });
  if (ec) return ec;
  fx.signals = moved;
  for (const auto& [sub, delta] : depth) fx.depth.emplace_back(sub, delta);
  return {};
}

std::error_code sqlite_store::do_discard_staged(const std::string& key, effects& fx) {
  for (const char* sql : {"DELETE FROM staged_signals WHERE unit = ?1", "DELETE FROM staged_outbox WHERE unit = ?1",
                          "DELETE FROM staged_parked WHERE unit = ?1"}) {
    int rc = SQLITE_OK;
    auto st = writer_.prepare(sql, rc);
    if (!st) return from_sqlite(rc);
    if (auto ec = step_done(st->bind(1, key))) {
      fx.detail = writer_.last_error() + " (staging)";
      return ec;
    }
  }
  return {};
}

}  // namespace schakel::storage::detail
