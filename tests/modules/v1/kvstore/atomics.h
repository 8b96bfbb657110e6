/*
 * libkvstore - atomic increment and compare-and-swap
 * (wasi:keyvalue/atomics).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_ATOMICS_H
#define KVSTORE_ATOMICS_H

#include "store.h"

KVSTORE_BEGIN_DECLS

/**
 * Adds `delta` to the counter at `key` atomically across every client of
 * the backend and sets *result (which may be NULL) to the new value.
 * Counters are stored as ASCII decimal ("42", "-7"); a missing key counts
 * as 0. A stored value that is not a decimal int64, or a result that
 * overflows int64, is KVSTORE_EINVAL and leaves the value unchanged.
 * Backends without a native increment are served by a compare-and-swap
 * loop; backends with neither return KVSTORE_ENOTSUP.
 */
KVSTORE_API int kvstore_increment(kvstore_bucket *b, const char *key,
                                  int64_t delta, int64_t *result);

/** A compare-and-swap snapshot of one key. Opaque. Used by one thread at a
 * time. */
typedef struct kvstore_cas kvstore_cas;

/**
 * Snapshots the current value and version of `key` (absent is a valid
 * snapshot). *out is owned by the caller and released with
 * kvstore_cas_free(). KVSTORE_ENOTSUP if the backend has no CAS.
 */
KVSTORE_API int kvstore_cas_open(kvstore_cas **out, kvstore_bucket *b,
                                 const char *key);

/**
 * Lends the snapshot's value: KVSTORE_OK with *value (valid until
 * kvstore_cas_free(); not NULL, even for an empty value) and *len, or
 * KVSTORE_NOTFOUND with *value = NULL and *len = 0 if the key was absent.
 */
KVSTORE_API int kvstore_cas_current(kvstore_cas *cas, const void **value,
                                    size_t *len);

/**
 * Writes `value` only if the key is still at the snapshot's version (or
 * still absent). Returns KVSTORE_OK, or KVSTORE_ECONFLICT when another
 * write came first, in which case nothing is written. A snapshot can be
 * swapped once: a second swap on the same handle is KVSTORE_EINVAL; open a
 * new snapshot to retry.
 */
KVSTORE_API int kvstore_cas_swap(kvstore_cas *cas, const void *value,
                                 size_t len);

/** Frees a snapshot. NULL is a harmless no-op. */
KVSTORE_API void kvstore_cas_free(kvstore_cas *cas);

KVSTORE_END_DECLS

#endif /* KVSTORE_ATOMICS_H */
