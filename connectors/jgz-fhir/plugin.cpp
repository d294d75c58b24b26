// Registration only: the logic lives in mapper.cpp / settings.cpp (and the fhir / sdq libraries).
#include "mapper.hpp"

SCHAKEL_CONNECTOR_DESCRIBED(schakel::connectors::jgz_fhir::connector, "jgz-fhir", "0.1.0",
                            "JGZ reports as HL7 FHIR R4 JSON: scored SDQs and contact-moment conclusions as signals")
