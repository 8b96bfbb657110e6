/*
 * libkvstore - batch operations (wasi:keyvalue/batch).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_BATCH_H
#define KVSTORE_BATCH_H

#include "store.h"

KVSTORE_BEGIN_DECLS

/**
 * Reads `n` keys into the caller's arrays `values` and `lens` (n entries
 * each). values[i] is NULL (and lens[i] 0) where keys[i] is absent; each
 * non-NULL value is owned by the caller (kvstore_free()). On failure every
 * values[i] is NULL: nothing is left for the caller to free.
 * Every key is validated before anything is read. n == 0 is a no-op.
 */
KVSTORE_API int kvstore_get_many(kvstore_bucket *b, const char *const *keys,
                                 size_t n, void **values, size_t *lens);

/**
 * Stores `n` key/value pairs. Not atomic: on failure some pairs may have
 * been written. Every key and value is validated before anything is
 * written.
 */
KVSTORE_API int kvstore_set_many(kvstore_bucket *b, const char *const *keys,
                                 const void *const *values,
                                 const size_t *lens, size_t n);

/** Deletes `n` keys; missing keys are not an error. Not atomic. */
KVSTORE_API int kvstore_delete_many(kvstore_bucket *b,
                                    const char *const *keys, size_t n);

KVSTORE_END_DECLS

#endif /* KVSTORE_BATCH_H */
