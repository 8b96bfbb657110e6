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

/** Closes a store. Close its buckets first. NULL is a harmless no-op. */
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

KVSTORE_END_DECLS

#endif /* KVSTORE_STORE_H */
