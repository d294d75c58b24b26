#include "audit/audit.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <utility>

#include "common/encoding.hpp"

namespace schakel::audit {
namespace {

// The optional text fields, by key. nlohmann::json keeps object keys sorted, so the dumped text has
// one fixed key order whatever order this table or a caller uses.
struct text_field {
  const char* key;
  std::string entry::*member;
};
constexpr std::array<text_field, 11> optional_fields{{
    {"actor", &entry::actor},
    {"actor_role", &entry::actor_role},
    {"purpose", &entry::purpose},
    {"legal_basis", &entry::legal_basis},
    {"subject", &entry::subject},
    {"object_id", &entry::object_id},
    {"object_type", &entry::object_type},
    {"sensitivity", &entry::sensitivity},
    {"access_point", &entry::access_point},
    {"detail", &entry::detail},
    {"outcome", &entry::outcome},
}};

std::string seq_text(std::int64_t seq) {
  return std::to_string(seq);
}

// prev_hash and seq never contain '\n', and the text comes last: the framing is unambiguous.
std::string framed(const std::string& prev_hash, std::int64_t seq, const std::string& text) {
  std::string out;
  const auto s = seq_text(seq);
  out.reserve(prev_hash.size() + s.size() + text.size() + 2);
  out += prev_hash;
  out += '\n';
  out += s;
  out += '\n';
  out += text;
  return out;
}

}  // namespace

entry by_system(std::int64_t time_ms, std::string action, std::string detail) {
  entry e;
  e.time_ms = time_ms;
  e.action = std::move(action);
  e.outcome = "success";
  e.actor = "schakel";
  e.actor_role = "system";
  e.detail = std::move(detail);
  return e;
}

nlohmann::json to_json(const entry& e) {
  nlohmann::json j = nlohmann::json::object();
  j["time_ms"] = e.time_ms;
  if (!e.action.empty()) j["action"] = e.action;
  for (const auto& f : optional_fields) {
    const auto& v = e.*(f.member);
    if (!v.empty()) j[f.key] = v;
  }
  return j;
}

std::optional<entry> from_json(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  entry e;
  const auto t = j.find("time_ms");
  if (t == j.end() || !t->is_number_integer()) return std::nullopt;
  e.time_ms = t->get<std::int64_t>();
  const auto a = j.find("action");
  if (a == j.end() || !a->is_string()) return std::nullopt;
  e.action = a->get<std::string>();
  for (const auto& f : optional_fields) {
    const auto it = j.find(f.key);
    if (it == j.end()) continue;
    if (!it->is_string()) return std::nullopt;
    e.*(f.member) = it->get<std::string>();
  }
  if (e.action.empty() || e.outcome.empty()) return std::nullopt;
  return e;
}

const std::string& genesis_hash() {
  static const std::string zeros(64, '0');
  return zeros;
}

std::string chain_hash(const std::string& prev_hash, std::int64_t seq, const std::string& text) {
  return encoding::sha256_hex(framed(prev_hash, seq, text));
}

std::string keyed_chain_hash(std::string_view key, const std::string& prev_hash, std::int64_t seq,
                             const std::string& text) {
  if (key.empty()) return {};
  const auto message = framed(prev_hash, seq, text);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len) == nullptr)
    return {};
  return encoding::hex_encode(std::string_view(reinterpret_cast<const char*>(mac), len));
}

entry chain_keyed_marker(std::int64_t time_ms, std::int64_t keyed_from) {
  auto e = by_system(time_ms, std::string(chain_keyed_action),
                     "records from seq " + std::to_string(keyed_from) + " on are HMAC-SHA256 under the audit key");
  e.object_type = "audit_trail";
  return e;
}

std::string record_hash(const chain_keying& keying, const std::string& prev_hash, std::int64_t seq,
                        const std::string& text) {
  if (keying.keyed_from > 0 && seq >= keying.keyed_from) return keyed_chain_hash(keying.key, prev_hash, seq, text);
  return chain_hash(prev_hash, seq, text);
}

verifier::verifier(std::string start_hash, std::int64_t start_seq, chain_keying keying)
    : expected_prev_(std::move(start_hash)), expected_seq_(start_seq), keying_(std::move(keying)) {}

void verifier::add(const record& r) {
  ++result_.records;
  if (!result_.ok) return;
  auto fail = [this](std::int64_t seq, const std::string& why) {
    result_.ok = false;
    result_.first_bad_seq = seq;
    result_.reason = "record " + std::to_string(seq) + ": " + why;
  };
  if (r.seq > expected_seq_) {
    fail(expected_seq_, "missing (the next record present is " + std::to_string(r.seq) + ")");
    return;
  }
  if (r.seq < expected_seq_) {
    fail(r.seq, "out of order (expected record " + std::to_string(expected_seq_) + ")");
    return;
  }
  if (r.prev_hash != expected_prev_) {
    fail(r.seq,
         "does not follow the record before it (prev_hash mismatch: a record was removed, reordered or "
         "changed before it)");
    return;
  }
  const bool keyed = keying_.keyed_from > 0 && r.seq >= keying_.keyed_from;
  if (keyed && keying_.key.empty()) {
    fail(r.seq, "is keyed but no audit key was given to check it");
    return;
  }
  if (record_hash(keying_, r.prev_hash, r.seq, r.text) != r.hash) {
    // A plain SHA-256 that matches where a keyed hash belongs is the signature of a rewrite by
    // someone without the key: say so, it is what an auditor needs to know.
    if (keyed && chain_hash(r.prev_hash, r.seq, r.text) == r.hash)
      fail(r.seq, "hash is plain SHA-256 where the chain is keyed (rewritten without the audit key)");
    else if (keyed)
      fail(r.seq, "text does not match its keyed hash (changed, or rewritten with another key)");
    else
      fail(r.seq, "text does not match its hash (changed record or changed hash)");
    return;
  }
  // The time column is what export selects on; it must agree with the hashed text.
  const auto j = nlohmann::json::parse(r.text, nullptr, false);
  const auto e = from_json(j);
  if (!e) {
    fail(r.seq, "hashed text is not an audit entry");
    return;
  }
  if (e->time_ms != r.time_ms) {
    fail(r.seq, "time column does not match the hashed text (changed)");
    return;
  }
  // Exactly one marker, right before the keyed part: a marker moved later would turn keyed records
  // back into plain ones that anyone can recompute.
  const bool marker = e->action == chain_keyed_action && e->actor_role == "system";
  const bool marker_expected = keying_.keyed_from > 0 && r.seq == keying_.keyed_from - 1;
  if (marker != marker_expected) {
    fail(r.seq, marker ? "is a chain-keyed marker where the keyed chain does not start"
                       : "should be the chain-keyed marker (the keyed chain starts after it)");
    return;
  }
  expected_prev_ = r.hash;
  expected_seq_ = r.seq + 1;
}

verifier::result verifier::finish() const {
  return result_;
}

}  // namespace schakel::audit
