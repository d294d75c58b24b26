// The SQLite engine's outboxes: delivery units formed and handed out per lane, their outcomes, dead
// letters and disabled subscriptions.

#include <algorithm>

#include "common/encoding.hpp"
#include "common/signal.hpp"
#include "storage/sqlite_engine.hpp"

namespace schakel::storage::detail {

namespace {

constexpr std::string_view single_content_type = "application/cloudevents+json";
constexpr std::string_view batch_content_type = "application/cloudevents-batch+json";
constexpr std::size_t max_error_text = 1024;   // last_error / dead reason: status lines, not documents
constexpr std::int64_t error_retry_ms = 1000;  // next_due offered after a failed next_unit
constexpr std::size_t max_outcome_text = 200;  // a status and a short reason, for the operator's list

// The live rows of one lane: units and not-yet-batched items, in delivery order (uses outbox_lane).
#define LANE_FILTER \
  "subscription = ?1 AND lane = ?2 AND dead_at_ms IS NULL AND batch_id IS NULL AND dropped_at_ms IS NULL"

/**
 * A batch is named after its members' webhook ids, in order: stable for every retry and replay, new
 * when the members change (a dropped member dissolves a batch and the rest re-form under another
 * id, which a partner must not take for one it has seen), and it reveals no more than the members'
 * ids would alone (no time of forming, unlike a fresh ULID).
 */
std::string batch_webhook_id(const std::string& member_ids) {
  return "msg_b" + encoding::sha256_hex(member_ids).substr(0, 32);
}

/** Cuts at a UTF-8 boundary so a stored error text stays valid text. */
std::string clip(std::string s) {
  if (s.size() <= max_error_text) return s;
  std::size_t n = max_error_text;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

/**
 * The members' events of a stored batch body, as the exact bytes they were joined from: the body is
 * "[" + e1 + "," + e2 + ... + "]" and every event is a JSON value, so the commas at depth 0 outside
 * strings are exactly the joins. nullopt when the body is not shaped like that.
 */
std::optional<std::vector<std::string>> split_batch_body(std::string_view body) {
  if (body.size() < 2 || body.front() != '[' || body.back() != ']') return std::nullopt;
  std::vector<std::string> parts;
  const auto inner = body.substr(1, body.size() - 2);
  if (inner.empty()) return parts;
  int depth = 0;
  bool in_string = false, escaped = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < inner.size(); ++i) {
    const char c = inner[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth < 0) return std::nullopt;
    } else if (c == ',' && depth == 0) {
      parts.emplace_back(inner.substr(start, i - start));
      start = i + 1;
    }
  }
  if (in_string || depth != 0) return std::nullopt;
  parts.emplace_back(inner.substr(start));
  return parts;
}

std::string lane_key(std::string_view subscription, std::uint32_t lane) {
  std::string k(subscription);
  k.push_back('\0');
  k += std::to_string(lane);
  return k;
}

}  // namespace

void sqlite_store::next_unit(const std::string& subscription, std::uint32_t lane, std::int64_t now_ms,
                             const batching& batch,
                             std::function<void(std::optional<delivery_unit>, std::int64_t)> cb) {
  struct result {
    std::optional<delivery_unit> unit;
    std::int64_t next_due = 0;
  };
  auto r = std::make_shared<result>();
  enqueue({"next_unit",
           [this, r, subscription, lane, now_ms, batch](effects& fx) {
             return do_next_unit(subscription, lane, now_ms, batch, r->unit, r->next_due, fx);
           },
           [r, now_ms, cb = std::move(cb)](std::error_code ec) {
             if (!cb) return;
             if (ec) {
               cb(std::nullopt, ec == storage_errc::closed ? 0 : now_ms + error_retry_ms);
             } else {
               cb(std::move(r->unit), r->next_due);
             }
           }});
}

void sqlite_store::mark_delivered(std::int64_t unit_id, std::vector<audit::entry> audit, done_fn done) {
  enqueue({"mark_delivered",
           [this, unit_id, audit = std::move(audit)](effects& fx) {
             if (auto ec = do_mark_delivered(unit_id, fx)) return ec;
             return do_append_audit(audit, fx);
           },
           wrap(std::move(done))});
}

