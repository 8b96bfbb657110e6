/*
 * libkvstore-wasi - the wasi:keyvalue host layer: serves the core-module
 * imports of wasi:keyvalue (the canonical-ABI lowering of its WIT) from a
 * libkvstore store, for any WebAssembly engine. Link with pkg-config
 * `kvstore-wasi`; it links only libkvstore and no engine. docs/wasi.md
 * says how to bind an engine.
 *
 * Objects: a kvstore_wasi_config (key/value pairs), a kvstore_wasi_host
 * built from it (the opened stores; read-only, shareable between threads),
 * and one kvstore_wasi_instance per guest instance (its resource and
 * cursor tables and its watcher queue; used on one thread at a time,
 * except kvstore_wasi_pending(), which any thread may call).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_WASI_H
#define KVSTORE_WASI_H

#include <kvstore/kvstore.h>

KVSTORE_BEGIN_DECLS

/** The WIT a guest was built against; the layer must be told, because
 * the same core import has different layouts in different versions. */
typedef enum kvstore_wasi_wit {
    /** wasi:keyvalue@0.2.0-draft (wasmCloud, wasmtime): u64 cursor,
     * u64 delta, get-many -> list<option<tuple<string, list<u8>>>>. */
    KVSTORE_WASI_DRAFT = 1,
    /** wasi:keyvalue@0.2.0-draft2 (upstream): string cursor, s64 delta,
     * the cas resource; get-many as in the draft. */
    KVSTORE_WASI_DRAFT2 = 2,
    /** Spin's wasi:keyvalue@0.2.0-draft2 of 2024-10-17: as DRAFT2, but
     * get-many -> list<tuple<string, option<list<u8>>>>. Same import
     * names and core signatures as DRAFT2, other element offsets. */
    KVSTORE_WASI_SPIN = 3
} kvstore_wasi_wit;

/* ---- configuration ---------------------------------------------------- */

typedef struct kvstore_wasi_config kvstore_wasi_config;

/** A new, empty configuration (every key at its default). *out is owned
 * by the caller and released with kvstore_wasi_config_free(). */
KVSTORE_API int kvstore_wasi_config_new(kvstore_wasi_config **out);

/** Sets one key (docs/wasi.md lists them). Keys this layer does not know
 * are ignored and return KVSTORE_NOTFOUND, so a host can pass its whole
 * config through; a known key with a bad value is KVSTORE_EINVAL (the
 * message names the key, never the value). Both strings are copied. */
KVSTORE_API int kvstore_wasi_config_set(kvstore_wasi_config *c,
                                        const char *key, const char *value);

/** Lends an already open store for the label `label` (NULL: the default
 * store), in place of a URI. The store must outlive every host built from
 * this config; the layer never closes it. */
KVSTORE_API int kvstore_wasi_config_lend_store(kvstore_wasi_config *c,
                                               const char *label,
                                               kvstore_store *store);

/** NULL is a harmless no-op. */
KVSTORE_API void kvstore_wasi_config_free(kvstore_wasi_config *c);

/* ---- host ------------------------------------------------------------- */

typedef struct kvstore_wasi_host kvstore_wasi_host;

/** Opens the stores `c` names (the default store by the wasmCloud
 * precedence: wasi_keyvalue_redis_url, then wasi_keyvalue_nats_url, then
 * wasi_keyvalue_path, else memory:; plus every store.LABEL). The config
 * is copied: it may be freed afterwards. Returns the first failing
 * kvstore_open()'s status. *out is owned by the caller, released with
 * kvstore_wasi_host_free() after every instance made from it. */
KVSTORE_API int kvstore_wasi_host_new(kvstore_wasi_host **out,
                                      const kvstore_wasi_config *c);

/** NULL is a harmless no-op. */
KVSTORE_API void kvstore_wasi_host_free(kvstore_wasi_host *h);

/** The libkvstore bucket name the identifier `id` (`len` bytes) opens,
 * by the host's prefix and identifier policy, written to buf (at least
 * KVSTORE_BUCKET_NAME_MAX + 1 bytes). KVSTORE_EINVAL when the policy
 * refuses it. For tools that read a guest's data outside the guest. */
KVSTORE_API int kvstore_wasi_bucket_name(const kvstore_wasi_host *h,
                                         const char *id, size_t len,
                                         char *buf);

/* ---- engine binding --------------------------------------------------- */

typedef struct kvstore_wasi_instance kvstore_wasi_instance;

/** What an engine hands the layer for one guest instance. Every callback
 * gets `ctx`. The struct is copied by kvstore_wasi_instance_new(). */
