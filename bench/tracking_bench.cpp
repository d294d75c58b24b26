// The tracking capability per row: mapping a school's LVS export (long zien-like shape: a row per
// student x scale; wide kanvas-like shape: a row per student with a norm score per scale) and the
// tracking-trends processor per measurement signal, a first round and then a second round that
// compares with it (the common case after the first import).
#include <cstdio>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "connectors/tracking/mapper.hpp"
#include "plugins/tracking-trends/processor.hpp"
#include "schakel/testing/processor_testing.hpp"

namespace {

using json = nlohmann::json;
namespace tr = schakel::connectors::tracking;
namespace tt = schakel::plugins::tracking_trends;

/** Counts instead of storing: the benchmark measures mapping, not a vector of strings. */
class counting_ingest final : public schakel::sdk::ingest_context {
 public:
  void emit(std::string json, std::int64_t) override {
    bytes += json.size();
    ++emitted;
  }
  void reject(std::int64_t, std::string_view, std::string_view) override { ++rejected; }
  void fail(std::string_view) override { failed_ = true; }
  bool failed() const override { return failed_; }
  std::size_t emitted = 0, rejected = 0, bytes = 0;

 private:
  bool failed_ = false;
};

class counting_emit final : public schakel::sdk::processor_context {
 public:
  std::string emit(std::string) override {
    ++emitted;
    return "01JDZ3K7Q8M2X4V6N8P0R2T4W6";
  }
  std::size_t emitted = 0;
};

const char* const zien_scales[] = {"Welbevinden",           "Betrokkenheid",     "Sociaal initiatief",
                                   "Sociale flexibiliteit", "Sociale autonomie", "Impulsbeheersing",
                                   "Inlevingsvermogen",     "Keuzes maken"};
const char* const zien_bands[] = {"Boven gemiddeld", "Gemiddeld", "Onder gemiddeld", "Ver onder gemiddeld"};

/** One round of a school of `students`: 8 scales each, scores and bands varying by student. */
std::string zien_export(int students) {
  std::string out =
      "Leerlingnummer;Klas;Leerjaar;Afnamedatum;Instrument;Invuller;Schaal;Ruwe score;Normscore;Niveau;"
      "Ronde;Regel-id\n";
  for (int s = 0; s < students; ++s) {
    for (int k = 0; k < 8; ++k) {
      char line[256];
      std::snprintf(line, sizeof line, "%d;%dB;%d;05-10-2026;zien-vo-like;L;%s;%d;%d;%s;2026-najaar;R-%d-%d\n",
                    100000 + s, 1 + s % 6, 1 + s % 6, zien_scales[k], 10 + (s * 7 + k) % 30, 30 + (s + k) % 40,
                    zien_bands[(s + k) % 4], s, k);
      out += line;
    }
  }
  return out;
}

std::string kanvas_export(int students) {
  const tr::connector probe(R"({"profile": "kanvas-like", "school": {"brin": "99XX"}})");
  std::vector<std::string> columns;
  for (const auto& sc : probe.config().scales) columns.push_back(sc.column);
  // The kanvas-like header as the profile names it; a norm score 1-100 per scale.
  std::string out;
  for (std::size_t f = 0; f < tr::field_count; ++f) {
    if (const auto& c = probe.config().columns[f]) out += (out.empty() ? "" : ",") + *c;
  }
  for (const auto& c : columns) out += "," + c;
  out += "\n";
  std::string header = out;
  out.clear();
  for (int s = 0; s < students; ++s) {
    std::string line;
    for (std::size_t f = 0; f < tr::field_count; ++f) {
      if (!probe.config().columns[f]) continue;
      const auto field = static_cast<tr::field>(f);
      std::string v = field == tr::field::student_key  ? std::to_string(100000 + s)
                      : field == tr::field::date       ? "2026-10-05"
                      : field == tr::field::class_name ? "2B"
                      : field == tr::field::leerjaar   ? "2"
                      : field == tr::field::round      ? "2026-najaar"
                      : field == tr::field::record_id  ? "K-" + std::to_string(s)
                                                       : "";
      line += (line.empty() ? "" : ",") + v;
    }
    for (std::size_t k = 0; k < columns.size(); ++k)
      line += "," + std::to_string(1 + (s * 13 + static_cast<int>(k) * 7) % 100);
    out += line + "\n";
  }
  return header + out;
}

void BM_map_long_export(benchmark::State& state) {
  const tr::connector c(R"({"profile": "zien-like", "school": {"brin": "99XX", "vestiging": "00"}})");
  const std::string body = zien_export(static_cast<int>(state.range(0)));
  std::size_t rows = 0;
  for (auto _ : state) {
    counting_ingest ctx;
    c.ingest(body, "text/csv", ctx);
    if (ctx.failed() || ctx.rejected != 0) state.SkipWithError("the export did not map cleanly");
    rows += ctx.emitted;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));  // measurements (= rows) per second
  state.SetBytesProcessed(static_cast<std::int64_t>(body.size() * state.iterations()));
}
BENCHMARK(BM_map_long_export)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_map_wide_export(benchmark::State& state) {
  const tr::connector c(R"({"profile": "kanvas-like", "school": {"brin": "99XX", "vestiging": "00"}})");
  const std::string body = kanvas_export(static_cast<int>(state.range(0)));
  std::size_t measurements = 0;
  for (auto _ : state) {
    counting_ingest ctx;
    c.ingest(body, "text/csv", ctx);
    if (ctx.failed() || ctx.emitted == 0) state.SkipWithError("the export did not map");
    measurements += ctx.emitted;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(measurements));  // measurements (cells) per second
}
BENCHMARK(BM_map_wide_export)->Arg(1000)->Unit(benchmark::kMillisecond);