void sqlite_store::reschedule(std::int64_t unit_id, std::int64_t next_attempt_ms, std::string last_error,
                              done_fn done) {
  enqueue({"reschedule",
           [this, unit_id, next_attempt_ms, err = clip(std::move(last_error))](effects& fx) {
             return do_reschedule(unit_id, next_attempt_ms, err, fx);
           },
           wrap(std::move(done))});
}

void sqlite_store::move_to_dead_letters(std::int64_t unit_id, std::string reason, std::vector<audit::entry> audit,
                                        done_fn done) {
  enqueue({"move_to_dead_letters",
           [this, unit_id, reason = clip(std::move(reason)), audit = std::move(audit)](effects& fx) {
             if (auto ec = do_dead_letter(unit_id, reason, fx)) return ec;
             return do_append_audit(audit, fx);
           },
           wrap(std::move(done))});
}

void sqlite_store::drop_members(std::int64_t unit_id, std::vector<std::int64_t> member_seqs, std::string reason,
                                std::vector<audit::entry> audit, done_fn done) {
  enqueue({"drop_members",
           [this, unit_id, seqs = std::move(member_seqs), reason = clip(std::move(reason)),
            audit = std::move(audit)](effects& fx) {
             if (auto ec = do_drop_members(unit_id, seqs, reason, fx)) return ec;
             return do_append_audit(audit, fx);
           },
           wrap(std::move(done))});
}

void sqlite_store::set_subscription_disabled(const std::string& subscription, bool disabled, done_fn done) {
  change_subscription(subscription, disabled, {}, {}, std::move(done));
}

void sqlite_store::change_subscription(const std::string& subscription, bool disabled, std::string reason,
                                       std::vector<audit::entry> audit, done_fn done) {
  enqueue({"change_subscription",
           [this, subscription, disabled, reason = std::move(reason), audit = std::move(audit)](effects& fx) {
             if (auto ec = do_set_disabled(subscription, disabled, reason, fx)) return ec;
             return do_append_audit(audit, fx);
           },
           wrap(std::move(done))});
}

std::optional<std::string> sqlite_store::replay_dead_letter(std::int64_t unit_id) {
  std::string subscription;
  const auto ec =
      run_sync({"replay_dead_letter",
                [this, unit_id, &subscription](effects& fx) { return do_replay(unit_id, subscription, fx); },
                {}});
  if (ec) return std::nullopt;
  return subscription;
}

void sqlite_store::replay_dead_letter(std::int64_t unit_id, result_fn<std::optional<std::string>> done) {
  auto subscription = std::make_shared<std::string>();
  enqueue({"replay_dead_letter",
           [this, unit_id, subscription](effects& fx) { return do_replay(unit_id, *subscription, fx); },
           [subscription, done = std::move(done)](std::error_code ec) {
             // An unknown id is an answer (nullopt), not a failure of the engine.
             if (ec == storage_errc::not_found) return done({}, std::nullopt);
             if (ec) return done(ec, std::nullopt);
             done({}, std::move(*subscription));
           }});
}

bool sqlite_store::subscription_disabled(const std::string& subscription) {
  std::lock_guard lock(disabled_mu_);
  return disabled_.contains(subscription);
}

subscription_status sqlite_store::read_subscription_status(const std::string& subscription) {
  subscription_status out;
  read_status(subscription, out);
  return out;
}

void sqlite_store::read_subscription_status(const std::string& subscription, result_fn<subscription_status> done) {
  read_later("read_subscription_status", [this, subscription, done = std::move(done)] {
    subscription_status out;
    const auto ec = read_status(subscription, out);
    done(ec, std::move(out));
  });
}

