#pragma once
/**
 * C++ SDK over the C ABI (plugin.h): a connector is a class
 *
 *   class my_connector {
 *    public:
 *     explicit my_connector(std::string_view settings_json);               // may throw sdk::config_error
 *     // or: my_connector(std::string_view settings_json, const schakel::sdk::host& host);
 *     void ingest(std::string_view body, std::string_view content_type, schakel::sdk::ingest_context& ctx) const;
 *   };
 *   SCHAKEL_CONNECTOR(my_connector, "my-connector", "0.1.0")
 *
 * The macro defines the entry symbol and the descriptor. Every hook is wrapped in try/catch(...):
 * no exception ever crosses the ABI. An exception from ingest becomes an INTERNAL status with a
 * fixed message (its what() is not forwarded: library messages may quote record content).
 * ingest may run concurrently on one object, hence `const` is recommended.
 *
 * A processor (ABI 1.1) is a class
 *
 *   class my_processor {
 *    public:
 *     my_processor(std::string_view settings_json, const schakel::sdk::host& host);
 *     void process(std::string_view signal_json, schakel::sdk::processor_context& ctx);
 *     void flush(schakel::sdk::processor_context& ctx);   // end of a batch: emit deferred signals, write state
 *   };
 *   SCHAKEL_PROCESSOR(my_processor, "my-processor", "0.1.0", "nl.schakel.x.* nl.schakel.y.z")
 *
 * process and flush run on one thread at a time; state written through host::state_put during them is
 * committed with the batch's derived signals (see plugin.h).
 *
 * Either kind declares what an instance can emit (ABI 1.2) with a const member
 *
 *   schakel::sdk::emitted_signals emits() const;   // type -> the content and evidence keys it may carry
 *
 * and the macros publish it through the descriptor's emits hook. Build it from the same constants the
 * code emits with, so that the two cannot drift; a class without the member declares nothing.
 */
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <new>
#include <set>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "schakel/plugin.h"

namespace schakel::sdk {

/** Thrown by a connector's constructor: the message names the settings path and the reason. */
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/**
 * Where one ingest call reports its results. The SDK implements it over the host callbacks; unit
 * tests and fuzz targets implement it to call a connector directly, without loading it.
 */
class ingest_context {
 public:
  virtual ~ingest_context() = default;
  /** One mapped signal (JSON object text) from record `index`. */
  virtual void emit(std::string json, std::int64_t index) = 0;
  /** Record `index` refused: `field` is the source pointer/column, `reason` never quotes values. */
  virtual void reject(std::int64_t index, std::string_view field, std::string_view reason) = 0;
  /** The body as a whole cannot be read (say where, never what). ingest should return after this. */
  virtual void fail(std::string_view reason) = 0;
  virtual bool failed() const = 0;
};

/**
 * Where a processor hands its derived signals. The SDK implements it over the host; tests implement it
 * to run a processor without loading it.
 */
class processor_context {
 public:
  virtual ~processor_context() = default;
  /** One derived signal (JSON object text); returns the id the host gave it, or "" when refused. */
  virtual std::string emit(std::string json) = 0;
};

/** The keys one signal type can carry (plugin.h schakel_emits_fn). */
struct signal_shape {
  std::set<std::string, std::less<>> content;   ///< keys of `content`; "evidence" is implied by a non-empty `evidence`
  std::set<std::string, std::less<>> evidence;  ///< keys of `content.evidence`
};

/** Everything one instance can emit: exact signal type -> its shape. No patterns. */
using emitted_signals = std::map<std::string, signal_shape, std::less<>>;

/** A class that declares what it emits (see the comment at the top of this file). */
template <class T>
concept declares_emits = requires(const T& t) {
  { t.emits() } -> std::convertible_to<emitted_signals>;
};

/** The JSON text schakel_emits_fn hands to the host. Names are escaped; nothing else is checked here. */
inline std::string emits_json(const emitted_signals& signals) {
  auto quoted = [](std::string& out, std::string_view text) {
    static const char* hex = "0123456789abcdef";
    out += '"';
    for (const char c : text) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (u < 0x20) {
        out += "\\u00";
        out += hex[u >> 4];
        out += hex[u & 0xf];
      } else {
        out += c;
      }
    }
    out += '"';
  };
  auto list = [&](std::string& out, const std::set<std::string, std::less<>>& names) {
    out += '[';
    bool first = true;
    for (const auto& n : names) {
      if (!first) out += ',';
      first = false;
      quoted(out, n);
    }
    out += ']';
  };
  std::string out = "{\"signals\":{";
  bool first = true;
  for (const auto& [type, shape] : signals) {
    if (!first) out += ',';
    first = false;
    quoted(out, type);
    auto content = shape.content;
    if (!shape.evidence.empty()) content.insert("evidence");
    out += ":{\"content\":";
    list(out, content);
    out += ",\"evidence\":";
    list(out, shape.evidence);
    out += '}';
  }
  out += "}}";
  return out;
}

