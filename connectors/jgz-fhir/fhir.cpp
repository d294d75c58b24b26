#include "fhir.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <iterator>
#include <limits>
#include <utility>

#include "schakel/plugin.hpp"

namespace schakel::connectors::jgz_fhir::fhir {

namespace {

using json = nlohmann::json;

// Every R4 (4.0.1) resource type. A resourceType is named in an issue only when it is one of these:
// anything else in that field is input, and input is never quoted.
constexpr std::string_view r4_resource_types[] = {"Account",
                                                  "ActivityDefinition",
                                                  "AdverseEvent",
                                                  "AllergyIntolerance",
                                                  "Appointment",
                                                  "AppointmentResponse",
                                                  "AuditEvent",
                                                  "Basic",
                                                  "Binary",
                                                  "BiologicallyDerivedProduct",
                                                  "BodyStructure",
                                                  "Bundle",
                                                  "CapabilityStatement",
                                                  "CarePlan",
                                                  "CareTeam",
                                                  "CatalogEntry",
                                                  "ChargeItem",
                                                  "ChargeItemDefinition",
                                                  "Claim",
                                                  "ClaimResponse",
                                                  "ClinicalImpression",
                                                  "CodeSystem",
                                                  "Communication",
                                                  "CommunicationRequest",
                                                  "CompartmentDefinition",
                                                  "Composition",
                                                  "ConceptMap",
                                                  "Condition",
                                                  "Consent",
                                                  "Contract",
                                                  "Coverage",
                                                  "CoverageEligibilityRequest",
                                                  "CoverageEligibilityResponse",
                                                  "DetectedIssue",
                                                  "Device",
                                                  "DeviceDefinition",
                                                  "DeviceMetric",
                                                  "DeviceRequest",
                                                  "DeviceUseStatement",
                                                  "DiagnosticReport",
                                                  "DocumentManifest",
                                                  "DocumentReference",
                                                  "EffectEvidenceSynthesis",
                                                  "Encounter",
                                                  "Endpoint",
                                                  "EnrollmentRequest",
                                                  "EnrollmentResponse",
                                                  "EpisodeOfCare",
                                                  "EventDefinition",
                                                  "Evidence",
                                                  "EvidenceVariable",
                                                  "ExampleScenario",
                                                  "ExplanationOfBenefit",
                                                  "FamilyMemberHistory",
                                                  "Flag",
                                                  "Goal",
                                                  "GraphDefinition",
                                                  "Group",
                                                  "GuidanceResponse",
                                                  "HealthcareService",
                                                  "ImagingStudy",
                                                  "Immunization",
                                                  "ImmunizationEvaluation",
                                                  "ImmunizationRecommendation",
                                                  "ImplementationGuide",
                                                  "InsurancePlan",
                                                  "Invoice",
                                                  "Library",
                                                  "Linkage",
                                                  "List",
                                                  "Location",
                                                  "Measure",
                                                  "MeasureReport",
                                                  "Media",
                                                  "Medication",
                                                  "MedicationAdministration",
                                                  "MedicationDispense",
                                                  "MedicationKnowledge",
                                                  "MedicationRequest",
                                                  "MedicationStatement",
                                                  "MedicinalProduct",
                                                  "MedicinalProductAuthorization",
                                                  "MedicinalProductContraindication",
                                                  "MedicinalProductIndication",
                                                  "MedicinalProductIngredient",
                                                  "MedicinalProductInteraction",
                                                  "MedicinalProductManufactured",
                                                  "MedicinalProductPackaged",
                                                  "MedicinalProductPharmaceutical",
                                                  "MedicinalProductUndesirableEffect",
                                                  "MessageDefinition",
                                                  "MessageHeader",
                                                  "MolecularSequence",
                                                  "NamingSystem",
                                                  "NutritionOrder",
                                                  "Observation",
                                                  "ObservationDefinition",
                                                  "OperationDefinition",
                                                  "OperationOutcome",
                                                  "Organization",
                                                  "OrganizationAffiliation",
                                                  "Parameters",
                                                  "Patient",
                                                  "PaymentNotice",
                                                  "PaymentReconciliation",
                                                  "Person",
                                                  "PlanDefinition",
                                                  "Practitioner",
                                                  "PractitionerRole",
                                                  "Procedure",
                                                  "Provenance",
                                                  "Questionnaire",
                                                  "QuestionnaireResponse",
                                                  "RelatedPerson",
                                                  "RequestGroup",
                                                  "ResearchDefinition",
                                                  "ResearchElementDefinition",
                                                  "ResearchStudy",
                                                  "ResearchSubject",
                                                  "RiskAssessment",
                                                  "RiskEvidenceSynthesis",
                                                  "Schedule",
                                                  "SearchParameter",
                                                  "ServiceRequest",
                                                  "Slot",
                                                  "Specimen",
                                                  "SpecimenDefinition",
                                                  "StructureDefinition",
                                                  "StructureMap",
                                                  "Subscription",
                                                  "Substance",
                                                  "SubstanceNucleicAcid",
                                                  "SubstancePolymer",
                                                  "SubstanceProtein",
                                                  "SubstanceReferenceInformation",
                                                  "SubstanceSourceMaterial",
                                                  "SubstanceSpecification",
                                                  "SupplyDelivery",
                                                  "SupplyRequest",
                                                  "Task",
                                                  "TerminologyCapabilities",
                                                  "TestReport",
                                                  "TestScript",
                                                  "ValueSet",
                                                  "VerificationResult",
                                                  "VisionPrescription"};

bool is_r4_resource_type(std::string_view name) {
  return std::find(std::begin(r4_resource_types), std::end(r4_resource_types), name) != std::end(r4_resource_types);
}

constexpr std::array<std::string_view, 5> qr_statuses = {"in-progress", "completed", "amended", "entered-in-error",
                                                         "stopped"};
constexpr std::array<std::string_view, 8> observation_statuses = {
    "registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"};

// The JSON shape a value[x] / effective[x] choice must have.
enum class kind { boolean, decimal, integer, date, date_time, instant, time, string, object };

struct choice {
  std::string_view name;
  kind shape;
};

constexpr std::array<choice, 12> answer_values = {{{"valueBoolean", kind::boolean},
                                                   {"valueDecimal", kind::decimal},
                                                   {"valueInteger", kind::integer},
                                                   {"valueDate", kind::date},
                                                   {"valueDateTime", kind::date_time},
                                                   {"valueTime", kind::time},
                                                   {"valueString", kind::string},
                                                   {"valueUri", kind::string},
                                                   {"valueCoding", kind::object},
                                                   {"valueQuantity", kind::object},
                                                   {"valueReference", kind::object},
                                                   {"valueAttachment", kind::object}}};

constexpr std::array<choice, 11> observation_values = {{{"valueQuantity", kind::object},
                                                        {"valueCodeableConcept", kind::object},
                                                        {"valueString", kind::string},
                                                        {"valueBoolean", kind::boolean},
                                                        {"valueInteger", kind::integer},
                                                        {"valueRange", kind::object},
                                                        {"valueRatio", kind::object},
                                                        {"valueSampledData", kind::object},
                                                        {"valueTime", kind::time},
                                                        {"valueDateTime", kind::date_time},
                                                        {"valuePeriod", kind::object}}};

constexpr std::array<choice, 4> observation_effectives = {{{"effectiveDateTime", kind::date_time},
                                                           {"effectivePeriod", kind::object},
                                                           {"effectiveTiming", kind::object},
                                                           {"effectiveInstant", kind::instant}}};

template <std::size_t n>
const choice* find_choice(const std::array<choice, n>& choices, std::string_view name) {
  for (const choice& c : choices) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// ---- primitive formats ---------------------------------------------------------------------

bool read_digits(std::string_view s, std::size_t at, std::size_t count, int& out) {
  if (at + count > s.size()) return false;
  int v = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

int days_in_month(int year, int month) {
  static constexpr std::array<int, 12> days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[static_cast<std::size_t>(month - 1)];
}

// YYYY[-MM[-DD]] at the start of `s`; `parts` is how many of the three were present. Returns the
// length consumed, 0 when there is no valid date.
std::size_t read_date(std::string_view s, int& parts) {
  int year = 0;
  int month = 0;
  int day = 0;
  if (!read_digits(s, 0, 4, year) || year == 0) return 0;
  parts = 1;
  if (s.size() == 4 || s[4] != '-') return 4;
  if (!read_digits(s, 5, 2, month) || month < 1 || month > 12) return 0;
  parts = 2;
  if (s.size() == 7 || s[7] != '-') return 7;
  if (!read_digits(s, 8, 2, day) || day < 1 || day > days_in_month(year, month)) return 0;
  parts = 3;
  return 10;
}

// hh:mm:ss[.fraction] at `at`; returns the position after it, 0 when invalid.
std::size_t read_time(std::string_view s, std::size_t at) {
  int h = 0;
  int m = 0;
  int sec = 0;
  if (!read_digits(s, at, 2, h) || h > 23) return 0;
  if (at + 2 >= s.size() || s[at + 2] != ':' || !read_digits(s, at + 3, 2, m) || m > 59) return 0;
  if (at + 5 >= s.size() || s[at + 5] != ':' || !read_digits(s, at + 6, 2, sec) || sec > 60) return 0;
  std::size_t pos = at + 8;
  if (pos < s.size() && s[pos] == '.') {
    const std::size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return 0;
  }
  return pos;
}

bool is_id(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

bool is_instant(std::string_view s) {
  int parts = 0;
  return is_date_time(s) && read_date(s, parts) == 10 && s.size() > 10;
}

// ---- checking ------------------------------------------------------------------------------

const json* member(const json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string indexed(const std::string& path, std::string_view element, std::size_t i) {
  std::string out;
  out.reserve(path.size() + element.size() + 24);
  out.append(path).append(".").append(element).append("[").append(std::to_string(i)).append("]");
  return out;
}

// Collects the issues of one resource; the resource is kept only when it adds none.
class checker {
 public:
  checker(std::vector<issue>& out, std::int64_t index) : out_(out), index_(index), first_(out.size()) {}

  void add(std::string path, std::string_view reason) {
    out_.push_back({std::move(path), std::string(reason), index_});
  }
  bool clean() const { return out_.size() == first_; }

  // A required non-empty string.
  const std::string* required_string(const json& object, const char* key, const std::string& path,
                                     std::string_view missing_reason) {
    const json* v = member(object, key);
    if (v == nullptr) {
      add(path + "." + key, missing_reason);
      return nullptr;
    }
    if (!v->is_string() || v->get_ref<const std::string&>().empty()) {
      add(path + "." + key, "must be a non-empty string");
      return nullptr;
    }
    return &v->get_ref<const std::string&>();
  }

  template <std::size_t n>
  void status(const json& resource, const std::string& path, const std::array<std::string_view, n>& allowed,
              std::string_view reason) {
    const std::string* s = required_string(resource, "status", path, "is required");
    if (s != nullptr && std::find(allowed.begin(), allowed.end(), *s) == allowed.end()) add(path + ".status", reason);
  }

  void id(const json& resource, const std::string& path) {
    const json* v = member(resource, "id");
    if (v != nullptr && (!v->is_string() || !is_id(v->get_ref<const std::string&>()))) {
      add(path + ".id", "must be a FHIR id (1 to 64 of A-Z, a-z, 0-9, '-' and '.')");
    }
  }

  void optional_date_time(const json& object, const char* key, const std::string& path) {
    const json* v = member(object, key);
    if (v != nullptr && (!v->is_string() || !is_date_time(v->get_ref<const std::string&>()))) {
      add(path + "." + key, "must be a FHIR dateTime (YYYY, YYYY-MM, YYYY-MM-DD or a full time with a zone)");
    }
  }

  // subject.reference or subject.identifier: the report is linked to a student through one of them.
  void subject(const json& resource, const std::string& path) {
    const json* s = member(resource, "subject");
    const std::string at = path + ".subject";
    if (s == nullptr) {
      add(at, "is required (the report is linked to a student through it)");
      return;
    }
    if (!s->is_object()) {
      add(at, "must be a Reference object");
      return;
    }
    const json* ref = member(*s, "reference");
    const json* ident = member(*s, "identifier");
    if (ref == nullptr && ident == nullptr) {
      add(at, "needs a reference or an identifier (the report is linked to a student through it)");
      return;
    }
    if (ref != nullptr && (!ref->is_string() || ref->get_ref<const std::string&>().empty())) {
      add(at + ".reference", "must be a non-empty string");
    }
    if (ident != nullptr) {
      if (!ident->is_object()) {
        add(at + ".identifier", "must be an Identifier object");
      } else {
        const json* system = member(*ident, "system");
        if (system != nullptr && !system->is_string()) add(at + ".identifier.system", "must be a string");
        required_string(*ident, "value", at + ".identifier", "is required in a subject identifier");
      }
    }
  }

  // The value of one choice element against its expected JSON shape.
  void shape(const json& v, kind k, const std::string& at) {
    switch (k) {
      case kind::boolean:
        if (!v.is_boolean()) add(at, "must be true or false");
        break;
      case kind::decimal:
        if (!v.is_number()) add(at, "must be a number");
        break;
      case kind::integer: {
        // FHIR integer is 32-bit signed.
        bool ok = false;
        if (v.is_number_unsigned()) {
          ok = v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max());
        } else if (v.is_number_integer()) {
          const auto i = v.get<std::int64_t>();
          ok = i >= std::numeric_limits<std::int32_t>::min() && i <= std::numeric_limits<std::int32_t>::max();
        }
        if (!ok) add(at, "must be a 32-bit integer");
        break;
      }
      case kind::date:
        if (!v.is_string() || !is_date(v.get_ref<const std::string&>())) {
          add(at, "must be a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)");
        }
        break;
      case kind::date_time:
        if (!v.is_string() || !is_date_time(v.get_ref<const std::string&>())) {
          add(at, "must be a FHIR dateTime (YYYY, YYYY-MM, YYYY-MM-DD or a full time with a zone)");
        }
        break;
      case kind::instant:
        if (!v.is_string() || !is_instant(v.get_ref<const std::string&>())) {
          add(at, "must be a FHIR instant (YYYY-MM-DDThh:mm:ss with a zone)");
        }
        break;
      case kind::time:
        if (!v.is_string() || !is_time(v.get_ref<const std::string&>())) add(at, "must be a FHIR time (hh:mm:ss)");
        break;
      case kind::string:
        if (!v.is_string() || v.get_ref<const std::string&>().empty()) add(at, "must be a non-empty string");
        break;
      case kind::object:
        if (!v.is_object()) add(at, "must be an object");
        break;
    }
  }

  // The `<prefix>[x]` choice elements of `object`; returns how many there are. Unknown choice names
  // are reported without naming them (a key is input too).
  template <std::size_t n>
  std::size_t choices(const json& object, std::string_view prefix, const std::array<choice, n>& allowed,
                      const std::string& path, std::string_view unknown_reason) {
    std::size_t count = 0;
    for (const auto& [key, v] : object.items()) {
      if (!std::string_view(key).starts_with(prefix)) continue;
      ++count;
      if (const choice* c = find_choice(allowed, key); c != nullptr) {
        shape(v, c->shape, path + "." + key);
      } else {
        add(path + "." + std::string(prefix) + "[x]", unknown_reason);
      }
    }
    return count;
  }

  // QuestionnaireResponse.item[] (and item.item[], answer.item[]) under `parent` at `path`.
  void items(const json& parent, const std::string& path) {
    const json* list = member(parent, "item");
    if (list == nullptr) return;
    if (!list->is_array()) {
      add(path + ".item", "must be an array");
      return;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const json& item = (*list)[i];
      const std::string at = indexed(path, "item", i);
      if (!item.is_object()) {
        add(at, "must be an object");
        continue;
      }
      required_string(item, "linkId", at, "is required");
      const json* answer_list = member(item, "answer");
      if (answer_list != nullptr) {
        if (!answer_list->is_array()) {
          add(at + ".answer", "must be an array");
        } else {
          for (std::size_t j = 0; j < answer_list->size(); ++j) answer((*answer_list)[j], indexed(at, "answer", j));
        }
        if (member(item, "item") != nullptr) {
          add(at, "has both answer and item (qrs-1: items nested under an answered item go in answer.item)");
        }
      }
      items(item, at);
    }
  }

  void answer(const json& a, const std::string& at) {
    if (!a.is_object()) {
      add(at, "must be an object");
      return;
    }
    const std::size_t n = choices(a, "value", answer_values, at, "has a value[x] type an answer cannot have in R4");
    if (n == 0) add(at, "has no value[x] (an answer holds exactly one)");
    if (n > 1) add(at, "has more than one value[x] (an answer holds exactly one)");
    items(a, at);
  }

  void questionnaire_response(const json& r, const std::string& path) {
    id(r, path);
    status(r, path, qr_statuses, "must be in-progress, completed, amended, entered-in-error or stopped");
    required_string(r, "questionnaire", path, "is required (the questionnaire is recognised by it)");
    subject(r, path);
    optional_date_time(r, "authored", path);
    items(r, path);
  }

  void observation(const json& r, const std::string& path) {
    id(r, path);
    status(r, path, observation_statuses,
           "must be registered, preliminary, final, amended, corrected, cancelled, entered-in-error or unknown");
    code(r, path);
    subject(r, path);
    if (choices(r, "effective", observation_effectives, path, "has an effective[x] type Observation cannot have") > 1) {
      add(path + ".effective[x]", "has more than one effective[x]");
    }
    if (choices(r, "value", observation_values, path, "has a value[x] type Observation cannot have in R4") > 1) {
      add(path + ".value[x]", "has more than one value[x]");
    }
  }

  void code(const json& r, const std::string& path) {
    const json* c = member(r, "code");
    const std::string at = path + ".code";
    if (c == nullptr) {
      add(at, "is required");
      return;
    }
    if (!c->is_object()) {
      add(at, "must be a CodeableConcept object");
      return;
    }
    const json* codings = member(*c, "coding");
    if (codings == nullptr) {
      add(at + ".coding", "is required (observations are mapped by system and code)");
      return;
    }
    if (!codings->is_array()) {
      add(at + ".coding", "must be an array");
      return;
    }
    bool complete = false;
    for (std::size_t i = 0; i < codings->size(); ++i) {
      const json& coding = (*codings)[i];
      const std::string ci = indexed(at, "coding", i);
      if (!coding.is_object()) {
        add(ci, "must be a Coding object");
        continue;
      }
      const json* system = member(coding, "system");
      const json* code_value = member(coding, "code");
      if (system != nullptr && !system->is_string()) add(ci + ".system", "must be a string");
      if (code_value != nullptr && !code_value->is_string()) add(ci + ".code", "must be a string");
      if (system != nullptr && code_value != nullptr && system->is_string() && code_value->is_string() &&
          !system->get_ref<const std::string&>().empty() && !code_value->get_ref<const std::string&>().empty()) {
        complete = true;
      }
    }
    if (!complete) add(at + ".coding", "needs at least one coding with both system and code");
  }

  void patient(const json& r, const std::string& path) {
    id(r, path);
    const json* list = member(r, "identifier");
    const std::string at = path + ".identifier";
    if (list == nullptr) {
      add(at, "is required (the patient is linked to a student through it)");
    } else if (!list->is_array()) {
      add(at, "must be an array");
    } else if (list->empty()) {
      add(at, "needs at least one identifier (the patient is linked to a student through it)");
    } else {
      for (std::size_t i = 0; i < list->size(); ++i) {
        const json& ident = (*list)[i];
        const std::string ii = indexed(path, "identifier", i);
        if (!ident.is_object()) {
          add(ii, "must be an Identifier object");
          continue;
        }
        required_string(ident, "system", ii, "is required");
        required_string(ident, "value", ii, "is required");
      }
    }
    const json* birth = member(r, "birthDate");
    if (birth != nullptr && (!birth->is_string() || !is_date(birth->get_ref<const std::string&>()))) {
      add(path + ".birthDate", "must be a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)");
    }
  }

 private:
  std::vector<issue>& out_;
  std::int64_t index_;
  std::size_t first_;
};

std::string_view resource_type_of(const json& r) {
  if (!r.is_object()) return {};
  const json* t = member(r, "resourceType");
  return t != nullptr && t->is_string() ? std::string_view(t->get_ref<const std::string&>()) : std::string_view();
}

// One resource at `path`: checked and kept, or reported.
void read_resource(document& doc, json resource, std::string path, std::string full_url, std::int64_t index,
                   bool header_allowed) {
  checker check(doc.issues, index);
  if (!resource.is_object()) {
    check.add(std::move(path), "must be a resource object");
    return;
  }
  const json* type = member(resource, "resourceType");
  if (type == nullptr || !type->is_string()) {
    check.add(path + ".resourceType", type == nullptr ? "is required" : "must be a string");
    return;
  }
  const std::string& name = type->get_ref<const std::string&>();
  if (name == "QuestionnaireResponse") {
    check.questionnaire_response(resource, path);
  } else if (name == "Observation") {
    check.observation(resource, path);
  } else if (name == "Patient") {
    check.patient(resource, path);
  } else if (name == "MessageHeader") {
    if (!header_allowed) {
      check.add(std::move(path), "resource type MessageHeader is read only as the first entry of a message Bundle");
    }
    return;
  } else if (is_r4_resource_type(name)) {
    check.add(std::move(path), "resource type " + name + " is not read by this connector");
    return;
  } else {
    check.add(path + ".resourceType", "is not a FHIR R4 resource type");
    return;
  }
  if (!check.clean()) return;
  std::string resource_type = name;
  doc.entries.push_back({std::move(path), std::move(resource_type), std::move(full_url), std::move(resource), index});
}

bool starts_with_header(const json& entries) {
  if (entries.empty() || !entries.front().is_object()) return false;
  const json* resource = member(entries.front(), "resource");
  return resource != nullptr && resource_type_of(*resource) == "MessageHeader";
}

void read_bundle(document& doc, json& bundle) {
  const json* type = member(bundle, "type");
  if (type == nullptr) {
    doc.issues.push_back({"Bundle.type", "is required (collection, transaction or message)", -1});
    return;
  }
  const bool message = type->is_string() && type->get_ref<const std::string&>() == "message";
  if (!message && !(type->is_string() && (type->get_ref<const std::string&>() == "collection" ||
                                          type->get_ref<const std::string&>() == "transaction"))) {
    doc.issues.push_back({"Bundle.type", "must be collection, transaction or message for this connector", -1});
    return;
  }
  const auto list = bundle.find("entry");
  if (list == bundle.end()) {
    if (message) doc.issues.push_back({"Bundle.entry", "a message Bundle starts with a MessageHeader entry", -1});
    doc.readable = true;
    return;
  }
  if (!list->is_array()) {
    doc.issues.push_back({"Bundle.entry", "must be an array", -1});
    return;
  }
  doc.readable = true;
  if (message && !starts_with_header(*list)) {
    doc.issues.push_back({"Bundle.entry[0]", "a message Bundle starts with a MessageHeader entry", -1});
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    json& e = (*list)[i];
    const std::string at = indexed("Bundle", "entry", i);
    const auto index = static_cast<std::int64_t>(i);
    if (!e.is_object()) {
      doc.issues.push_back({at, "must be an object", index});
      continue;
    }
    std::string full_url;
    if (const json* url = member(e, "fullUrl"); url != nullptr) {
      if (!url->is_string()) {
        doc.issues.push_back({at + ".fullUrl", "must be a string", index});
        continue;
      }
      full_url = url->get_ref<const std::string&>();
    }
    const auto resource = e.find("resource");
    if (resource == e.end()) {
      doc.issues.push_back({at + ".resource", "is required", index});
      continue;
    }
    // Moved out: the parsed tree is ours and each resource is kept at most once.
    read_resource(doc, std::move(*resource), at + ".resource", std::move(full_url), index, message && i == 0);
  }
}

// Adds the answers under `parent` (its item[]) at `path`.
void collect(const json& parent, const std::string& path, std::vector<answer>& out) {
  const json* list = member(parent, "item");
  if (list == nullptr || !list->is_array()) return;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    if (!item.is_object()) continue;
    const std::string at = indexed(path, "item", i);
    const json* link = member(item, "linkId");
    const std::string link_id = link != nullptr && link->is_string() ? link->get<std::string>() : std::string();
    if (const json* answer_list = member(item, "answer"); answer_list != nullptr && answer_list->is_array()) {
      for (std::size_t j = 0; j < answer_list->size(); ++j) {
        const json& a = (*answer_list)[j];
        if (!a.is_object()) continue;
        const std::string answer_at = indexed(at, "answer", j);
        for (const auto& [key, value] : a.items()) {
          if (find_choice(answer_values, key) != nullptr) out.push_back({link_id, answer_at, key, value});
        }
        collect(a, answer_at, out);
      }
    }
    collect(item, at, out);
  }
}

}  // namespace

bool is_date(std::string_view text) noexcept {
  int parts = 0;
  const std::size_t n = read_date(text, parts);
  return n != 0 && n == text.size();
}

bool is_date_time(std::string_view text) noexcept {
  int parts = 0;
  const std::size_t n = read_date(text, parts);
  if (n == 0) return false;
  if (n == text.size()) return true;
  if (parts != 3 || text[n] != 'T') return false;
  std::size_t pos = read_time(text, n + 1);
  if (pos == 0 || pos >= text.size()) return false;  // a time needs a zone
  if (text[pos] == 'Z') return pos + 1 == text.size();
  if (text[pos] != '+' && text[pos] != '-') return false;
  int h = 0;
  int m = 0;
  if (pos + 6 != text.size() || !read_digits(text, pos + 1, 2, h) || text[pos + 3] != ':' ||
      !read_digits(text, pos + 4, 2, m)) {
    return false;
  }
  return (h <= 13 && m <= 59) || (h == 14 && m == 0);
}

bool is_time(std::string_view text) noexcept {
  const std::size_t pos = read_time(text, 0);
  return pos != 0 && pos == text.size();
}

bool is_bsn_system(std::string_view system) noexcept {
  return system == "http://fhir.nl/fhir/NamingSystem/bsn" || system == "urn:oid:2.16.840.1.113883.2.4.6.3" ||
         system == "2.16.840.1.113883.2.4.6.3";
}

document read(std::string_view body) {
  document doc;
  if (const std::size_t at = sdk::json_too_deep_at(body, max_depth); at != 0) {
    doc.issues.push_back(
        {"", "JSON nested deeper than " + std::to_string(max_depth) + " levels at byte " + std::to_string(at), -1});
    return doc;
  }
  json root;
  try {
    root = json::parse(body);
  } catch (const json::parse_error& e) {
    // e.what() may quote the offending token; only the offset is reported.
    doc.issues.push_back({"", "invalid JSON at byte " + std::to_string(e.byte), -1});
    return doc;
  } catch (const json::exception&) {
    doc.issues.push_back({"", "invalid JSON", -1});
    return doc;
  }
  if (!root.is_object()) {
    doc.issues.push_back({"", "a FHIR resource must be a JSON object", -1});
    return doc;
  }
  const json* type = member(root, "resourceType");
  if (type == nullptr || !type->is_string()) {
    doc.issues.push_back({"resourceType", type == nullptr ? "is required" : "must be a string", -1});
    return doc;
  }
  const std::string name = type->get<std::string>();
  if (name == "Bundle") {
    read_bundle(doc, root);
    return doc;
  }
  if (!is_r4_resource_type(name)) {
    doc.issues.push_back({"resourceType", "is not a FHIR R4 resource type", -1});
    return doc;
  }
  doc.readable = true;
  read_resource(doc, std::move(root), name, std::string(), 0, false);
  return doc;
}

const entry* resolve(const document& doc, const nlohmann::json& reference_object) {
  if (!reference_object.is_object()) return nullptr;
  const json* ref = member(reference_object, "reference");
  if (ref == nullptr || !ref->is_string()) return nullptr;
  const std::string_view target = ref->get_ref<const std::string&>();
  if (target.empty() || target.front() == '#') return nullptr;

  const entry* found = nullptr;
  int matches = 0;
  for (const entry& e : doc.entries) {
    if (!e.full_url.empty() && e.full_url == target) {
      found = &e;
      ++matches;
    }
  }
  if (matches > 0) return matches == 1 ? found : nullptr;
  // Absolute references (urn:uuid:, http://…) resolve only through fullUrl.
  if (target.find(':') != std::string_view::npos) return nullptr;

  // Type/id or Type/id/_history/version.
  const std::size_t slash = target.find('/');
  if (slash == std::string_view::npos) return nullptr;
  const std::string_view type = target.substr(0, slash);
  std::string_view id = target.substr(slash + 1);
  if (const std::size_t history = id.find("/_history/"); history != std::string_view::npos) {
    id = id.substr(0, history);
  }
  if (type.empty() || !is_id(id)) return nullptr;
  for (const entry& e : doc.entries) {
    if (e.resource_type != type) continue;
    const json* rid = member(e.resource, "id");
    if (rid != nullptr && rid->is_string() && rid->get_ref<const std::string&>() == id) {
      found = &e;
      ++matches;
    }
  }
  return matches == 1 ? found : nullptr;
}

std::vector<identifier> identifiers(const entry& patient) {
  std::vector<identifier> out;
  if (patient.resource_type != "Patient" || !patient.resource.is_object()) return out;
  const json* list = member(patient.resource, "identifier");
  if (list == nullptr || !list->is_array()) return out;
  for (const json& ident : *list) {
    if (!ident.is_object()) continue;
    const json* system = member(ident, "system");
    const json* value = member(ident, "value");
    if (system == nullptr || value == nullptr || !system->is_string() || !value->is_string()) continue;
    out.push_back({system->get<std::string>(), value->get<std::string>()});
  }
  return out;
}

std::vector<answer> answers(const entry& questionnaire_response) {
  std::vector<answer> out;
  if (questionnaire_response.resource_type != "QuestionnaireResponse" || !questionnaire_response.resource.is_object()) {
    return out;
  }
  collect(questionnaire_response.resource, questionnaire_response.path, out);
  return out;
}

}  // namespace schakel::connectors::jgz_fhir::fhir
