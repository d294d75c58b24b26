// A processor built with the C++ SDK (ABI 1.1), driven by its input signals, to check the host's
// batching, read-your-writes state, derived-signal ids and the calendar callback.
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "schakel/plugin.hpp"

namespace {

nlohmann::json derived(const nlohmann::json& input, const std::string& type, nlohmann::json evidence) {
  return {
      {"type", type},
      {"observed_at", input.value("observed_at", "2026-11-23T00:00:00Z")},
      {"subject", input.at("subject")},
      {"content", {{"domain", "attendance"}, {"indicator", "test"}, {"severity", "concern"}, {"evidence", evidence}}},
      {"governance", {{"data_category", "ordinary"}}},
      {"derived_from", {input.at("id")}}};
}

class test_processor {
 public:
  test_processor(std::string_view settings, const schakel::sdk::host& host) : host_(host) {
    const auto doc = nlohmann::json::parse(settings);
    threshold_ = doc.value("threshold", 3);
    if (threshold_ < 1) throw schakel::sdk::config_error("settings.threshold: must be at least 1");
  }

  void process(std::string_view json, schakel::sdk::processor_context& ctx) {
    const auto signal = nlohmann::json::parse(json);
    const auto& evidence = signal.at("content").value("evidence", nlohmann::json::object());
    const std::string action = evidence.value("action", "count");
    if (action == "throw") throw std::runtime_error("rule failed for S-000123");
    if (action == "bad") {
      ctx.emit(R"({"type":"nl.schakel.test.bad"})");  // refused by the host's validation
      return;
    }
    if (action == "calendar") {
      const auto& school = signal.at("subject").at("school");
      const auto kind =
          host_.school_day(school.value("brin", ""), school.value("vestiging", ""), evidence.value("day", 0));
      ctx.emit(derived(signal, "nl.schakel.test.calendar", {{"kind", kind ? static_cast<int>(*kind) : -1}}).dump());
      return;
    }
    const std::string student = signal.at("subject").value("student_key", "");
    const auto before = host_.state_get("n:" + student);
    const int n = before ? std::stoi(*before) + 1 : 1;
    host_.state_put("n:" + student, std::to_string(n));
    ++seen_in_batch_;
    if (n == threshold_) {
      const std::string id = ctx.emit(derived(signal, "nl.schakel.test.threshold_reached", {{"count", n}}).dump());
      host_.state_put("alert:" + student, id);
    }
  }

  void flush(schakel::sdk::processor_context&) {
    const auto before = host_.state_get("flushes");
    host_.state_put("flushes", std::to_string(before ? std::stoi(*before) + 1 : 1));
    host_.state_put("last_batch_size", std::to_string(seen_in_batch_));
    seen_in_batch_ = 0;
  }

 private:
  schakel::sdk::host host_;
  int threshold_ = 3;
  int seen_in_batch_ = 0;
};

}  // namespace

SCHAKEL_PROCESSOR(test_processor, "abi-processor", "1.2.3", "nl.schakel.test.event nl.schakel.test.more.*")
