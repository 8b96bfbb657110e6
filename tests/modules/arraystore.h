/*
 * A small backend for tests: buckets of growing arrays of entries behind
 * one mutex per store. Written only against <kvstore/backend.h>, like any
 * third-party backend. Deleted entries stay as tombstones, so an index is
 * a stable cursor position; every entry carries a version for CAS.
 *
 * The slots are exported (to the test program, or hidden inside a module)
 * so that each test can assemble a table with some optional slots NULL and
 * check the core's fallbacks. Each slot counts its calls.
 *
 * The same source builds against the 1.0 headers (tests/modules/v1/,
 * KVSTORE_BACKEND_VERSION 1): then it has no version 2 slots and wraps
 * its cursors itself.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TESTS_ARRAYSTORE_H
#define TESTS_ARRAYSTORE_H

#include <kvstore/backend.h>

enum arraystore_slot {
    AS_STORE_OPEN, AS_GET, AS_SET, AS_DEL, AS_EXISTS, AS_LIST,
    AS_GET_MANY, AS_SET_MANY, AS_DELETE_MANY, AS_INCREMENT,
    AS_CAS_OPEN, AS_CAS_SWAP,
#if KVSTORE_BACKEND_VERSION >= 2
    AS_SET_TTL, AS_TTL, AS_BUCKET_LIST, AS_BUCKET_REMOVE, AS_BUCKET_INFO,
#endif
    AS_SLOT_COUNT
};

/* Calls per slot since the last arraystore_calls_reset(). */
unsigned long arraystore_calls(enum arraystore_slot slot);
void arraystore_calls_reset(void);

/* The largest value the store accepts (KVSTORE_ETOOBIG above it). */
#define ARRAYSTORE_VALUE_MAX (2u * 1024 * 1024)

int  arraystore_store_open(void **out, const kvstore_uri *uri);
void arraystore_store_close(void *store);
int  arraystore_bucket_open(void **out, void *store, const char *name,
                            bool create);
void arraystore_bucket_close(void *bucket);
int  arraystore_get(void *bucket, const char *key, void **value, size_t *len);
int  arraystore_set(void *bucket, const char *key, const void *value,
                    size_t len);
int  arraystore_del(void *bucket, const char *key);
int  arraystore_exists(void *bucket, const char *key, bool *exists);
int  arraystore_list_keys(void *bucket, const char *prefix,
                          const char *cursor, size_t limit,
                          kvstore_keys **out);
int  arraystore_get_many(void *bucket, const char *const *keys, size_t n,
                         void **values, size_t *lens);
int  arraystore_set_many(void *bucket, const char *const *keys,
                         const void *const *values, const size_t *lens,
                         size_t n);
int  arraystore_delete_many(void *bucket, const char *const *keys, size_t n);
int  arraystore_increment(void *bucket, const char *key, int64_t delta,
                          int64_t *result);
int  arraystore_cas_open(void **out, void *bucket, const char *key,
                         bool *found, const void **value, size_t *len);
int  arraystore_cas_swap(void *cas, const void *value, size_t len);
void arraystore_cas_free(void *cas);
#if KVSTORE_BACKEND_VERSION >= 2
/* Version 2: per-key expiry (an expired entry is absent to every read)
 * and bucket management (a removed bucket lists, opens with create=false
 * and informs as missing until it is opened or written again). */
int  arraystore_set_ttl(void *bucket, const char *key, const void *value,
                        size_t len, uint64_t ttl_ms);
int  arraystore_ttl(void *bucket, const char *key, int64_t *ms_left);
int  arraystore_bucket_list(void *store, const char *cursor, size_t limit,
                            kvstore_keys **out);
int  arraystore_bucket_remove(void *store, const char *name);
int  arraystore_bucket_info(void *store, const char *name,
                            kvstore_bucket_stat *info);
#endif

/* Designated initialisers for the slots of a table: slot X is
 * arraystore_X. */
#define ARRAYSTORE_SLOT(slot) .slot = arraystore_##slot

/* The required slots. */
#define ARRAYSTORE_REQUIRED_SLOTS \
    ARRAYSTORE_SLOT(store_open), ARRAYSTORE_SLOT(store_close), \
    ARRAYSTORE_SLOT(bucket_open), ARRAYSTORE_SLOT(bucket_close), \
    ARRAYSTORE_SLOT(get), ARRAYSTORE_SLOT(set), ARRAYSTORE_SLOT(del), \
    ARRAYSTORE_SLOT(exists), ARRAYSTORE_SLOT(list_keys)

#define ARRAYSTORE_CAS_SLOTS \
    ARRAYSTORE_SLOT(cas_open), ARRAYSTORE_SLOT(cas_swap), \
    ARRAYSTORE_SLOT(cas_free)

/* Per-key expiry and bucket management, with the cap that goes with it
 * (version 2 tables only). */
#if KVSTORE_BACKEND_VERSION >= 2
#define ARRAYSTORE_V2_SLOTS \
    .caps = KVSTORE_CAP_TTL, ARRAYSTORE_SLOT(set_ttl), ARRAYSTORE_SLOT(ttl), \
    ARRAYSTORE_SLOT(bucket_list), ARRAYSTORE_SLOT(bucket_remove), \
    ARRAYSTORE_SLOT(bucket_info)
#endif

#endif /* TESTS_ARRAYSTORE_H */
