#pragma once
/**
 * The audit witness: a partner that receives every signed checkpoint of the audit chain, so a party
 * outside the hub's machine holds the chain head too (docs/privacy.md, "A trail that survives its
 * administrator").
 *
 * A checkpoint covers every record before it, so only the newest one matters: the sender keeps one
 * pending checkpoint, and a newer one replaces it while an attempt is failing. Each is POSTed as its
 * JSON line (`application/json`) with Standard Webhooks headers; its webhook-id is stable
 * (`ckpt_<node>_<seq>`), so a witness can store idempotently. A failed attempt (transport error,
 * refused destination, any non-2xx) is retried with doubling backoff, 1 s up to 5 min, until it or a
 * newer checkpoint is accepted: the file in keys_dir is the durable copy, the witness a second one.
 *
 * Logs: `audit.witness_failed` (warn, the first failure of a streak, then one a minute at most; the
 * seq, status and transport error — never the URL, which may hold a token) and
 * `audit.witness_recovered`. Metrics: `schakel_audit_witness_total{outcome="ok"|"failed"}` and
 * `schakel_audit_witness_seq`, the last seq the witness accepted.
 *
 * The client goes through the same destination guard and TLS settings as a subscription's webhook.
 */
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "config/config.hpp"
#include "delivery/https_client.hpp"
#include "metrics/metrics.hpp"

namespace schakel::delivery {

/** The client options of a partner's webhook: its CA, its client certificate and `destination`. */
client_options client_options_of(const config::webhook_delivery& hook, destination_check destination);

class checkpoint_witness {
 public:
  /** nullptr and `error` set ("url: …", "secret: …") when the URL, secret or TLS files are unusable. */
  static std::unique_ptr<checkpoint_witness> create(boost::asio::any_io_executor ex,
                                                    const config::webhook_delivery& hook, destination_check destination,
                                                    std::string node, metrics::registry& metrics, std::string* error);
  ~checkpoint_witness();
  checkpoint_witness(const checkpoint_witness&) = delete;
  checkpoint_witness& operator=(const checkpoint_witness&) = delete;

  /** Hands over a checkpoint (its seq and JSON line). Any thread; never blocks on the network. */
  void offer(std::int64_t seq, std::string line);

  /** True when the newest checkpoint offered has been accepted (or none was offered). Any thread. */
  bool caught_up() const;

  /** True while the last attempt failed (until one succeeds). Any thread. */
  bool failing() const;

  /** Stops retrying; an attempt in flight is abandoned. Any thread; the object may be destroyed after. */
  void stop();

 private:
  struct impl;
  explicit checkpoint_witness(std::shared_ptr<impl> p);
  std::shared_ptr<impl> impl_;
};

}  // namespace schakel::delivery
