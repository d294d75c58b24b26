#pragma once
/**
 * The generic-json mapping for the simple absence records that the end-to-end tests and the load
 * harness post ({id, leerling, brin, klas, uren, ernst}). One definition, so a test and a benchmark
 * always measure the same pipeline.
 */
#include <nlohmann/json.hpp>

namespace schakel::test {

inline nlohmann::json absence_mapping() {
  return nlohmann::json::parse(R"({
    "mapping": {
      "type": {"const": "nl.schakel.attendance.absence.recorded"},
      "source.record_id": {"pointer": "/id", "as": "string", "required": true},
      "subject.student_key": {"pointer": "/leerling", "as": "string", "required": true},
      "subject.school.brin": {"pointer": "/brin", "required": true},
      "subject.class": {"pointer": "/klas"},
      "content.domain": {"const": "attendance"},
      "content.indicator": {"const": "absence_hours"},
      "content.value": {"pointer": "/uren", "as": "number", "required": true},
      "content.severity": {"pointer": "/ernst", "map": {"laag": "info", "hoog": "concern"}, "default": "info"},
      "governance.data_category": {"const": "ordinary"}
    }
  })");
}

}  // namespace schakel::test
