/*
 * libkvstore - listing keys with cursor pagination.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_LIST_H
#define KVSTORE_LIST_H

#include "store.h"

KVSTORE_BEGIN_DECLS

/** One page of keys. Owned by the caller; release with kvstore_keys_free(),
 * which frees the keys, the array and the cursor. The keys belong to the
 * page as a whole (they may share allocations): copy a key to keep it. */
typedef struct kvstore_keys {
    char  **keys;   /* `count` NUL-terminated keys */
    size_t  count;
    char   *cursor; /* NULL: no more pages */
} kvstore_keys;

/**
 * Lists the keys of `b` that start (byte-wise) with `prefix` (NULL or ""
 * for all keys). `cursor` NULL starts at the beginning; pass back a page's
 * cursor, with the same prefix, to continue. `limit` 0 lets the backend
 * choose the page size; any other value caps the page at `limit` keys
 * (and never above KVSTORE_PAGE_MAX). A page may be empty while its cursor
 * is not NULL.
 *
 * Cursors are printable strings that stay valid across handles and process
 * restarts while the bucket exists. A cursor this backend did not produce
 * for this bucket is KVSTORE_EINVAL, never a crash; so is a prefix that is
 * not valid UTF-8 or is longer than a key.
 *
 * Walking all pages returns every key that exists for the whole walk at
 * least once; whether a key can repeat is documented per backend.
 *
 * On success *out is owned by the caller (kvstore_keys_free()); on failure
 * it is NULL.
 */
KVSTORE_API int kvstore_list_keys(kvstore_bucket *b, const char *prefix,
                                  const char *cursor, size_t limit,
                                  kvstore_keys **out);

/** Frees a page. NULL is a harmless no-op. */
KVSTORE_API void kvstore_keys_free(kvstore_keys *page);

KVSTORE_END_DECLS

#endif /* KVSTORE_LIST_H */
