#include "plugin_host/plugin_host.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "common/private_path.hpp"
#include "common/signal.hpp"
#include "schakel/plugin.h"

namespace schakel::plugin_host {
namespace {

constexpr std::size_t max_message_len = 1024;  // error texts from plugins are for humans, not payloads

std::string version_text(unsigned major, unsigned minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

const std::string host_version = version_text(SCHAKEL_ABI_MAJOR, SCHAKEL_ABI_MINOR);

std::string clipped(const char* p, std::size_t n) {
  if (p == nullptr) return {};
  return std::string(p, n < max_message_len ? n : max_message_len);
}

}  // namespace
}  // namespace schakel::plugin_host

/*
 * The opaque C types of plugin.h, defined here: only the host ever looks inside them.
 * They live at global scope because plugin.h declares them there.
 */
struct schakel_host_ctx {
  std::string instance;
  std::string plugin;
  schakel::storage::plugin_state* state = nullptr;
  schakel::plugin_host::school_day_fn school_day;
  schakel::plugin_host::batch_state* batch = nullptr;  // set by a processor runner during a batch
};

struct schakel_call_ctx {
  bool in_ingest = false;
  bool in_process = false;  // a processor's process or flush hook
  bool has_error = false;
  std::string error;
  schakel::plugin_host::ingest_result* result = nullptr;  // null during create
  const schakel::plugin_host::derived_sink* sink = nullptr;
  std::size_t refused = 0;  // derived signals the sink refused during this call
  // ingest_in_parts: signals leave `result` in parts of part_size; after a refusal the rest is dropped.
  const schakel::plugin_host::signal_part_fn* part = nullptr;
  std::size_t part_size = 0;
  bool part_refused = false;
};

namespace schakel::plugin_host {
namespace {

// ---- host callbacks: none of them may throw into plugin code ----

schakel_status cb_emit_derived(schakel_call_ctx* ctx, const char* json, std::size_t len, schakel_value_sink_fn id_sink,
                               void* sink_ctx) noexcept {
  if (ctx == nullptr || !ctx->in_process || ctx->sink == nullptr || !*ctx->sink || (json == nullptr && len != 0)) {
    return SCHAKEL_STATUS_INVALID_ARGUMENT;
  }
  try {
    std::string error;
    const std::string id = (*ctx->sink)(std::string_view(json != nullptr ? json : "", len), error);
    if (id.empty()) {
      ++ctx->refused;
      return SCHAKEL_STATUS_INVALID_ARGUMENT;
    }
    if (id_sink != nullptr) id_sink(sink_ctx, id.data(), id.size());
    return SCHAKEL_STATUS_OK;
  } catch (...) {
    return SCHAKEL_STATUS_INTERNAL;
  }
}

/**
 * Moves the signals collected so far into a part of their own and hands it on. The rejections stay
 * behind: they are reported once, with the whole call's result.
 */
bool hand_over_part(ingest_result& collected, const signal_part_fn& part) {
  ingest_result piece;
  piece.signals.swap(collected.signals);
  piece.signal_record_index.swap(collected.signal_record_index);
  return part(piece);
}

schakel_status cb_emit_signal(schakel_call_ctx* ctx, const char* json, std::size_t len, std::int64_t index) noexcept {
  if (ctx != nullptr && ctx->in_process) return cb_emit_derived(ctx, json, len, nullptr, nullptr);
  if (ctx == nullptr || !ctx->in_ingest || ctx->result == nullptr || (json == nullptr && len != 0)) {
    return SCHAKEL_STATUS_INVALID_ARGUMENT;
  }
  if (ctx->part_refused) return SCHAKEL_STATUS_INTERNAL;
  try {
    ctx->result->signals.emplace_back(json != nullptr ? json : "", len);
    ctx->result->signal_record_index.push_back(index);
    if (ctx->part != nullptr && ctx->result->signals.size() >= ctx->part_size)
      ctx->part_refused = !hand_over_part(*ctx->result, *ctx->part);
    return SCHAKEL_STATUS_OK;
  } catch (...) {
    return SCHAKEL_STATUS_INTERNAL;
  }
}

schakel_status cb_reject(schakel_call_ctx* ctx, std::int64_t index, const char* field, std::size_t field_len,
                         const char* reason, std::size_t reason_len) noexcept {
  if (ctx == nullptr || !ctx->in_ingest || ctx->result == nullptr) return SCHAKEL_STATUS_INVALID_ARGUMENT;
  try {
    rejection r;
    r.index = index;
    r.field = clipped(field, field_len);
    r.reason = clipped(reason, reason_len);
    if (r.reason.empty()) r.reason = "rejected by the connector";
    ctx->result->rejections.push_back(std::move(r));
    return SCHAKEL_STATUS_OK;
  } catch (...) {
    return SCHAKEL_STATUS_INTERNAL;
  }
}

void cb_set_error(schakel_call_ctx* ctx, const char* message, std::size_t len) noexcept {
  if (ctx == nullptr || ctx->has_error) return;  // the first message is usually the cause
  try {
    ctx->error = clipped(message, len);
    ctx->has_error = true;
  } catch (...) {
  }
}

void cb_log(schakel_host_ctx* host, schakel_log_level level, const char* message, std::size_t len) noexcept {
  if (host == nullptr) return;
  try {
    log::level l = log::level::info;
    switch (level) {
      case SCHAKEL_LOG_DEBUG:
        l = log::level::debug;
        break;
      case SCHAKEL_LOG_INFO:
        l = log::level::info;
        break;
      case SCHAKEL_LOG_WARN:
        l = log::level::warn;
        break;
      case SCHAKEL_LOG_ERROR:
        l = log::level::error;
        break;
      default:
        l = log::level::info;
        break;
    }
    log::write(l, "plugin.log",
               {{"instance", host->instance}, {"plugin", host->plugin}, {"message", clipped(message, len)}});
  } catch (...) {
  }
}

schakel_status cb_state_get(schakel_host_ctx* host, const char* key, std::size_t key_len, schakel_value_sink_fn sink,
                            void* sink_ctx) noexcept {
  if (host == nullptr || sink == nullptr || (key == nullptr && key_len != 0)) return SCHAKEL_STATUS_INVALID_ARGUMENT;
  try {
    const std::string k(key != nullptr ? key : "", key_len);
    if (host->batch != nullptr) {
      // Read-your-writes inside a processor batch: the uncommitted value wins over the stored one.
      const auto it = host->batch->writes.find(k);
      if (it != host->batch->writes.end()) {
        if (!it->second) return SCHAKEL_STATUS_NOT_FOUND;
        sink(sink_ctx, it->second->data(), it->second->size());
        return SCHAKEL_STATUS_OK;
      }
    }
    if (host->state == nullptr) return SCHAKEL_STATUS_NOT_FOUND;
    std::error_code error;
    auto value = host->state->state_get_checked(host->instance, k, error);
    if (error) {
      if (host->batch != nullptr) host->batch->read_failed = true;
      return SCHAKEL_STATUS_INTERNAL;
    }
    if (!value) return SCHAKEL_STATUS_NOT_FOUND;
    // The value stays in host memory; the plugin copies it inside the sink with its own allocator.
    sink(sink_ctx, value->data(), value->size());
    return SCHAKEL_STATUS_OK;
  } catch (...) {
    return SCHAKEL_STATUS_INTERNAL;
  }
}

schakel_status cb_state_put(schakel_host_ctx* host, const char* key, std::size_t key_len, const char* value,
                            std::size_t value_len) noexcept {
  if (host == nullptr || (key == nullptr && key_len != 0) || (value == nullptr && value_len != 0)) {
    return SCHAKEL_STATUS_INVALID_ARGUMENT;
  }
  try {
    if (host->batch != nullptr) {
      host->batch->writes[std::string(key != nullptr ? key : "", key_len)] =
          std::string(value != nullptr ? value : "", value_len);
      return SCHAKEL_STATUS_OK;
    }
    if (host->state == nullptr) return SCHAKEL_STATUS_UNAVAILABLE;
    host->state->state_put(host->instance, std::string(key != nullptr ? key : "", key_len),
                           std::string(value != nullptr ? value : "", value_len));
    return SCHAKEL_STATUS_OK;
  } catch (...) {
    return SCHAKEL_STATUS_INTERNAL;
  }
}

std::int64_t cb_now_ms(schakel_host_ctx*) noexcept {
  return schakel::now_ms();
}

schakel_status cb_school_day_kind(schakel_host_ctx* host, const char* brin, std::size_t brin_len, const char* vestiging,
                                  std::size_t vestiging_len, std::int32_t day, std::uint32_t* out_kind) noexcept {
  if (host == nullptr || out_kind == nullptr || (brin == nullptr && brin_len != 0) ||
      (vestiging == nullptr && vestiging_len != 0)) {
    return SCHAKEL_STATUS_INVALID_ARGUMENT;
  }
  if (!host->school_day) return SCHAKEL_STATUS_NOT_FOUND;
  try {
    const auto kind = host->school_day(std::string_view(brin != nullptr ? brin : "", brin_len),
                                       std::string_view(vestiging != nullptr ? vestiging : "", vestiging_len), day);
    if (!kind) return SCHAKEL_STATUS_NOT_FOUND;
    *out_kind = *kind;
    return SCHAKEL_STATUS_OK;
  } catch (...) {
    return SCHAKEL_STATUS_INTERNAL;
  }
}

const schakel_host_api host_api_table = [] {
  schakel_host_api api{};
  api.struct_size = sizeof(schakel_host_api);
  api.abi_major = SCHAKEL_ABI_MAJOR;
  api.abi_minor = SCHAKEL_ABI_MINOR;
  api.emit_signal = &cb_emit_signal;
  api.reject = &cb_reject;
  api.set_error = &cb_set_error;
  api.log = &cb_log;
  api.state_get = &cb_state_get;
  api.state_put = &cb_state_put;
  api.now_ms = &cb_now_ms;
  api.school_day_kind = &cb_school_day_kind;
  api.emit_derived = &cb_emit_derived;
  return api;
}();

std::string status_text(schakel_status st) {
  switch (st) {
    case SCHAKEL_STATUS_OK:
      return "OK";
    case SCHAKEL_STATUS_INVALID_CONFIG:
      return "INVALID_CONFIG";
    case SCHAKEL_STATUS_PARSE_ERROR:
      return "PARSE_ERROR";
    case SCHAKEL_STATUS_INTERNAL:
      return "INTERNAL";
    case SCHAKEL_STATUS_NOT_FOUND:
      return "NOT_FOUND";
    case SCHAKEL_STATUS_INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case SCHAKEL_STATUS_UNAVAILABLE:
      return "UNAVAILABLE";
    default:
      return "status " + std::to_string(static_cast<long long>(st));
  }
}

/**
 * A loaded, created plugin instance: the part connectors and processors share. Holds the library
 * handle and never dlcloses it: code of the library stays mapped, so no function pointer or static
 * the plugin handed out can dangle (e.g. thread_local destructors, atexit handlers).
 */
class plugin_core {
 public:
  plugin_core(void* handle, const schakel_plugin_descriptor& desc, std::unique_ptr<schakel_host_ctx> host)
      : handle_(handle),
        desc_(desc),
        host_(std::move(host)),
        plugin_name_(desc.name),
        plugin_version_(desc.version != nullptr ? desc.version : "") {}

