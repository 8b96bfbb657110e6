/*
 * libkvstore - memory backend: batch operations.
 *
 * There is no wire to batch on, so a batch takes each key's stripe lock
 * once, like the single calls, but skips the core's per-call dispatch and
 * validation loop. Not atomic, as the contract allows.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory.h"

#include <stdlib.h>

int mem_get_many(void *bucket, const char *const *keys, size_t n,
                 void **values, size_t *lens)
{
    /* On failure the core frees the values already read. */
    for (size_t i = 0; i < n; i++) {
        int rc = mem_get(bucket, keys[i], &values[i], &lens[i]);

        if (rc < 0)
            return rc;
    }
    return KVSTORE_OK;
}

int mem_set_many(void *bucket, const char *const *keys,
                 const void *const *values, const size_t *lens, size_t n)
{
    /* Check every size first so an oversized value writes nothing. */
    for (size_t i = 0; i < n; i++) {
        int rc = mem_check_value(lens[i]);
        if (rc != KVSTORE_OK)
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = mem_set(bucket, keys[i], values[i], lens[i]);
        if (rc != KVSTORE_OK)
            return rc;
    }
    return KVSTORE_OK;
}

int mem_delete_many(void *bucket, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = mem_del(bucket, keys[i]);
        if (rc != KVSTORE_OK)
            return rc;
    }
    return KVSTORE_OK;
}
