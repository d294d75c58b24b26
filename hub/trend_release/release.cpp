#include "trend_release/release.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <future>

#include "common/log.hpp"
#include "common/signal.hpp"
#include "trends/noise.hpp"
#include "trends/release_plan.hpp"

namespace schakel::trends {

using nlohmann::json;

namespace {

constexpr const char* instance_name = release_instance;
constexpr const char* plugin_name = "schakel-trends";
constexpr std::string_view deleted_type = "nl.schakel.attendance.absence.deleted";
constexpr std::string_view snapshot_type = "nl.schakel.attendance.snapshot.completed";

std::string str(const json& j, const char* key) {
  if (!j.is_object()) return {};
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json* at_path(const json& j, const std::string& dotted) {
  const json* cur = &j;
  std::size_t start = 0;
  while (start <= dotted.size()) {
    const std::size_t dot = dotted.find('.', start);
    const std::string part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object()) return nullptr;
    const auto it = cur->find(part);
    if (it == cur->end()) return nullptr;
    cur = &*it;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

/** One measure's entries of an open week (a copy: json::value returns by value). */
json entries_of(const json& open, const char* kind, const std::string& measure) {
  return open.value(kind, json::object()).value(measure, json::object());
}

/** `v` rounded to `decimals` places; dividing by a power of ten keeps 23.4 from printing as 23.400000000000002. */
double round_to(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

std::string ymd_prefix(const std::string& rfc3339) {
  return rfc3339.size() >= 10 ? rfc3339.substr(0, 10) : std::string();
}

/** A filter shared by all kinds: type, domain, indicator, severity. */
bool matches(const measure& m, const std::string& type, const json& content) {
  if (!type_matches(m.types, type)) return false;
  if (!m.domains.empty() && std::find(m.domains.begin(), m.domains.end(), str(content, "domain")) == m.domains.end())
    return false;
  if (!m.indicators.empty() &&
      std::find(m.indicators.begin(), m.indicators.end(), str(content, "indicator")) == m.indicators.end())
    return false;
  if (m.min_severity) {
    const auto sev = parse_severity(str(content, "severity"));
    if (!sev || *sev < *m.min_severity) return false;
  }
  return true;
}

/** Hours of one attendance record: lessons or minutes, or a whole day. */
double hours_of(const measure& m, const json& content) {
  const std::string unit = str(content, "unit");
  const auto v = content.contains("value") && content["value"].is_number() ? content["value"].get<double>() : -1.0;
  if (v < 0) return m.whole_day_hours;
  if (unit == "lessons") return v * m.minutes_per_lesson / 60.0;
  if (unit == "minutes") return v / 60.0;
  if (unit == "hours") return v;
  return 0;
}

/** Whether a measure kind is released for a window kind (distributions have no year to date). */
bool released_for(measure_kind mk, window_kind wk) {
  return !(mk == measure_kind::distribution && wk == window_kind::year_to_date);
}

/**
 * One cell as a `nl.schakel.trend.<window>` signal: the group as its subject (never a student), the
 * value and its disclosure evidence as content, `ordinary` data (statistics after disclosure control).
 */
// What every cell carries, and what only some cells carry (release_emits declares both).
constexpr std::array<const char*, 8> cell_evidence{"window", "window_key", "first",  "last",
                                                   "level",  "measure",    "status", "k"};
constexpr std::array<const char*, 5> optional_cell_evidence{"category", "reason", "denominator", "rate", "noisy"};
constexpr std::array<const char*, 7> trend_content{"domain",     "indicator", "severity", "unit",
                                                   "instrument", "evidence",  "value"};

json trend_signal(const std::string& school, const std::string& year, int k, const window* win, const measure* m,
                  const group_def& g, const std::string& category, const json& cell) {
  const std::string brin = school.substr(0, 4);
  const std::string vestiging = school.size() == 6 ? school.substr(4) : std::string();
  json evidence = {{"window", std::string(to_string(win->kind))},
                   {"window_key", win->key},
                   {"first", format_day(win->first)},
                   {"last", format_day(win->last)},
                   {"level", cell["level"]},
                   {"measure", m->name},
                   {"status", cell["status"]},
                   {"k", k}};
  for (const char* field : optional_cell_evidence)
    if (cell.contains(field)) evidence[field] = cell[field];
  json content = {{"domain", m->domain},       {"indicator", "trend." + m->name},
                  {"severity", "info"},        {"unit", m->kind == measure_kind::hours ? "hours" : "students"},
                  {"instrument", plugin_name}, {"evidence", evidence}};
  if (cell.contains("value")) content["value"] = cell["value"];
  json subject = {{"school", {{"brin", brin}}}, {"school_year", year}};
  if (!vestiging.empty()) subject["school"]["vestiging"] = vestiging;
  if (g.lvl != level::school) subject["leerjaar"] = g.leerjaar;
  if (g.lvl == level::class_group) subject["class"] = g.klass;
  std::string record = school + "/" + std::string(to_string(win->kind)) + "/" + win->key + "/" + m->name +
                       (category.empty() ? "" : "/" + category) + "/" + group_id(g);
  if (record.size() > 128) record = record.substr(0, 128);
  return json{{"type", "nl.schakel.trend." + std::string(to_string(win->kind))},
              {"observed_at", format_day(win->last) + "T23:59:59Z"},
              {"source", {{"record_id", record}}},
              {"subject", subject},
              {"content", content},
              {"governance", {{"data_category", "ordinary"}}}};
}

}  // namespace

sdk::emitted_signals release_emits(const settings& s) {
  sdk::emitted_signals out;
  for (const auto kind : s.windows) {
    auto& shape = out["nl.schakel.trend." + std::string(to_string(kind))];
    shape.content.insert(trend_content.begin(), trend_content.end());
    shape.evidence.insert(cell_evidence.begin(), cell_evidence.end());
    shape.evidence.insert(optional_cell_evidence.begin(), optional_cell_evidence.end());
  }
  return out;
}

releaser::releaser(settings s, storage::store& store, const pipeline::ingest_pipeline& pipeline,
                   subject_ref_fn subject_ref, committed_fn committed, metrics::registry* metrics)
    : settings_(std::move(s)),
      store_(store),
      pipeline_(pipeline),
      subject_ref_(std::move(subject_ref)),
      committed_(std::move(committed)) {
  if (metrics != nullptr) {
    released_metric_ =
        &metrics->get_counter("schakel_trend_cells_total", "Trend cells released, by status", {{"status", "released"}});
    suppressed_metric_ = &metrics->get_counter("schakel_trend_cells_total", "Trend cells released, by status",
                                               {{"status", "suppressed"}});
    late_metric_ = &metrics->get_counter("schakel_trend_late_signals_total",
                                         "Signals for a week already sealed, left out of every trend");
    withheld_metric_ = &metrics->get_counter("schakel_trend_withheld_total",
                                             "Noisy releases withheld from a partner whose privacy budget is spent");
  }
  load();
}

releaser::~releaser() {
  stop();
}

void releaser::load() {
  if (auto v = store_.state_get(state_namespace, "position")) position_ = std::stoll(*v);
  if (auto v = store_.state_get(state_namespace, "index")) {
    const json idx = json::parse(*v);
    for (const auto& k : idx.value("open", json::array())) {
      if (auto o = store_.state_get(state_namespace, "open/" + k.get<std::string>()))
        open_[k.get<std::string>()] = json::parse(*o);
    }
    const json sealed = idx.value("sealed", json::object());
    for (const auto& [school, weeks] : sealed.items())
      for (const auto& w : weeks) sealed_[school].insert(w.get<std::string>());
    first_ = idx.value("first", json::object());
    forgotten_before_ = idx.value("forgotten_before", json::object());
  }
  if (auto v = store_.state_get(state_namespace, "budget")) budget_ = budget_ledger::from_json(json::parse(*v));
}

json releaser::index_json() const {
  json idx = {
      {"open", json::array()}, {"sealed", json::object()}, {"first", first_}, {"forgotten_before", forgotten_before_}};
  for (const auto& [k, v] : open_) idx["open"].push_back(k);
  for (const auto& [school, weeks] : sealed_) idx["sealed"][school] = weeks;
  return idx;
}

std::string releaser::school_of(const json& signal) const {
  const json* school = at_path(signal, "subject.school");
  if (school == nullptr) return {};
  const std::string brin = str(*school, "brin");
  const std::string full = brin + str(*school, "vestiging");
  for (const auto& s : settings_.schools)
    if (s == full || s == brin) return s;
  return {};
}

json& releaser::open_for(const std::string& school, days monday, std::set<std::string>& dirty) {
  const std::string key = school + "/" + format_day(monday);
  dirty.insert(key);
  auto& o = open_[key];
  if (!o.is_object()) o = {{"s", json::object()}, {"h", json::object()}, {"d", json::object()}};
  return o;
}

void releaser::accumulate(const storage::logged_signal& s, std::set<std::string>& dirty, std::size_t& late) {
  if (s.type.starts_with("nl.schakel.trend.")) return;
  const json sig = json::parse(s.json, nullptr, false);
  if (!sig.is_object()) return;
  const std::string school = school_of(sig);
  if (school.empty()) return;
  const std::string prefix = school + "/";
  const std::string record =
      s.instance + "|" +
      (str(sig.value("source", json::object()), "record_id").empty() ? s.id : str(sig["source"], "record_id"));
  // Corrections reach every open week of the school: a record may move between weeks.
  const auto each_open = [&](const std::function<void(json&)>& fn) {
    for (auto it = open_.lower_bound(prefix); it != open_.end() && it->first.starts_with(prefix); ++it) {
      dirty.insert(it->first);
      fn(it->second);
    }
  };
  if (s.type.ends_with(".retracted")) {
    each_open([&](json& o) {
      for (auto& [m, entries] : o["s"].items()) entries.erase(record);
    });
    return;
  }
  if (s.type == deleted_type) {
    each_open([&](json& o) {
      for (auto& [m, entries] : o["h"].items()) entries.erase(record);
    });
    return;
  }
  if (s.type == snapshot_type) {
    const json ev = sig.value("content", json::object()).value("evidence", json::object());
    const std::string snap = str(ev, "snapshot"), from = str(ev, "from"), to = str(ev, "to");
    const std::string inst = s.instance + "|";
    each_open([&](json& o) {
      for (auto& [m, entries] : o["h"].items()) {
        for (auto it = entries.begin(); it != entries.end();) {
          const json& e = it.value();
          const std::string date = e[5].get<std::string>();
          if (it.key().starts_with(inst) && date >= from && date <= to && e[4].get<std::string>() != snap) {
            it = entries.erase(it);
          } else {
            ++it;
          }
        }
      }
    });
    return;
  }
  const json* key = at_path(sig, "subject.student_key");
  if (key == nullptr || !key->is_string()) return;
  const json content = sig.value("content", json::object());
  std::vector<const measure*> hits;
  for (const auto& m : settings_.measures)
    if (matches(m, s.type, content)) hits.push_back(&m);
  if (hits.empty()) return;
  const std::string observed = str(sig, "observed_at");
  days day{};
  if (!parse_day(ymd_prefix(observed), day)) return;
  const days monday = week_monday(day);
  const std::string monday_text = format_day(monday);
  auto first = first_.find(school);
  if (first == first_.end()) {
    // Releases start at the week of the first signal (or trends.first_week): weeks before it were
    // never collected, and zeros for them would be claims the hub cannot make.
    days start = monday;
    if (!settings_.first_week.empty()) {
      days fw{};
      parse_day(settings_.first_week, fw);
      start = week_monday(fw);
    }
    first_[school] = format_day(start);
    first = first_.find(school);
  }
  const std::string klass = str(sig["subject"], "class");
  const int leerjaar = sig["subject"].contains("leerjaar") && sig["subject"]["leerjaar"].is_number_integer()
                           ? sig["subject"]["leerjaar"].get<int>()
                           : 0;
  if (monday_text < first->get<std::string>() || sealed_[school].contains(monday_text)) {
    ++late;
    return;
  }
  const std::string ref = subject_ref_(str(sig["subject"]["school"], "brin"), key->get<std::string>());
  for (const measure* m : hits) {
    switch (m->kind) {
      case measure_kind::students:
        open_for(school, monday, dirty)["s"][m->name][record] = json::array({klass, leerjaar, ref, observed});
        break;
      case measure_kind::hours: {
        // A correction may move a record to another week: drop it everywhere first.
        each_open([&](json& o) {
          if (o["h"].contains(m->name)) o["h"][m->name].erase(record);
        });
        const std::string snap = str(content.value("evidence", json::object()), "snapshot");
        open_for(school, monday, dirty)["h"][m->name][record] =
            json::array({klass, leerjaar, ref, hours_of(*m, content), snap, format_day(day), observed});
        break;
      }
      case measure_kind::distribution: {
        const json* cat = at_path(sig, m->field);
        if (cat == nullptr || !cat->is_string()) break;
        const std::string c = cat->get<std::string>();
        if (std::find(m->categories.begin(), m->categories.end(), c) == m->categories.end()) break;
        json& d = open_for(school, monday, dirty)["d"][m->name];
        const std::string slot = ref + "|" + klass;
        if (!d.contains(slot) || d[slot][4].get<std::string>() <= observed)
          d[slot] = json::array({klass, leerjaar, ref, c, observed});
        break;
      }
    }
  }
}

void releaser::forget_old_weeks(const std::string& school, days monday, std::vector<storage::state_write>& writes) {
  // Sealed weeks hold the students' hub pseudonyms, needed only for the year-to-date checks of their
  // own school year. Kept through the next school year (a late look at last year's releases), then
  // reduced to a marker: the week stays sealed, its releases stay, the pseudonyms go.
  const std::string year = school_year_of(monday, settings_.school_year_start);
  const std::string previous = std::to_string(std::stoi(year.substr(0, 4)) - 1) + "-" + year.substr(0, 4);
  const std::string cutoff = format_day(school_year_first_week(previous, settings_.school_year_start));
  const std::string from = forgotten_before_.value(school, std::string());
  if (from >= cutoff) return;
  for (const auto& w : sealed_[school]) {
    if (w < from || w >= cutoff) continue;
    writes.push_back(
        {state_namespace, "sealed/" + school + "/" + w, json{{"monday", w}, {"forgotten", true}}.dump(), false});
    sealed_cache_.erase(school + "/" + w);
  }
  forgotten_before_[school] = cutoff;
}

json releaser::sealed_week(const std::string& school, days monday) const {
  const std::string key = school + "/" + format_day(monday);
  const auto it = sealed_cache_.find(key);
  if (it != sealed_cache_.end()) return it->second;
  json v = json::object();
  if (auto text = store_.state_get(state_namespace, "sealed/" + key)) v = json::parse(*text);
  sealed_cache_[key] = v;
  return v;
}

json releaser::enrolment_of(const std::string& school) const {
  if (auto text = store_.state_get(state_namespace, "enrolment/" + school)) return json::parse(*text);
  return json::object();
}

void releaser::record_enrolment(const std::vector<class_enrolment>& rows) {
  std::lock_guard lock(run_mu_);
  std::map<std::string, json> by_school;
  for (const auto& r : rows) {
    auto& e = by_school[r.school];
    if (e.is_null()) e = enrolment_of(r.school);
    json& c = e[r.klass];
    c["leerjaar"] = r.leerjaar;
    json history = c.value("history", json::array());
    json kept = json::array();
    for (const auto& h : history)
      if (h.value("from", "") != r.valid_from) kept.push_back(h);
    kept.push_back({{"from", r.valid_from}, {"students", r.students}});
    std::sort(kept.begin(), kept.end(), [](const json& a, const json& b) { return a["from"] < b["from"]; });
    c["history"] = kept;
  }
  for (const auto& [school, e] : by_school) store_.state_put(state_namespace, "enrolment/" + school, e.dump());
}

json releaser::release_week(const std::string& school, days monday, std::int64_t now_ms, pipeline::batch& out,
                            std::vector<storage::state_write>& writes, std::size_t& cell_count) {
  const std::string monday_text = format_day(monday);
  const std::string year = school_year_of(monday, settings_.school_year_start);
  const auto windows = windows_closing(monday, settings_.windows, settings_.school_year_start);

  // 1. Seal this week: its contributions become final.
  const json sealed = seal_week(school, monday_text, writes);

  // 2. The school year so far: sealed weeks (this one included) and earlier releases.
  const days year_first = school_year_first_week(year, settings_.school_year_start);
  std::vector<days> weeks;
  for (const auto& w : sealed_[school]) {
    days d{};
    parse_day(w, d);
    if (d >= year_first && d < monday) weeks.push_back(d);
  }
  weeks.push_back(monday);
  std::vector<json> week_data;
  for (const auto& w : weeks) week_data.push_back(w == monday ? sealed : sealed_week(school, w));
  const std::vector<json> earlier = released_before(school, weeks, monday);

  // 3. What this release publishes: one decision over every measure, window kind and level together.
  release_input in;
  in.config = &settings_;
  in.weeks = weeks;
  in.week_data = week_data;
  in.enrolment = enrolment_of(school);
  in.earlier = earlier;
  in.windows = windows;
  std::optional<laplace_noise> rng;
  if (settings_.noise) {
    rng.emplace(laplace_noise::from_os());
    in.noise = [&rng](const std::string&, measure_kind kind, double exact, double scale) {
      return kind == measure_kind::hours ? noisy_total(exact, scale, *rng)
                                         : static_cast<double>(noisy_count(std::llround(exact), scale, *rng));
    };
  }
  const auto plan = plan_release(in);

  // 4. Cells, signals and the release documents, one per window.
  const std::size_t items_before = out.items.size();
  std::map<std::string, json> docs;
  for (const auto& w : windows) {
    json doc = {{"school", school},
                {"window",
                 {{"kind", std::string(to_string(w.kind))},
                  {"key", w.key},
                  {"first", format_day(w.first)},
                  {"last", format_day(w.last)}}},
                {"released_at", format_rfc3339(now_ms)},
                {"disclosure", {{"k", settings_.k}, {"noise", nullptr}}},
                {"measures", json::array()},
                {"cells", json::array()}};
    if (settings_.noise) doc["disclosure"]["noise"] = {{"epsilon", settings_.noise->epsilon_per_release}};
    for (const auto& m : settings_.measures) {
      if (!released_for(m.kind, w.kind)) continue;
      doc["measures"].push_back({{"name", m.name},
                                 {"kind", std::string(to_string(m.kind))},
                                 {"unit", m.kind == measure_kind::hours ? "hours" : "students"}});
    }
    docs[w.key + "/" + std::string(to_string(w.kind))] = doc;
  }
  std::map<std::string, std::size_t> suppressed_by_reason;
  for (const auto& p : plan) {
    json cell = {{"measure", p.m->name}, {"level", std::string(to_string(p.g.lvl))}};
    if (p.m->kind == measure_kind::distribution) cell["category"] = p.category;
    if (p.g.lvl != level::school) cell["leerjaar"] = std::to_string(p.g.leerjaar);
    if (p.g.lvl == level::class_group) cell["class"] = p.g.klass;
    if (p.released) {
      cell["status"] = "released";
      if (p.m->kind == measure_kind::hours) {
        cell["value"] = p.value;
      } else {
        cell["value"] = std::llround(p.value);
      }
      if (p.noisy) cell["noisy"] = true;
      cell["denominator"] = p.denominator;
      if (p.denominator > 0) cell["rate"] = round_to(p.value / static_cast<double>(p.denominator), 4);
      if (released_metric_ != nullptr) released_metric_->add();
    } else {
      // A partner sees one reason: the detailed one would narrow the value down (below k means 1..k-1).
      cell["status"] = "suppressed";
      cell["reason"] = std::string(reason::suppressed);
      ++suppressed_by_reason[std::string(p.hub_reason)];
      if (suppressed_metric_ != nullptr) suppressed_metric_->add();
    }
    ++cell_count;
    const json signal = trend_signal(school, year, settings_.k, &p.win, p.m, p.g, p.category, cell);
    if (!p.released) cell["hub_reason"] = std::string(p.hub_reason);  // the hub's own view only
    docs[p.win.key + "/" + std::string(to_string(p.win.kind))]["cells"].push_back(cell);

    std::string error;
    if (pipeline_.derive(signal.dump(), instance_name, plugin_name, now_ms, out, error).empty())
      log::error("trends.cell_refused", {{"school", school}, {"window", p.win.key}, {"reason", error}});
  }
  if (!suppressed_by_reason.empty()) {
    json fields = {{"school", school}, {"week", week_key(monday)}};
    for (const auto& [r, n] : suppressed_by_reason) fields[r] = n;
    log::info("trends.suppressed", fields);
  }

  // 6. The privacy budget: a noisy release reaches a partner only while its budget lasts.
  const auto [routed, withheld] = route_within_budget(school, year, items_before, out, writes);
  json released_keys = json::array();
  for (auto& [k, doc] : docs) {
    doc["routed_to"] = routed;
    doc["withheld_from"] = withheld;
    const std::string kind = doc["window"]["kind"].get<std::string>();
    const std::string key = doc["window"]["key"].get<std::string>();
    writes.push_back({state_namespace, "release/" + school + "/" + kind + "/" + key, doc.dump(), false});
    released_keys.push_back(kind + "/" + key);
  }
  return released_keys;
}

/**
 * The released cells of the releases that closed with `weeks` before `monday`, each with its window
 * (`_window`, `_kind`, `_first`, `_last`): what a partner already knows, which this release must not
 * complete. Read from the store each time (releases are small; a backfill of n weeks reads O(n²) of
 * them, about a second for two school years here).
 */
std::vector<json> releaser::released_before(const std::string& school, const std::vector<days>& weeks,
                                            days monday) const {
  std::vector<json> earlier;
  for (const auto& w : weeks) {
    if (w == monday) continue;
    for (const auto& win : windows_closing(w, settings_.windows, settings_.school_year_start)) {
      auto text = store_.state_get(state_namespace,
                                   "release/" + school + "/" + std::string(to_string(win.kind)) + "/" + win.key);
      if (!text) continue;
      json rel = json::parse(*text);
      for (auto& c : rel["cells"]) {
        if (c.value("status", "") != "released") continue;
        c["_window"] = win.key;
        c["_kind"] = std::string(to_string(win.kind));
        c["_first"] = format_day(win.first);
        c["_last"] = format_day(win.last);
        earlier.push_back(c);
      }
    }
  }
  return earlier;
}

/**
 * Turns a week's open contributions into its sealed rows (per measure: [class, leerjaar, pseudonym,
 * value] or, for distributions, the category and time too) and queues the writes that make it final.
 */
json releaser::seal_week(const std::string& school, const std::string& monday_text,
                         std::vector<storage::state_write>& writes) {
  json sealed = {{"monday", monday_text}, {"m", json::object()}};
  const auto it = open_.find(school + "/" + monday_text);
  const json open = it == open_.end() ? json::object() : it->second;
  // One row per student and measure: a student who changed class within the week counts in the class
  // of their latest signal (release_plan.hpp), and their hours are clipped once, not per class.
  const auto latest_of = [](const json& e, std::size_t at) {
    return e.size() > at && e[at].is_string() ? e[at].get<std::string>() : std::string();
  };
  struct student_week {
    std::string klass, observed;
    int leerjaar = 0;
    double hours = 0;
  };
  const auto place = [](student_week& sw, const json& e, const std::string& observed) {
    const std::string klass = e[0].get<std::string>();
    if (std::tie(observed, klass) >= std::tie(sw.observed, sw.klass)) {
      sw.klass = klass;
      sw.leerjaar = e[1].get<int>();
      sw.observed = observed;
    }
  };
  for (const auto& m : settings_.measures) {
    json rows = json::array();
    if (m.kind == measure_kind::students) {
      std::map<std::string, student_week> by_ref;
      const json entries = entries_of(open, "s", m.name);
      for (const auto& [rec, e] : entries.items()) place(by_ref[e[2].get<std::string>()], e, latest_of(e, 3));
      for (const auto& [r, sw] : by_ref) rows.push_back(json::array({sw.klass, sw.leerjaar, r, 1, sw.observed}));
    } else if (m.kind == measure_kind::hours) {
      std::map<std::string, student_week> by_ref;
      const json entries = entries_of(open, "h", m.name);
      for (const auto& [rec, e] : entries.items()) {
        auto& sw = by_ref[e[2].get<std::string>()];
        place(sw, e, latest_of(e, 6));
        sw.hours += e[3].get<double>();
      }
      for (const auto& [r, sw] : by_ref) {
        const double clipped = round_to(std::min(sw.hours, m.max_hours_per_week), 2);
        if (clipped > 0) rows.push_back(json::array({sw.klass, sw.leerjaar, r, clipped, sw.observed}));
      }
    } else {
      const json entries = entries_of(open, "d", m.name);
      for (const auto& [slot, e] : entries.items()) rows.push_back(json::array({e[0], e[1], e[2], e[3], e[4]}));
    }
    sealed["m"][m.name] = rows;
  }
  sealed_cache_[school + "/" + monday_text] = sealed;
  writes.push_back({state_namespace, "sealed/" + school + "/" + monday_text, sealed.dump(), false});
  writes.push_back({state_namespace, "open/" + school + "/" + monday_text, "", true});
  return sealed;
}

/**
 * The partners this release's items go to, and those it is withheld from: with noise, each partner is
 * charged the release's epsilon and an item whose partner's budget would be exceeded is dropped from
 * `out` (items before `first_item` belong to other releases and are kept).
 */
std::pair<std::set<std::string>, std::set<std::string>> releaser::route_within_budget(
    const std::string& school, const std::string& year, std::size_t first_item, pipeline::batch& out,
    std::vector<storage::state_write>& writes) {
  std::set<std::string> routed, withheld;
  for (std::size_t i = first_item; i < out.items.size(); ++i) routed.insert(out.items[i].subscription);
  if (settings_.noise) {
    const double eps = settings_.noise->epsilon_per_release;
    // Budgets are per partner, school and school year: two schools' students are disjoint (parallel composition).
    for (const auto& sub : std::set<std::string>(routed)) {
      if (!budget_.try_charge(sub, school + "/" + year, eps, settings_.noise->budget_per_school_year)) {
        withheld.insert(sub);
        routed.erase(sub);
        if (withheld_metric_ != nullptr) withheld_metric_->add();
        log::info("trends.budget_spent", {{"subscription", sub}, {"school", school}, {"school_year", year}});
      }
    }
    if (!withheld.empty()) {
      std::vector<storage::outbox_item> kept;
      for (std::size_t i = 0; i < out.items.size(); ++i)
        if (i < first_item || !withheld.contains(out.items[i].subscription)) kept.push_back(std::move(out.items[i]));
      out.items = std::move(kept);
    }
    writes.push_back({state_namespace, "budget", budget_.to_json().dump(), false});
  }
  return {routed, withheld};
}

run_result releaser::run_once(std::int64_t now_ms, std::optional<days> until) {
  std::lock_guard lock(run_mu_);
  run_result result;
  // 1. Read the log.
  std::set<std::string> dirty;
  std::int64_t end = position_.load();
  for (;;) {
    auto page = store_.read_signals_after(end, 1000);
    if (page.empty()) break;
    for (const auto& s : page) {
      end = s.seq;
      ++result.signals_read;
      accumulate(s, dirty, result.late_signals);
    }
    if (page.size() < 1000) break;
  }
  if (late_metric_ != nullptr && result.late_signals > 0) late_metric_->add(result.late_signals);
  const auto commit = [&](pipeline::batch&& b, std::vector<storage::state_write>&& writes) {
    std::promise<std::error_code> done;
    auto f = done.get_future();
    store_.append_with_state(std::move(b.rows), std::move(b.items), std::move(writes),
                             [&done](std::error_code ec) { done.set_value(ec); });
    const auto ec = f.get();
    if (ec) throw std::runtime_error("trends: the store refused the commit: " + ec.message());
  };
  if (end != position_.load() || !dirty.empty()) {
    std::vector<storage::state_write> writes;
    for (const auto& k : dirty) {
      const auto it = open_.find(k);
      if (it != open_.end()) writes.push_back({state_namespace, "open/" + k, it->second.dump(), false});
    }
    writes.push_back({state_namespace, "position", std::to_string(end), false});
    writes.push_back({state_namespace, "index", index_json().dump(), false});
    commit(pipeline::batch{}, std::move(writes));
    position_ = end;
  }

  // 2. Release every closed week, oldest first, one transaction each.
  const days today = std::chrono::floor<std::chrono::days>(
      std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(now_ms)));
  for (const auto& school : settings_.schools) {
    const auto first = first_.find(school);
    if (first == first_.end()) continue;
    days monday{};
    parse_day(first->get<std::string>(), monday);
    for (; monday + days::duration{7 + settings_.release_delay_days} <= today; monday += days::duration{7}) {
      const std::string mt = format_day(monday);
      if (sealed_[school].contains(mt)) continue;
      if (until && monday + days::duration{6} > *until) break;
      pipeline::batch b;
      std::vector<storage::state_write> writes;
      std::size_t cells = 0;
      const json keys = release_week(school, monday, now_ms, b, writes, cells);
      sealed_[school].insert(mt);
      forget_old_weeks(school, monday, writes);
      const auto open_it = open_.find(school + "/" + mt);
      json open_backup;
      if (open_it != open_.end()) {
        open_backup = open_it->second;
        open_.erase(open_it);
      }
      writes.push_back({state_namespace, "index", index_json().dump(), false});
      const auto touched = b.touched_subscriptions;
      try {
        commit(std::move(b), std::move(writes));
      } catch (...) {
        sealed_[school].erase(mt);
        sealed_cache_.erase(school + "/" + mt);
        if (!open_backup.is_null()) open_[school + "/" + mt] = open_backup;
        throw;
      }
      result.releases += keys.size();
      result.cells += cells;
      log::info("trends.released", {{"school", school}, {"week", week_key(monday)}, {"cells", cells}});
      if (committed_ && !touched.empty()) committed_(touched);
    }
  }
  return result;
}

json releaser::released(const trend_query& q) const {
  std::lock_guard lock(run_mu_);
  json out = {{"releases", json::array()}};
  for (const auto& [school, weeks] : sealed_) {
    if (!q.school.empty() && q.school != school) continue;
    for (const auto& w : weeks) {
      days monday{};
      parse_day(w, monday);
      for (const auto& win : windows_closing(monday, settings_.windows, settings_.school_year_start)) {
        if (q.kind && *q.kind != win.kind) continue;
        const std::string last = format_day(win.last);
        if (!q.from.empty() && last < q.from) continue;
        if (!q.to.empty() && last > q.to) continue;
        auto text = store_.state_get(state_namespace,
                                     "release/" + school + "/" + std::string(to_string(win.kind)) + "/" + win.key);
        if (!text) continue;
        json rel = json::parse(*text);
        if (!q.subscription.empty()) {
          const auto& routed = rel.value("routed_to", json::array());
          if (std::find(routed.begin(), routed.end(), q.subscription) == routed.end()) continue;
          rel.erase("routed_to");
          rel.erase("withheld_from");
          // The detailed reason is the hub's: it would narrow a suppressed value down.
          for (auto& c : rel["cells"]) c.erase("hub_reason");
        }
        out["releases"].push_back(std::move(rel));
      }
    }
  }
  return out;
}

void releaser::start() {
  {
    std::lock_guard lock(loop_mu_);
    running_ = true;
  }
  thread_ = std::thread([this] { loop(); });
}

void releaser::stop() {
  {
    std::lock_guard lock(loop_mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<std::function<void()>> left;
  {
    std::lock_guard lock(loop_mu_);
    running_ = false;
    left.swap(jobs_);
  }
  for (auto& job : left) job();
}

void releaser::wake() {
  {
    std::lock_guard lock(loop_mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void releaser::submit(std::function<void(releaser&)> job) {
  {
    std::lock_guard lock(loop_mu_);
    if (running_ && !stopping_) {
      jobs_.push_back([this, job = std::move(job)] { job(*this); });
      cv_.notify_all();
      return;
    }
  }
  job(*this);
}

void releaser::loop() {
  // The first look comes one interval after start, like every later one: a restart must not release
  // on its own what an operator is releasing step by step (POST /v1/trends/release with `until`).
  auto next = std::chrono::steady_clock::now() + std::chrono::seconds(settings_.check_interval_seconds);
  for (;;) {
    std::vector<std::function<void()>> jobs;
    bool due = false;
    {
      std::unique_lock lock(loop_mu_);
      cv_.wait_until(lock, next, [this] { return stopping_ || woken_ || !jobs_.empty(); });
      if (stopping_) break;
      jobs.swap(jobs_);
      due = woken_ || std::chrono::steady_clock::now() >= next;
      woken_ = false;
    }
    for (auto& job : jobs) job();
    if (!due) continue;
    next = std::chrono::steady_clock::now() + std::chrono::seconds(settings_.check_interval_seconds);
    try {
      run_once(now_ms());
    } catch (const std::exception& e) {
      log::error("trends.run_failed", {{"error", e.what()}});
    }
  }
}

}  // namespace schakel::trends