  plugin_core(const plugin_core&) = delete;
  plugin_core& operator=(const plugin_core&) = delete;

  ~plugin_core() {
    if (instance_ != nullptr) desc_.destroy(instance_);
  }

  /** Calls create; false with `reason` set when the plugin refuses. */
  bool create(const std::string& settings, std::string& reason) {
    schakel_call_ctx ctx;
    schakel_instance* inst = nullptr;
    const schakel_status st = desc_.create(&host_api_table, host_.get(), settings.data(), settings.size(), &inst, &ctx);
    if (st == SCHAKEL_STATUS_OK && inst != nullptr) {
      instance_ = inst;
      return true;
    }
    if (st == SCHAKEL_STATUS_OK) {
      reason = "create returned OK without an instance";
    } else if (st == SCHAKEL_STATUS_INVALID_CONFIG) {
      reason = "settings rejected: " + (ctx.has_error ? ctx.error : std::string("no reason given"));
    } else {
      reason = "create failed (" + status_text(st) + ")" + (ctx.has_error ? ": " + ctx.error : std::string());
    }
    return false;
  }

  /**
   * Asks an ABI 1.2 plugin what the instance emits; a plugin without the hook declares nothing.
   * False with `reason` set when the hook fails or its declaration is not one the host can check.
   */
  bool declare(std::string& reason) {
    if (desc_.emits == nullptr) return true;
    schakel_call_ctx ctx;
    std::string text;
    bool got = false;
    struct sink_state {
      std::string* text;
      bool* got;
    } state{&text, &got};
    auto sink = [](void* c, const char* data, std::size_t len) noexcept {
      auto* s = static_cast<sink_state*>(c);
      try {
        s->text->assign(data != nullptr ? data : "", data != nullptr ? len : 0);
        *s->got = true;
      } catch (...) {
        *s->got = false;
      }
    };
    const schakel_status st = desc_.emits(instance_, sink, &state, &ctx);
    if (st != SCHAKEL_STATUS_OK || !got) {
      reason = "emits failed (" + status_text(st) + ")" + (ctx.has_error ? ": " + ctx.error : std::string());
      return false;
    }
    std::string error;
    emits_ = parse_emits(text, error);
    if (!emits_) {
      reason = "emits declaration refused: " + error;
      return false;
    }
    return true;
  }

