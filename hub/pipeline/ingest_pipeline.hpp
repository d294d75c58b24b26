#pragma once
/**
 * The core's part of ingest, between a connector and the signal log: normalise what a connector
 * produced (id, schema version, provenance, received time), screen it at the privacy gate (BSN),
 * validate it against signal.v1, and route it through the gate to the subscriptions' outboxes. Pure and synchronous: no
 * I/O, so it is unit-tested directly and the daemon decides where it runs.
 */
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plugin_host/plugin_host.hpp"
#include "privacy/gate.hpp"
#include "privacy/links.hpp"
#include "storage/store.hpp"

namespace schakel::schema {
class signal_validator;
}

namespace schakel::pipeline {

struct accepted_signal {
  std::int64_t index = 0;  ///< the source record it came from
  std::string id;
  bool parked = false;  ///< stored, but waiting for a link before it enters the log (docs/linking.md)
};

/** The outcome of one request: what to store, what to report back. */
struct batch {
  std::vector<storage::signal_row> rows;
  std::vector<storage::outbox_item> items;
  std::vector<storage::parked_signal> parked;  ///< accepted, stored, not yet in the log: no link yet
  std::vector<accepted_signal> accepted;
  std::vector<plugin_host::rejection> rejected;  ///< connector rejections plus schema failures
  std::vector<std::string> touched_subscriptions;
};

/**
 * The store's answers for one request's deletions by record id (deletions_by_id), by record id:
 * the hub completes such a deletion from the record it deletes.
 */
using stored_records = std::map<std::string, storage::stored_record>;

class ingest_pipeline {
 public:
  /**
   * The source.record_id of every deletion by record id alone in `result`, each once: a signal of a
   * `….deleted` type that carries a record id and no `subject` (its source knows which record it
   * deleted, not whose or of which day). The caller looks them up (store::find_records) and hands
   * the answers to process(). Cheap when there are none: only signal texts naming a deleted type
   * are parsed.
   */
  static std::vector<std::string> deletions_by_id(const plugin_host::ingest_result& result);

  /**
   * `links` (may be null: then nothing links and nothing parks): a signal whose `link` field held a BSN
   * takes the linked student's key and school, or is parked when there is no link yet.
   */
  ingest_pipeline(const schema::signal_validator& validator, const privacy::gate& gate,
                  const privacy::link_registry* links = nullptr);

  /**
   * Normalises, validates and routes each signal of one connector result. A signal that fails
   * validation becomes a rejection naming its record, the signal field and the reason; it is never
   * stored. `received_ms` is the request's arrival time.
   *
   * A deletion by record id alone takes `subject`, and `observed_at` and `content.evidence.date` when
   * it has none, from the record it deletes: a record accepted earlier in the same result, else
   * `stored` (the latest stored version for this instance). A record never stored, or one retention
   * already purged, makes it a rejection of its own record (field `source.record_id`); the rest of
   * the result is unaffected.
   */
  batch process(const plugin_host::ingest_result& result, const std::string& instance, const std::string& plugin,
                std::int64_t received_ms, const stored_records& stored = {}) const;

  /**
   * The same for one signal a processor or the core itself derived: normalised (its provenance is
   * `instance`), validated and routed into `out`. Returns its new id, or "" with `error` naming the
   * failing field when it is refused.
   */
  std::string derive(std::string_view json, const std::string& instance, const std::string& plugin,
                     std::int64_t received_ms, batch& out, std::string& error) const;

  /**
   * A parked signal whose link has appeared: it takes the student's key and school, is validated and
   * routed now (the policies of this moment apply) into `out`. False with `error` when it is refused.
   */
  bool unpark(const storage::parked_signal& parked, const privacy::linked_student& student, std::int64_t now_ms,
              batch& out, std::string& error) const;

 private:
  const schema::signal_validator& validator_;
  const privacy::gate& gate_;
  const privacy::link_registry* links_;
};

}  // namespace schakel::pipeline
