#pragma once
/**
 * Loads connector plugins (shared libraries behind plugins/include/schakel/plugin.h) and runs them.
 * The hub core sees only these C++ types; the C ABI stays inside plugin_host.
 */
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/plugin.hpp"
#include "storage/store.hpp"

namespace schakel::plugin_host {

/**
 * What a plugin instance declared it can emit (ABI 1.2), checked when it was loaded; nullopt when its
 * plugin declares nothing (built against ABI 1.0 or 1.1, or without the hook).
 */
using declared_emits = std::optional<sdk::emitted_signals>;

/** One source record the connector refused; never carries the record's content. */
struct rejection {
  std::int64_t index = -1;  ///< record index (0-based) or line number (1-based) as the connector says
  std::string field;        ///< JSON pointer or column name, may be empty
  std::string reason;
};

/** What one ingest call produced: candidate signals (JSON objects, not yet normalised) and rejections. */
struct ingest_result {
  bool parsed = true;       ///< false: the body as a whole could not be read (HTTP 400)
  std::string parse_error;  ///< set when !parsed
  /// Added: with !parsed, the connector itself failed (a bug: exception, out of memory), not the body.
  /// The daemon may answer 500 instead of 400. Emitted signals and rejections are discarded then.
  bool connector_error = false;
  std::vector<std::string> signals;               ///< JSON text of each mapped signal, in record order
  std::vector<std::int64_t> signal_record_index;  ///< the record each signal came from
  std::vector<rejection> rejections;
};

/**
 * Takes one part of an ingest call's signals (`signals` and `signal_record_index` only, in record
 * order) while the connector is still running. May move from them. Returns false to refuse the rest:
 * later signals are then discarded, the call still runs to its end. Must not throw.
 */
using signal_part_fn = std::function<bool(ingest_result& part)>;

/** A configured, initialised connector instance. Thread-safe: ingest may run concurrently. */
class connector {
 public:
  virtual ~connector() = default;
  virtual const std::string& instance_name() const = 0;
  virtual const std::string& plugin_name() const = 0;
  virtual ingest_result ingest(std::string_view body, std::string_view content_type) = 0;
  /**
   * ingest(), but the signals go to `part` in parts of `part_size` as the plugin emits them, so a
   * large body's signals are never all in memory at once; the result holds only the rejections (and
   * the parse error). When the body fails as a whole, parts already handed over are to be discarded
   * by the caller. This default runs ingest() and then hands its signals over in parts.
   */
  virtual ingest_result ingest_in_parts(std::string_view body, std::string_view content_type, std::size_t part_size,
                                        const signal_part_fn& part);
  /// Added: the plugin's own version string from its descriptor (empty when unknown).
  virtual const std::string& plugin_version() const {
    static const std::string none;
    return none;
  }
  /// What the instance can emit (see declared_emits); a connector that is not a plugin declares nothing.
  virtual const declared_emits& emits() const {
    static const declared_emits none;
    return none;
  }
};

/** A load failure, naming the file and the reason; the daemon keeps serving other instances. */
struct load_error {
  std::string instance;
  std::string file;
  std::string reason;
};

/** Added: one line for logs and check-config, "instance 'x': <file>: <reason>". */
std::string to_string(const load_error& error);

struct load_request {
  std::string instance;
  std::string plugin;         ///< file stem; resolved to <plugin_dir>/<plugin>.so
  std::string settings_json;  ///< the instance's settings as JSON text
};

/**
 * What a date is for a school: a schakel_day_kind value (0 school day, 1 weekend, 2 holiday, 3 study
 * day), or nullopt when the hub has no calendar for that school. `day` counts days since 1970-01-01.
 */
using school_day_fn =
    std::function<std::optional<std::uint32_t>(std::string_view brin, std::string_view vestiging, std::int32_t day)>;

/** Host services plugins may call (state API, calendars). Any may be null/empty in check-config. */
struct host_services {
  storage::plugin_state* state = nullptr;  // the state API needs this role only
  school_day_fn school_day;
};

/**
 * State writes of one processor batch, not yet committed: state_get reads them first, and the runner
 * commits them with the batch's derived signals and log position. nullopt = erased.
 */
struct batch_state {
  std::map<std::string, std::optional<std::string>> writes;
  /// A state read failed in the engine during the batch: the plugin saw "absent" where state may
  /// exist, so the runner must not commit what it derived from that.
  bool read_failed = false;
};

/**
 * Takes one derived signal (JSON text) from a processor: the runner normalises and validates it and
 * returns its new id, or "" with `error` set when it is refused.
 */
using derived_sink = std::function<std::string(std::string_view json, std::string& error)>;

/** A configured processor instance. Not thread-safe: one runner thread drives it. */
class processor {
 public:
  virtual ~processor() = default;
  virtual const std::string& instance_name() const = 0;
  virtual const std::string& plugin_name() const = 0;
  virtual const std::string& plugin_version() const = 0;
  /** The type patterns from the descriptor ("nl.schakel.attendance.*" is a prefix). */
  virtual const std::vector<std::string>& consumes() const = 0;
  /** What the instance derives (see declared_emits). */
  virtual const declared_emits& emits() const {
    static const declared_emits none;
    return none;
  }
  /** Starts a batch: state writes go to `state`, derived signals to `sink`, until end_batch. */
  virtual void begin_batch(batch_state& state, derived_sink sink) = 0;
  /** One stored signal; false with `error` (no content) when the plugin failed on it. */
  virtual bool process(std::string_view signal_json, std::string& error) = 0;
  virtual bool flush(std::string& error) = 0;
  virtual void end_batch() = 0;
};

/**
 * Reads the JSON an emits hook handed over (plugin.h schakel_emits_fn). Refuses, with `error` naming
 * the place, anything but exact names: a type must look like a signal type, keys like evidence keys.
 */
std::optional<sdk::emitted_signals> parse_emits(std::string_view json_text, std::string& error);

/** True when `type` matches one of the patterns (exact, or a prefix pattern ending in '*'). */
bool type_matches(const std::vector<std::string>& patterns, std::string_view type);

/** Default plugin directory: <dir of /proc/self/exe>/../lib/schakel/plugins. */
std::filesystem::path default_plugin_dir();

/**
 * Loads one plugin file and creates the instance. On failure returns nullptr and fills `error`.
 * Refuses, before mapping any code: a file outside plugin_dir, a plugin directory or file that group
 * or others may write or that belongs to a user other than root and the hub's own (untrusted_code).
 * Refuses after mapping: a missing entry symbol, another ABI major or newer minor,
 * an unknown descriptor size, a missing required hook, a plugin kind other than connector,
 * and settings the plugin rejects.
 */
std::unique_ptr<connector> load_connector(const std::filesystem::path& plugin_dir, const load_request& request,
                                          const host_services& services, load_error& error);

/**
 * As load_connector, for a processor plugin (ABI 1.1+): refuses another kind, a missing process hook
 * or an empty `consumes`.
 */
std::unique_ptr<processor> load_processor(const std::filesystem::path& plugin_dir, const load_request& request,
                                          const host_services& services, load_error& error);

}  // namespace schakel::plugin_host
