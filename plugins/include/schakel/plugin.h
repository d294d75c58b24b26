#ifndef SCHAKEL_PLUGIN_H
#define SCHAKEL_PLUGIN_H
/**
 * Schakel plugin C ABI, version 1.2 (1.1 added processors and school calendars, 1.2 the declaration of
 * what an instance emits; 1.0 and 1.1 plugins still load).
 *
 * A plugin is a shared library that exports one symbol, `schakel_plugin_entry`, returning a
 * descriptor. The host checks the descriptor's size and ABI version before it calls anything else.
 *
 * Naming shows direction:
 *   schakel_*_fn hooks in schakel_plugin_descriptor   the plugin implements, the host calls;
 *   callbacks in schakel_host_api                     the host implements, the plugin calls.
 *
 * Rules that hold for every function in this header:
 *   - Buffers cross as {pointer, length}; they are NOT NUL-terminated unless a comment says so.
 *     A length of 0 may come with any pointer, including NULL.
 *   - Whoever allocates frees. A pointer handed across is borrowed: it is valid only until the call
 *     that received it returns. Whoever needs the bytes longer copies them.
 *   - No exception, longjmp or C++ type crosses this boundary. Failure is a schakel_status plus an
 *     optional message given to set_error.
 *   - Messages (set_error, reject reasons, log) never contain personal data: no student keys, names
 *     or record contents. They may name fields, pointers, record indexes and byte offsets.
 *
 * Versioning:
 *   - abi_major changes when anything published changes meaning, order or size in an incompatible
 *     way. The host refuses any other major.
 *   - abi_minor grows when something is appended (a field at the end of a struct). The host refuses a
 *     plugin built against a newer minor than its own, and accepts older ones: it copies the
 *     plugin's descriptor into a zero-filled struct of its own size, so fields the plugin did not know
 *     read as 0/NULL ("absent").
 *   - Structs are append-only. Each appended group carries a "since ABI x.y" comment. Nothing is ever
 *     inserted, reordered or removed within a major.
 *   - A plugin calls a host callback added after 1.0 only if SCHAKEL_HOST_HAS(api, field) says the
 *     host's table is long enough to contain it.
 *   - Any change to this file must bump the version and re-pin its hash (tests/abi).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SCHAKEL_ABI_MAJOR 1
#define SCHAKEL_ABI_MINOR 2

/** Name of the one exported symbol; its type is schakel_plugin_entry_fn. */
#define SCHAKEL_PLUGIN_ENTRY_SYMBOL "schakel_plugin_entry"

#if defined(_WIN32)
#define SCHAKEL_PLUGIN_EXPORT __declspec(dllexport)
#else
#define SCHAKEL_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/** Result of a hook or callback. Fixed at 32 bits; new values may be appended in later minors. */
typedef enum schakel_status {
  SCHAKEL_STATUS_OK = 0,
  SCHAKEL_STATUS_INVALID_CONFIG = 1,   /**< create: the settings are wrong (set_error says where and why) */
  SCHAKEL_STATUS_PARSE_ERROR = 2,      /**< ingest: the body as a whole cannot be read */
  SCHAKEL_STATUS_INTERNAL = 3,         /**< a bug or resource failure inside the plugin or host */
  SCHAKEL_STATUS_NOT_FOUND = 4,        /**< state_get: no value under that key */
  SCHAKEL_STATUS_INVALID_ARGUMENT = 5, /**< a callback was called with a bad argument or in the wrong hook */
  SCHAKEL_STATUS_UNAVAILABLE = 6,      /**< the host service is not available (e.g. no state store) */
  SCHAKEL_STATUS_FORCE_32BIT_ = 0x7fffffff
} schakel_status;

typedef enum schakel_plugin_kind {
  SCHAKEL_PLUGIN_CONNECTOR = 1, /**< bytes -> signals */
  SCHAKEL_PLUGIN_PROCESSOR = 2  /**< signals -> derived signals (since ABI 1.1) */
} schakel_plugin_kind;