std::error_code sqlite_store::read_status(const std::string& subscription, subscription_status& out) {
  out.depth = outbox_depth(subscription);
  return read_rows(
      "read_subscription_status",
      "SELECT (SELECT since_ms FROM disabled_subscriptions WHERE subscription = ?1), "
      "(SELECT reason FROM disabled_subscriptions WHERE subscription = ?1), "
      "(SELECT min(created_ms) FROM outbox WHERE subscription = ?1 AND dead_at_ms IS NULL AND batch_id IS NULL "
      "AND dropped_at_ms IS NULL), "
      "o.last_success_ms, o.last_error_ms, o.last_error "
      "FROM (SELECT 1) LEFT JOIN subscription_outcomes o ON o.subscription = ?1",
      [&](statement& st) { st.bind(1, subscription); },
      [&](statement& st) {
        out.disabled = !st.is_null(0);
        out.disabled_since_ms = st.int64(0);
        out.disabled_reason = st.text(1);
        out.oldest_pending_ms = st.int64(2);
        out.last_success_ms = st.int64(3);
        out.last_error_ms = st.int64(4);
        out.last_error = st.text(5);
        return false;
      });
}

std::vector<dead_letter> sqlite_store::list_dead_letters(const std::string& subscription_or_empty) {
  std::vector<dead_letter> out;
  read_dead_letters(subscription_or_empty, out);
  return out;
}

void sqlite_store::list_dead_letters(const std::string& subscription_or_empty,
                                     result_fn<std::vector<dead_letter>> done) {
  read_later("list_dead_letters", [this, subscription_or_empty, done = std::move(done)] {
    std::vector<dead_letter> out;
    const auto ec = read_dead_letters(subscription_or_empty, out);
    done(ec, std::move(out));
  });
}

std::error_code sqlite_store::read_dead_letters(const std::string& subscription_or_empty,
                                                std::vector<dead_letter>& out) {
  return read_rows(
      "list_dead_letters",
      "SELECT unit_id, subscription, webhook_id, event_count, attempts, created_ms, dead_at_ms, dead_reason "
      "FROM outbox WHERE dead_at_ms IS NOT NULL AND batch_id IS NULL AND (?1 = '' OR subscription = ?1) "
      "ORDER BY dead_at_ms DESC, unit_id DESC",
      [&](statement& st) { st.bind(1, subscription_or_empty); },
      [&](statement& st) {
        dead_letter& d = out.emplace_back();
        d.unit_id = st.int64(0);
        d.subscription = st.text(1);
        d.webhook_id = st.text(2);
        d.event_count = static_cast<std::size_t>(st.int64(3));
        d.attempts = static_cast<std::uint32_t>(st.int64(4));
        d.created_ms = st.int64(5);
        d.dead_at_ms = st.int64(6);
        d.reason = st.text(7);
        return true;
      });
}

std::int64_t sqlite_store::outbox_depth(const std::string& subscription) {
  std::shared_lock lock(depth_mu_);
  auto it = depth_.find(subscription);
  return it == depth_.end() ? 0 : it->second->load(std::memory_order_relaxed);
}

std::int64_t sqlite_store::outbox_depth_total() {
  return depth_total_.load(std::memory_order_relaxed);
}

