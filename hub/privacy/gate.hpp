#pragma once
/**
 * The privacy gate: the only door between the signal log and partners (docs/privacy.md).
 *
 * - At ingest (`screen`): BSN handling per connector instance. A BSN in a declared key field is
 *   replaced by the hub's keyed hash; a BSN anywhere else refuses the record. No BSN is ever stored.
 * - At routing (`route`): per subscription, deny by default. A signal reaches a subscription only when
 *   the filter matches and the policy allows it (identity level, health data needs consent or an
 *   art. 9 ground, an aggregate subscription never gets a row about one student); what leaves is the
 *   allowlisted projection, with the student key replaced by the partner's pseudonym where the policy
 *   says pseudonymous.
 * - At delivery (`check_delivery`): consent and objections, on the day of delivery, so a withdrawal
 *   also stops events already queued. The delivery service drops refused events and audits them.
 *
 * Thread-safe after construction (the consent registry is internally locked).
 */
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/audit.hpp"
#include "config/config.hpp"
#include "metrics/metrics.hpp"
#include "privacy/consent.hpp"
#include "privacy/keys.hpp"
#include "storage/store.hpp"

namespace schakel::privacy {

/** The outcome of screening one signal at ingest. */
struct screen_result {
  bool accepted = true;
  std::string field;   ///< the refused field's dotted path
  std::string reason;  ///< why; never the value
  /// The keyed hash of a BSN found in a field declared `link` (the JGZ report links through it); else empty.
  std::string link_hash;
};

struct delivery_verdict {
  bool allowed = true;
  std::string reason;
};

class gate {
 public:
  /**
   * Loads every pseudonymous subscription's key files (throws std::runtime_error naming the
   * subscription and the problem). `hub_key` is the hub's own key; `consents` must outlive the gate.
   */
  gate(const config::hub_config& cfg, std::string hub_key, const consent_registry& consents,
       metrics::registry* metrics = nullptr);

  /** BSN handling for a normalised signal from `instance` (may rewrite declared key fields). */
  screen_result screen(nlohmann::json& signal, const std::string& instance) const;

  /** The hub's keyed hash of a BSN, as `screen` stores it for a `link` field; "" when `bsn` is no BSN. */
  std::string bsn_link_hash(std::string_view bsn) const;

  /** Appends one outbox item per subscription the signal matches and the policy allows. */
  void route(const nlohmann::json& signal, const std::string& signal_id, std::int64_t now_ms,
             std::vector<storage::outbox_item>& out) const;

  /** Whether one queued event may still go to `subscription` on the day of `now_ms` (consent, objections). */
  delivery_verdict check_delivery(const std::string& subscription, const storage::unit_member& member,
                                  std::int64_t now_ms) const;

  /** The audit record of one delivery outcome of one event. */
  audit::entry delivery_audit(const std::string& subscription, const storage::unit_member& member,
                              const std::string& action, const std::string& outcome, const std::string& detail,
                              std::int64_t now_ms) const;

  /** The hub's pseudonym of a student, as in outbox rows, consent records and the audit trail. */
  std::string subject_ref(const std::string& brin, const std::string& student_key) const;

  /** Why a subscription's policy refuses a signal, or "" when it may go (exposed for tests). */
  std::string policy_refusal(const config::subscription& sub, const nlohmann::json& signal, std::int64_t now_ms) const;

  /** "<art. 6 basis>" or "<basis>+art9:<ground>" as audit records state it. */
  static std::string basis_text(const config::privacy_policy& policy, bool health);

 private:
  struct partner_view {
    const config::subscription* sub = nullptr;
    std::unique_ptr<key_ring> keys;  // pseudonymous only
  };
  const partner_view* find(const std::string& subscription) const;
  nlohmann::json payload(const partner_view& view, const nlohmann::json& signal, std::int64_t now_ms) const;

  std::vector<config::subscription> subscriptions_;
  std::vector<partner_view> views_;
  std::map<std::string, config::bsn_settings> bsn_;
  std::string hub_key_;
  const consent_registry& consents_;
  metrics::registry* metrics_;
};

}  // namespace schakel::privacy
