#include "common/body.hpp"

#include <nlohmann/json.hpp>

#include "common/text.hpp"

namespace schakel::connectors::text {

body_format choose_format(std::string_view content_type, std::string_view body) noexcept {
  const std::string_view ct = trim(content_type.substr(0, content_type.find(';')));
  if (iequals(ct, "text/csv") || iequals(ct, "application/csv")) return body_format::csv;
  if (iequals(ct, "application/x-ndjson") || iequals(ct, "application/ndjson") || iequals(ct, "application/jsonl")) {
    return body_format::ndjson;
  }
  if (iequals(ct, "application/json") || (ct.size() > 5 && iequals(ct.substr(ct.size() - 5), "+json"))) {
    return body_format::json;
  }
  if (has_utf8_bom(body)) body.remove_prefix(3);
  for (std::size_t start = 0; start < body.size(); ++start) {
    const char c = body[start];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '[') return body_format::json;
    if (c == '{') {
      const std::size_t nl = body.find('\n', start);
      const std::string_view first = body.substr(start, nl == std::string_view::npos ? nl : nl - start);
      try {
        const nlohmann::json line = nlohmann::json::parse(first, nullptr, false);
        if (line.is_object() && !line.contains("records")) return body_format::ndjson;
      } catch (...) {  // out of memory while sniffing: let the JSON reader report
      }
      return body_format::json;
    }
    break;
  }
  return body_format::csv;
}

std::string json_pointer_of(std::string_view key) {
  std::string out = "/";
  for (const char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace schakel::connectors::text
