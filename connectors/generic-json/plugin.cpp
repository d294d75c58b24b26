// Registration only: the logic lives in mapper.cpp / settings.cpp.
#include "mapper.hpp"

SCHAKEL_CONNECTOR_DESCRIBED(schakel::connectors::generic_json::connector, "generic-json", "0.1.0",
                            "Maps JSON or NDJSON records to signals with JSON-pointer rules")
