/*
 * libkvstore - stores, buckets and the basic store interface
 * (wasi:keyvalue/store).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_STORE_H
#define KVSTORE_STORE_H

#include "common.h"

KVSTORE_BEGIN_DECLS

/** An open store: one backend instance. Opaque. Thread-safe: any number of
 * threads may use one handle at once. */
typedef struct kvstore_store kvstore_store;

/** An open bucket of a store. Opaque. Thread-safe like its store. */
typedef struct kvstore_bucket kvstore_bucket;

/**
 * Opens the store named by `uri`; the scheme picks the backend
 * ("memory:", "file:///abs/dir", "file:rel/dir", "redis://...", ...).
 * Query parameters carry backend options; "create=true|false" is accepted
 * by every backend (default true).
 *
 * "@name" (since 1.1) opens the URI that the store config file gives
 * `name` (1 to 64 bytes of [A-Za-z0-9_.-]): $KVSTORE_CONFIG, else
 * $XDG_CONFIG_HOME/kvstore/stores.conf, else ~/.config/kvstore/stores.conf,
 * one "name = URI" per line, '#' comments. KVSTORE_ENOSTORE when the file
 * or the name is missing; KVSTORE_EACCESS when the URI holds a credential
 * and the file is readable or writable by group or others.
 *
 * A scheme that is not registered is looked up as the module
 * kvstore-<scheme>.so in KVSTORE_BACKEND_PATH, then the installed module
 * directory (see kvstore_backend_load()).
 *
 * Returns KVSTORE_OK and sets *out (owned by the caller, released with
 * kvstore_close()); KVSTORE_EINVAL for a NULL argument, a malformed URI or
 * an unknown or malformed parameter; KVSTORE_ENOSTORE when no backend
 * serves the scheme; or a backend's error (KVSTORE_EACCESS,
 * KVSTORE_EUNAVAILABLE, ...). On failure *out is set to NULL.
 */
KVSTORE_API int kvstore_open(kvstore_store **out, const char *uri);

/** Releases the caller's handle of a store. Buckets still open keep the
 * store alive: it is closed when the last of them is closed, so a bucket
 * may be used after its store's kvstore_close. Closing the same handle
 * twice is undefined, like a double free. NULL is a harmless no-op. */
KVSTORE_API void kvstore_close(kvstore_store *store);

/**
 * Opens the bucket `name` (1 to 64 bytes of [A-Za-z0-9_-]) of `store`,
 * creating it if it does not exist, unless the store was opened with
 * "?create=false", in which case a missing bucket is KVSTORE_ENOSTORE.
 * Returns KVSTORE_EINVAL for NULL arguments or an invalid name.
 * *out is owned by the caller and released with kvstore_bucket_close(),
 * before the store is closed.
 */
KVSTORE_API int kvstore_bucket_open(kvstore_bucket **out, kvstore_store *store,
                                    const char *name);

/** Closes a bucket. NULL is a harmless no-op. */
KVSTORE_API void kvstore_bucket_close(kvstore_bucket *bucket);

/**
 * Reads `key`. Returns KVSTORE_OK with *value (never NULL, even for an
 * empty value; the caller frees it with kvstore_free()) and *len, or
 * KVSTORE_NOTFOUND with *value = NULL and *len = 0. KVSTORE_EINVAL for a
 * NULL argument or an invalid key (empty, over 1024 bytes, not UTF-8).
 */
KVSTORE_API int kvstore_get(kvstore_bucket *b, const char *key, void **value,
                            size_t *len);

/**
 * Stores `len` bytes at `value` under `key`, replacing any previous value.
 * `value` may be NULL only when `len` is 0. KVSTORE_ETOOBIG above the
 * backend's value limit (the message names the limit). The library keeps
 * no reference to `value`.
 */
KVSTORE_API int kvstore_set(kvstore_bucket *b, const char *key,
                            const void *value, size_t len);

/** Deletes `key`. Deleting a missing key succeeds (KVSTORE_OK). */
KVSTORE_API int kvstore_delete(kvstore_bucket *b, const char *key);

/** Sets *exists to whether `key` is present. Returns KVSTORE_OK or an
 * error; on error *exists is false. */
KVSTORE_API int kvstore_exists(kvstore_bucket *b, const char *key,
                               bool *exists);

