// Fuzzes the JGZ connector's FHIR R4 reader (connectors/jgz-fhir/fhir.hpp) on arbitrary bodies.
// Invariants: no crash, no sanitizer report; an unreadable document holds no entries; every entry is
// one of the three read resource types with a path that matches its index; every issue has a reason
// and an index inside the body; an entry read again on its own is still valid; the helpers
// (answers, identifiers, resolve) run on every entry and their answers live under the entry's path.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fhir.hpp"

namespace {

namespace fhir = schakel::connectors::jgz_fhir::fhir;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const fhir::document doc = fhir::read(body);
  // An unreadable body says why, at document level, and yields nothing.
  if (!doc.readable && (!doc.entries.empty() || doc.issues.empty())) std::abort();
  for (const fhir::issue& i : doc.issues) {
    if (i.reason.empty() || i.index < -1 || (!doc.readable && i.index != -1)) std::abort();
  }
  for (const fhir::entry& e : doc.entries) {
    if (e.resource_type != "QuestionnaireResponse" && e.resource_type != "Observation" &&
        e.resource_type != "Patient") {
      std::abort();
    }
    const std::string bundle_path = "Bundle.entry[" + std::to_string(e.index) + "].resource";
    if (e.path != bundle_path && !(e.path == e.resource_type && e.index == 0)) std::abort();
    if (e.resource.value("resourceType", std::string()) != e.resource_type) std::abort();

    // A resource that passed inside a Bundle passes on its own.
    const fhir::document alone = fhir::read(e.resource.dump());
    if (!alone.readable || alone.entries.size() != 1 || !alone.issues.empty()) std::abort();

    for (const fhir::answer& a : fhir::answers(e)) {
      if (!starts_with(a.path, e.path + ".item[") || a.value_type.rfind("value", 0) != 0 || a.value.is_null()) {
        std::abort();
      }
    }
    if (e.resource_type == "Patient" && fhir::identifiers(e).empty()) std::abort();
    if (e.resource.contains("subject")) {
      const fhir::entry* target = fhir::resolve(doc, e.resource["subject"]);
      if (target != nullptr && (target < doc.entries.data() || target >= doc.entries.data() + doc.entries.size())) {
        std::abort();
      }
    }
  }
  return 0;
}
