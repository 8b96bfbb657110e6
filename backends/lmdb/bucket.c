/*
 * Buckets: each has a registry entry '\0' name; its keys are stored under
 * "name\0" (lmdb.h). Opening with create adds the name (through group commit, so
 * it is as durable as a set); removing deletes the name and its whole key
 * range in one transaction.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lmdb.h"

#include <stdlib.h>
#include <string.h>

/* Sets *found to whether bucket `name` is registered; a missing bucket
 * is KVSTORE_ENOSTORE when it is `required`. */
static int bucket_find(lm_env *e, const char *name, bool required, bool *found)
{
    MDB_txn *txn;
    int rc = lm_rtxn_begin(e, &txn);
    if (rc != KVSTORE_OK)
        return rc;
    unsigned char rk[KVSTORE_BUCKET_NAME_MAX + 1];
    MDB_val k = { lm_bucket_key(name, strlen(name), rk), rk }, v;
    int mrc = mdb_get(txn, e->data, &k, &v);
    lm_rtxn_end(e, txn);
    if (mrc != 0 && mrc != MDB_NOTFOUND)
        return lm_error(mrc, "bucket lookup");
    *found = mrc == 0;
    if (!*found && required)
        return kvstore_set_error(KVSTORE_ENOSTORE, "lmdb: no bucket '%s'",
                                 name);
    return KVSTORE_OK;
}

int lm_bucket_open(void **out, void *store, const char *name, bool create)
{
    lm_store *st = store;
    lm_bucket *b = calloc(1, sizeof *b);
    if (b == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "lmdb: out of memory");
    b->st = st;
    b->nlen = strlen(name);
    memcpy(b->name, name, b->nlen + 1);
    bool found;
    int rc = bucket_find(st->env, name, !create, &found);
    if (rc == KVSTORE_OK && !found) {
        lm_op op = { .kind = LM_OP_BUCKET_ADD, .b = b, .durable = st->sync };
        rc = lm_submit(st->env, &op);
    }
    if (rc == KVSTORE_OK)
        *out = b;
    else
        free(b);
    return rc;
}

void lm_bucket_close(void *bucket)
{
    free(bucket);
}

int lm_bucket_remove(void *store, const char *name)
{
    lm_store *st = store;
    lm_op op = { .kind = LM_OP_BUCKET_DROP, .name = name,
                 .durable = st->sync };
    return lm_submit(st->env, &op);
}

int lm_bucket_info(void *store, const char *name, kvstore_bucket_stat *info)
{
    lm_store *st = store;
    bool found;
    int rc = bucket_find(st->env, name, true, &found);
    /* Counting keys is a scan of the bucket (and expired records would
     * have to be read): not cheap, so keys stays -1. */
    if (rc == KVSTORE_OK)
        info->max_value = LM_VALUE_MAX;
    return rc;
}
