#include "pipeline/ingest_pipeline.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>

#include "common/signal.hpp"
#include "schema/signal_validator.hpp"

namespace schakel::pipeline {

namespace {

/** The subject becomes the linked student's: key and school replace the hash. */
void link_subject(nlohmann::json& signal, const privacy::linked_student& student) {
  auto& subject = signal["subject"];
  subject["student_key"] = student.student_key;
  nlohmann::json school = {{"brin", student.brin}};
  if (!student.vestiging.empty()) school["vestiging"] = student.vestiging;
  subject["school"] = std::move(school);
}

bool is_deleted_type(std::string_view type) {
  return type.ends_with(".deleted");
}

/** A deletion that names its record but not whose it is: the hub completes it (deletions_by_id). */
bool is_deletion_by_id(const nlohmann::json& signal) {
  if (signal.contains("subject")) return false;
  const auto type = signal.find("type");
  if (type == signal.end() || !type->is_string() || !is_deleted_type(type->get_ref<const std::string&>())) return false;
  const auto source = signal.find("source");
  if (source == signal.end() || !source->is_object()) return false;
  const auto id = source->find("record_id");
  return id != source->end() && id->is_string() && !id->get_ref<const std::string&>().empty();
}

/** What a deletion by id takes from the record it deletes. */
void complete_from(nlohmann::json& deletion, const nlohmann::json& record) {
  if (const auto subject = record.find("subject"); subject != record.end()) deletion["subject"] = *subject;
  if (!deletion.contains("observed_at"))
    if (const auto at = record.find("observed_at"); at != record.end()) deletion["observed_at"] = *at;
  const nlohmann::json* date = nullptr;
  if (const auto c = record.find("content"); c != record.end() && c->is_object())
    if (const auto e = c->find("evidence"); e != c->end() && e->is_object())
      if (const auto d = e->find("date"); d != e->end()) date = &*d;
  auto content = deletion.find("content");
  if (date == nullptr || content == deletion.end() || !content->is_object()) return;
  auto& evidence = (*content)["evidence"];
  if (evidence.is_null()) evidence = nlohmann::json::object();
  if (evidence.is_object() && !evidence.contains("date")) evidence["date"] = *date;
}

// Reasons name the field, never the id or anything of the record (it may be derived from a student key).
constexpr std::string_view never_stored_reason =
    "a deletion by record id alone needs the record it deletes, and this connector instance never stored a "
    "record with this id";
constexpr std::string_view purged_reason =
    "the record with this id was already removed by retention: there is nothing left to delete";

}  // namespace

std::vector<std::string> ingest_pipeline::deletions_by_id(const plugin_host::ingest_result& result) {
  std::vector<std::string> ids;
  std::set<std::string> seen;
  for (const auto& text : result.signals) {
    if (text.find(".deleted\"") == std::string::npos) continue;
    const auto signal = nlohmann::json::parse(text, nullptr, false);
    if (!signal.is_object() || !is_deletion_by_id(signal)) continue;
    const auto& id = signal["source"]["record_id"].get_ref<const std::string&>();
    if (seen.insert(id).second) ids.push_back(id);
  }
  return ids;
}

ingest_pipeline::ingest_pipeline(const schema::signal_validator& validator, const privacy::gate& gate,
                                 const privacy::link_registry* links)
    : validator_(validator), gate_(gate), links_(links) {}

batch ingest_pipeline::process(const plugin_host::ingest_result& result, const std::string& instance,
                               const std::string& plugin, std::int64_t received_ms,
                               const stored_records& stored) const {
  batch out;
  out.rejected = result.rejections;
  const std::string received_at = format_rfc3339(received_ms);
  std::set<std::string> touched;
  // Records accepted so far in this result that a later deletion by id names: a body may add a record
  // and delete it by id. Only those are kept, so a large export without such deletions copies nothing.
  const std::vector<std::string> wanted_ids = deletions_by_id(result);
  const std::set<std::string> wanted(wanted_ids.begin(), wanted_ids.end());
  std::map<std::string, nlohmann::json> accepted_records;

  for (std::size_t i = 0; i < result.signals.size(); ++i) {
    const std::int64_t index =
        i < result.signal_record_index.size() ? result.signal_record_index[i] : static_cast<std::int64_t>(i);
    nlohmann::json signal = nlohmann::json::parse(result.signals[i], nullptr, false);
    if (!signal.is_object()) {
      out.rejected.push_back({index, "", "the connector produced a signal that is not a JSON object"});
      continue;
    }
    // Fields only the core may set are overwritten, so a connector cannot forge provenance or ids.
    const std::string id = new_signal_id();
    signal["id"] = id;
    signal["schema_version"] = "1";
    if (!signal.contains("source") || !signal["source"].is_object()) signal["source"] = nlohmann::json::object();
    signal["source"]["connector"] = plugin;
    signal["source"]["instance"] = instance;
    signal["received_at"] = received_at;
    if (is_deletion_by_id(signal)) {
      const std::string record_id = signal["source"]["record_id"].get<std::string>();
      nlohmann::json record;
      if (const auto in_batch = accepted_records.find(record_id); in_batch != accepted_records.end()) {
        record = in_batch->second;
      } else if (const auto st = stored.find(record_id);
                 st != stored.end() && st->second.what == storage::stored_record::state::found) {
        record = nlohmann::json::parse(st->second.json, nullptr, false);
      }
      if (!record.is_object()) {
        const bool purged =
            stored.contains(record_id) && stored.at(record_id).what == storage::stored_record::state::purged;
        out.rejected.push_back({index, "source.record_id", std::string(purged ? purged_reason : never_stored_reason)});
        continue;
      }
      complete_from(signal, record);
    }
    if (!signal.contains("observed_at")) signal["observed_at"] = received_at;

    // Before validation, so that a BSN replaced by its keyed hash is what gets validated and stored.
    const auto screened = gate_.screen(signal, instance);
    if (!screened.accepted) {
      out.rejected.push_back({index, screened.field, screened.reason});
      continue;
    }
    bool park = false;
    if (!screened.link_hash.empty() && links_ != nullptr) {
      if (const auto student = links_->find(screened.link_hash)) {
        link_subject(signal, *student);
      } else {
        park = true;  // kept (validated, stored) until the link appears; routed only then
      }
    }

    if (!validator_.is_valid(signal)) {
      // The detailed walk runs only for failures; valid signals take the fast path.
      for (const auto& e : validator_.validate(signal)) out.rejected.push_back({index, e.path, e.reason});
      continue;
    }
    if (park) {
      storage::parked_signal p;
      p.id = id;
      p.type = signal["type"].get<std::string>();
      p.instance = instance;
      p.plugin = plugin;
      p.link_hash = screened.link_hash;
      p.received_ms = received_ms;
      p.json = signal.dump();
      out.parked.push_back(std::move(p));
      out.accepted.push_back({index, id, true});
      continue;
    }
    if (!wanted.empty())
      if (const auto rid = signal["source"].find("record_id");
          rid != signal["source"].end() && rid->is_string() && wanted.contains(rid->get_ref<const std::string&>()))
        accepted_records[rid->get<std::string>()] = signal;
    storage::signal_row row;
    row.id = id;
    row.type = signal["type"].get<std::string>();
    row.instance = instance;
    row.json = signal.dump();
    const std::size_t before = out.items.size();
    gate_.route(signal, id, received_ms, out.items);
    for (std::size_t k = before; k < out.items.size(); ++k) touched.insert(out.items[k].subscription);
    out.rows.push_back(std::move(row));
    out.accepted.push_back({index, id});
  }
  std::sort(out.rejected.begin(), out.rejected.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  out.touched_subscriptions.assign(touched.begin(), touched.end());
  return out;
}

std::string ingest_pipeline::derive(std::string_view json, const std::string& instance, const std::string& plugin,
                                    std::int64_t received_ms, batch& out, std::string& error) const {
  plugin_host::ingest_result one;
  one.signals.emplace_back(json);
  one.signal_record_index.push_back(0);
  batch b = process(one, instance, plugin, received_ms);
  if (b.accepted.empty()) {
    error = b.rejected.empty() ? std::string("refused")
                               : (b.rejected.front().field.empty() ? std::string() : b.rejected.front().field + ": ") +
                                     b.rejected.front().reason;
    return {};
  }
  for (auto& r : b.rows) out.rows.push_back(std::move(r));
  for (auto& i : b.items) out.items.push_back(std::move(i));
  for (auto& s : b.touched_subscriptions)
    if (std::find(out.touched_subscriptions.begin(), out.touched_subscriptions.end(), s) ==
        out.touched_subscriptions.end())
      out.touched_subscriptions.push_back(std::move(s));
  out.accepted.push_back(b.accepted.front());
  return b.accepted.front().id;
}

bool ingest_pipeline::unpark(const storage::parked_signal& parked, const privacy::linked_student& student,
                             std::int64_t now_ms, batch& out, std::string& error) const {
  nlohmann::json signal = nlohmann::json::parse(parked.json, nullptr, false);
  if (!signal.is_object() || !signal.contains("subject") || !signal["subject"].is_object()) {
    error = "the parked signal is not a signal";
    return false;
  }
  link_subject(signal, student);
  if (!validator_.is_valid(signal)) {
    const auto errors = validator_.validate(signal);
    error = errors.empty() ? std::string("not valid") : errors.front().path + ": " + errors.front().reason;
    return false;
  }
  storage::signal_row row;
  row.id = parked.id;
  row.type = parked.type;
  row.instance = parked.instance;
  row.json = signal.dump();
  const std::size_t before = out.items.size();
  gate_.route(signal, parked.id, now_ms, out.items);
  for (std::size_t k = before; k < out.items.size(); ++k)
    if (std::find(out.touched_subscriptions.begin(), out.touched_subscriptions.end(), out.items[k].subscription) ==
        out.touched_subscriptions.end())
      out.touched_subscriptions.push_back(out.items[k].subscription);
  out.rows.push_back(std::move(row));
  out.accepted.push_back({0, parked.id});
  return true;
}

}  // namespace schakel::pipeline