std::error_code sqlite_store::do_next_unit(const std::string& subscription, std::uint32_t lane, std::int64_t now,
                                           const batching& batch, std::optional<delivery_unit>& unit,
                                           std::int64_t& next_due, effects& fx) {
  next_due = 0;
  if (subscription_disabled(subscription)) return {};
  auto key = lane_key(subscription, lane);
  if (in_flight_lanes_.contains(key)) return {};

  delivery_unit u;
  u.subscription = subscription;
  u.lane = lane;
  std::int64_t head_seq = 0, next_attempt = 0;
  bool is_batch = false, formed = false;
  int rc = SQLITE_OK;
  {
    auto head = writer_.prepare(
        "SELECT unit_id, seq, is_batch, formed, attempts, next_attempt_ms, created_ms, event_count, webhook_id, "
        "body, signal_id, signal_type, subject_ref, data_category FROM outbox WHERE " LANE_FILTER
        " ORDER BY seq LIMIT 1",
        rc);
    if (!head) return from_sqlite(rc);
    rc = head->bind(1, subscription).bind(2, static_cast<std::int64_t>(lane)).step();
    if (rc == SQLITE_DONE) return {};
    if (rc != SQLITE_ROW) return from_sqlite(rc);
    u.unit_id = head->int64(0);
    head_seq = head->int64(1);
    is_batch = head->int64(2) != 0;
    formed = head->int64(3) != 0;
    u.attempts = static_cast<std::uint32_t>(head->int64(4));
    next_attempt = head->int64(5);
    u.created_ms = head->int64(6);
    u.event_count = static_cast<std::size_t>(head->int64(7));
    u.webhook_id = head->text(8);
    u.body = head->text(9);
    if (!is_batch) u.members.push_back({u.unit_id, head->text(10), head->text(11), head->text(12), head->text(13)});
  }

  // A unit that was ever handed out keeps its shape (and bytes) for every retry, whatever the
  // batching settings are now.
  if (!batch.enabled || is_batch || formed) {
    if (next_attempt > now) {
      next_due = next_attempt;
      return {};
    }
    u.content_type = is_batch ? batch_content_type : single_content_type;
    if (is_batch) {
      if (auto ec = load_members(u.unit_id, u.members)) return ec;
    }
  } else {
    u.members.clear();
    const auto max_events = std::max<std::size_t>(batch.max_events, 1);
    const auto linger = std::max<std::int64_t>(batch.linger_ms, 0);
    std::vector<std::int64_t> ids;
    std::string body = "[", member_ids;
    {
      auto members = writer_.prepare(
          "SELECT unit_id, is_batch, formed, body, signal_id, signal_type, subject_ref, data_category, webhook_id "
          "FROM outbox "
          "WHERE " LANE_FILTER " ORDER BY seq LIMIT ?3",
          rc);
      if (!members) return from_sqlite(rc);
      members->bind(1, subscription)
          .bind(2, static_cast<std::int64_t>(lane))
          .bind(3, static_cast<std::int64_t>(max_events));
      while ((rc = members->step()) == SQLITE_ROW) {
        if (members->int64(1) != 0 || members->int64(2) != 0) break;  // a formed unit ends the run
        if (!ids.empty()) {
          body += ',';
          member_ids += '\n';
        }
        member_ids += members->text(8);
        body += members->text(3);
        ids.push_back(members->int64(0));
        u.members.push_back(
            {members->int64(0), members->text(4), members->text(5), members->text(6), members->text(7)});
      }
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return from_sqlite(rc);
    }
    if (ids.size() < max_events && now - u.created_ms < linger) {
      next_due = u.created_ms + linger;
      return {};
    }
    body += ']';
    u.unit_id = next_id_++;
    u.webhook_id = batch_webhook_id(member_ids);
    u.body = std::move(body);
    u.content_type = batch_content_type;
    u.event_count = ids.size();
    u.attempts = 0;
    auto ins = writer_.prepare(
        "INSERT INTO outbox (unit_id, subscription, lane, seq, is_batch, webhook_id, body, event_count, created_ms, "
        "formed) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, 1)",
        rc);
    if (!ins) return from_sqlite(rc);
    if (auto ec = step_done(ins->bind(1, u.unit_id)
                                .bind(2, subscription)
                                .bind(3, static_cast<std::int64_t>(lane))
                                .bind(4, head_seq)
                                .bind(5, u.webhook_id)
                                .bind(6, u.body)
                                .bind(7, static_cast<std::int64_t>(ids.size()))
                                .bind(8, u.created_ms)))
      return ec;
    // Members keep their row (signal id, position) for tracing but hand their body to the batch.
    auto link = writer_.prepare("UPDATE outbox SET batch_id = ?1, body = '' WHERE unit_id = ?2", rc);
    if (!link) return from_sqlite(rc);
    for (auto id : ids) {
      if (auto ec = step_done(link->bind(1, u.unit_id).bind(2, id))) return ec;
      link->reset();
    }
  }

  in_flight_lanes_.emplace(key, u.unit_id);
  in_flight_units_.emplace(u.unit_id, key);
  fx.undo.emplace_back([this, key, id = u.unit_id] {
    in_flight_lanes_.erase(key);
    in_flight_units_.erase(id);
  });
  unit = std::move(u);
  return {};
}