/** What a date is for one school (school_day_kind, since ABI 1.1). Fixed at 32 bits. */
typedef enum schakel_day_kind {
  SCHAKEL_DAY_SCHOOL = 0,    /**< a weekday that is neither a holiday nor a study day of that school */
  SCHAKEL_DAY_WEEKEND = 1,   /**< Saturday or Sunday */
  SCHAKEL_DAY_HOLIDAY = 2,   /**< a weekday inside one of the school's holidays */
  SCHAKEL_DAY_STUDY_DAY = 3, /**< a weekday the school has set aside (no lessons) */
  SCHAKEL_DAY_FORCE_32BIT_ = 0x7fffffff
} schakel_day_kind;

typedef enum schakel_log_level {
  SCHAKEL_LOG_DEBUG = 0,
  SCHAKEL_LOG_INFO = 1,
  SCHAKEL_LOG_WARN = 2,
  SCHAKEL_LOG_ERROR = 3,
  SCHAKEL_LOG_FORCE_32BIT_ = 0x7fffffff
} schakel_log_level;

/** The plugin's own per-instance object; the host never looks inside. Created by create, freed by destroy. */
typedef struct schakel_instance schakel_instance;

/** The host's per-instance context (names the instance, its state namespace). Valid until destroy returns. */
typedef struct schakel_host_ctx schakel_host_ctx;

/**
 * The host's per-call context of one create or ingest call: collects emitted signals, rejections and
 * the error message. Valid only during that call, and only on the thread that made it.
 */
typedef struct schakel_call_ctx schakel_call_ctx;

/**
 * Receives a value from the host (state_get). `value` is borrowed: valid only until the sink returns;
 * the plugin copies it with its own allocator. Called at most once per state_get, before it returns.
 */
typedef void (*schakel_value_sink_fn)(void* sink_ctx, const char* value, size_t value_len);

/**
 * Callbacks the host provides. The table is owned by the host and valid (unchanged) until the
 * instance's destroy hook returns. Append-only.
 */
typedef struct schakel_host_api {
  uint32_t struct_size; /**< sizeof the host's table; check with SCHAKEL_HOST_HAS before using later fields */
  uint16_t abi_major;   /**< the host's ABI version */
  uint16_t abi_minor;

  /* ---- since ABI 1.0 ---- */

  /**
   * Hands over one signal (a JSON object as UTF-8 text, without id/schema_version/received_at and
   * source.connector/instance, which the host sets) mapped from record `record_index`. The host copies
   * `json` before returning. Only during ingest. Returns OK, or INVALID_ARGUMENT outside ingest.
   */
  schakel_status (*emit_signal)(schakel_call_ctx* ctx, const char* json, size_t json_len, int64_t record_index);

  /**
   * Reports that record `record_index` was refused. `field` names the source field (JSON pointer or
   * column name; may be empty) and `reason` says why, without the record's values. Both are copied.
   * Only during ingest.
   */
  schakel_status (*reject)(schakel_call_ctx* ctx, int64_t record_index, const char* field, size_t field_len,
                           const char* reason, size_t reason_len);

  /**
   * Sets the message explaining why the current create (config error) or ingest (the whole body could
   * not be read) fails; the hook then returns a non-OK status. Copied; the first message wins.
   */
  void (*set_error)(schakel_call_ctx* ctx, const char* message, size_t message_len);

  /** Writes a log line attributed to the instance. `message` is copied. Any hook, any time. */
  void (*log)(schakel_host_ctx* host, schakel_log_level level, const char* message, size_t message_len);

  /**
   * Reads the instance's persisted value under `key`. On OK the host has called `sink` exactly once
   * with the value (borrowed, see schakel_value_sink_fn). NOT_FOUND: no value (also when the host has
   * no state store). Blocking; small values only.
   */
  schakel_status (*state_get)(schakel_host_ctx* host, const char* key, size_t key_len, schakel_value_sink_fn sink,
                              void* sink_ctx);

  /** Stores `value` under `key` for this instance (both copied). UNAVAILABLE when the host has no store. */
  schakel_status (*state_put)(schakel_host_ctx* host, const char* key, size_t key_len, const char* value,
                              size_t value_len);

  /** Wall-clock time, milliseconds since the Unix epoch. */
  int64_t (*now_ms)(schakel_host_ctx* host);

  /* ---- since ABI 1.1 ---- */

  /**
   * What `day` (days since 1970-01-01, the school's local date) is for the school `brin` (4 characters)
   * with `vestiging` (2 digits, or empty). The host looks up BRIN+vestiging first, then the BRIN. On OK it
   * sets *out_kind to a schakel_day_kind. NOT_FOUND: the hub has no calendar for that school (the plugin
   * decides what that means and says so in its documentation). Any hook, any time; in memory, fast.
   */
  schakel_status (*school_day_kind)(schakel_host_ctx* host, const char* brin, size_t brin_len, const char* vestiging,
                                    size_t vestiging_len, int32_t day, uint32_t* out_kind);

  /**
   * Processors only, during process or flush: hands over one derived signal (as emit_signal; the host
   * copies it) and gives the id the host assigned to it to `id_sink` (called once, before returning, only
   * on OK) so that later signals can name it (derived_from, retractions). The host validates the signal
   * now: INVALID_ARGUMENT means it was refused and dropped (the reason is in the host's log).
   */
  schakel_status (*emit_derived)(schakel_call_ctx* ctx, const char* json, size_t json_len,
                                 schakel_value_sink_fn id_sink, void* sink_ctx);
} schakel_host_api;

