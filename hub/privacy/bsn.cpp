#include "privacy/bsn.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace schakel::privacy {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/** Fields the hub sets itself from its own state; a source cannot put a BSN there. */
constexpr std::array<std::string_view, 5> hub_fields = {"id", "schema_version", "received_at", "source.connector",
                                                        "source.instance"};

/**
 * "a.b" exempts exactly that path (and, when it names an object or array, everything below it: the
 * operator exempted the field, whatever its shape); "a.b.*" exempts everything below "a.b".
 */
bool is_exempt(const std::string& path, const std::vector<std::string>& exempt) {
  for (const auto& e : exempt) {
    if (e.size() >= 2 && e.compare(e.size() - 2, 2, ".*") == 0) {
      const std::string_view prefix(e.data(), e.size() - 1);  // keeps the dot: "a.b."
      if (path.size() > prefix.size() && std::string_view(path).substr(0, prefix.size()) == prefix) return true;
    } else if (e == path) {
      return true;
    }
  }
  return false;
}

/**
 * A hub signal id (ULID: 26 characters of Crockford base32, at least one a letter). Processors and the
 * core reference signals by id (derived_from, evidence such as the alert a referral is for); about 1
 * in 10,000 random ULIDs holds a run of 8-9 digits passing the 11-test, which must not refuse a signal.
 */
bool is_signal_id(std::string_view text) {
  constexpr std::string_view crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  return text.size() == 26 &&
         std::all_of(text.begin(), text.end(), [&](char c) { return crockford.find(c) != std::string_view::npos; }) &&
         !std::all_of(text.begin(), text.end(), is_digit);
}

/** The offset of the first BSN at or after `from` in `text`, or npos. */
std::size_t next_bsn(std::string_view text, std::size_t from) {
  std::size_t i = from;
  while (i < text.size()) {
    if (!is_digit(text[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && is_digit(text[end])) ++end;
    // Only a maximal run counts: 10+ digits (an IBAN part, a phone number) is something else.
    const std::size_t len = end - i;
    if ((len == 8 || len == 9) && is_bsn(text.substr(i, len))) return i;
    i = end;
  }
  return std::string_view::npos;
}

bool contains_bsn(std::string_view text) {
  return !is_signal_id(text) && next_bsn(text, 0) != std::string_view::npos;
}

/**
 * Depth-first, in document order, with an explicit stack and one path buffer that grows and shrinks
 * with the walk: a signal is untrusted input, and deep nesting must neither exhaust the thread's
 * stack nor cost time quadratic in its depth.
 */
void walk(const nlohmann::json& root, const std::vector<std::string>& exempt, std::vector<std::string>& found) {
  struct item {
    const nlohmann::json* node;
    std::size_t parent_len;  // length of the parent's path in `path`
    bool top;                // child of the root: no leading dot
    std::string segment;
  };
  std::string path;
  std::vector<item> stack;
  const auto push_children = [&stack, &path](const nlohmann::json& node, bool is_root) {
    const std::size_t first = stack.size();
    if (node.is_object()) {
      for (const auto& [key, value] : node.items()) stack.push_back({&value, path.size(), is_root, key});
    } else {
      std::size_t index = 0;
      for (const auto& value : node) stack.push_back({&value, path.size(), is_root, std::to_string(index++)});
    }
    std::reverse(stack.begin() + static_cast<std::ptrdiff_t>(first), stack.end());
  };
  const auto check = [&found, &path](const nlohmann::json& node) {
    switch (node.type()) {
      case nlohmann::json::value_t::string:
        if (contains_bsn(node.get_ref<const std::string&>())) found.push_back(path);
        break;
      case nlohmann::json::value_t::number_integer:
        if (contains_bsn(std::to_string(node.get<std::int64_t>()))) found.push_back(path);
        break;
      case nlohmann::json::value_t::number_unsigned:
        if (contains_bsn(std::to_string(node.get<std::uint64_t>()))) found.push_back(path);
        break;
      default:
        // Floats, booleans and null cannot carry a BSN faithfully.
        break;
    }
  };

  if (root.is_structured()) {
    push_children(root, true);
  } else {
    check(root);
  }
  while (!stack.empty()) {
    item it = std::move(stack.back());
    stack.pop_back();
    path.resize(it.parent_len);
    if (!it.top) path += '.';
    path += it.segment;
    if (std::find(hub_fields.begin(), hub_fields.end(), path) != hub_fields.end()) continue;
    if (is_exempt(path, exempt)) continue;
    if (it.node->is_structured()) {
      push_children(*it.node, false);
    } else {
      check(*it.node);
    }
  }
}

}  // namespace

bool is_bsn(std::string_view text) {
  if (text.size() != 8 && text.size() != 9) return false;
  if (!std::all_of(text.begin(), text.end(), is_digit)) return false;
  // Zero-pad to 9: an 8-digit BSN is a 9-digit one with a leading 0, weight 9 contributes nothing.
  const std::size_t pad = 9 - text.size();
  int sum = 0;
  bool all_zero = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const int digit = text[i] - '0';
    const int weight = (i + pad == 8) ? -1 : static_cast<int>(9 - (i + pad));
    sum += weight * digit;
    all_zero = all_zero && digit == 0;
  }
  return !all_zero && sum % 11 == 0;
}

std::string mask_bsns(std::string text) {
  for (std::size_t at = next_bsn(text, 0); at != std::string::npos; at = next_bsn(text, at)) {
    std::size_t end = at;
    while (end < text.size() && is_digit(text[end])) text[end++] = '*';
  }
  return text;
}

std::vector<std::string> find_bsn_fields(const nlohmann::json& signal, const std::vector<std::string>& exempt) {
  std::vector<std::string> found;
  walk(signal, exempt, found);
  return found;
}

}  // namespace schakel::privacy
