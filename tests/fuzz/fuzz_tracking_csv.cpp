// Fuzzes the tracking connector's mapping path: arbitrary bodies under the two shipped profiles
// and an inline band-cell profile (CSV auto/utf-8, sniffed JSON/NDJSON), and arbitrary settings
// text through the profile validator. The first byte picks the mode. Invariants: no crash, no
// sanitizer report, settings either validate or throw sdk::config_error, every emitted signal is
// a measurement with a severity and a band rank inside the profile's bands, rejections and
// failures carry a reason, nothing is reported after a failure, and indexes never go backwards.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ingest_contract.hpp"
#include "mapper.hpp"

namespace {

namespace tr = schakel::connectors::tracking;

class checking_context final : public schakel::fuzz::ingest_contract {
 public:
  explicit checking_context(std::size_t band_count) : band_count_(band_count) {}

 private:
  void check_signal(nlohmann::json& doc) override {
    if (doc["type"] != tr::measurement_type) std::abort();
    const auto& content = doc["content"];
    if (!content.is_object() || !content["severity"].is_string()) std::abort();
    const auto& rank = content["evidence"]["band_rank"];
    if (!rank.is_number_unsigned() || rank.get<std::size_t>() >= band_count_) std::abort();
  }

  std::size_t band_count_;
};

const tr::connector& zien() {
  static const tr::connector c(R"({"profile": "zien-like", "school": {"brin": "99XX", "vestiging": "00"}})");
  return c;
}

const tr::connector& kanvas_utf8() {
  static const tr::connector c(
      R"({"profile": "kanvas-like", "school": {"brin": "12AB"}, "mapping": {"encoding": "utf-8"}})");
  return c;
}

const tr::connector& band_cells() {
  static const tr::connector c(R"({"school": {"brin": "99XX"}, "mapping": {
      "columns": {"student_key": "pupil", "date": "taken", "respondent": "rater", "instrument": "tool"},
      "respondents": {"self": "student", "mentor": "teacher", "carer": "parent"},
      "scale_columns_hold": "band",
      "scales": {"mood": {"domain": "emotional", "column": "Mood"},
                 "peers": {"domain": "social", "competence": "relationship_skills", "column": "Peers"}},
      "bands": [{"name": "green", "severity": "info", "values": ["G"]},
                {"name": "red", "severity": "urgent", "values": ["R"]}]}})");
  return c;
}

void run(const tr::connector& c, std::string_view body, std::string_view content_type) {
  checking_context ctx(c.config().bands.size());
  c.ingest(body, content_type, ctx);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      run(zien(), body, "text/csv");
      break;
    case 1:
      run(kanvas_utf8(), body, "text/csv");
      break;
    case 2:
      run(band_cells(), body, "text/csv");
      break;
    case 3:
      run(zien(), body, "");  // sniffed: CSV, JSON or NDJSON
      break;
    case 4:
      run(kanvas_utf8(), body, "application/x-ndjson");
      break;
    default: {
      // The body is the settings: a profile written by the fuzzer, merged over the shipped ones.
      try {
        const tr::connector c(body);
        run(c, "a;b\n1;2\n", "text/csv");
      } catch (const schakel::sdk::config_error&) {
      }
      break;
    }
  }
  return 0;
}
