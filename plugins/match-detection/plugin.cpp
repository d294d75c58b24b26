// Registration only: the logic lives in processor.cpp; sdk::hosted_processor adapts sdk::host to it.
#include "processor.hpp"

// Every type: any source's concern may be half of a match. Own output and retractions are sorted out
// in process().
SCHAKEL_PROCESSOR(schakel::sdk::hosted_processor<schakel::plugins::match_detection::match_detection_processor>,
                  "match-detection", "0.1.0", "*")
