#pragma once
/**
 * Consent, withdrawal and objection records, and the rule deciding at delivery time whether one
 * event may go to one partner. Who must consent is data per legal framework (docs/privacy.md):
 * - AVG (art. 8 / UAVG art. 5): under 16 the parent (legal representative), 16+ the student.
 * - WGBO (medical/JGZ data): under 12 the parents, 12-15 both the child and the parents, 16+ the
 *   young person alone.
 * The age is taken on the day of delivery, so a parent's consent stops counting at 16.
 */
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace schakel::privacy {

enum class consent_kind { consent, withdrawal, objection, objection_withdrawal };
enum class consenter { parent, student };
enum class legal_framework { avg, wgbo };

/** One recorded statement. Scope: exactly one of partner / purpose is set. */
struct consent_record {
  std::int64_t id = 0;  ///< store id; 0 before it is stored
  consent_kind kind = consent_kind::consent;
  consenter given_by = consenter::parent;
  std::string partner;     ///< scope: a partner (subscription's `partner`)
  std::string purpose;     ///< scope: a purpose (subscription's privacy.purpose)
  std::string given_on;    ///< YYYY-MM-DD, effective from that day
  std::string expires_on;  ///< YYYY-MM-DD last valid day, "" = no expiry (consent only)
  std::string birth_date;  ///< student's date of birth, YYYY-MM-DD (decides who must consent)
  std::int64_t recorded_ms = 0;
};

/** Stored form (no student key: the store keeps subject_ref beside it). */
nlohmann::json to_json(const consent_record& r);
std::optional<consent_record> consent_from_json(const nlohmann::json& j);

/**
 * Validates an API/CLI request body: {school, student_key, birth_date, kind, given_by, partner|purpose,
 * given_on, expires_on?}. On error returns nullopt and sets `error` to "<field>: <why>" (never the
 * value). `today` (YYYY-MM-DD) refuses given_on in the future and birth dates after it.
 */
struct consent_request {
  std::string school;
  std::string student_key;
  consent_record record;
};
std::optional<consent_request> parse_consent_request(const nlohmann::json& body, const std::string& today,
                                                     std::string& error);

/** Whole years between birth_date and on (YYYY-MM-DD both); -1 when either is malformed. */
int age_on(const std::string& birth_date, const std::string& on);

/** Who must have consented, for a framework and an age in years. */
std::vector<consenter> required_consenters(legal_framework framework, int age);

/** One delivery, as the rule sees it. */
struct delivery_question {
  std::string partner;
  std::string purpose;
  legal_framework framework = legal_framework::avg;
  bool needs_consent = false;      ///< basis is consent, or health data on explicit consent
  bool objection_applies = false;  ///< basis public task or consent (AVG art. 21); not legal obligation
  std::string date;                ///< YYYY-MM-DD of delivery
};

struct consent_verdict {
  bool allowed = false;
  std::string reason;  ///< why not (or "consent" / "no consent needed"); never personal data
};

/**
 * Decides from all records of one student (any order; later recorded_ms wins between a statement and
 * its withdrawal by the same person for the same scope). Deny by default: when consent is needed and
 * the birth date is unknown, the answer is no.
 */
consent_verdict evaluate(const std::vector<consent_record>& records, const delivery_question& q);

/** The records in memory, per subject_ref; thread-safe. Loaded from the store at start, then added to. */
class consent_registry {
 public:
  void add(const std::string& subject_ref, consent_record r);
  std::vector<consent_record> records(const std::string& subject_ref) const;
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<consent_record>> by_subject_;
  std::size_t count_ = 0;
};

}  // namespace schakel::privacy
