#pragma once
/**
 * HL7 FHIR R4 JSON reader for JGZ reports: bytes in, the resources a report holds out, with the
 * structural checks the connector relies on. Pure (no I/O, no logging, no global state), safe to call
 * concurrently, never throws on bad input (only std::bad_alloc escapes).
 *
 * Accepted bodies: a `Bundle` of type collection, transaction or message, or one single
 * `QuestionnaireResponse`, `Observation` or `Patient`. Only those three resource types are returned;
 * `MessageHeader` is accepted (and skipped) only as the first entry of a message Bundle. Every other
 * resource is reported as an issue, never silently dropped.
 *
 * Privacy: FHIR resources hold names, BSNs and answers. An issue names the FHIR path and a fixed
 * reason; it never quotes a value from the input. A resource type is named only when it is one of the
 * FHIR R4 resource type names (anything else in `resourceType` is treated as a value).
 */
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace schakel::connectors::jgz_fhir::fhir {

/** Nesting limit checked on the raw text before parsing, so no input can exhaust the stack. */
inline constexpr int max_depth = 32;

/** One structural problem. */
struct issue {
  /** FHIR path of the offending element, e.g. `Bundle.entry[3].resource.item[2].answer[0]` or
      `Bundle.type`; empty when the text itself is at fault (broken JSON, too deep, not an object). */
  std::string path;
  /** Why, without any value from the input. */
  std::string reason;
  /** The Bundle entry index (0 for a single resource) the issue belongs to; -1 for the document as a
      whole (the text, `resourceType`, `Bundle.type`, `Bundle.entry`, a message Bundle's first entry). */
  std::int64_t index = -1;
};

/** One resource that passed the checks. */
struct entry {
  /** `Bundle.entry[3].resource`, or the resource type for a single resource (`QuestionnaireResponse`). */
  std::string path;
  /** `QuestionnaireResponse`, `Observation` or `Patient`. */
  std::string resource_type;
  /** `Bundle.entry.fullUrl`; empty when absent or for a single resource. */
  std::string full_url;
  /** The resource as sent (unchanged, including elements this reader does not check). */
  nlohmann::json resource;
  /** The Bundle entry index (0 for a single resource). */
  std::int64_t index = 0;
};

/** What one body holds. */
struct document {
  /** The valid resources, in Bundle order. */
  std::vector<entry> entries;
  /** Every problem found, in document order. */
  std::vector<issue> issues;
  /** False when the body as a whole cannot be read (broken or too deep JSON, not a FHIR resource, a
      Bundle type or Bundle.entry this reader does not take); then `entries` is empty. True otherwise,
      even when some or all resources were refused (those are in `issues` with their index). */
  bool readable = false;
};

/**
 * Parses and checks `body`. Each Bundle entry is checked on its own: an invalid or unsupported
 * resource is reported and left out, the others are kept. Checks (FHIR R4, plus what linking needs):
 *  - QuestionnaireResponse: `status` (R4 codes), `questionnaire` string, `subject.reference` or
 *    `subject.identifier`, optional `authored` dateTime, `item[]` with `linkId`, nested `item[]`,
 *    `answer[]` with exactly one allowed `value[x]` of the right JSON type, `answer.item[]`; an item
 *    has either `answer` or `item`, not both (qrs-1).
 *  - Observation: `status` (R4 codes), `code.coding[]` with at least one coding with `system` and
 *    `code`, `subject` as above, optional `effectiveDateTime`, at most one `value[x]` / `effective[x]`.
 *  - Patient: at least one `identifier`, each with `system` and `value` strings; optional `birthDate`.
 *  - `id`, when present, matches the R4 id pattern. Dates and dateTimes follow the R4 formats and must
 *    exist in the calendar; a dateTime with a time carries a zone.
 */
document read(std::string_view body);

/**
 * The entry a Reference points at within `doc`: `{"reference": "urn:uuid:…"}` (or any absolute URL)
 * matches an entry's fullUrl; `{"reference": "Patient/123"}` (optionally `/_history/n`) matches the
 * entry of that type with that id. nullptr when the object has no string `reference`, nothing
 * matches, or more than one entry matches (an ambiguous reference must never link to a guess).
 * Contained (`#id`) references are not resolved. The pointer lives as long as `doc` is not modified.
 */
const entry* resolve(const document& doc, const nlohmann::json& reference_object);

/** A Patient identifier. */
struct identifier {
  std::string system;
  std::string value;
};

/** The identifiers of a Patient entry in order; empty for other resource types. */
std::vector<identifier> identifiers(const entry& patient);

/** One answer value of a QuestionnaireResponse. */
struct answer {
  /** The `linkId` of the item the answer belongs to. */
  std::string link_id;
  /** Full FHIR path of the answer, e.g. `Bundle.entry[1].resource.item[0].item[2].answer[0]`. */
  std::string path;
  /** The value[x] element name: `valueInteger`, `valueCoding`, … */
  std::string value_type;
  /** The value as sent (a JSON scalar or object). */
  nlohmann::json value;
};

/**
 * Every answer of a QuestionnaireResponse entry in document order: an item's answers (each followed
 * by the answers of its `answer.item[]`), then the answers of its nested `item[]`. Empty for other
 * resource types. Call it on entries from `read` (they are checked); unchecked shapes are skipped.
 */
std::vector<answer> answers(const entry& questionnaire_response);

/** True for the Dutch BSN identifier systems: `http://fhir.nl/fhir/NamingSystem/bsn`,
    `urn:oid:2.16.840.1.113883.2.4.6.3` and the bare OID `2.16.840.1.113883.2.4.6.3`. */
bool is_bsn_system(std::string_view system) noexcept;

/** FHIR R4 `date`: YYYY, YYYY-MM or YYYY-MM-DD, a real calendar date, year not 0000. */
bool is_date(std::string_view text) noexcept;

/** FHIR R4 `dateTime`: a `date`, or YYYY-MM-DDThh:mm:ss[.f+] with a zone (Z or ±hh:mm, at most ±14:00). */
bool is_date_time(std::string_view text) noexcept;

/** FHIR R4 `time`: hh:mm:ss[.f+] (no zone). */
bool is_time(std::string_view text) noexcept;

}  // namespace schakel::connectors::jgz_fhir::fhir