  [[maybe_unused]] void* handle_;  // kept so a debugger (and a future unload) can find the library
  schakel_plugin_descriptor desc_;
  std::unique_ptr<schakel_host_ctx> host_;
  schakel_instance* instance_ = nullptr;
  std::string plugin_name_;
  std::string plugin_version_;
  declared_emits emits_;
};

class loaded_connector final : public connector {
 public:
  explicit loaded_connector(std::unique_ptr<plugin_core> core) : core_(std::move(core)) {}

  const std::string& instance_name() const override { return core_->host_->instance; }
  const std::string& plugin_name() const override { return core_->plugin_name_; }
  const std::string& plugin_version() const override { return core_->plugin_version_; }
  const declared_emits& emits() const override { return core_->emits_; }

  ingest_result ingest(std::string_view body, std::string_view content_type) override {
    return run_ingest(body, content_type, nullptr, 0);
  }

  ingest_result ingest_in_parts(std::string_view body, std::string_view content_type, std::size_t part_size,
                                const signal_part_fn& part) override {
    ingest_result result = run_ingest(body, content_type, &part, part_size == 0 ? 1 : part_size);
    // The last, short part (after a refusal nothing was kept, so there is none).
    if (result.parsed && !result.signals.empty()) (void)hand_over_part(result, part);
    result.signals.clear();
    result.signal_record_index.clear();
    return result;
  }