/** Forgets that a unit is in flight (if it was), undoably. Returns whether it was. */
bool sqlite_store::release_in_flight(std::int64_t unit_id, effects& fx) {
  auto it = in_flight_units_.find(unit_id);
  if (it == in_flight_units_.end()) return false;
  auto key = std::move(it->second);
  in_flight_units_.erase(it);
  in_flight_lanes_.erase(key);
  fx.undo.emplace_back([this, key, unit_id] {
    in_flight_lanes_.emplace(key, unit_id);
    in_flight_units_.emplace(unit_id, key);
  });
  return true;
}

/** A unit that is neither delivered nor dead (or, with `dead`, one that is dead). */
std::error_code sqlite_store::find_unit(std::int64_t unit_id, bool dead, live_unit& out) {
  int rc = SQLITE_OK;
  auto st = dead ? writer_.prepare(
                       "SELECT subscription, lane, event_count, is_batch FROM outbox WHERE unit_id = ?1 "
                       "AND batch_id IS NULL AND dead_at_ms IS NOT NULL",
                       rc)
                 : writer_.prepare(
                       "SELECT subscription, lane, event_count, is_batch FROM outbox WHERE unit_id = ?1 "
                       "AND batch_id IS NULL AND dead_at_ms IS NULL AND dropped_at_ms IS NULL",
                       rc);
  if (!st) return from_sqlite(rc);
  rc = st->bind(1, unit_id).step();
  if (rc == SQLITE_DONE) return storage_errc::not_found;
  if (rc != SQLITE_ROW) return from_sqlite(rc);
  out.subscription = st->text(0);
  out.lane = st->int64(1);
  out.event_count = st->int64(2);
  out.is_batch = st->int64(3) != 0;
  return {};
}

std::error_code sqlite_store::do_mark_delivered(std::int64_t unit_id, effects& fx) {
  live_unit u;
  if (auto ec = find_unit(unit_id, false, u)) return ec;
  int rc = SQLITE_OK;
  // Delivered payloads are not kept: the signal log is the record of what happened.
  auto members = writer_.prepare("DELETE FROM outbox WHERE batch_id = ?1", rc);
  if (!members) return from_sqlite(rc);
  if (auto ec = step_done(members->bind(1, unit_id))) return ec;
  auto self = writer_.prepare("DELETE FROM outbox WHERE unit_id = ?1", rc);
  if (!self) return from_sqlite(rc);
  if (auto ec = step_done(self->bind(1, unit_id))) return ec;
  if (auto ec = record_outcome(u.subscription, true, {})) return ec;
  fx.depth.emplace_back(u.subscription, -u.event_count);
  release_in_flight(unit_id, fx);
  return {};
}

/** The partner's last answer, kept for `subscriptions list`; `error` is a status and a short reason. */
std::error_code sqlite_store::record_outcome(const std::string& subscription, bool success, std::string_view error) {
  int rc = SQLITE_OK;
  auto st = success ? writer_.prepare(
                          "INSERT INTO subscription_outcomes (subscription, last_success_ms) VALUES (?1, ?2) "
                          "ON CONFLICT (subscription) DO UPDATE SET last_success_ms = excluded.last_success_ms",
                          rc)
                    : writer_.prepare(
                          "INSERT INTO subscription_outcomes (subscription, last_error_ms, last_error) "
                          "VALUES (?1, ?2, ?3) ON CONFLICT (subscription) DO UPDATE SET "
                          "last_error_ms = excluded.last_error_ms, last_error = excluded.last_error",
                          rc);
  if (!st) return from_sqlite(rc);
  st->bind(1, subscription).bind(2, schakel::now_ms());
  if (!success) st->bind(3, error.substr(0, max_outcome_text));
  return step_done(*st);
}

