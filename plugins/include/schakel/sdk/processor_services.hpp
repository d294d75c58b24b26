#pragma once
/**
 * What a processor needs from its host, as an interface it can be unit-tested against, plus the
 * sdk::host-backed implementation and the plugin wrapper that ties the two together:
 *
 *   class my_processor {
 *    public:
 *     my_processor(std::string_view settings_json, schakel::sdk::processor_services& svc);
 *     void process(std::string_view signal_json, schakel::sdk::processor_context& ctx);
 *     void flush(schakel::sdk::processor_context& ctx);
 *     schakel::sdk::emitted_signals emits() const;   // optional: what it derives (plugin.hpp)
 *   };
 *   SCHAKEL_PROCESSOR(schakel::sdk::hosted_processor<my_processor>, "my-processor", "0.1.0", "nl.schakel.x.*")
 *
 * Tests construct the processor with schakel/testing/processor_testing.hpp's memory_services instead.
 */
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "schakel/plugin.hpp"

namespace schakel::sdk {

/** The host services a processor uses; hosted_processor adapts sdk::host, tests supply a fake. */
class processor_services {
 public:
  virtual ~processor_services() = default;
  /** The persisted value (the batch's own uncommitted writes first), or nullopt when absent. */
  virtual std::optional<std::string> state_get(std::string_view key) = 0;
  /** True when stored (with the batch). */
  virtual bool state_put(std::string_view key, std::string_view value) = 0;
  /** What `day` (days since 1970-01-01) is for the school; nullopt when the hub has no calendar for it. */
  virtual std::optional<day_kind> school_day(std::string_view brin, std::string_view vestiging, std::int32_t day) = 0;
  /** A log line; never personal data. */
  virtual void log(schakel_log_level level, std::string_view message) = 0;
};

/** processor_services over the host callbacks of one instance. */
class host_processor_services final : public processor_services {
 public:
  // sdk::host is two pointers; it is copied because the SDK's object lives only during create.
  explicit host_processor_services(const host& h) noexcept : host_(h) {}
  std::optional<std::string> state_get(std::string_view key) override { return host_.state_get(key); }
  bool state_put(std::string_view key, std::string_view value) override { return host_.state_put(key, value); }
  std::optional<day_kind> school_day(std::string_view brin, std::string_view vestiging, std::int32_t day) override {
    return host_.school_day(brin, vestiging, day);
  }
  void log(schakel_log_level level, std::string_view message) override { host_.log(level, message); }

 private:
  host host_;
};

/**
 * The class SCHAKEL_PROCESSOR registers for a processor written against processor_services: it owns
 * the host adapter and the processor, and forwards the hooks.
 */
template <class Processor>
class hosted_processor {
 public:
  hosted_processor(std::string_view settings_json, const host& h)
      : services_(std::make_unique<host_processor_services>(h)),
        processor_(std::make_unique<Processor>(settings_json, *services_)) {}
  void process(std::string_view signal_json, processor_context& ctx) { processor_->process(signal_json, ctx); }
  void flush(processor_context& ctx) { processor_->flush(ctx); }
  /** Forwarded only when the processor declares what it emits (ABI 1.2); otherwise absent. */
  emitted_signals emits() const
    requires declares_emits<Processor>
  {
    return processor_->emits();
  }

 private:
  // Heap-held so the processor's reference to its services survives any move of this object.
  std::unique_ptr<host_processor_services> services_;
  std::unique_ptr<Processor> processor_;
};

}  // namespace schakel::sdk
