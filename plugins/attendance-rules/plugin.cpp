// Registration only: adapts sdk::host to the processor's services; the logic lives in processor.cpp.
#include <memory>

#include "processor.hpp"

namespace schakel::plugins::attendance_rules {
namespace {

class host_services final : public services {
 public:
  // sdk::host is two pointers; it is copied because the SDK's object lives only during create.
  explicit host_services(const sdk::host& host) : host_(host) {}
  std::optional<std::string> state_get(std::string_view key) override { return host_.state_get(key); }
  bool state_put(std::string_view key, std::string_view value) override { return host_.state_put(key, value); }
  std::optional<sdk::day_kind> school_day(std::string_view brin, std::string_view vestiging,
                                          std::int32_t day) override {
    return host_.school_day(brin, vestiging, day);
  }
  void log(schakel_log_level level, std::string_view message) override { host_.log(level, message); }

 private:
  sdk::host host_;
};

class plugin {
 public:
  plugin(std::string_view settings_json, const sdk::host& host)
      : services_(std::make_unique<host_services>(host)),
        processor_(std::make_unique<attendance_rules_processor>(settings_json, *services_)) {}
  void process(std::string_view signal_json, sdk::processor_context& ctx) { processor_->process(signal_json, ctx); }
  void flush(sdk::processor_context& ctx) { processor_->flush(ctx); }

 private:
  // Heap-held so the processor's reference to its services survives any move of this object.
  std::unique_ptr<host_services> services_;
  std::unique_ptr<attendance_rules_processor> processor_;
};

}  // namespace
}  // namespace schakel::plugins::attendance_rules

SCHAKEL_PROCESSOR(schakel::plugins::attendance_rules::plugin, "attendance-rules", "0.1.0",
                  "nl.schakel.attendance.* nl.schakel.alert.*")
