// Fuzzes the attendance connector with arbitrary bodies under fixed, realistic profiles: as CSV
// (auto and utf-8 encoding), as JSON, as NDJSON and sniffed. Invariants: no crash, no sanitizer
// report, every emitted signal is a JSON object of a known type, rejections and failures carry a
// reason, nothing is reported after a failure, and record indexes never go backwards.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ingest_contract.hpp"
#include "mapper.hpp"

namespace {

class checking_context final : public schakel::fuzz::ingest_contract {
  void check_signal(nlohmann::json& doc) override {
    const auto& type = doc["type"].get_ref<const std::string&>();
    if (type != "nl.schakel.attendance.absence.recorded" && type != "nl.schakel.attendance.absence.deleted" &&
        type != "nl.schakel.attendance.snapshot.completed") {
      std::abort();
    }
  }
};

constexpr const char* codes = R"("codes": {"Z": "sick", "ZIEK": "sick", "O": "unauthorised", "G": "authorised",
                                           "L": "late", "V": "removed_from_class", "S": "suspended", "X": "other"})";

const schakel::connectors::attendance::connector& magister() {
  static const schakel::connectors::attendance::connector c(
      std::string(R"({"profile": "magister-like", "school": {"brin": "99XX", "vestiging": "00"},
                      "school_year": "2026-2027", )") +
      codes + "}");
  return c;
}

const schakel::connectors::attendance::connector& somtoday_utf8() {
  static const schakel::connectors::attendance::connector c(
      std::string(R"({"profile": "somtoday-like", "encoding": "utf-8", "delimiter": "auto",
                      "school": {"brin": "12AB"}, )") +
      codes + "}");
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (const char* type : {"text/csv", "application/json", "application/x-ndjson", ""}) {
    {
      checking_context ctx;
      magister().ingest(body, type, ctx);
    }
    {
      checking_context ctx;
      somtoday_utf8().ingest(body, type, ctx);
    }
  }
  return 0;
}
