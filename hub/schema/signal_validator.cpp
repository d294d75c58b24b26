#include "schema/signal_validator.hpp"

#include "schema/embedded.hpp"

namespace schakel::schema {

signal_validator::signal_validator() : schema_(embedded_signal_schema()), field_paths_(schema_.property_paths()) {}

std::vector<schema_error> signal_validator::validate(const nlohmann::json& signal) const {
  return schema_.validate(signal);
}

bool signal_validator::is_valid(const nlohmann::json& signal) const {
  return schema_.is_valid(signal);
}

const std::vector<std::string>& signal_field_paths() {
  static const std::vector<std::string> paths = json_schema(embedded_signal_schema()).property_paths();
  return paths;
}

}  // namespace schakel::schema