typedef struct kvstore_wasi_engine {
    /** sizeof(kvstore_wasi_engine) as the binding was compiled; fields
     * are only ever appended. */
    size_t size;
    /** The guest's linear memory now: base, and its size in bytes in
     * *size. Re-read at every import entry and after every call into the
     * guest (cabi_realloc, watcher exports), since those may grow or
     * move it. Required. */
    uint8_t *(*memory)(void *ctx, uint64_t *size);
    /** Calls the guest's cabi_realloc(old, old_size, align, new_size).
     * Returns 0 with the result in *out, or non-zero when the guest
     * trapped (the import then traps too). Required. An engine whose
     * guest traps by unwinding (wasm2c's longjmp) may skip the layer's
     * frames: the instance is then dead and must only be freed. */
    int (*realloc)(void *ctx, uint32_t old, uint32_t old_size,
                   uint32_t align, uint32_t new_size, uint32_t *out);
    /** Called once when an import traps, after the layer has released
     * everything the import held; `message` says why (also
     * kvstore_wasi_trap_message()). It may not return (wasm2c: longjmp
     * through wasm_rt_trap). If it returns, the import returns with
     * nothing written, and the binding must raise a trap in the guest
     * as soon as control is back (check kvstore_wasi_trapped()).
     * Required. */
    void (*trap)(void *ctx, const char *message);
    /** Calls the guest export `name` (e.g.
     * "wasi:keyvalue/watcher@0.2.0-draft#on-set") with `nargs` i32
     * arguments. Returns 0, or non-zero when the export is missing or
     * the guest trapped. NULL: the instance serves no watcher. */
    int (*call)(void *ctx, const char *name, const uint32_t *args,
                size_t nargs);
} kvstore_wasi_engine;

/** A new instance for one guest of the given WIT on host `h`. `h` must
 * outlive it. When the host's config names buckets to watch ("watch") and
 * engine->call is set, the watches start here. *out is owned by the
 * caller, released with kvstore_wasi_instance_free(), which also closes
 * whatever the guest left open. */
KVSTORE_API int kvstore_wasi_instance_new(kvstore_wasi_instance **out,
                                          const kvstore_wasi_host *h,
                                          kvstore_wasi_wit wit,
                                          const kvstore_wasi_engine *engine,
                                          void *ctx);

/** Stops the watches, closes every handle, frees the instance. NULL is
 * a harmless no-op. */
KVSTORE_API void kvstore_wasi_instance_free(kvstore_wasi_instance *i);

/** True once an import of `i` has trapped. A trapped instance must not
 * be entered again: every later import traps at once. */
KVSTORE_API bool kvstore_wasi_trapped(const kvstore_wasi_instance *i);

/** Why the instance trapped ("" if it did not). Lent; valid until the
 * instance is freed. Never contains a store's password. */
KVSTORE_API const char *kvstore_wasi_trap_message(const kvstore_wasi_instance *i);

/* ---- import tables ---------------------------------------------------- */

/** An import called with its core arguments as 64-bit slots (i32 values
 * zero-extended): the shape WAMR's raw natives, wasmtime's
 * wasmtime_val_t arrays and JavaScript numbers convert to in one loop. */
typedef void (*kvstore_wasi_thunk)(kvstore_wasi_instance *i,
                                   const uint64_t *args);

/** One core import of a WIT version. */
typedef struct kvstore_wasi_import {
    const char *module;     /**< "wasi:keyvalue/store@0.2.0-draft" */
    const char *name;       /**< "[method]bucket.get" */
    const char *signature;  /**< core type, "(i32,i32,i32,i32)->()" */
    /** The typed function: kvstore_wasi_instance * first, then the core
     * parameters (i32 as uint32_t, i64 as uint64_t); returns void. Cast
     * it back to that type before calling. */
    void (*fn)(void);
    kvstore_wasi_thunk thunk; /**< the same import, by argument slots */
} kvstore_wasi_import;

/** The imports of `wit`, `*count` of them; NULL for an unknown wit. The
 * table is static: never freed. */
KVSTORE_API const kvstore_wasi_import *kvstore_wasi_imports(kvstore_wasi_wit wit,
                                                            size_t *count);

/** "0.2.0-draft", "0.2.0-draft2" (DRAFT2 and SPIN), or NULL. */
KVSTORE_API const char *kvstore_wasi_version(kvstore_wasi_wit wit);

