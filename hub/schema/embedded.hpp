#pragma once
/** The JSON schemas of schemas/, compiled into the binary so the daemon needs no schema files. */
#include <string_view>

namespace schakel::schema {

/** Text of schemas/signal.v1.schema.json as it was at build time; static storage. */
std::string_view embedded_signal_schema();

/** Text of schemas/config.v1.schema.json as it was at build time; static storage. */
std::string_view embedded_config_schema();

}  // namespace schakel::schema
