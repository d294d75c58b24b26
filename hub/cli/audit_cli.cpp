#include "cli/audit_cli.hpp"

#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <system_error>
#include <vector>

#include "audit/checkpoint.hpp"
#include "storage/store.hpp"

namespace schakel::audit {
namespace {

/** Opens an existing database only: a mistyped path must not create an empty, "intact" trail. */
std::unique_ptr<storage::store> open_existing(const std::string& db_path, std::ostream& err) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db_path, ec)) {
    err << "no database at " << db_path << "\n";
    return nullptr;
  }
  try {
    return storage::open_sqlite_store({.path = db_path});
  } catch (const std::system_error& e) {
    err << e.what() << "\n";
    return nullptr;
  }
}

struct walk {
  verifier::result result;
  std::int64_t first = 0;
  std::int64_t last = 0;
  std::map<std::int64_t, std::string> hashes;  ///< record hash at each checkpoint's seq
};

walk verify_once(storage::audit_trail& s, const storage::audit_anchor& anchor, const std::string& key,
                 const std::set<std::int64_t>& checkpoint_seqs) {
  walk w;
  verifier v(anchor.prev_hash, anchor.next_seq, {anchor.keyed_from, key});
  s.read_audit(INT64_MIN, INT64_MAX, [&](const record& r) {
    if (w.result.records++ == 0) w.first = r.seq;
    w.last = r.seq;
    if (checkpoint_seqs.count(r.seq) != 0) w.hashes[r.seq] = r.hash;
    v.add(r);
    return true;
  });
  w.result = v.finish();
  return w;
}

std::string utc_text(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  char buf[32] = "?";
  if (::gmtime_r(&t, &tm) != nullptr) std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/** "checkpoint line 7 of /path (2026-12-07T20:55:19Z)": how every finding names its checkpoint. */
std::string name_of(const checkpoint_line& l, const std::filesystem::path& file) {
  return "checkpoint line " + std::to_string(l.line) + " of " + file.string() + " (" + utc_text(l.value->time_ms) + ")";
}

/**
 * What a signed checkpoint says against what the database holds now; "" when they agree (or the
 * records it names were purged by retention since).
 */
std::string checkpoint_finding(const checkpoint_line& l, const std::filesystem::path& file,
                               const storage::audit_anchor& anchor, const walk& w, std::int64_t db_last) {
  const auto& c = *l.value;
  if (c.keyed_from != anchor.keyed_from)
    return "audit trail rewritten: the database says the keyed chain starts at record " +
           std::to_string(anchor.keyed_from) + ", but " + name_of(l, file) + " signed " + std::to_string(c.keyed_from);
  if (c.seq > db_last)
    return "audit trail truncated: the database ends at record " + std::to_string(db_last) + ", but " +
           name_of(l, file) + " vouches for records up to " + std::to_string(c.seq) +
           " (the tail was cut or an older copy of the database restored)";
  std::optional<std::string> have;
  if (const auto it = w.hashes.find(c.seq); it != w.hashes.end())
    have = it->second;
  else if (c.seq == anchor.next_seq - 1)
    have = anchor.prev_hash;
  if (have && *have != c.head)
    return "audit trail rolled back: record " + std::to_string(c.seq) + " differs from what " + name_of(l, file) +
           " signed (an older copy of the database restored, or the chain rewritten)";
  return {};
}

}  // namespace

int run_audit_verify(const std::string& db_path, std::ostream& out, std::ostream& err) {
  return run_audit_verify(db_path, verify_keys{}, out, err);
}

