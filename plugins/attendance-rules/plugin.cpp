// Registration only: the logic lives in processor.cpp; sdk::hosted_processor adapts sdk::host to it.
#include "processor.hpp"

SCHAKEL_PROCESSOR(schakel::sdk::hosted_processor<schakel::plugins::attendance_rules::attendance_rules_processor>,
                  "attendance-rules", "0.1.0", "nl.schakel.attendance.* nl.schakel.alert.*")
