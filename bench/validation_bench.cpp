// Throughput of signal validation on the ingest hot path (one core, one signal at a time).
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "schema/signal_validator.hpp"

namespace {

nlohmann::json example_signal() {
  return nlohmann::json::parse(R"({
    "id": "01JDZ3K7Q8M2X4V6N8P0R2T4W6",
    "schema_version": "1",
    "type": "nl.schakel.attendance.absence.recorded",
    "source": {"connector": "generic-json", "instance": "quickstart", "record_id": "A-1001"},
    "observed_at": "2026-11-23T08:30:00Z",
    "received_at": "2026-11-28T10:00:01.123Z",
    "subject": {"school": {"brin": "12AB", "vestiging": "00"}, "student_key": "S-000123",
                "class": "2B", "school_year": "2026-2027", "leerjaar": 2},
    "content": {"domain": "attendance", "indicator": "absence_hours", "value": 2, "unit": "hours",
                "severity": "info", "instrument": "absence-registration", "evidence": {"code": "ZIEK"}},
    "governance": {"data_category": "ordinary", "legal_basis_hints": ["public_task"], "retention_days": 365}
  })");
}

const schakel::schema::signal_validator& validator() {
  static const schakel::schema::signal_validator v;
  return v;
}

// The hot path: a valid signal, answer only.
void valid_signal_is_valid(benchmark::State& state) {
  const auto signal = example_signal();
  for (auto _ : state) benchmark::DoNotOptimize(validator().is_valid(signal));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(valid_signal_is_valid);

// validate() on a valid signal: the same fast path plus an empty vector.
void valid_signal_validate(benchmark::State& state) {
  const auto signal = example_signal();
  for (auto _ : state) benchmark::DoNotOptimize(validator().validate(signal));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(valid_signal_validate);

// A rejected signal: the fast check plus the full error walk and value-free messages.
void invalid_signal_validate(benchmark::State& state) {
  auto signal = example_signal();
  signal["content"]["severity"] = "catastrophic";
  for (auto _ : state) benchmark::DoNotOptimize(validator().validate(signal));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(invalid_signal_validate);

// Parse + validate, as ingest does with each record's JSON text.
void parse_and_validate(benchmark::State& state) {
  const std::string text = example_signal().dump();
  for (auto _ : state) {
    const auto signal = nlohmann::json::parse(text);
    benchmark::DoNotOptimize(validator().is_valid(signal));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(parse_and_validate);

}  // namespace

BENCHMARK_MAIN();
