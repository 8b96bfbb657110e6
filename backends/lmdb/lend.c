/*
 * get_with, the get that lends the value (kvstore_get_with): the callback
 * reads the record in LMDB's map, which stays valid for as long as the
 * read transaction it was found in, so a get costs no allocation and no
 * copy. The transaction pins that snapshot's pages meanwhile: writers go
 * on (LMDB's readers never block them) but cannot reuse those pages, and
 * a map resize (lm_env_grow) waits for the callback, which the API's
 * "copy what you need and return" keeps short.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lmdb.h"

#include <string.h>

int lm_get_with(void *bucket, const char *key, kvstore_value_fn fn,
                void *ctx)
{
    lm_bucket *b = bucket;
    MDB_txn *txn;
    int rc = lm_rtxn_begin(b->st->env, &txn);
    if (rc != KVSTORE_OK)
        return rc;
    unsigned char buf[LM_SKEY_CAP];
    MDB_val skey;
    lm_rec rec;
    uint64_t now = 0;
    rc = lm_find(b, txn, key, strlen(key), buf, &skey, &rec, NULL);
    if (rc == KVSTORE_OK && lm_rec_expired(&rec, &now))
        rc = KVSTORE_NOTFOUND;
    if (rc == KVSTORE_OK) {
        /* An empty value may sit at the record's end: never lend NULL. */
        rc = fn(ctx, rec.value != NULL ? rec.value : "", rec.len);
    }
    lm_rtxn_end(b->st->env, txn);
    return rc;
}
