// The SQLite engine's registry: consents, links and the reports parked until a link arrives.

#include "common/signal.hpp"
#include "storage/sqlite_engine.hpp"

namespace schakel::storage::detail {

void sqlite_store::append_consent(consent_row row, std::vector<audit::entry> audit,
                                  std::function<void(std::error_code, std::int64_t)> done) {
  auto id = std::make_shared<std::int64_t>(0);
  enqueue({"append_consent",
           [this, row = std::move(row), audit = std::move(audit), id](effects& fx) mutable {
             if (auto ec = do_append_consent(row, *id, fx)) return ec;
             // The caller cannot know the id before the insert: consent records that name no
             // object get this one.
             for (auto& e : audit)
               if (e.object_type == "consent" && e.object_id.empty()) e.object_id = std::to_string(*id);
             return do_append_audit(audit, fx);
           },
           [id, done = std::move(done)](std::error_code ec) {
             if (done) done(ec, ec ? 0 : *id);
           }});
}

std::vector<consent_row> sqlite_store::load_consents() {
  std::vector<consent_row> out;
  read_rows("load_consents", "SELECT id, subject_ref, recorded_ms, json FROM consents ORDER BY id", no_parameters,
            [&](statement& st) {
              consent_row& c = out.emplace_back();
              c.id = st.int64(0);
              c.subject_ref = st.text(1);
              c.recorded_ms = st.int64(2);
              c.json = st.text(3);
              return true;
            });
  return out;
}

void sqlite_store::record_link(student_link link, std::vector<audit::entry> audit,
                               std::function<void(std::error_code, std::vector<parked_signal>)> done) {
  auto waiting = std::make_shared<std::vector<parked_signal>>();
  enqueue({"record_link",
           [this, link = std::move(link), audit = std::move(audit), waiting](effects& fx) mutable {
             if (auto ec = do_record_link(link, fx)) return ec;
             if (auto ec = do_append_audit(audit, fx)) return ec;
             return do_parked_for(link.link_hash, *waiting, fx);
           },
           [waiting, done = std::move(done)](std::error_code ec) {
             if (done) done(ec, ec ? std::vector<parked_signal>{} : std::move(*waiting));
           }});
}

std::vector<student_link> sqlite_store::load_links() {
  std::vector<student_link> out;
  read_rows("load_links", "SELECT link_hash, brin, vestiging, student_key, recorded_ms FROM student_links",
            no_parameters, [&](statement& st) {
              student_link& l = out.emplace_back();
              l.link_hash = st.text(0);
              l.brin = st.text(1);
              l.vestiging = st.text(2);
              l.student_key = st.text(3);
              l.recorded_ms = st.int64(4);
              return true;
            });
  return out;
}

void sqlite_store::unpark(std::vector<std::string> parked_ids, std::vector<signal_row> signals,
                          std::vector<outbox_item> items, done_fn done) {
  struct payload {
    std::vector<std::string> ids;
    std::vector<signal_row> signals;
    std::vector<outbox_item> items;
  };
  auto data = std::make_shared<payload>(payload{std::move(parked_ids), std::move(signals), std::move(items)});
  enqueue({"unpark",
           [this, data](effects& fx) {
             if (auto ec = do_unpark_rows(data->ids, fx)) return ec;
             return do_append(data->signals, data->items, fx);
           },
           [done = std::move(done)](std::error_code ec) {
             if (done) done(ec);
           }});
}

std::vector<parked_signal> sqlite_store::list_parked() {
  std::vector<parked_signal> out;
  read_parked(out);
  return out;
}

void sqlite_store::list_parked(result_fn<std::vector<parked_signal>> done) {
  read_later("list_parked", [this, done = std::move(done)] {
    std::vector<parked_signal> out;
    const auto ec = read_parked(out);
    done(ec, std::move(out));
  });
}

std::error_code sqlite_store::read_parked(std::vector<parked_signal>& out) {
  return read_rows("list_parked",
                   "SELECT id, type, instance, plugin, link_hash, received_ms, json FROM parked_signals ORDER BY seq",
                   no_parameters, [&](statement& st) {
                     out.push_back(parked_from(st));
                     return true;
                   });
}

template <class Statement>
parked_signal sqlite_store::parked_from(Statement& st) {
  parked_signal p;
  p.id = st.text(0);
  p.type = st.text(1);
  p.instance = st.text(2);
  p.plugin = st.text(3);
  p.link_hash = st.text(4);
  p.received_ms = st.int64(5);
  p.json = st.text(6);
  return p;
}

std::error_code sqlite_store::do_park(const std::vector<parked_signal>& parked, effects& fx) {
  if (parked.empty()) return {};
  int rc = SQLITE_OK;
  auto st = writer_.prepare(
      "INSERT INTO parked_signals (id, type, instance, plugin, link_hash, received_ms, json) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      rc);
  if (!st) return from_sqlite(rc);
  for (const auto& p : parked) {
    if (p.id.empty() || p.link_hash.empty() || p.json.empty()) {
      fx.detail = "a parked signal has an empty id, link or document";
      return storage_errc::invalid_argument;
    }
    st->reset();
    if (auto ec = step_done(st->bind(1, p.id)
                                .bind(2, p.type)
                                .bind(3, p.instance)
                                .bind(4, p.plugin)
                                .bind(5, p.link_hash)
                                .bind(6, p.received_ms)
                                .bind(7, p.json))) {
      fx.detail = writer_.last_error() + " (parked signal)";
      return ec;
    }
  }
  return {};
}

std::error_code sqlite_store::do_record_link(const student_link& link, effects& fx) {
  if (link.link_hash.empty() || link.brin.empty() || link.student_key.empty()) {
    fx.detail = "a link has an empty hash, school or student key";
    return storage_errc::invalid_argument;
  }
  int rc = SQLITE_OK;
  auto st = writer_.prepare(
      "INSERT INTO student_links (link_hash, brin, vestiging, student_key, recorded_ms) VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT (link_hash) DO UPDATE SET brin = ?2, vestiging = ?3, student_key = ?4, recorded_ms = ?5",
      rc);
  if (!st) return from_sqlite(rc);
  if (auto ec = step_done(st->bind(1, link.link_hash)
                              .bind(2, link.brin)
                              .bind(3, link.vestiging)
                              .bind(4, link.student_key)
                              .bind(5, link.recorded_ms != 0 ? link.recorded_ms : schakel::now_ms()))) {
    fx.detail = writer_.last_error() + " (link)";
    return ec;
  }
  return {};
}

std::error_code sqlite_store::do_parked_for(const std::string& link_hash, std::vector<parked_signal>& out,
                                            effects& fx) {
  int rc = SQLITE_OK;
  auto st = writer_.prepare(
      "SELECT id, type, instance, plugin, link_hash, received_ms, json FROM parked_signals WHERE link_hash = ?1 "
      "ORDER BY seq",
      rc);
  if (!st) return from_sqlite(rc);
  st->bind(1, link_hash);
  while ((rc = st->step()) == SQLITE_ROW) out.push_back(parked_from(*st));
  if (rc != SQLITE_DONE) {
    fx.detail = writer_.last_error() + " (parked signals)";
    return from_sqlite(rc);
  }
  return {};
}

std::error_code sqlite_store::do_unpark_rows(const std::vector<std::string>& ids, effects& fx) {
  int rc = SQLITE_OK;
  auto st = writer_.prepare("DELETE FROM parked_signals WHERE id = ?1", rc);
  if (!st) return from_sqlite(rc);
  for (const auto& id : ids) {
    st->reset();
    if (auto ec = step_done(st->bind(1, id))) {
      fx.detail = writer_.last_error() + " (unpark)";
      return ec;
    }
  }
  return {};
}

std::error_code sqlite_store::do_append_consent(consent_row& row, std::int64_t& id, effects& fx) {
  if (row.subject_ref.empty() || row.json.empty()) {
    fx.detail = "a consent record has an empty subject or document";
    return storage_errc::invalid_argument;
  }
  if (row.recorded_ms == 0) row.recorded_ms = schakel::now_ms();
  int rc = SQLITE_OK;
  auto st = writer_.prepare("INSERT INTO consents (subject_ref, recorded_ms, json) VALUES (?1, ?2, ?3)", rc);
  if (!st) return from_sqlite(rc);
  if (auto ec = step_done(st->bind(1, row.subject_ref).bind(2, row.recorded_ms).bind(3, row.json))) {
    fx.detail = writer_.last_error() + " (consent)";
    return ec;
  }
  id = sqlite3_last_insert_rowid(writer_.handle());
  return {};
}

}  // namespace schakel::storage::detail
