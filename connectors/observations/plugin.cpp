// Registration only: the logic lives in mapper.cpp / settings.cpp.
#include "mapper.hpp"

SCHAKEL_CONNECTOR_DESCRIBED(schakel::connectors::observations::connector, "observations", "0.1.0",
                            "Staff observations about a student (JSON from a staff system) as observation signals")