/** The measurement signals (as the core stores them) of one zien-like round. */
std::vector<std::string> measurement_signals(int students, const char* date, int drift) {
  const tr::connector c(R"({"profile": "zien-like", "school": {"brin": "99XX", "vestiging": "00"}})");
  std::string body = zien_export(students);
  // The second round: a later date, scores lower by `drift`.
  if (drift != 0) {
    for (std::size_t at = body.find("05-10-2026"); at != std::string::npos; at = body.find("05-10-2026", at))
      body.replace(at, 10, date);
  }
  class keep final : public schakel::sdk::ingest_context {
   public:
    void emit(std::string text, std::int64_t) override { out.push_back(std::move(text)); }
    void reject(std::int64_t, std::string_view, std::string_view) override {}
    void fail(std::string_view) override {}
    bool failed() const override { return false; }
    std::vector<std::string> out;
  } ctx;
  c.ingest(body, "text/csv", ctx);
  std::vector<std::string> out;
  int n = 0;
  for (auto& text : ctx.out) {
    json s = json::parse(text);
    char id[32];
    std::snprintf(id, sizeof id, "01JDZ3K7Q8M2X4V6N8P%07d", (drift != 0 ? 5000000 : 0) + n++);
    s["id"] = id;
    s["schema_version"] = "1";
    s["source"]["connector"] = "tracking";
    s["source"]["instance"] = "tracking";
    s["received_at"] = "2027-03-20T09:00:00Z";
    if (drift != 0) s["content"]["value"] = s["content"]["value"].get<double>() - drift;
    out.push_back(s.dump());
  }
  return out;
}

const char* const trends_settings =
    R"({"instruments": {"zien-vo-like": {"bands": ["above_average", "average", "below_average", "well_below_average"],
                                        "decline_by": 4}}})";

void BM_trends_first_round(benchmark::State& state) {
  const auto signals = measurement_signals(static_cast<int>(state.range(0)), "05-10-2026", 0);
  std::size_t alerts = 0;
  for (auto _ : state) {
    schakel::sdk::testing::memory_services svc;
    tt::tracking_trends_processor proc(trends_settings, svc);
    counting_emit ctx;
    for (const auto& s : signals) proc.process(s, ctx);
    proc.flush(ctx);
    alerts = ctx.emitted;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(signals.size() * state.iterations()));
  state.counters["alerts"] = static_cast<double>(alerts);
}
BENCHMARK(BM_trends_first_round)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_trends_second_round(benchmark::State& state) {
  const int students = static_cast<int>(state.range(0));
  const auto first = measurement_signals(students, "05-10-2026", 0);
  const auto second = measurement_signals(students, "08-03-2027", 3);
  std::size_t alerts = 0;
  for (auto _ : state) {
    state.PauseTiming();
    schakel::sdk::testing::memory_services svc;
    tt::tracking_trends_processor proc(trends_settings, svc);
    counting_emit warm;
    for (const auto& s : first) proc.process(s, warm);
    proc.flush(warm);
    state.ResumeTiming();
    counting_emit ctx;
    for (const auto& s : second) proc.process(s, ctx);
    proc.flush(ctx);
    alerts = ctx.emitted;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(second.size() * state.iterations()));
  state.counters["alerts"] = static_cast<double>(alerts);
}
BENCHMARK(BM_trends_second_round)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
