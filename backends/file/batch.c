/*
 * libkvstore - file backend: batches of sets and deletes.
 *
 * Each key is written as a single set or delete would write it (store.c);
 * what a batch saves is the directory fsync, paid once for all renames.
 * A batch is not atomic as a whole (docs/backends/file.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include "file.h"

/* Ends a batch that stopped before key `i` with `rc`: the one directory
 * sync, also after a failure when earlier keys were written (they stay). */
static int batch_end(void *bucket, size_t i, int rc)
{
    if (rc == KVSTORE_OK)
        return kvf_dir_sync(bucket);
    if (i > 0)
        kvf_dir_sync(bucket);
    return rc;
}

int kvf_set_many(void *bucket, const char *const *keys,
                 const void *const *values, const size_t *lens, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lens[i] > KVF_VALUE_MAX)
            return kvf_too_big(lens[i]);
    for (size_t i = 0; i < n; i++) {
        int rc = kvf_set_one(bucket, keys[i], values[i], lens[i], 0);
        if (rc != KVSTORE_OK)
            return batch_end(bucket, i, rc);
    }
    return batch_end(bucket, n, KVSTORE_OK);
}

int kvf_delete_many(void *bucket, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = kvf_del_one(bucket, keys[i]);
        if (rc != KVSTORE_OK)
            return batch_end(bucket, i, rc);
    }
    return batch_end(bucket, n, KVSTORE_OK);
}