 private:
  ingest_result run_ingest(std::string_view body, std::string_view content_type, const signal_part_fn* part,
                           std::size_t part_size) {
    ingest_result result;
    schakel_call_ctx ctx;
    ctx.in_ingest = true;
    ctx.result = &result;
    ctx.part = part;
    ctx.part_size = part_size;
    const schakel_status st =
        core_->desc_.ingest(core_->instance_, body.data(), body.size(), content_type.data(), content_type.size(), &ctx);
    ctx.in_ingest = false;
    if (st == SCHAKEL_STATUS_OK) return result;

    // A body that failed as a whole yields nothing: partial results would be acknowledged twice
    // when the source resends the corrected body.
    result.signals.clear();
    result.signal_record_index.clear();
    result.rejections.clear();
    result.parsed = false;
    if (st == SCHAKEL_STATUS_PARSE_ERROR) {
      result.parse_error = ctx.has_error ? ctx.error : std::string("the connector could not read the body");
    } else {
      result.connector_error = true;
      result.parse_error = "connector error (" + status_text(st) + ")" + (ctx.has_error ? ": " + ctx.error : "");
      log::error(
          "plugin.ingest_failed",
          {{"instance", core_->host_->instance}, {"plugin", core_->plugin_name_}, {"error", result.parse_error}});
    }
    return result;
  }

