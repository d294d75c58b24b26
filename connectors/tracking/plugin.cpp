// Registration only: the logic lives in mapper.cpp / profile.cpp.
#include "mapper.hpp"

SCHAKEL_CONNECTOR_DESCRIBED(schakel::connectors::tracking::connector, "tracking", "0.1.0",
                            "Social-emotional measurements (CSV or JSON tracking-system exports) as tracking signals")
