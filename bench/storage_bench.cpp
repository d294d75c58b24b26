// Durable append throughput of the SQLite engine: closed-loop appenders (each waits for its
// acknowledgement, as a source connection does), 1 or 100 signals per append, one outbox item per
// signal. items/s counts signals. Set SCHAKEL_BENCH_DIR to measure on another disk (default: tmp).
#include <stdlib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "common/signal.hpp"
#include "storage/store.hpp"

namespace {

using schakel::storage::store;

std::unique_ptr<store> g_store;
std::filesystem::path g_dir;
std::atomic<std::uint64_t> g_seq{0};

std::string signal_json(const std::string& id) {
  // A realistic size (~600 bytes) for an attendance signal.
  return R"({"id":")" + id +
         R"(","schema_version":"1","type":"nl.schakel.attendance.absence.recorded",)"
         R"("source":{"connector":"generic-json","instance":"bench","record_id":"A-1001"},)"
         R"("observed_at":"2026-11-23T08:30:00Z","received_at":"2026-11-28T10:00:01.123Z",)"
         R"("subject":{"school":{"brin":"12AB","vestiging":"00"},"student_key":"S-000123","class":"2B",)"
         R"("school_year":"2026-2027","leerjaar":2},"content":{"domain":"attendance","indicator":"absence_hours",)"
         R"("value":2,"unit":"hours","severity":"info","instrument":"absence-registration",)"
         R"("evidence":{"code":"ZIEK"}},"governance":{"data_category":"ordinary",)"
         R"("legal_basis_hints":["public_task"],"retention_days":365}})";
}

void bm_append(benchmark::State& state) {
  const auto per_append = static_cast<std::size_t>(state.range(0));
  if (state.thread_index() == 0) {
    const char* base = std::getenv("SCHAKEL_BENCH_DIR");
    std::string tmpl =
        ((base ? std::filesystem::path(base) : std::filesystem::temp_directory_path()) / "schakel-bench-XXXXXX")
            .string();
    if (!mkdtemp(tmpl.data())) {
      state.SkipWithError("mkdtemp failed");
      return;
    }
    g_dir = tmpl;
    g_store = schakel::storage::open_sqlite_store({.path = (g_dir / "bench.db").string()});
  }
  const auto before = [&] {
    return state.thread_index() == 0 && g_store ? g_store->stats() : schakel::storage::store_stats{};
  };
  const auto start = before();
  for (auto _ : state) {
    std::vector<schakel::storage::signal_row> signals;
    std::vector<schakel::storage::outbox_item> items;
    signals.reserve(per_append);
    items.reserve(per_append);
    for (std::size_t i = 0; i < per_append; ++i) {
      auto id = "B" + std::to_string(g_seq.fetch_add(1));
      schakel::storage::outbox_item item;
      item.subscription = "partner";
      item.signal_id = id;
      item.lane = static_cast<std::uint32_t>(i % 16);
      item.event_json = R"({"specversion":"1.0","id":")" + id + "\"}";
      item.signal_type = "nl.schakel.attendance.absence.recorded";
      item.subject_ref = "ref" + std::to_string(i % 1000);
      item.data_category = "ordinary";
      items.push_back(std::move(item));
      signals.push_back({id, "nl.schakel.attendance.absence.recorded", "bench", signal_json(id)});
    }
    std::promise<std::error_code> done;
    auto f = done.get_future();
    g_store->append(std::move(signals), std::move(items), [&done](std::error_code ec) { done.set_value(ec); });
    if (auto ec = f.get()) {
      state.SkipWithError(ec.message().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * per_append));
  if (state.thread_index() == 0) {
    const auto end = g_store->stats();
    const auto commits = end.commits - start.commits;
    state.counters["appends_per_commit"] =
        commits ? static_cast<double>(end.jobs - start.jobs) / static_cast<double>(commits) : 0.0;
    g_store->close();
    g_store.reset();
    std::error_code ec;
    std::filesystem::remove_all(g_dir, ec);
  }
}

BENCHMARK(bm_append)
    ->ArgName("signals_per_append")
    ->Arg(1)
    ->Arg(100)
    ->Threads(1)
    ->Threads(8)
    ->Threads(64)
    ->UseRealTime()
    ->MinTime(0.5);

}  // namespace

BENCHMARK_MAIN();
