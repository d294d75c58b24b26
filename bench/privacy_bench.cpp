// What the privacy gate costs per signal: routing to one subscription as identified (allowlist only)
// vs pseudonymous (two HMACs more: pseudonym and event id), the BSN scan every ingested signal gets,
// and the consent check before each delivery attempt.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <benchmark/benchmark.h>

#include "privacy/gate.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace schakel;

constexpr std::int64_t now = 1795867200000;

json sample() {
  return json::parse(R"({
    "id": "01JDZ3K7Q8M2X4V6N8P0R2T4W6", "schema_version": "1", "type": "nl.schakel.attendance.absence.recorded",
    "source": {"connector": "attendance", "instance": "attendance", "record_id": "A-1001"},
    "observed_at": "2026-11-23T08:30:00Z", "received_at": "2026-11-28T10:00:01.123Z",
    "subject": {"school": {"brin": "99XX", "vestiging": "00"}, "student_key": "S-000123", "class": "2B", "leerjaar": 2},
    "content": {"domain": "attendance", "indicator": "absence_lessons", "value": 2, "unit": "lessons",
                "severity": "info", "evidence": {"code": "Z", "category": "sick", "lessons": "3,4"}},
    "governance": {"data_category": "health"}, "derived_from": ["01JDZ3K7Q8M2X4V6N8P0R2T4W5"]})");
}

std::string key_file() {
  static const std::string path = [] {
    const auto p = fs::temp_directory_path() / ("schakel-privacy-bench-" + std::to_string(::getpid()) + ".key");
    std::ofstream(p) << std::string(64, 'a') << "\n";
    fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
    return p.string();
  }();
  return path;
}

config::subscription subscription(const std::string& identity) {
  config::subscription s;
  s.name = identity;
  s.partner = "JGZ";
  s.fields = {"type", "observed_at", "subject.school", "subject.class", "content.severity", "content.value"};
  if (identity == "identified") s.fields.push_back("subject.student_key");
  s.privacy.identity = identity;
  s.privacy.purpose = "benchmark";
  s.privacy.legal_basis = identity == "consent" ? "consent" : "public_task";
  s.privacy.health_ground = "health_care";
  if (identity == "pseudonymous") s.privacy.pseudonym_keys.push_back({"k1", key_file(), "", ""});
  return s;
}

struct fixture {
  privacy::consent_registry consents;
  std::unique_ptr<privacy::gate> gate;
  explicit fixture(const std::string& identity) {
    config::hub_config cfg;
    cfg.subscriptions = {subscription(identity)};
    config::connector_instance c;
    c.name = "attendance";
    cfg.connectors = {c};
    gate = std::make_unique<privacy::gate>(cfg, std::string(32, 'h'), consents);
  }
};

void bm_route(benchmark::State& state, const std::string& identity) {
  fixture f(identity);
  const auto signal = sample();
  std::vector<storage::outbox_item> out;
  for (auto _ : state) {
    out.clear();
    f.gate->route(signal, "01JDZ3K7Q8M2X4V6N8P0R2T4W6", now, out);
    benchmark::DoNotOptimize(out.data());
  }
  if (out.size() != 1) state.SkipWithError("the signal was not routed");
}
BENCHMARK_CAPTURE(bm_route, identified, std::string("identified"));
BENCHMARK_CAPTURE(bm_route, pseudonymous, std::string("pseudonymous"));

void bm_screen(benchmark::State& state) {
  fixture f("identified");
  const auto signal = sample();
  for (auto _ : state) {
    auto copy = signal;
    auto r = f.gate->screen(copy, "attendance");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(bm_screen);

void bm_copy_only(benchmark::State& state) {
  // The copy bm_screen makes, alone: subtract it to see the scan.
  const auto signal = sample();
  for (auto _ : state) {
    auto copy = signal;
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(bm_copy_only);

void bm_check_delivery(benchmark::State& state) {
  fixture f("consent");
  storage::unit_member m;
  m.subject_ref = f.gate->subject_ref("99XX", "S-000123");
  m.data_category = "health";
  // A student with a history: several consents and withdrawals over the years.
  for (int i = 0; i < state.range(0); ++i) {
    privacy::consent_record r;
    r.kind = i % 2 ? privacy::consent_kind::withdrawal : privacy::consent_kind::consent;
    r.given_by = privacy::consenter::student;
    r.partner = "JGZ";
    r.given_on = "2026-01-01";
    r.birth_date = "2009-05-01";
    r.recorded_ms = i + 1;
    f.consents.add(m.subject_ref, r);
  }
  for (auto _ : state) {
    auto v = f.gate->check_delivery("consent", m, now);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(bm_check_delivery)->Arg(1)->Arg(9);

}  // namespace

BENCHMARK_MAIN();
