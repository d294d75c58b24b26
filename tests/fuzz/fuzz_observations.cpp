// Fuzzes the observations connector: arbitrary JSON bodies under the default settings (notes off),
// under settings with notes, a restricted catalogue and an extra category, and arbitrary settings
// text through the validator. The first byte picks the mode. Invariants: no crash, no sanitizer
// report, settings either validate or throw sdk::config_error, every emitted signal is an
// observation of an enabled category with the catalogue's data category, no signal carries a note
// when notes are off (or one longer than the limit), rejections and failures carry a reason,
// nothing is reported after a failure, and indexes never go backwards.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ingest_contract.hpp"
#include "mapper.hpp"

namespace {

namespace obs = schakel::connectors::observations;

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

class checking_context final : public schakel::fuzz::ingest_contract {
 public:
  explicit checking_context(const obs::settings& s) : s_(s) {}

 private:
  void check_signal(nlohmann::json& doc) override {
    if (doc["type"] != obs::observation_type) std::abort();
    const auto& content = doc["content"];
    if (!content.is_object() || !content["evidence"].is_object()) std::abort();
    const auto& id = content["evidence"]["category"];
    const obs::category* c = id.is_string() ? s_.find_category(id.get<std::string>()) : nullptr;
    if (c == nullptr || content["domain"] != c->domain) std::abort();
    if (doc["governance"]["data_category"] != (c->health ? "health" : "ordinary")) std::abort();
    if (!s_.role_enabled(content["evidence"]["observer_role"].get<std::string>())) std::abort();
    if (content.contains("note")) {
      if (s_.note_max_length == 0) std::abort();
      const auto& note = content["note"];
      if (!note.is_string() || note.get_ref<const std::string&>().empty() ||
          code_points(note.get_ref<const std::string&>()) > static_cast<std::size_t>(s_.note_max_length)) {
        std::abort();
      }
    }
  }

  const obs::settings& s_;
};

const obs::connector& defaults() {
  static const obs::connector c(R"({"school": {"brin": "99XX", "vestiging": "00"}})");
  return c;
}

const obs::connector& with_notes() {
  static const obs::connector c(R"({"school": {"brin": "12AB"}, "note_max_length": 12,
      "roles": ["mentor", "caretaker"], "categories": ["tired", "self_harm_signs", "hungry"],
      "extra_categories": {"hungry": {"domain": "wellbeing", "health": false}}})");
  return c;
}

void run(const obs::connector& c, std::string_view body, std::string_view content_type) {
  checking_context ctx(c.config());
  c.ingest(body, content_type, ctx);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      run(defaults(), body, "application/json");
      break;
    case 1:
      run(with_notes(), body, "application/json; charset=utf-8");
      break;
    case 2:
      run(defaults(), body, "text/csv");  // must fail, never map
      break;
    default: {
      try {
        const obs::connector c(body);
        run(c, R"([{"student_key": "s", "category": "other", "severity": "info", "observer_role": "mentor",
                    "observed_at": "2026-11-27"}])",
            "application/json");
      } catch (const schakel::sdk::config_error&) {
      }
      break;
    }
  }
  return 0;
}
