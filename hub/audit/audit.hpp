#pragma once
/**
 * The audit trail (NEN 7513 style): who received or viewed what, about whom, when, for which purpose
 * and on which legal basis, and with what outcome. Records are append-only and hash-chained: each
 * record's hash covers the previous record's hash and the record's own canonical text, so a changed,
 * removed or reordered record breaks the chain from that point on, and `verify` names the first one.
 *
 * The chain is keyed: a record's hash is HMAC-SHA256 under the audit key, which lives in keys_dir and
 * never in the database, so write access to the database alone cannot recompute the hashes after a
 * changed record. A chain begun before keying stays plain SHA-256 up to and including one marker
 * record (action audit.chain_keyed); every record after it is keyed. A fresh database writes the
 * marker as its first record, so every chain has the same shape.
 *
 * A record never holds personal data in the clear: the subject is the hub's own keyed pseudonym
 * (privacy::subject_ref), never a student key, a name or a BSN; `detail` holds reasons and status
 * codes, never content.
 */
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace schakel::audit {

/** One audited event. Empty strings are left out of the stored text. */
struct entry {
  std::int64_t time_ms = 0;  ///< when it happened (Unix ms, UTC)
  std::string action;        ///< e.g. delivery.delivered, delivery.dropped, consent.recorded, deadletter.replayed
  std::string outcome;       ///< success | failure | denied
  std::string actor;         ///< partner (subscription's partner) or user/client ("admin", "cli", an address)
  std::string actor_role;    ///< partner | admin | system | source
  std::string purpose;       ///< the subscription's purpose, or the admin's stated purpose
  std::string legal_basis;   ///< AVG art. 6 basis (and "+art9:<ground>" for health data)
  std::string subject;       ///< subject pseudonym (hub key), never the raw student key
  std::string object_id;     ///< signal id, consent record id, dead-letter unit id
  std::string object_type;   ///< signal type, "consent", "dead_letter"
  std::string sensitivity;   ///< ordinary | health
  std::string access_point;  ///< subscription name, "api", "cli"
  std::string detail;        ///< reason or status; never content
};

/** A successful action the hub took by itself (actor "schakel", role system), e.g. a retention purge. */
entry by_system(std::int64_t time_ms, std::string action, std::string detail);

/** The canonical JSON object of an entry (fixed key order, empty fields omitted). */
nlohmann::json to_json(const entry& e);
/** Parses what to_json produced; nullopt when a required field (time_ms, action, outcome) is missing. */
std::optional<entry> from_json(const nlohmann::json& j);

/** A stored record: position, the canonical text that was hashed, and the chain hashes (hex). */
struct record {
  std::int64_t seq = 0;
  std::int64_t time_ms = 0;
  std::string text;       ///< to_json(entry).dump(): exactly the bytes that were hashed
  std::string prev_hash;  ///< hash of record seq-1 (or the anchor / genesis value)
  std::string hash;       ///< chain_hash(prev_hash, seq, text)
};

/** The first record's prev_hash when nothing was ever purged: 64 zeros. */
const std::string& genesis_hash();

/** SHA-256 (lowercase hex) over prev_hash, the sequence number and the text, unambiguously framed. */
std::string chain_hash(const std::string& prev_hash, std::int64_t seq, const std::string& text);

/** HMAC-SHA256 (lowercase hex) under `key` over the same framing as chain_hash. */
std::string keyed_chain_hash(std::string_view key, const std::string& prev_hash, std::int64_t seq,
                             const std::string& text);

/** The action of the last plain record: every record after it is keyed. */
inline constexpr std::string_view chain_keyed_action = "audit.chain_keyed";

/** The marker record the hub appends when it first keys a chain; records from `keyed_from` on are keyed. */
entry chain_keyed_marker(std::int64_t time_ms, std::int64_t keyed_from);

/** Where the keyed part of a chain starts, and the key to check it. keyed_from 0: a plain chain. */
struct chain_keying {
  std::int64_t keyed_from = 0;  ///< first keyed seq (the marker is keyed_from - 1)
  std::string key;              ///< the audit key; needed only when keyed_from > 0
};

/** The hash record `seq` must carry: keyed when keying.keyed_from <= seq, plain SHA-256 before. */
std::string record_hash(const chain_keying& keying, const std::string& prev_hash, std::int64_t seq,
                        const std::string& text);

/**
 * Walks records in seq order and checks the chain. Feed every record through `add`, then `finish`.
 * The first failure sticks: which seq, and why (changed, missing/reordered, bad hash).
 */
class verifier {
 public:
  /** start_hash: the anchor left by retention purges (genesis_hash() when none); start_seq: first expected seq. */
  verifier(std::string start_hash, std::int64_t start_seq, chain_keying keying = {});
  void add(const record& r);
  struct result {
    bool ok = true;
    std::int64_t records = 0;        ///< records checked
    std::int64_t first_bad_seq = 0;  ///< 0 when ok
    std::string reason;              ///< e.g. "record 17: text does not match its hash (changed)"
  };
  result finish() const;

 private:
  std::string expected_prev_;
  std::int64_t expected_seq_;
  chain_keying keying_;
  result result_;
};

}  // namespace schakel::audit
