#pragma once
/** The `schakel serve` and `schakel check-config` entry points: wiring of every hub part. */
#include <string>
#include <vector>

#include "config/config.hpp"

namespace schakel::daemon {

/**
 * Runs the hub until SIGTERM or SIGINT, then drains: stops accepting, answers requests in flight,
 * lets delivery attempts in flight finish, closes the store. Returns the process exit code.
 */
int serve(const config::hub_config& config);

/** What check-config found beyond the schema: plugin load failures, each naming file and reason. */
std::vector<std::string> check_plugins(const config::hub_config& config);

}  // namespace schakel::daemon
