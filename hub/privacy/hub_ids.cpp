#include "privacy/hub_ids.hpp"

#include <utility>

namespace schakel::privacy {
namespace {

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool is_crockford(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U');
}

}  // namespace

bool is_hub_id(std::string_view token) {
  if (token.size() != 26 || token[0] < '0' || token[0] > '7') return false;
  for (char c : token)
    if (!is_crockford(c)) return false;
  return true;
}

std::string replace_hub_ids(std::string_view text, const stand_in_fn& stand_in) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (!is_alnum(text[i])) {
      out += text[i++];
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && is_alnum(text[end])) ++end;
    const auto token = text.substr(i, end - i);
    if (is_hub_id(token))
      out += stand_in(token);
    else
      out += token;
    i = end;
  }
  return out;
}

void replace_hub_ids(nlohmann::json& doc, const stand_in_fn& stand_in) {
  if (doc.is_string()) {
    doc = replace_hub_ids(doc.get_ref<const std::string&>(), stand_in);
  } else if (doc.is_array()) {
    for (auto& v : doc) replace_hub_ids(v, stand_in);
  } else if (doc.is_object()) {
    // Rebuilt rather than edited in place: a key that holds an id must be renamed, and renaming
    // while iterating invalidates the iterator.
    nlohmann::json rebuilt = nlohmann::json::object();
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      replace_hub_ids(it.value(), stand_in);
      rebuilt[replace_hub_ids(it.key(), stand_in)] = std::move(it.value());
    }
    doc = std::move(rebuilt);
  }
}

}  // namespace schakel::privacy
