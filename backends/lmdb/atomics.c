/*
 * Increment and compare-and-swap. Both run inside a group-commit write
 * transaction, which LMDB serialises across processes, so the read and
 * the write of one op are atomic for every client of the directory. CAS
 * compares the record's version (the id of the transaction that wrote it),
 * not its bytes, so A->B->A and delete->re-create are conflicts.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lmdb.h"

#include <stdlib.h>
#include <string.h>

typedef struct lm_cas {
    lm_bucket *b;
    char *key;       /* owned */
    bool found;
    uint64_t version;
    void *value;     /* owned copy of the snapshot's value, or NULL */
    size_t len;
} lm_cas;

int lm_increment(void *bucket, const char *key, int64_t delta,
                 int64_t *result)
{
    lm_bucket *b = bucket;
    lm_op op = {
        .kind = LM_OP_INCR, .b = b, .n = 1, .keys = &key, .delta = delta,
        .durable = b->st->sync,
    };
    int rc = lm_submit(b->st->env, &op);
    if (rc == KVSTORE_OK && result != NULL)
        *result = op.result;
    return rc;
}

int lm_cas_open(void **out, void *bucket, const char *key, bool *found,
                const void **value, size_t *len)
{
    lm_bucket *b = bucket;
    lm_cas *c = calloc(1, sizeof *c);
    if (c == NULL || (c->key = strdup(key)) == NULL) {
        free(c);
        return kvstore_set_error(KVSTORE_ENOMEM, "lmdb: out of memory");
    }
    c->b = b;
    MDB_txn *txn;
    int rc = lm_rtxn_begin(b->st->env, &txn);
    if (rc != KVSTORE_OK) {
        lm_cas_free(c);
        return rc;
    }
    unsigned char buf[LM_SKEY_CAP];
    MDB_val skey;
    lm_rec rec;
    rc = lm_find(b, txn, key, strlen(key), buf, &skey, &rec, NULL);
    uint64_t now = 0;
    if (rc == KVSTORE_OK && !lm_rec_expired(&rec, &now)) {
        c->found = true;
        c->version = rec.version;
        c->len = rec.len;
        c->value = malloc(rec.len ? rec.len : 1);
        if (c->value == NULL)
            rc = kvstore_set_error(KVSTORE_ENOMEM, "lmdb: out of memory");
        else if (rec.len)
            memcpy(c->value, rec.value, rec.len);
    } else if (rc == KVSTORE_OK || rc == KVSTORE_NOTFOUND) {
        rc = KVSTORE_OK; /* absent (or expired): swap creates it */
    }
    lm_rtxn_end(b->st->env, txn);
    if (rc == KVSTORE_OK)
        kvstore_cas_lend(found, value, len, c->found, c->value, c->len);
    return kvstore_hand_over(rc, out, c, lm_cas_free);
}

int lm_cas_swap(void *cas, const void *value, size_t len)
{
    lm_cas *c = cas;
    if (len > LM_VALUE_MAX)
        return lm_too_big(len);
    const char *key = c->key;
    lm_op op = {
        .kind = LM_OP_CAS, .b = c->b, .n = 1, .keys = &key,
        .values = &value, .lens = &len, .snap_found = c->found,
        .snap_version = c->version, .durable = c->b->st->sync,
    };
    return lm_submit(c->b->st->env, &op);
}

void lm_cas_free(void *cas)
{
    lm_cas *c = cas;
    free(c->value);
    free(c->key);
    free(c);
}
