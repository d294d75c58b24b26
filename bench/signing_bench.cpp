// Cost of signing one webhook (Standard Webhooks v1: HMAC-SHA256 + base64) per body size.
#include <string>

#include <benchmark/benchmark.h>

#include "delivery/standard_webhooks.hpp"

namespace {

void bm_sign(benchmark::State& state) {
  const auto key = schakel::delivery::signing_key::parse("whsec_c2NoYWtlbC10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGVm");
  const std::string body(static_cast<std::size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    auto sig = schakel::delivery::sign(*key, "msg_01JDZ3K7Q8M2X4V6N8P0R2T4W6", 1764324001, body);
    benchmark::DoNotOptimize(sig);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(bm_sign)->Arg(1024)->Arg(100 * 1024);

void bm_verify(benchmark::State& state) {
  const auto key = schakel::delivery::signing_key::parse("whsec_c2NoYWtlbC10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGVm");
  const std::string body(static_cast<std::size_t>(state.range(0)), 'x');
  const auto header = schakel::delivery::sign(*key, "msg_1", 1764324001, body);
  for (auto _ : state) {
    auto r = schakel::delivery::verify(*key, "msg_1", "1764324001", body, header, 1764324001);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(bm_verify)->Arg(1024);

}  // namespace

BENCHMARK_MAIN();
