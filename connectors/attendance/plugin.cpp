// Registration only: the logic lives in mapper.cpp / settings.cpp / text.cpp.
#include "mapper.hpp"

SCHAKEL_CONNECTOR_DESCRIBED(schakel::connectors::attendance::connector, "attendance", "0.1.0",
                            "Absence registrations (CSV or JSON exports) as attendance signals")