/** True when the host's callback table contains `field` (use for callbacks added after 1.0). */
#define SCHAKEL_HOST_HAS(api, field) \
  ((api)->struct_size >= offsetof(schakel_host_api, field) + sizeof(((schakel_host_api*)0)->field))

/**
 * Creates an instance from its settings (a JSON object as UTF-8 text; borrowed for the call).
 * `api` and `host` stay valid until destroy returns; the plugin may keep both. On OK `*out_instance`
 * is set (non-NULL). Otherwise the plugin calls api->set_error(errors, …) naming the settings path and
 * the reason (e.g. "settings.mapping.x: unknown field"), leaves `*out_instance` untouched and returns
 * INVALID_CONFIG (or INTERNAL). `errors` is valid only during the call.
 */
typedef schakel_status (*schakel_create_fn)(const schakel_host_api* api, schakel_host_ctx* host,
                                            const char* settings_json, size_t settings_len,
                                            schakel_instance** out_instance, schakel_call_ctx* errors);

/** Frees everything create allocated. Called once, after every ingest on the instance has returned. */
typedef void (*schakel_destroy_fn)(schakel_instance* instance);

/**
 * Parses `body` (borrowed for the call; `content_type` likewise, e.g. "application/x-ndjson", may be
 * empty) and reports, through `ctx`, each mapped signal (emit_signal) and each refused record (reject).
 * Returns OK when the body was read (even if every record was refused), PARSE_ERROR after set_error
 * when the body as a whole cannot be read (say where: byte offset or line, never the content).
 * May be called concurrently on the same instance from several threads: the instance must be
 * read-only during ingest or synchronise itself. No I/O, no threads of its own.
 */
typedef schakel_status (*schakel_ingest_fn)(schakel_instance* instance, const char* body, size_t body_len,
                                            const char* content_type, size_t content_type_len,
                                            schakel_call_ctx* ctx);

/**
 * Processors (since ABI 1.1). The host feeds a processor the stored signals whose type matches its
 * `consumes` patterns, one at a time, in log order, from one thread, in batches; each batch ends with
 * flush. Everything a batch emits and every state_put made during it are committed in ONE transaction
 * together with the processor's position in the log, so a crash replays the whole batch from the
 * committed position and the processor never sees its own half-applied state. state_get reads the
 * batch's own uncommitted writes first. A processor never sees signals it emitted itself.
 *
 * process: `signal_json` is the stored signal (borrowed for the call). Returns OK, or INTERNAL after
 * set_error; the host logs that (without content) and moves on, so one bad signal cannot stop the rules.
 */