std::error_code sqlite_store::do_reschedule(std::int64_t unit_id, std::int64_t next_attempt_ms, const std::string& err,
                                            effects& fx) {
  live_unit u;
  if (auto ec = find_unit(unit_id, false, u)) return ec;
  if (auto ec = record_outcome(u.subscription, false, err)) return ec;
  int rc = SQLITE_OK;
  auto st = writer_.prepare(
      "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3, formed = 1 "
      "WHERE unit_id = ?1 AND batch_id IS NULL AND dead_at_ms IS NULL AND dropped_at_ms IS NULL",
      rc);
  if (!st) return from_sqlite(rc);
  if (auto ec = step_done(st->bind(1, unit_id).bind(2, next_attempt_ms).bind(3, err))) return ec;
  if (writer_.changes() == 0) return storage_errc::not_found;
  release_in_flight(unit_id, fx);
  return {};
}

std::error_code sqlite_store::do_dead_letter(std::int64_t unit_id, const std::string& reason, effects& fx) {
  live_unit u;
  if (auto ec = find_unit(unit_id, false, u)) return ec;
  // The attempt in flight when the worker gives up counts as made.
  const bool was_in_flight = release_in_flight(unit_id, fx);
  int rc = SQLITE_OK;
  auto st = writer_.prepare(
      "UPDATE outbox SET dead_at_ms = ?2, dead_reason = ?3, formed = 1, attempts = attempts + ?4 "
      "WHERE unit_id = ?1",
      rc);
  if (!st) return from_sqlite(rc);
  if (auto ec = step_done(
          st->bind(1, unit_id).bind(2, schakel::now_ms()).bind(3, reason).bind(4, std::int64_t{was_in_flight})))
    return ec;
  if (auto ec = record_outcome(u.subscription, false, reason)) return ec;
  fx.depth.emplace_back(u.subscription, -u.event_count);
  return {};
}

std::error_code sqlite_store::do_replay(std::int64_t unit_id, std::string& subscription, effects& fx) {
  live_unit u;
  if (auto ec = find_unit(unit_id, true, u)) return ec;
  int rc = SQLITE_OK;
  auto st = writer_.prepare(
      "UPDATE outbox SET dead_at_ms = NULL, dead_reason = NULL, attempts = 0, next_attempt_ms = 0, "
      "last_error = NULL, seq = coalesce((SELECT min(seq) - 1 FROM outbox WHERE " LANE_FILTER
      "), seq) "
      "WHERE unit_id = ?3",
      rc);
  if (!st) return from_sqlite(rc);
  if (auto ec = step_done(st->bind(1, u.subscription).bind(2, u.lane).bind(3, unit_id))) return ec;
  fx.depth.emplace_back(u.subscription, u.event_count);
  subscription = u.subscription;
  return {};
}

/** A stored batch's members, in body order. */
std::error_code sqlite_store::load_members(std::int64_t batch_id, std::vector<unit_member>& out) {
  int rc = SQLITE_OK;
  auto st = writer_.prepare(
      "SELECT unit_id, signal_id, signal_type, subject_ref, data_category FROM outbox WHERE batch_id = ?1 "
      "ORDER BY seq, unit_id",
      rc);
  if (!st) return from_sqlite(rc);
  st->bind(1, batch_id);
  while ((rc = st->step()) == SQLITE_ROW)
    out.push_back({st->int64(0), st->text(1), st->text(2), st->text(3), st->text(4)});
  return rc == SQLITE_DONE ? std::error_code{} : from_sqlite(rc);
}