/** What a date is for a school (plugin.h schakel_day_kind). */
enum class day_kind { school_day = SCHAKEL_DAY_SCHOOL, weekend = SCHAKEL_DAY_WEEKEND, holiday = SCHAKEL_DAY_HOLIDAY,
                      study_day = SCHAKEL_DAY_STUDY_DAY };

/**
 * Where a JSON text nests deeper than `max_depth` (outside strings): the 1-based byte offset, or 0.
 * nlohmann's parser is iterative, but serialising and destroying a deep tree recurse; connectors
 * refuse such bodies before parsing so the stack stays bounded whatever a source sends.
 */
inline std::size_t json_too_deep_at(std::string_view text, int max_depth) noexcept {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i + 1;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return 0;
}

/**
 * Host services for the instance's lifetime. The object handed to a constructor lives only during
 * create: copy it (it is two pointers), do not keep the reference.
 */
class host {
 public:
  host(const schakel_host_api* api, schakel_host_ctx* ctx) noexcept : api_(api), ctx_(ctx) {}

  void log(schakel_log_level level, std::string_view message) const noexcept {
    if (api_ != nullptr && api_->log != nullptr) api_->log(ctx_, level, message.data(), message.size());
  }

  /** The stored value, or nullopt when absent or when the host has no store. */
  std::optional<std::string> state_get(std::string_view key) const {
    if (api_ == nullptr || api_->state_get == nullptr) return std::nullopt;
    std::string value;
    bool got = false;
    struct sink_state {
      std::string* value;
      bool* got;
    } state{&value, &got};
    auto sink = [](void* c, const char* data, std::size_t len) noexcept {
      auto* s = static_cast<sink_state*>(c);
      try {
        s->value->assign(data, len);
        *s->got = true;
      } catch (...) {
        *s->got = false;  // out of memory: reported as absent rather than crossing the ABI
      }
    };
    const schakel_status st = api_->state_get(ctx_, key.data(), key.size(), sink, &state);
    if (st != SCHAKEL_STATUS_OK || !got) return std::nullopt;
    return value;
  }

  /** True when stored. */
  bool state_put(std::string_view key, std::string_view value) const noexcept {
    if (api_ == nullptr || api_->state_put == nullptr) return false;
    return api_->state_put(ctx_, key.data(), key.size(), value.data(), value.size()) == SCHAKEL_STATUS_OK;
  }

  std::int64_t now_ms() const noexcept { return api_ != nullptr && api_->now_ms != nullptr ? api_->now_ms(ctx_) : 0; }

  /**
   * What `day` (days since 1970-01-01) is for the school; nullopt when the hub has no calendar for it
   * (or is older than ABI 1.1).
   */
  std::optional<day_kind> school_day(std::string_view brin, std::string_view vestiging, std::int32_t day) const noexcept {
    if (api_ == nullptr || !SCHAKEL_HOST_HAS(api_, school_day_kind) || api_->school_day_kind == nullptr) {
      return std::nullopt;
    }
    std::uint32_t kind = 0;
    if (api_->school_day_kind(ctx_, brin.data(), brin.size(), vestiging.data(), vestiging.size(), day, &kind) !=
        SCHAKEL_STATUS_OK) {
      return std::nullopt;
    }
    return static_cast<day_kind>(kind);
  }

 private:
  const schakel_host_api* api_;
  schakel_host_ctx* ctx_;
};

namespace detail {

/** ingest_context over the host callbacks of one ingest call. */
class host_ingest_context final : public ingest_context {
 public:
  host_ingest_context(const schakel_host_api* api, schakel_call_ctx* ctx) noexcept : api_(api), ctx_(ctx) {}
  void emit(std::string json, std::int64_t index) override { api_->emit_signal(ctx_, json.data(), json.size(), index); }
  void reject(std::int64_t index, std::string_view field, std::string_view reason) override {
    api_->reject(ctx_, index, field.data(), field.size(), reason.data(), reason.size());
  }
  void fail(std::string_view reason) override {
    api_->set_error(ctx_, reason.data(), reason.size());
    failed_ = true;
  }
  bool failed() const override { return failed_; }

