#include "pipeline/ingest_pipeline.hpp"

#include <algorithm>
#include <set>

#include "common/signal.hpp"
#include "schema/signal_validator.hpp"

namespace schakel::pipeline {

ingest_pipeline::ingest_pipeline(const schema::signal_validator& validator, const privacy::gate& gate)
    : validator_(validator), gate_(gate) {}

batch ingest_pipeline::process(const plugin_host::ingest_result& result, const std::string& instance,
                               const std::string& plugin, std::int64_t received_ms) const {
  batch out;
  out.rejected = result.rejections;
  const std::string received_at = format_rfc3339(received_ms);
  std::set<std::string> touched;

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
    if (!signal.contains("observed_at")) signal["observed_at"] = received_at;

    // Before validation, so that a BSN replaced by its keyed hash is what gets validated and stored.
    if (auto screened = gate_.screen(signal, instance); !screened.accepted) {
      out.rejected.push_back({index, screened.field, screened.reason});
      continue;
    }

    if (!validator_.is_valid(signal)) {
      // The detailed walk runs only for failures; valid signals take the fast path.
      for (const auto& e : validator_.validate(signal)) out.rejected.push_back({index, e.path, e.reason});
      continue;
    }
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

}  // namespace schakel::pipeline
