// Registration only: the logic lives in processor.cpp; sdk::hosted_processor adapts sdk::host to it.
#include "processor.hpp"

SCHAKEL_PROCESSOR(schakel::sdk::hosted_processor<schakel::plugins::tracking_trends::tracking_trends_processor>,
                  "tracking-trends", "0.1.0", "nl.schakel.tracking.measurement.*")
