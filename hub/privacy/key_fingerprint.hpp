#pragma once
/**
 * One hub, one set of keys: every `schakel serve` node sharing a database must hold the same hub key
 * (a subject reference, BSN hash or partner stand-in made on one node must match one made on another)
 * and the same audit chain key (each node appends to one chain). The database records a fingerprint
 * of each key at the first start; a node whose key does not match it refuses to start
 * (docs/cluster.md, "One key on every node").
 */
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.hpp"

namespace schakel::privacy {

/**
 * The plugin-state namespace the fingerprints live in. No connector or processor can write here: an
 * instance's namespace is its name, and instance names may hold no '.' and may not begin with
 * "schakel" (the hub's own, like schakel.referrals).
 */
inline constexpr const char* key_fingerprint_namespace = "schakel.keys";

/**
 * HMAC-SHA256 under `key` of a fixed label naming the key's role (keyed_hash: 32 base32 characters).
 * The same key gives the same fingerprint on every node; a different key a different one; and it
 * tells nothing about the key (it is one output of a PRF keyed with it, over a label no subject
 * identity or audit record can equal).
 */
std::string key_fingerprint(std::string_view name, std::string_view key);

/** A key this node holds, for the check. */
struct held_key {
  std::string name;  ///< its role: "hub", "audit" (also its key in key_fingerprint_namespace)
  std::string file;  ///< where this node read it, for the refusal; never the key itself
  std::string key;
};

/** What the check needs of the database: read and write one fingerprint. */
struct fingerprint_book {
  /** The fingerprint recorded for `name`, nullopt when none; throws when the database cannot say. */
  std::function<std::optional<std::string>(const std::string& name)> recorded;
  std::function<void(const std::string& name, const std::string& fingerprint)> record;
};

/** A book over a store's plugin-state API, in key_fingerprint_namespace. */
fingerprint_book fingerprint_book_of(storage::store& store);

/**
 * Holds every key against the fingerprint the database recorded. All are compared before anything is
 * recorded, so a refused node writes nothing. A key without a fingerprint yet (a new database, or one
 * made before fingerprints existed) gets it recorded and read back. Returns the names recorded now.
 * Throws std::runtime_error with one line (which key, which file, how to fix it) when a key differs
 * from the recorded one, or when recording fails.
 */
std::vector<std::string> check_key_fingerprints(const fingerprint_book& book, const std::vector<held_key>& keys);

}  // namespace schakel::privacy
