// The node name: one per `schakel serve` process, in checkpoints, metrics and the processors endpoint.
#include <unistd.h>

#include <array>

#include "config/config.hpp"

namespace schakel::config {

namespace {
constexpr std::size_t max_node_chars = 64;
}  // namespace

std::string node_name_problem(std::string_view name) {
  // A metric label value, a log field and a word in checkpoint lines: short and plain, so no quoting
  // or escaping anywhere can make two nodes look alike or one look like two.
  if (name.empty()) return "is empty";
  if (name.size() > max_node_chars) return "is longer than " + std::to_string(max_node_chars) + " characters";
  for (const char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-'))
      return "may hold only letters, digits, '.', '_' and '-'";
  return {};
}

std::string settle_node_name(hub_config& cfg, const std::string& flag) {
  std::string origin;
  if (!flag.empty()) {
    cfg.node = flag;
    origin = "--node";
  } else if (!cfg.node.empty()) {
    origin = (cfg.source_file.empty() ? std::string("config") : cfg.source_file) + ": node";
  } else {
    std::array<char, 256> host{};
    if (::gethostname(host.data(), host.size() - 1) != 0 || host[0] == '\0')
      return "this machine's host name cannot be read to name the node; give --node NAME or set node";
    cfg.node = host.data();
    origin = "the host name";
  }
  if (const auto why = node_name_problem(cfg.node); !why.empty())
    return origin + " \"" + cfg.node.substr(0, max_node_chars) + "\" cannot name this node: it " + why +
           (flag.empty() ? "; give --node NAME or set node" : "");
  return {};
}

}  // namespace schakel::config