/* The typed imports. `ret` is the guest's return-area pointer; the
 * layouts are in docs/wasi.md. An import either writes its whole result
 * or traps. Only list-keys, increment and get-many differ between
 * versions (the instance's wit picks get-many's element layout). */
KVSTORE_API void kvstore_wasi_store_open(kvstore_wasi_instance *i, uint32_t id,
                                         uint32_t id_len, uint32_t ret);
KVSTORE_API void kvstore_wasi_bucket_get(kvstore_wasi_instance *i, uint32_t b,
                                         uint32_t key, uint32_t key_len,
                                         uint32_t ret);
KVSTORE_API void kvstore_wasi_bucket_set(kvstore_wasi_instance *i, uint32_t b,
                                         uint32_t key, uint32_t key_len,
                                         uint32_t val, uint32_t val_len,
                                         uint32_t ret);
KVSTORE_API void kvstore_wasi_bucket_delete(kvstore_wasi_instance *i, uint32_t b,
                                            uint32_t key, uint32_t key_len,
                                            uint32_t ret);
KVSTORE_API void kvstore_wasi_bucket_exists(kvstore_wasi_instance *i, uint32_t b,
                                            uint32_t key, uint32_t key_len,
                                            uint32_t ret);
KVSTORE_API void kvstore_wasi_bucket_drop(kvstore_wasi_instance *i, uint32_t b);
/** draft: cursor option<u64> */
KVSTORE_API void kvstore_wasi_draft_list_keys(kvstore_wasi_instance *i, uint32_t b,
                                              uint32_t has_cursor, uint64_t cursor,
                                              uint32_t ret);
/** draft2 / spin: cursor option<string> */
KVSTORE_API void kvstore_wasi_draft2_list_keys(kvstore_wasi_instance *i, uint32_t b,
                                               uint32_t has_cursor, uint32_t cursor,
                                               uint32_t cursor_len, uint32_t ret);
/** draft: delta and result u64 */
KVSTORE_API void kvstore_wasi_draft_increment(kvstore_wasi_instance *i, uint32_t b,
                                              uint32_t key, uint32_t key_len,
                                              uint64_t delta, uint32_t ret);
/** draft2 / spin: delta and result s64 */
KVSTORE_API void kvstore_wasi_draft2_increment(kvstore_wasi_instance *i, uint32_t b,
                                               uint32_t key, uint32_t key_len,
                                               uint64_t delta, uint32_t ret);
KVSTORE_API void kvstore_wasi_cas_new(kvstore_wasi_instance *i, uint32_t b,
                                      uint32_t key, uint32_t key_len, uint32_t ret);
KVSTORE_API void kvstore_wasi_cas_current(kvstore_wasi_instance *i, uint32_t cas,
                                          uint32_t ret);
KVSTORE_API void kvstore_wasi_cas_swap(kvstore_wasi_instance *i, uint32_t cas,
                                       uint32_t val, uint32_t val_len, uint32_t ret);
KVSTORE_API void kvstore_wasi_cas_drop(kvstore_wasi_instance *i, uint32_t cas);
KVSTORE_API void kvstore_wasi_get_many(kvstore_wasi_instance *i, uint32_t b,
                                       uint32_t keys, uint32_t n, uint32_t ret);
KVSTORE_API void kvstore_wasi_set_many(kvstore_wasi_instance *i, uint32_t b,
                                       uint32_t kvs, uint32_t n, uint32_t ret);
KVSTORE_API void kvstore_wasi_delete_many(kvstore_wasi_instance *i, uint32_t b,
                                          uint32_t keys, uint32_t n, uint32_t ret);

/* ---- watcher ---------------------------------------------------------- */

/** Delivers up to `max` queued watch events (0: all queued now) to the
 * guest's wasi:keyvalue/watcher export (on-set, on-delete), each with a
 * new bucket handle the guest owns. Call it on the thread that runs the
 * guest, between guest calls (from inside an import it returns -1 and
 * does nothing). Returns the number delivered, or -1 when the guest
 * trapped (the instance is then dead). */
KVSTORE_API int kvstore_wasi_pump(kvstore_wasi_instance *i, size_t max);

/** Events queued now; any thread. */
KVSTORE_API size_t kvstore_wasi_pending(kvstore_wasi_instance *i);

/** Events dropped because the queue was full (overflow policy: the
 * newest event is dropped and counted; docs/wasi.md). */
KVSTORE_API uint64_t kvstore_wasi_dropped(kvstore_wasi_instance *i);

KVSTORE_END_DECLS

#endif /* KVSTORE_WASI_H */