  std::unique_ptr<plugin_core> core_;
};

std::vector<std::string> split_patterns(const char* text) {
  std::vector<std::string> out;
  if (text == nullptr) return out;
  std::string current;
  for (const char* p = text; *p != '\0'; ++p) {
    if (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n') {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(*p);
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

class loaded_processor final : public processor {
 public:
  explicit loaded_processor(std::unique_ptr<plugin_core> core)
      : core_(std::move(core)), consumes_(split_patterns(core_->desc_.consumes)) {}

  const std::string& instance_name() const override { return core_->host_->instance; }
  const std::string& plugin_name() const override { return core_->plugin_name_; }
  const std::string& plugin_version() const override { return core_->plugin_version_; }
  const std::vector<std::string>& consumes() const override { return consumes_; }
  const declared_emits& emits() const override { return core_->emits_; }

  void begin_batch(batch_state& state, derived_sink sink) override {
    core_->host_->batch = &state;
    sink_ = std::move(sink);
  }

  bool process(std::string_view signal_json, std::string& error) override {
    schakel_call_ctx ctx;
    ctx.in_process = true;
    ctx.sink = &sink_;
    const schakel_status st = core_->desc_.process(core_->instance_, signal_json.data(), signal_json.size(), &ctx);
    return outcome(st, ctx, "process", error);
  }

  bool flush(std::string& error) override {
    if (core_->desc_.flush == nullptr) return true;
    schakel_call_ctx ctx;
    ctx.in_process = true;
    ctx.sink = &sink_;
    const schakel_status st = core_->desc_.flush(core_->instance_, &ctx);
    return outcome(st, ctx, "flush", error);
  }

  void end_batch() override {
    core_->host_->batch = nullptr;
    sink_ = nullptr;
  }

 private:
  static bool outcome(schakel_status st, const schakel_call_ctx& ctx, const char* hook, std::string& error) {
    if (st == SCHAKEL_STATUS_OK) return true;
    error = std::string(hook) + " failed (" + status_text(st) + ")" + (ctx.has_error ? ": " + ctx.error : "");
    return false;
  }

  std::unique_ptr<plugin_core> core_;
  std::vector<std::string> consumes_;
  derived_sink sink_;
};

bool valid_plugin_name(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos) return false;
  if (name.find("..") != std::string::npos) return false;
  return true;
}

}  // namespace

ingest_result connector::ingest_in_parts(std::string_view body, std::string_view content_type, std::size_t part_size,
                                         const signal_part_fn& part) {
  ingest_result whole = ingest(body, content_type);
  if (part_size == 0) part_size = 1;
  for (std::size_t from = 0; whole.parsed && from < whole.signals.size(); from += part_size) {
    ingest_result piece;
    const std::size_t to = std::min(whole.signals.size(), from + part_size);
    for (std::size_t i = from; i < to; ++i) {
      piece.signals.push_back(std::move(whole.signals[i]));
      piece.signal_record_index.push_back(i < whole.signal_record_index.size() ? whole.signal_record_index[i]
                                                                               : static_cast<std::int64_t>(i));
    }
    if (!part(piece)) break;
  }
  whole.signals.clear();
  whole.signal_record_index.clear();
  return whole;
}

std::string to_string(const load_error& error) {
  std::string out = "instance '" + error.instance + "': ";
  if (!error.file.empty()) out += error.file + ": ";
  out += error.reason;
  return out;
}

std::filesystem::path default_plugin_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::filesystem::path("lib") / "schakel" / "plugins";
  return (exe.parent_path() / ".." / "lib" / "schakel" / "plugins").lexically_normal();
}

namespace {

/**
 * Loads the file, checks the descriptor's version and size and creates the instance with the
 * kind-specific hook checks done by `check_kind`. nullptr with `error` filled on any failure.
 */
std::unique_ptr<plugin_core> open_plugin(
    const std::filesystem::path& plugin_dir, const load_request& request, const host_services& services,
    load_error& error, const std::function<std::string(const schakel_plugin_descriptor&)>& check_kind) {
  error = load_error{};
  error.instance = request.instance;
  auto fail = [&](std::string reason) -> std::unique_ptr<plugin_core> {
    error.reason = std::move(reason);
    log::error("plugin.load_failed", {{"instance", error.instance}, {"file", error.file}, {"reason", error.reason}});
    return nullptr;
  };

  if (!valid_plugin_name(request.plugin)) {
    error.file = request.plugin;
    return fail("plugin name must be a file stem inside the plugin directory (no '/' or '..')");
  }
  const std::filesystem::path file = plugin_dir / (request.plugin + ".so");
  error.file = file.string();

  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return fail("no such plugin file");
  // Before dlopen: a constructor in the file runs the moment it is mapped.
  for (const auto& path : {plugin_dir, file})
    if (auto why = untrusted_code(path)) return fail("refused: " + *std::move(why));

  // RTLD_LOCAL: plugins' symbols (their own copies of nlohmann/json, say) never interpose on each other.
  ::dlerror();
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return fail(std::string("dlopen failed: ") + (why != nullptr ? why : "unknown error"));
  }
  // From here on the handle is never closed (see plugin_core); a failed load leaks one mapping,
  // which is cheaper than the risk of unloading code a constructor may have registered somewhere.