int run_audit_verify(const std::string& db_path, const verify_keys& keys, std::ostream& out, std::ostream& err) {
  // The checkpoints first: a forged one must fail the run whatever the database holds.
  std::vector<checkpoint_line> lines;
  std::optional<checkpoint_verifier> signatures;
  try {
    if (!keys.checkpoints.empty()) lines = read_checkpoints(keys.checkpoints);
    if (!lines.empty()) signatures = checkpoint_verifier::load(keys.public_key);
  } catch (const std::exception& e) {
    err << e.what() << "\n";
    return 2;
  }
  std::set<std::int64_t> checkpoint_seqs;
  for (const auto& l : lines) {
    if (!l.value) {
      out << "audit checkpoint line " << l.line << " of " << keys.checkpoints.string()
          << ": not a checkpoint (altered)\n";
      return 1;
    }
    if (!signatures->verify(*l.value)) {
      out << "audit " << name_of(l, keys.checkpoints) << ": signature does not verify (forged or altered)\n";
      return 1;
    }
    checkpoint_seqs.insert(l.value->seq);
  }

  auto s = open_existing(db_path, err);
  if (!s) return 2;
  auto anchor = s->read_audit_anchor();
  if (anchor.keyed_from > 0 && keys.chain_key.empty()) {
    err << "the audit chain is keyed from record " << anchor.keyed_from << ", but there is no audit key"
        << (keys.chain_key_file.empty() ? std::string() : " at " + keys.chain_key_file.string())
        << ": verify needs it\n";
    s->close();
    return 2;
  }
  auto w = verify_once(*s, anchor, keys.chain_key, checkpoint_seqs);
  // A retention purge by a running daemon between reading the anchor and the records moves the
  // start of the chain; read both again before calling the trail broken.
  if (!w.result.ok) {
    auto again = s->read_audit_anchor();
    if (again.next_seq != anchor.next_seq || again.prev_hash != anchor.prev_hash) {
      anchor = again;
      w = verify_once(*s, anchor, keys.chain_key, checkpoint_seqs);
    }
  }
  s->close();
  if (!w.result.ok) {
    // reason already starts with "record S: ".
    const auto& why = w.result.reason;
    const auto colon = why.find(": ");
    out << "audit trail broken at record " << w.result.first_bad_seq << ": "
        << (colon == std::string::npos ? why : why.substr(colon + 2)) << "\n";
    return 1;
  }
  // The hub makes the key when it keys the chain: a key beside a plain chain means the keyed part
  // was stripped and the rest recomputed with plain SHA-256.
  if (anchor.keyed_from == 0 && !keys.chain_key.empty()) {
    out << "audit trail rewritten: an audit key exists, so the hub keyed this chain, but the database holds a "
           "plain chain\n";
    return 1;
  }
  const auto db_last = w.result.records > 0 ? w.last : anchor.next_seq - 1;
  for (const auto& l : lines) {
    if (auto finding = checkpoint_finding(l, keys.checkpoints, anchor, w, db_last); !finding.empty()) {
      out << finding << "\n";
      return 1;
    }
  }
  out << "audit trail intact: " << w.result.records << " records";
  if (w.result.records > 0) out << " (seq " << w.first << ".." << w.last << ")";
  out << "\n";
  if (keys.checkpoints.empty()) return 0;
  if (anchor.keyed_from > 0)
    out << "keyed chain (HMAC-SHA256 under the audit key) from record " << anchor.keyed_from << "\n";
  else
    out << "plain chain (SHA-256): not keyed yet; the hub keys it at its next start\n";
  if (lines.empty()) {
    out << "no checkpoint in " << keys.checkpoints.string()
        << ": a cut tail or an older copy of the database cannot be detected\n";
    return 0;
  }
  const auto& latest = lines.back();
  out << "checked against the latest " << name_of(latest, keys.checkpoints) << ": record " << latest.value->seq
      << ", node " << latest.value->node << "; all " << lines.size() << " checkpoints agree";
  if (db_last > latest.value->seq)
    out << "; records " << latest.value->seq + 1 << ".." << db_last << " are newer than the latest checkpoint";
  out << "\n";
  return 0;
}

int run_audit_export(const std::string& db_path, std::int64_t from_ms, std::int64_t to_ms, std::ostream& out,
                     std::ostream& err) {
  auto s = open_existing(db_path, err);
  if (!s) return 2;
  int rc = 0;
  s->read_audit(from_ms, to_ms, [&](const record& r) {
    auto j = nlohmann::json::parse(r.text, nullptr, false);
    if (!j.is_object()) {
      err << "record " << r.seq << ": stored text is not a JSON object; skipped\n";
      rc = 1;
      return true;
    }
    j["seq"] = r.seq;
    j["hash"] = r.hash;
    out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return true;
  });
  s->close();
  return rc;
}

}  // namespace schakel::audit
