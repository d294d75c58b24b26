// A connector built with the C++ SDK, driven by its body, to check what the SDK turns into statuses.
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "schakel/plugin.hpp"

namespace {

class test_connector {
 public:
  test_connector(std::string_view settings, const schakel::sdk::host& host) : host_(host) {
    const auto doc = nlohmann::json::parse(settings);
    if (doc.contains("reject_config")) throw schakel::sdk::config_error("settings.reject_config: not allowed");
    if (doc.contains("throw_in_create")) throw std::runtime_error("create blew up near S-000123");
    emits_type_ = doc.value("emits_type", "");
  }

  /** Declared from the settings, as a real connector's mapping would decide it. */
  schakel::sdk::emitted_signals emits() const {
    if (emits_type_.empty()) return {};
    return {{emits_type_, {{"value", "indicator"}, {"code"}}}};
  }

  void ingest(std::string_view body, std::string_view content_type, schakel::sdk::ingest_context& ctx) const {
    if (body == "emit") {
      ctx.emit(R"({"content_type":")" + std::string(content_type) + "\"}", 0);
      ctx.reject(1, "/x", "required value missing");
    } else if (body == "fail") {
      ctx.emit("{}", 0);  // discarded by the host: the body failed as a whole
      ctx.fail("invalid JSON at byte 3");
    } else if (body == "throw") {
      ctx.emit("{}", 0);
      throw std::runtime_error("mapping failed for student S-000123");
    } else if (body == "throw_int") {
      throw 42;
    } else if (body == "state") {
      const auto before = host_.state_get("counter");
      const int next = before ? std::stoi(*before) + 1 : 1;
      const bool stored = host_.state_put("counter", std::to_string(next));
      ctx.emit(nlohmann::json{{"next", next}, {"stored", stored}}.dump(), 0);
    } else if (body == "clock") {
      host_.log(SCHAKEL_LOG_INFO, "clock asked");
      ctx.emit(nlohmann::json{{"now", host_.now_ms()}}.dump(), 0);
    } else {
      ctx.emit(R"({"echo_len":)" + std::to_string(body.size()) + "}", 7);
    }
  }

 private:
  schakel::sdk::host host_;
  std::string emits_type_;
};

}  // namespace

SCHAKEL_CONNECTOR(test_connector, "abi-good", "9.8.7")