  ::dlerror();
  void* sym = ::dlsym(handle, SCHAKEL_PLUGIN_ENTRY_SYMBOL);
  if (sym == nullptr) return fail("entry symbol " SCHAKEL_PLUGIN_ENTRY_SYMBOL " not found");
  schakel_plugin_entry_fn entry = nullptr;
  static_assert(sizeof(entry) == sizeof(sym));
  std::memcpy(&entry, &sym, sizeof(entry));  // object pointer -> function pointer, as POSIX allows

  const schakel_plugin_descriptor* remote = entry();
  if (remote == nullptr) return fail(SCHAKEL_PLUGIN_ENTRY_SYMBOL " returned no descriptor");

  // Version and size before anything else: the header fields are the only ones whose place is
  // guaranteed across every ABI version.
  const std::uint32_t size = remote->struct_size;
  const unsigned major = remote->abi_major;
  const unsigned minor = remote->abi_minor;
  const std::string plugin_version = version_text(major, minor);
  if (major != SCHAKEL_ABI_MAJOR) {
    return fail("ABI major " + std::to_string(major) + " not supported (host " + host_version + ")");
  }
  if (minor > SCHAKEL_ABI_MINOR) {
    return fail("ABI " + plugin_version + " is newer than the host's (host " + host_version +
                "); rebuild the plugin against ABI " + host_version + " or upgrade the hub");
  }
  if (size < SCHAKEL_DESCRIPTOR_MIN_SIZE) {
    return fail("descriptor size " + std::to_string(size) + " is smaller than the ABI 1.0 minimum " +
                std::to_string(SCHAKEL_DESCRIPTOR_MIN_SIZE) + " (plugin ABI " + plugin_version + ", host " +
                host_version + ")");
  }
  if (size > sizeof(schakel_plugin_descriptor)) {
    // Same or older minor cannot have a longer descriptor than ours: the header is not one we published.
    return fail("descriptor size " + std::to_string(size) + " unknown for ABI " + plugin_version + " (host " +
                host_version + " expects at most " + std::to_string(sizeof(schakel_plugin_descriptor)) + ")");
  }
  schakel_plugin_descriptor desc;
  std::memset(&desc, 0, sizeof(desc));  // fields the plugin's minor did not have read as NULL
  std::memcpy(&desc, remote, size);

  if (desc.name == nullptr || desc.name[0] == '\0') return fail("descriptor has no name");
  if (desc.create == nullptr) return fail("required hook 'create' is missing");
  if (desc.destroy == nullptr) return fail("required hook 'destroy' is missing");
  if (auto why = check_kind(desc); !why.empty()) return fail(std::move(why));