std::error_code sqlite_store::do_drop_members(std::int64_t unit_id, const std::vector<std::int64_t>& seqs,
                                              const std::string& reason, effects& fx) {
  live_unit u;
  if (auto ec = find_unit(unit_id, false, u)) return ec;
  if (seqs.empty()) {
    fx.detail = "drop_members of unit " + std::to_string(unit_id) + " names no member";
    return storage_errc::invalid_argument;
  }
  const std::unordered_set<std::int64_t> drop(seqs.begin(), seqs.end());
  const auto now = schakel::now_ms();
  int rc = SQLITE_OK;
  auto mark = writer_.prepare(
      "UPDATE outbox SET dropped_at_ms = ?2, drop_reason = ?3, batch_id = NULL, body = '' WHERE unit_id = ?1", rc);
  if (!mark) return from_sqlite(rc);

  if (!u.is_batch) {
    if (drop.size() != 1 || !drop.contains(unit_id)) {
      fx.detail = "drop_members names a row that is not unit " + std::to_string(unit_id);
      return storage_errc::invalid_argument;
    }
    if (auto ec = step_done(mark->bind(1, unit_id).bind(2, now).bind(3, reason))) return ec;
    fx.depth.emplace_back(u.subscription, -1);
    release_in_flight(unit_id, fx);
    return {};
  }

  std::vector<unit_member> members;
  if (auto ec = load_members(unit_id, members)) return ec;
  for (auto seq : drop) {
    if (std::none_of(members.begin(), members.end(), [seq](const unit_member& m) { return m.seq == seq; })) {
      fx.detail = "drop_members names row " + std::to_string(seq) + " that is not in unit " + std::to_string(unit_id);
      return storage_errc::invalid_argument;
    }
  }
  // The members kept go back to the lane as plain items, so they need their own events again.
  std::string body;
  {
    auto st = writer_.prepare("SELECT body FROM outbox WHERE unit_id = ?1", rc);
    if (!st) return from_sqlite(rc);
    rc = st->bind(1, unit_id).step();
    if (rc != SQLITE_ROW) return from_sqlite(rc == SQLITE_DONE ? SQLITE_INTERNAL : rc);
    body = st->text(0);
  }
  auto parts = split_batch_body(body);
  if (!parts || parts->size() != members.size()) {
    fx.detail = "the body of batch " + std::to_string(unit_id) + " does not split into its " +
                std::to_string(members.size()) + " members";
    return storage_errc::internal;
  }
  auto release = writer_.prepare("UPDATE outbox SET batch_id = NULL, body = ?2, formed = 0 WHERE unit_id = ?1", rc);
  if (!release) return from_sqlite(rc);
  for (std::size_t i = 0; i < members.size(); ++i) {
    const auto seq = members[i].seq;
    auto ec = drop.contains(seq) ? step_done(mark->bind(1, seq).bind(2, now).bind(3, reason))
                                 : step_done(release->bind(1, seq).bind(2, (*parts)[i]));
    if (ec) return ec;
    mark->reset();
    release->reset();
  }
  auto del = writer_.prepare("DELETE FROM outbox WHERE unit_id = ?1", rc);
  if (!del) return from_sqlite(rc);
  if (auto ec = step_done(del->bind(1, unit_id))) return ec;
  fx.depth.emplace_back(u.subscription, -static_cast<std::int64_t>(drop.size()));
  release_in_flight(unit_id, fx);
  return {};
}

std::error_code sqlite_store::do_set_disabled(const std::string& subscription, bool disabled, const std::string& reason,
                                              effects& fx) {
  if (subscription.empty()) return storage_errc::invalid_argument;
  int rc = SQLITE_OK;
  // Disabling twice keeps the first time and reason: "since" is when the partner first refused.
  auto st = disabled ? writer_.prepare(
                           "INSERT INTO disabled_subscriptions (subscription, since_ms, reason) VALUES (?1, ?2, ?3) "
                           "ON CONFLICT (subscription) DO NOTHING",
                           rc)
                     : writer_.prepare("DELETE FROM disabled_subscriptions WHERE subscription = ?1", rc);
  if (!st) return from_sqlite(rc);
  st->bind(1, subscription);
  if (disabled) st->bind(2, schakel::now_ms()).bind(3, std::string_view(reason).substr(0, max_outcome_text));
  if (auto ec = step_done(*st)) return ec;
  std::lock_guard lock(disabled_mu_);
  const bool was = disabled_.contains(subscription);
  if (was == disabled) return {};
  if (disabled) {
    disabled_.insert(subscription);
  } else {
    disabled_.erase(subscription);
  }
  fx.undo.emplace_back([this, subscription, was] {
    std::lock_guard l(disabled_mu_);
    if (was) {
      disabled_.insert(subscription);
    } else {
      disabled_.erase(subscription);
    }
  });
  return {};
}

}  // namespace schakel::storage::detail
