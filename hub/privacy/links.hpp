#pragma once
/**
 * The linking table in memory (docs/linking.md): the hub's keyed hash of a BSN -> the school's
 * student. Loaded from the store at start-up and added to when a link is recorded; read by the
 * ingest pipeline on every JGZ report, from any thread.
 */
#include <cstddef>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace schakel::privacy {

struct linked_student {
  std::string brin;
  std::string vestiging;  ///< may be empty
  std::string student_key;
};

class link_registry {
 public:
  void put(const std::string& link_hash, linked_student student);
  std::optional<linked_student> find(const std::string& link_hash) const;
  std::size_t size() const;

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, linked_student> links_;
};

}  // namespace schakel::privacy