/* ------------------------------------------------------------------ */
/* Since 1.1                                                            */
/* ------------------------------------------------------------------ */

/** Capability flags, as returned by kvstore_caps(). */
/** A listing walk may return a key more than once (Redis SCAN). */
#define KVSTORE_CAP_LIST_REPEATS        (1u << 0)
/** Watch events carry the value read after the event, which may be newer
 * than the write that caused it; the event itself is never lost. */
#define KVSTORE_CAP_WATCH_LATE_VALUES   (1u << 1)
/** Watch sees writes made by other processes, not only this one's. */
#define KVSTORE_CAP_WATCH_CROSS_PROCESS (1u << 2)
/** Per-key expiry: kvstore_set_ttl and kvstore_ttl work. */
#define KVSTORE_CAP_TTL                 (1u << 3)
/** Expiry only for whole buckets (set when the bucket is created, through
 * the store URI): kvstore_set_ttl with a non-zero TTL is KVSTORE_ENOTSUP. */
#define KVSTORE_CAP_TTL_BUCKET_ONLY     (1u << 4)

/** The KVSTORE_CAP_* flags of the store's backend; 0 for NULL. */
KVSTORE_API unsigned int kvstore_caps(const kvstore_store *store);

/**
 * Stores `value` under `key` like kvstore_set, expiring after `ttl_ms`
 * milliseconds; 0 means no expiry (exactly kvstore_set). An expired key is
 * absent for every read (get, get_many, exists, list_keys, cas_open),
 * whether or not it has been reaped yet. A later kvstore_set replaces the
 * value and clears the expiry. Returns kvstore_set's codes, and
 * KVSTORE_ENOTSUP (with a message) when the backend has no per-key expiry
 * (see KVSTORE_CAP_TTL).
 */
KVSTORE_API int kvstore_set_ttl(kvstore_bucket *b, const char *key,
                                const void *value, size_t len,
                                uint64_t ttl_ms);

/**
 * Sets *ms_left to the milliseconds before `key` expires, or -1 if it has
 * no expiry. Returns KVSTORE_OK, KVSTORE_NOTFOUND (the key is missing or
 * expired; *ms_left is then -1), KVSTORE_EINVAL, KVSTORE_ENOTSUP (no
 * per-key expiry) or a backend error.
 */
KVSTORE_API int kvstore_ttl(kvstore_bucket *b, const char *key,
                            int64_t *ms_left);

/**
 * Receives the value kvstore_get_with() lends: `len` bytes at `value`
 * (never NULL, even for an empty value), valid only until the callback
 * returns. `ctx` is kvstore_get_with()'s. Return 0, or any non-zero code
 * of your own, which kvstore_get_with() then returns unchanged (pick codes
 * that do not collide with the KVSTORE_ ones you need to tell apart).
 */
typedef int (*kvstore_value_fn)(void *ctx, const void *value, size_t len);

/**
 * Reads `key` like kvstore_get(), but lends the value instead of copying
 * it out: calls `fn(ctx, value, len)` exactly once when the key is found,
 * never otherwise. The value may live in the backend's own memory under a
 * lock the call holds (memory: the stripe's read lock), so it is valid
 * only during `fn`, and `fn` must not call into libkvstore on the same
 * store: that is undefined behaviour (a write of a key that shares the
 * lock waits forever; closing the bucket frees what the call is using).
 * Copy what you need and return. Other stores may be used.
 *
 * Once `fn` was called the result is its own: its non-zero code
 * (kvstore_errmsg() then names it), else KVSTORE_OK. Without a call:
 * KVSTORE_NOTFOUND when the key is absent (or expired); KVSTORE_EINVAL
 * for a NULL bucket or `fn`, or an invalid key (as kvstore_get), before
 * anything is read; or the backend's error.
 *
 * Backends that cannot lend (no get_with slot) are served by their get,
 * `fn` and kvstore_free(): every backend supports it, and the result is
 * the same; only the copy is saved where a backend lends.
 * Observed as a get (KVSTORE_OP_GET). Thread-safe like kvstore_get().
 */
KVSTORE_API int kvstore_get_with(kvstore_bucket *b, const char *key,
                                 kvstore_value_fn fn, void *ctx);

KVSTORE_END_DECLS

#endif /* KVSTORE_STORE_H */