  auto host = std::make_unique<schakel_host_ctx>();
  host->instance = request.instance;
  host->plugin = desc.name;
  host->state = services.state;
  host->school_day = services.school_day;
  auto core = std::make_unique<plugin_core>(handle, desc, std::move(host));
  std::string reason;
  if (!core->create(request.settings_json, reason)) return fail(std::move(reason));
  if (!core->declare(reason)) return fail(std::move(reason));

  log::info("plugin.loaded", {{"instance", request.instance},
                              {"file", error.file},
                              {"plugin", core->plugin_name_},
                              {"version", core->plugin_version_},
                              {"abi", plugin_version}});
  error = load_error{};
  return core;
}

}  // namespace

namespace {

bool key_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

/** An exact signal type: lowercase dotted words, no pattern characters. */
bool type_name(const std::string& s) {
  if (s.empty() || s.size() > 128 || s.front() == '.' || s.back() == '.') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

}  // namespace

std::optional<sdk::emitted_signals> parse_emits(std::string_view json_text, std::string& error) {
  const auto doc = nlohmann::json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  const auto it = doc.find("signals");
  if (it == doc.end() || !it->is_object()) {
    error = "\"signals\" must be an object of signal type -> {content, evidence}";
    return std::nullopt;
  }
  sdk::emitted_signals out;
  for (const auto& [type, shape] : it->items()) {
    if (!type_name(type)) {
      error = "signals: \"" + type.substr(0, 128) + "\" is not an exact signal type (no patterns)";
      return std::nullopt;
    }
    if (!shape.is_object()) {
      error = "signals." + type + ": must be an object";
      return std::nullopt;
    }
    auto& declared = out[type];
    for (const char* part : {"content", "evidence"}) {
      const auto list = shape.find(part);
      if (list == shape.end()) continue;
      if (!list->is_array()) {
        error = "signals." + type + "." + part + ": must be an array of names";
        return std::nullopt;
      }
      for (const auto& name : *list) {
        if (!name.is_string() || !key_name(name.get<std::string>())) {
          error = "signals." + type + "." + part + ": every entry must be an exact key ([A-Za-z0-9_], no patterns)";
          return std::nullopt;
        }
        (std::string_view(part) == "content" ? declared.content : declared.evidence).insert(name.get<std::string>());
      }
    }
  }
  return out;
}

bool type_matches(const std::vector<std::string>& patterns, std::string_view type) {
  for (const auto& p : patterns) {
    if (!p.empty() && p.back() == '*') {
      if (type.substr(0, p.size() - 1) == std::string_view(p).substr(0, p.size() - 1)) return true;
    } else if (type == p) {
      return true;
    }
  }
  return false;
}

std::unique_ptr<connector> load_connector(const std::filesystem::path& plugin_dir, const load_request& request,
                                          const host_services& services, load_error& error) {
  auto core = open_plugin(plugin_dir, request, services, error, [](const schakel_plugin_descriptor& desc) {
    if (desc.kind != SCHAKEL_PLUGIN_CONNECTOR) {
      return "plugin kind " + std::to_string(desc.kind) + " is not a connector (kind " +
             std::to_string(SCHAKEL_PLUGIN_CONNECTOR) + ")";
    }
    if (desc.ingest == nullptr) return std::string("required hook 'ingest' is missing");
    return std::string();
  });
  if (!core) return nullptr;
  return std::make_unique<loaded_connector>(std::move(core));
}

std::unique_ptr<processor> load_processor(const std::filesystem::path& plugin_dir, const load_request& request,
                                          const host_services& services, load_error& error) {
  auto core = open_plugin(plugin_dir, request, services, error, [](const schakel_plugin_descriptor& desc) {
    if (desc.kind != SCHAKEL_PLUGIN_PROCESSOR) {
      return "plugin kind " + std::to_string(desc.kind) + " is not a processor (kind " +
             std::to_string(SCHAKEL_PLUGIN_PROCESSOR) + ")";
    }
    if (desc.process == nullptr) return std::string("required hook 'process' is missing (processors need ABI 1.1)");
    if (split_patterns(desc.consumes).empty()) return std::string("a processor must declare the types it consumes");
    return std::string();
  });
  if (!core) return nullptr;
  return std::make_unique<loaded_processor>(std::move(core));
}

}  // namespace schakel::plugin_host