 private:
  const schakel_host_api* api_;
  schakel_call_ctx* ctx_;
  bool failed_ = false;
};

inline void set_error(const schakel_host_api* api, schakel_call_ctx* ctx, std::string_view message) noexcept {
  if (api != nullptr && api->set_error != nullptr) api->set_error(ctx, message.data(), message.size());
}

/** What the opaque schakel_instance really is: the connector plus the host table it reports to. */
template <class T>
struct instance {
  const schakel_host_api* api;
  T connector;
};

template <class T>
T construct(std::string_view settings, const host& h) {
  if constexpr (std::is_constructible_v<T, std::string_view, const host&>) {
    return T(settings, h);
  } else {
    static_assert(std::is_constructible_v<T, std::string_view>,
                  "a connector is constructible from (std::string_view settings_json[, const sdk::host&])");
    return T(settings);
  }
}

template <class T>
schakel_status create(const schakel_host_api* api, schakel_host_ctx* host_ctx, const char* settings,
                      std::size_t settings_len, schakel_instance** out, schakel_call_ctx* errors) noexcept {
  try {
    if (api == nullptr || out == nullptr) return SCHAKEL_STATUS_INVALID_ARGUMENT;
    const std::string_view text(settings != nullptr ? settings : "", settings != nullptr ? settings_len : 0);
    auto* inst = new instance<T>{api, construct<T>(text, host(api, host_ctx))};
    *out = reinterpret_cast<schakel_instance*>(inst);
    return SCHAKEL_STATUS_OK;
  } catch (const config_error& e) {
    set_error(api, errors, e.what());
    return SCHAKEL_STATUS_INVALID_CONFIG;
  } catch (const std::bad_alloc&) {
    set_error(api, errors, "out of memory while creating the instance");
    return SCHAKEL_STATUS_INTERNAL;
  } catch (...) {
    set_error(api, errors, "unexpected exception while creating the instance");
    return SCHAKEL_STATUS_INTERNAL;
  }
}

template <class T>
void destroy(schakel_instance* p) noexcept {
  try {
    delete reinterpret_cast<instance<T>*>(p);
  } catch (...) {
    // a throwing destructor must not cross the ABI; nothing else can be done here
  }
}

template <class T>
schakel_status ingest(schakel_instance* p, const char* body, std::size_t body_len, const char* content_type,
                      std::size_t content_type_len, schakel_call_ctx* ctx) noexcept {
  if (p == nullptr) return SCHAKEL_STATUS_INVALID_ARGUMENT;
  auto* inst = reinterpret_cast<instance<T>*>(p);
  try {
    host_ingest_context context(inst->api, ctx);
    inst->connector.ingest(
        std::string_view(body != nullptr ? body : "", body != nullptr ? body_len : 0),
        std::string_view(content_type != nullptr ? content_type : "", content_type != nullptr ? content_type_len : 0),
        context);
    return context.failed() ? SCHAKEL_STATUS_PARSE_ERROR : SCHAKEL_STATUS_OK;
  } catch (const std::bad_alloc&) {
    set_error(inst->api, ctx, "out of memory in connector ingest");
    return SCHAKEL_STATUS_INTERNAL;
  } catch (...) {
    set_error(inst->api, ctx, "connector raised an exception during ingest");
    return SCHAKEL_STATUS_INTERNAL;
  }
}

/** processor_context over the host callbacks of one process or flush call. */
class host_processor_context final : public processor_context {
 public:
  host_processor_context(const schakel_host_api* api, schakel_call_ctx* ctx) noexcept : api_(api), ctx_(ctx) {}
  std::string emit(std::string json) override {
    std::string id;
    if (!SCHAKEL_HOST_HAS(api_, emit_derived) || api_->emit_derived == nullptr) return id;
    auto sink = [](void* c, const char* data, std::size_t len) noexcept {
      try {
        static_cast<std::string*>(c)->assign(data, len);
      } catch (...) {
      }
    };
    if (api_->emit_derived(ctx_, json.data(), json.size(), sink, &id) != SCHAKEL_STATUS_OK) id.clear();
    return id;
  }

