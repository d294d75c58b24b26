/*
 * A connector written in plain C against plugin.h, compiled in several variants (one per -D) to
 * exercise the loader's checks. Compiling it as C11 with -Wpedantic also proves plugin.h is pure C.
 */
#include <stdlib.h>
#include <string.h>

#include "schakel/plugin.h"

struct schakel_instance {
  const schakel_host_api* api;
  schakel_host_ctx* host;
};

static schakel_status c_create(const schakel_host_api* api, schakel_host_ctx* host, const char* settings,
                               size_t settings_len, schakel_instance** out, schakel_call_ctx* errors) {
  static const char bad[] = "\"mode\"";
  if (settings_len >= sizeof bad - 1) {
    for (size_t i = 0; i + sizeof bad - 1 <= settings_len; ++i) {
      if (memcmp(settings + i, bad, sizeof bad - 1) == 0) {
        static const char msg[] = "settings.mode: unknown field";
        api->set_error(errors, msg, sizeof msg - 1);
        return SCHAKEL_STATUS_INVALID_CONFIG;
      }
    }
  }
  schakel_instance* inst = (schakel_instance*)malloc(sizeof *inst);
  if (inst == NULL) return SCHAKEL_STATUS_INTERNAL;
  inst->api = api;
  inst->host = host;
  *out = inst;
  return SCHAKEL_STATUS_OK;
}

static void c_destroy(schakel_instance* inst) { free(inst); }

static schakel_status c_ingest(schakel_instance* inst, const char* body, size_t body_len, const char* content_type,
                               size_t content_type_len, schakel_call_ctx* ctx) {
  (void)body;
  (void)content_type;
  (void)content_type_len;
  static const char signal[] = "{\"from\":\"c\"}";
  if (body_len == 0) {
    static const char msg[] = "empty body";
    inst->api->set_error(ctx, msg, sizeof msg - 1);
    return SCHAKEL_STATUS_PARSE_ERROR;
  }
  return inst->api->emit_signal(ctx, signal, sizeof signal - 1, 0);
}

#ifndef ABI_NO_ENTRY

/* The descriptor as a plugin built against a shorter 1.0-compatible header would lay it out: only the
 * required part, without the optional fields that follow it in the current header. */
typedef struct old_descriptor {
  uint32_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;
  const char* name;
  const char* version;
  uint32_t kind;
  uint32_t reserved0;
  schakel_create_fn create;
  schakel_destroy_fn destroy;
  schakel_ingest_fn ingest;
} old_descriptor;

#if defined(ABI_MINOR_1_1)
/* The descriptor exactly as a plugin built against the published ABI 1.1 header lays it out: the
 * required part, then every field up to `consumes`, no emits hook. It declares nothing it emits. */
typedef struct descriptor_1_1 {
  old_descriptor required;
  const char* description;
  schakel_process_fn process;
  schakel_flush_fn flush;
  const char* consumes;
} descriptor_1_1;

static const descriptor_1_1 d11 = {
    {sizeof(descriptor_1_1), SCHAKEL_ABI_MAJOR, 1, "c-1-1", "1.1.0", SCHAKEL_PLUGIN_CONNECTOR, 0, c_create, c_destroy,
     c_ingest},
    "built against ABI 1.1",
    NULL,
    NULL,
    NULL};

SCHAKEL_PLUGIN_EXPORT const schakel_plugin_descriptor* schakel_plugin_entry(void) {
  return (const schakel_plugin_descriptor*)(const void*)&d11;
}

#elif defined(ABI_OLD_SMALL) || defined(ABI_TOO_SMALL)

static const old_descriptor old = {
#ifdef ABI_TOO_SMALL
    16,
#else
    sizeof(old_descriptor),
#endif
    SCHAKEL_ABI_MAJOR, 0, "c-old", "0.0.1-old", SCHAKEL_PLUGIN_CONNECTOR, 0, c_create, c_destroy, c_ingest};

SCHAKEL_PLUGIN_EXPORT const schakel_plugin_descriptor* schakel_plugin_entry(void) {
  return (const schakel_plugin_descriptor*)(const void*)&old;
}

#else

#if defined(ABI_BAD_EMITS)
/* Declares a pattern where exact types are required: the host must refuse to load it. */
static schakel_status c_emits(schakel_instance* inst, schakel_value_sink_fn sink, void* sink_ctx,
                              schakel_call_ctx* errors) {
  static const char doc[] = "{\"signals\":{\"nl.schakel.attendance.*\":{\"content\":[\"value\"]}}}";
  (void)inst;
  (void)errors;
  sink(sink_ctx, doc, sizeof doc - 1);
  return SCHAKEL_STATUS_OK;
}
#endif

static struct {
  schakel_plugin_descriptor d;
  char padding[16]; /* lets ABI_TOO_BIG claim a longer struct without the host reading past it */
} desc;

SCHAKEL_PLUGIN_EXPORT const schakel_plugin_descriptor* schakel_plugin_entry(void) {
  desc.d.struct_size = sizeof(schakel_plugin_descriptor);
  desc.d.abi_major = SCHAKEL_ABI_MAJOR;
  desc.d.abi_minor = SCHAKEL_ABI_MINOR;
  desc.d.name = "c-plugin";
  desc.d.version = "1.2.3";
  desc.d.kind = SCHAKEL_PLUGIN_CONNECTOR;
  desc.d.create = c_create;
  desc.d.destroy = c_destroy;
  desc.d.ingest = c_ingest;
  desc.d.description = "test plugin written in C";
#ifdef ABI_WRONG_MAJOR
  desc.d.abi_major = SCHAKEL_ABI_MAJOR + 1;
#endif
#ifdef ABI_NEWER_MINOR
  desc.d.abi_minor = SCHAKEL_ABI_MINOR + 1;
#endif
#ifdef ABI_TOO_BIG
  desc.d.struct_size = sizeof(schakel_plugin_descriptor) + 8;
#endif
#ifdef ABI_WRONG_KIND
  desc.d.kind = SCHAKEL_PLUGIN_PROCESSOR;
#endif
#ifdef ABI_MISSING_INGEST
  desc.d.ingest = NULL;
#endif
#ifdef ABI_BAD_EMITS
  desc.d.emits = c_emits;
#endif
  return &desc.d;
}
#endif

#else
/* No entry symbol: only something else exported, so the library itself loads fine. */
SCHAKEL_PLUGIN_EXPORT const struct {
  schakel_create_fn create;
  schakel_destroy_fn destroy;
  schakel_ingest_fn ingest;
} not_the_entry = {c_create, c_destroy, c_ingest};
#endif
