#pragma once
/**
 * jgz-fhir connector (issue 6 points 1–3, connector side): one HL7 FHIR R4 JSON document per call
 * (a Bundle of type collection, transaction or message, or one QuestionnaireResponse, Observation or
 * Patient) → one `nl.schakel.jgz.sdq.scored` signal per SDQ QuestionnaireResponse and one
 * `nl.schakel.jgz.conclusion.<x>` signal per Observation a configured rule matches, in entry order.
 * Kept apart from the plugin registration (plugin.cpp) so unit tests call it directly.
 *
 * Privacy: rejection fields are FHIR paths, reasons are fixed texts; no value from the document (a
 * BSN, a student number, an answer, a code) is ever quoted. A BSN goes into `subject.student_key`
 * only (when settings link.bsn is true), where the hub replaces it with its keyed hash before the
 * signal is validated or stored (instance config `bsn: {keys: {subject.student_key: link}}`).
 */
#include <optional>
#include <string>
#include <string_view>

#include "schakel/plugin.hpp"
#include "settings.hpp"

namespace schakel::connectors::jgz_fhir {

/** The signal type of a scored SDQ. */
inline constexpr std::string_view sdq_signal_type = "nl.schakel.jgz.sdq.scored";

/** content.indicator of a scored SDQ (the value is the total difficulties score). */
inline constexpr std::string_view sdq_indicator = "sdq.total_difficulties";

class connector {
 public:
  /** Validates the settings; throws sdk::config_error naming the path and the reason. */
  explicit connector(std::string_view settings_json);
  explicit connector(settings s);

  /**
   * Maps one FHIR document (`application/fhir+json` or `application/json`, parameters and case
   * ignored; any other content type fails). A document that cannot be read as a whole is
   * ctx.fail(); every structural issue the FHIR reader reports is a rejection with its Bundle entry
   * index (-1 for the document as a whole) and FHIR path; each resource that cannot be mapped
   * (not linkable, not an SDQ this instance knows, not completed, a bad answer, no observation rule)
   * is one rejection at its FHIR path. Patients are read for linking only. Read-only: safe to call
   * concurrently.
   */
  void ingest(std::string_view body, std::string_view content_type, sdk::ingest_context& ctx) const;

  const settings& configuration() const noexcept { return settings_; }

  /** What the instance can emit: scored SDQs, and one type per configured observation rule. */
  sdk::emitted_signals emits() const;

 private:
  settings settings_;
};

/** `application/fhir+json` or `application/json`, parameters and case ignored. */
bool is_fhir_json_media_type(std::string_view content_type) noexcept;

/**
 * A FHIR dateTime as the signal's `observed_at`: `YYYY-MM-DD` → `YYYY-MM-DDT00:00:00Z`; a full
 * dateTime with a zone is kept (fractional seconds cut to 9 digits, the schema's limit). nullopt for
 * a year or year-month only (too vague to be an observation time: the hub then uses received_at)
 * and for anything that is not a FHIR dateTime.
 */
std::optional<std::string> observed_at_of(std::string_view fhir_date_time);

/** A BSN: 8 or 9 digits that, zero-padded to 9, pass the 11-test (not all zeros). */
bool is_bsn(std::string_view digits) noexcept;

}  // namespace schakel::connectors::jgz_fhir