 private:
  const schakel_host_api* api_;
  schakel_call_ctx* ctx_;
};

/** Runs one processor hook with a host_processor_context; no exception leaves it. */
template <class T, class Hook>
schakel_status processor_hook(schakel_instance* p, schakel_call_ctx* ctx, const char* out_of_memory,
                              const char* raised, Hook&& hook) noexcept {
  if (p == nullptr) return SCHAKEL_STATUS_INVALID_ARGUMENT;
  auto* inst = reinterpret_cast<instance<T>*>(p);
  try {
    host_processor_context context(inst->api, ctx);
    hook(inst->connector, context);
    return SCHAKEL_STATUS_OK;
  } catch (const std::bad_alloc&) {
    set_error(inst->api, ctx, out_of_memory);
    return SCHAKEL_STATUS_INTERNAL;
  } catch (...) {
    set_error(inst->api, ctx, raised);
    return SCHAKEL_STATUS_INTERNAL;
  }
}

template <class T>
schakel_status process(schakel_instance* p, const char* json, std::size_t len, schakel_call_ctx* ctx) noexcept {
  const std::string_view signal(json != nullptr ? json : "", json != nullptr ? len : 0);
  return processor_hook<T>(p, ctx, "out of memory in processor",
                           "processor raised an exception while processing a signal",
                           [signal](T& processor, processor_context& context) { processor.process(signal, context); });
}

template <class T>
schakel_status flush(schakel_instance* p, schakel_call_ctx* ctx) noexcept {
  return processor_hook<T>(p, ctx, "out of memory in processor flush", "processor raised an exception during flush",
                           [](T& processor, processor_context& context) { processor.flush(context); });
}

template <class T>
schakel_status emits(schakel_instance* p, schakel_value_sink_fn sink, void* sink_ctx, schakel_call_ctx* errors) noexcept {
  if (p == nullptr || sink == nullptr) return SCHAKEL_STATUS_INVALID_ARGUMENT;
  auto* inst = reinterpret_cast<instance<T>*>(p);
  try {
    const std::string text = emits_json(static_cast<const T&>(inst->connector).emits());
    sink(sink_ctx, text.data(), text.size());
    return SCHAKEL_STATUS_OK;
  } catch (const std::bad_alloc&) {
    set_error(inst->api, errors, "out of memory while declaring what the instance emits");
    return SCHAKEL_STATUS_INTERNAL;
  } catch (...) {
    set_error(inst->api, errors, "exception while declaring what the instance emits");
    return SCHAKEL_STATUS_INTERNAL;
  }
}

/** The part every descriptor shares: header, identity and lifecycle hooks. */
template <class T>
constexpr schakel_plugin_descriptor base_descriptor(const char* name, const char* version, std::uint32_t kind) noexcept {
  schakel_plugin_descriptor d{};
  d.struct_size = sizeof(schakel_plugin_descriptor);
  d.abi_major = SCHAKEL_ABI_MAJOR;
  d.abi_minor = SCHAKEL_ABI_MINOR;
  d.name = name;
  d.version = version;
  d.kind = kind;
  d.reserved0 = 0;
  d.create = &create<T>;
  d.destroy = &destroy<T>;
  if constexpr (declares_emits<T>) d.emits = &emits<T>;
  return d;
}

template <class T>
constexpr schakel_plugin_descriptor make_processor_descriptor(const char* name, const char* version,
                                                              const char* consumes) noexcept {
  schakel_plugin_descriptor d = base_descriptor<T>(name, version, SCHAKEL_PLUGIN_PROCESSOR);
  d.process = &process<T>;
  d.flush = &flush<T>;
  d.consumes = consumes;
  return d;
}

template <class T>
constexpr schakel_plugin_descriptor make_descriptor(const char* name, const char* version,
                                                    const char* description) noexcept {
  schakel_plugin_descriptor d = base_descriptor<T>(name, version, SCHAKEL_PLUGIN_CONNECTOR);
  d.ingest = &ingest<T>;
  d.description = description;
  return d;
}

}  // namespace detail
}  // namespace schakel::sdk

/** Defines the entry symbol of a connector plugin; use once per plugin, at global scope. */
#define SCHAKEL_CONNECTOR(class_name, plugin_name, plugin_version)                                 \
  extern "C" SCHAKEL_PLUGIN_EXPORT const schakel_plugin_descriptor* schakel_plugin_entry(void) {   \
    static const schakel_plugin_descriptor descriptor =                                            \
        ::schakel::sdk::detail::make_descriptor<class_name>(plugin_name, plugin_version, nullptr); \
    return &descriptor;                                                                            \
  }

/** Same, with a one-line description for listings. */
#define SCHAKEL_CONNECTOR_DESCRIBED(class_name, plugin_name, plugin_version, description)              \
  extern "C" SCHAKEL_PLUGIN_EXPORT const schakel_plugin_descriptor* schakel_plugin_entry(void) {       \
    static const schakel_plugin_descriptor descriptor =                                                \
        ::schakel::sdk::detail::make_descriptor<class_name>(plugin_name, plugin_version, description); \
    return &descriptor;                                                                                \
  }

/** Defines the entry symbol of a processor plugin (ABI 1.1); `consumes` is plugin.h's type pattern list. */
#define SCHAKEL_PROCESSOR(class_name, plugin_name, plugin_version, consumes)                                 \
  extern "C" SCHAKEL_PLUGIN_EXPORT const schakel_plugin_descriptor* schakel_plugin_entry(void) {             \
    static const schakel_plugin_descriptor descriptor =                                                      \
        ::schakel::sdk::detail::make_processor_descriptor<class_name>(plugin_name, plugin_version, consumes); \
    return &descriptor;                                                                                      \
  }
