/*
 * libkvstore - managing the buckets of a store (since 1.1).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_BUCKETS_H
#define KVSTORE_BUCKETS_H

#include "common.h"
#include "list.h"
#include "store.h"

KVSTORE_BEGIN_DECLS

/** What kvstore_bucket_info() reports. Public and append-only: the caller
 * sets `version` to KVSTORE_BUCKET_STAT_VERSION and the library fills only
 * the fields that version has. */
#define KVSTORE_BUCKET_STAT_VERSION 1
typedef struct kvstore_bucket_stat {
    unsigned int version; /* KVSTORE_BUCKET_STAT_VERSION, set by the caller */
    int64_t keys;         /* number of keys, or -1 when not cheap to know */
    uint64_t max_value;   /* largest value accepted, bytes; 0 if unknown */
    uint64_t ttl_ms;      /* expiry of every key in the bucket; 0: none */
} kvstore_bucket_stat;

/**
 * Opens the bucket `name` of `store` only if it exists, whatever the
 * store's "create" parameter: a missing bucket is KVSTORE_ENOSTORE and is
 * not created. For readers that must not leave a bucket behind (a typo in
 * a bucket name). Otherwise as kvstore_bucket_open().
 */
KVSTORE_API int kvstore_bucket_open_existing(kvstore_bucket **out,
                                             kvstore_store *store,
                                             const char *name);

/**
 * Lists the names of the store's buckets, a page at a time, in the manner
 * of kvstore_list_keys (`cursor` NULL for the first page, then the page's
 * cursor; `limit` 0 for the backend's choice, at most KVSTORE_PAGE_MAX).
 * *out is owned by the caller and released with kvstore_keys_free().
 * Returns KVSTORE_OK, KVSTORE_EINVAL (NULL argument, foreign cursor) or
 * KVSTORE_ENOTSUP when the backend cannot list buckets.
 */
KVSTORE_API int kvstore_bucket_list(kvstore_store *store, const char *cursor,
                                    size_t limit, kvstore_keys **out);

/**
 * Removes the bucket `name` and every key in it. Open handles of that
 * bucket see it empty (or missing) afterwards. Returns KVSTORE_OK,
 * KVSTORE_ENOSTORE if there is no such bucket, KVSTORE_EINVAL or
 * KVSTORE_ENOTSUP.
 */
KVSTORE_API int kvstore_bucket_remove(kvstore_store *store, const char *name);

/**
 * Fills *info for the bucket `name` (info->version must be set; unknown
 * fields are left 0, keys -1). Returns KVSTORE_OK, KVSTORE_ENOSTORE if the
 * bucket does not exist, KVSTORE_EINVAL (NULL argument, bad name, unknown
 * info->version) or KVSTORE_ENOTSUP.
 */
KVSTORE_API int kvstore_bucket_info(kvstore_store *store, const char *name,
                                    kvstore_bucket_stat *info);

KVSTORE_END_DECLS

#endif /* KVSTORE_BUCKETS_H */
