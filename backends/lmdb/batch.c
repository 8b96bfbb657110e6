/*
 * Batches: get_many reads every key in one read transaction (one
 * snapshot); set_many and delete_many are one group-commit op each, so
 * each is one LMDB write transaction (atomic) shared with the writers
 * queued beside it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lmdb.h"

#include <stdlib.h>

int lm_get_many(void *bucket, const char *const *keys, size_t n,
                void **values, size_t *lens)
{
    lm_bucket *b = bucket;
    MDB_txn *txn;
    for (size_t i = 0; i < n; i++) {
        values[i] = NULL;
        lens[i] = 0;
    }
    int rc = lm_rtxn_begin(b->st->env, &txn);
    if (rc != KVSTORE_OK)
        return rc;
    /* One snapshot for the whole batch. */
    uint64_t now = 0;
    for (size_t i = 0; i < n && rc >= 0; i++)
        rc = lm_read_value(b, txn, keys[i], &now, &values[i], &lens[i]);
    lm_rtxn_end(b->st->env, txn);
    if (rc < 0) {
        for (size_t i = 0; i < n; i++) {
            kvstore_free(values[i]);
            values[i] = NULL;
            lens[i] = 0;
        }
        return rc;
    }
    return KVSTORE_OK;
}

int lm_set_many(void *bucket, const char *const *keys,
                const void *const *values, const size_t *lens, size_t n)
{
    return lm_put(bucket, keys, values, lens, n, 0);
}

int lm_delete_many(void *bucket, const char *const *keys, size_t n)
{
    lm_bucket *b = bucket;
    unsigned char *hit = calloc(n ? n : 1, 1);
    if (hit == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "lmdb: out of memory");
    lm_op op = {
        .kind = LM_OP_DEL, .b = b, .n = n, .keys = keys, .hit = hit,
        .durable = b->st->sync,
    };
    int rc = lm_submit(b->st->env, &op);
    free(hit);
    return rc;
}
