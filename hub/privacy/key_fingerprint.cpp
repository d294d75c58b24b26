#include "privacy/key_fingerprint.hpp"

#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "privacy/keys.hpp"

namespace schakel::privacy {

std::string key_fingerprint(std::string_view name, std::string_view key) {
  // The leading NUL and the label keep this message apart from everything else the keys are used
  // on ("<brin>:<student key>", audit record framing), so a fingerprint never equals a pseudonym
  // or a chain hash someone else can see.
  std::string label("\0schakel key fingerprint v1\0", 28);
  label.append(name);
  return keyed_hash(key, label);
}

fingerprint_book fingerprint_book_of(storage::store& store) {
  return {
      [&store](const std::string& name) {
        std::error_code error;
        auto value = store.state_get_checked(key_fingerprint_namespace, name, error);
        if (error)
          throw std::runtime_error("reading the " + name + " key's fingerprint from the database: " + error.message());
        return value;
      },
      [&store](const std::string& name, const std::string& fingerprint) {
        store.state_put(key_fingerprint_namespace, name, fingerprint);
      }};
}

std::vector<std::string> check_key_fingerprints(const fingerprint_book& book, const std::vector<held_key>& keys) {
  std::vector<const held_key*> unrecorded;
  for (const auto& k : keys) {
    const auto recorded = book.recorded(k.name);
    if (!recorded) {
      unrecorded.push_back(&k);
      continue;
    }
    if (*recorded != key_fingerprint(k.name, k.key)) {
      const auto file_name = std::filesystem::path(k.file).filename().string();
      throw std::runtime_error(
          k.name + " key " + k.file + " is not the " + k.name +
          " key this database was made with (its fingerprint differs from the one recorded in the database); "
          "every node must hold the same keys: copy " +
          file_name + " from a node that serves this database to " + k.file + " and start again");
    }
  }
  std::vector<std::string> recorded_now;
  for (const auto* k : unrecorded) {
    const auto fingerprint = key_fingerprint(k->name, k->key);
    book.record(k->name, fingerprint);
    // state_put reports no error; the read-back is what proves the record exists. It also catches
    // another node that recorded a different key between our read and our write.
    if (book.recorded(k->name) != fingerprint)
      throw std::runtime_error("recording the " + k->name + " key's fingerprint in the database failed (" + k->file +
                               "); the hub does not start without it");
    recorded_now.push_back(k->name);
  }
  return recorded_now;
}

}  // namespace schakel::privacy