typedef schakel_status (*schakel_process_fn)(schakel_instance* instance, const char* signal_json, size_t signal_len,
                                             schakel_call_ctx* ctx);

/** End of a batch: emit what was deferred, write state. May emit and call state_put. */
typedef schakel_status (*schakel_flush_fn)(schakel_instance* instance, schakel_call_ctx* ctx);

/**
 * What this instance can emit (since ABI 1.2), as its own settings decide it: the host checks every
 * subscription's field allowlist against it, so a partner is never promised a field no producer writes.
 * On OK the plugin has called `sink` exactly once with a JSON object (UTF-8; borrowed for the sink call):
 *
 *   {"signals": {"<signal type>": {"content": ["<content key>", ...], "evidence": ["<evidence key>", ...]}}}
 *
 * Every signal type the instance can emit (connectors: from ingest; processors: derived) is listed, and
 * for each the keys of `content` and of `content.evidence` it can carry. Exact names only: no patterns,
 * no wildcards. A key listed may be absent from a given signal; a key not listed never appears.
 * Otherwise returns INTERNAL after set_error on `errors` (valid only during the call). Called after create,
 * from one thread, never concurrently with ingest or process on the same instance. No I/O.
 */
typedef schakel_status (*schakel_emits_fn)(schakel_instance* instance, schakel_value_sink_fn sink, void* sink_ctx,
                                           schakel_call_ctx* errors);

/**
 * What the entry symbol returns. Owned by the plugin, static: valid and unchanged for as long as the
 * library is loaded. Append-only.
 */
typedef struct schakel_plugin_descriptor {
  uint32_t struct_size; /**< sizeof(schakel_plugin_descriptor) as the plugin was compiled */
  uint16_t abi_major;   /**< SCHAKEL_ABI_MAJOR the plugin was compiled against */
  uint16_t abi_minor;   /**< SCHAKEL_ABI_MINOR the plugin was compiled against */

  /* ---- since ABI 1.0: required ---- */
  const char* name;     /**< NUL-terminated, e.g. "generic-json" */
  const char* version;  /**< NUL-terminated, the plugin's own version, e.g. "0.1.0" */
  uint32_t kind;        /**< a schakel_plugin_kind */
  uint32_t reserved0;   /**< 0 */
  schakel_create_fn create;
  schakel_destroy_fn destroy;
  schakel_ingest_fn ingest; /**< required for SCHAKEL_PLUGIN_CONNECTOR; NULL for a processor */

  /* ---- since ABI 1.0: optional (may be NULL, or absent from a shorter struct) ---- */
  const char* description; /**< NUL-terminated one-line summary for listings */

  /* ---- since ABI 1.1: processors (process and consumes required for SCHAKEL_PLUGIN_PROCESSOR) ---- */
  schakel_process_fn process;
  schakel_flush_fn flush; /**< optional */
  /** NUL-terminated, space-separated signal types; a pattern ending in '*' is a prefix ("nl.schakel.attendance.*"). */
  const char* consumes;

  /* ---- since ABI 1.2: optional (NULL: the plugin declares nothing; see docs/plugin-abi.md) ---- */
  schakel_emits_fn emits;
} schakel_plugin_descriptor;

/**
 * The smallest descriptor the host accepts: everything up to and including the required hooks.
 * Optional fields beyond it read as NULL when a plugin's struct_size stops earlier.
 */
#define SCHAKEL_DESCRIPTOR_MIN_SIZE \
  (offsetof(schakel_plugin_descriptor, ingest) + sizeof(schakel_ingest_fn))

/** Type of the exported entry symbol. Called once per load; must not fail other than by returning NULL. */
typedef const schakel_plugin_descriptor* (*schakel_plugin_entry_fn)(void);

/** Declaration every plugin defines (the C++ SDK's SCHAKEL_CONNECTOR macro does it for you). */
SCHAKEL_PLUGIN_EXPORT const schakel_plugin_descriptor* schakel_plugin_entry(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SCHAKEL_PLUGIN_H */
