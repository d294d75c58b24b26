// Fuzzes the generic-json mapper with arbitrary bodies under a fixed, realistic mapping, as both
// JSON and NDJSON. Invariants: no crash, no sanitizer report, every emitted signal is a JSON object,
// and a failed body emits nothing after the failure.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mapper.hpp"

namespace {

class checking_context final : public schakel::sdk::ingest_context {
 public:
  void emit(std::string json, std::int64_t index) override {
    if (failed_ || index < 0) std::abort();
    const auto doc = nlohmann::json::parse(json, nullptr, false);
    if (!doc.is_object()) std::abort();
  }
  void reject(std::int64_t index, std::string_view, std::string_view reason) override {
    if (failed_ || index < 0 || reason.empty()) std::abort();
  }
  void fail(std::string_view reason) override {
    if (reason.empty()) std::abort();
    failed_ = true;
  }
  bool failed() const override { return failed_; }

 private:
  bool failed_ = false;
};

const schakel::connectors::generic_json::connector& mapper() {
  static const schakel::connectors::generic_json::connector c(R"({
    "records": "/items",
    "type": "nl.schakel.attendance.absence.recorded",
    "mapping": {
      "subject.student_key": {"pointer": "/leerling", "required": true},
      "subject.school.brin": {"pointer": "/school/brin", "required": true},
      "subject.class": {"pointer": "/klas", "default": "onbekend"},
      "subject.leerjaar": {"pointer": "/leerjaar", "as": "integer"},
      "content.severity": {"pointer": "/ernst", "map": {"laag": "info", "hoog": "concern"}, "default": "info"},
      "content.value": {"pointer": "/uren", "as": "number"},
      "content.domain": {"const": "attendance"},
      "content.indicator": {"const": "absence_hours"},
      "content.evidence.gemeld": {"pointer": "/gemeld", "as": "boolean"},
      "content.evidence.code": {"pointer": "/codes/0", "as": "string"},
      "governance.data_category": {"const": "ordinary"},
      "source.record_id": {"pointer": "/id", "as": "string"},
      "observed_at": {"pointer": "/datum", "as": "date"}
    }})");
  return c;
}

const schakel::connectors::generic_json::connector& mapper_plain_body() {
  static const schakel::connectors::generic_json::connector c(R"({
    "type": "nl.schakel.attendance.absence.recorded",
    "mapping": {
      "subject.school.brin": {"pointer": "/brin"},
      "content.severity": {"pointer": "/s", "map": {"1": "info"}, "map_default": "urgent"},
      "content.domain": {"const": "attendance"},
      "content.indicator": {"pointer": "/i", "as": "string"},
      "governance.data_category": {"const": "ordinary"},
      "observed_at": {"pointer": "", "as": "date"}
    }})");
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  {
    checking_context ctx;
    mapper().ingest(body, "application/json", ctx);
  }
  {
    checking_context ctx;
    mapper().ingest(body, "application/x-ndjson", ctx);
  }
  {
    checking_context ctx;
    mapper_plain_body().ingest(body, "", ctx);
  }
  return 0;
}
