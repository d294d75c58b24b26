#include "cli/audit_cli.hpp"

#include <filesystem>
#include <memory>
#include <system_error>

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
};

walk verify_once(storage::store& s, const storage::audit_anchor& anchor) {
  walk w;
  verifier v(anchor.prev_hash, anchor.next_seq);
  s.read_audit(INT64_MIN, INT64_MAX, [&](const record& r) {
    if (w.result.records++ == 0) w.first = r.seq;
    w.last = r.seq;
    v.add(r);
    return true;
  });
  w.result = v.finish();
  return w;
}

}  // namespace

int run_audit_verify(const std::string& db_path, std::ostream& out, std::ostream& err) {
  auto s = open_existing(db_path, err);
  if (!s) return 2;
  auto anchor = s->read_audit_anchor();
  auto w = verify_once(*s, anchor);
  // A retention purge by a running daemon between reading the anchor and the records moves the
  // start of the chain; read both again before calling the trail broken.
  if (!w.result.ok) {
    auto again = s->read_audit_anchor();
    if (again.next_seq != anchor.next_seq || again.prev_hash != anchor.prev_hash) w = verify_once(*s, again);
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
  out << "audit trail intact: " << w.result.records << " records";
  if (w.result.records > 0) out << " (seq " << w.first << ".." << w.last << ")";
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
