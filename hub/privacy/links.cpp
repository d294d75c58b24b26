#include "privacy/links.hpp"

#include <mutex>

namespace schakel::privacy {

void link_registry::put(const std::string& link_hash, linked_student student) {
  std::unique_lock lock(mu_);
  links_[link_hash] = std::move(student);
}

std::optional<linked_student> link_registry::find(const std::string& link_hash) const {
  std::shared_lock lock(mu_);
  const auto it = links_.find(link_hash);
  if (it == links_.end()) return std::nullopt;
  return it->second;
}

std::size_t link_registry::size() const {
  std::shared_lock lock(mu_);
  return links_.size();
}

}  // namespace schakel::privacy
