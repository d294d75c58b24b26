#pragma once
/**
 * The hub's registry: what the hub is told about people rather than by sources, each change with its
 * audit record in one transaction. Consents, withdrawals and objections (the privacy gate), links
 * from a JGZ report's BSN hash to a student (docs/linking.md), and the reports parked until a link
 * arrives. Unparking is here because only a new link makes it happen.
 * Threading: as store.hpp. Transactions per operation: docs/storage.md, "Roles".
 *
 * Two types: async_registry is what a request handler gets; registry adds the blocking reads of
 * start-up (docs/storage.md, "Who may block").
 */
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include "audit/audit.hpp"
#include "storage/types.hpp"

namespace schakel::storage {

class async_registry {
 public:
  virtual ~async_registry() = default;

  /** Records a consent/withdrawal/objection with its audit record in one transaction; `done` gets the id. */
  virtual void append_consent(consent_row row, std::vector<audit::entry> audit,
                              std::function<void(std::error_code, std::int64_t id)> done) = 0;

  /**
   * Records (or replaces) a link with its audit records; `done` gets the parked signals waiting for
   * that hash, still parked: the caller routes them and calls unpark().
   */
  virtual void record_link(student_link link, std::vector<audit::entry> audit,
                           std::function<void(std::error_code, std::vector<parked_signal>)> done) = 0;
  /** Moves parked signals into the log with their outbox items, in one transaction. */
  virtual void unpark(std::vector<std::string> parked_ids, std::vector<signal_row> signals,
                      std::vector<outbox_item> items, done_fn done) = 0;
  /** Every parked signal, oldest first, through `done` on an engine thread. */
  virtual void list_parked(result_fn<std::vector<parked_signal>> done) = 0;
};

class registry : public async_registry {
 public:
  using async_registry::list_parked;

  /** Every consent row in recording order. Blocking; at start-up (the registry then keeps them in memory). */
  virtual std::vector<consent_row> load_consents() = 0;
  /** Every link. Blocking; at start-up. */
  virtual std::vector<student_link> load_links() = 0;
  /** Every parked signal, oldest first. Blocking; at start-up. */
  virtual std::vector<parked_signal> list_parked() = 0;

  /** For an engine whose reads never wait (a fake in memory): answers at once, on the caller's thread. */
  void list_parked(result_fn<std::vector<parked_signal>> done) override { done({}, list_parked()); }
};

}  // namespace schakel::storage
