/*
 * Group commit. Every write of this process to one directory goes through
 * lm_submit() into one kvstore_commit_queue (<kvstore/backend.h>): the
 * core queues the ops, makes one writer the leader and gathers the
 * writers of the last commit; the leader runs commit_batch() here, which
 * applies the whole batch in one LMDB write transaction, commits it (one
 * sync for all) and dispatches the watch events. Each writer therefore
 * returns only after the commit that holds its write. LMDB itself
 * serialises writers (one write transaction per environment, across
 * processes), so batching is where concurrent writers gain.
 *
 * An op's own failure (not a counter, CAS conflict, missing bucket) is
 * decided before it writes anything, so it fails alone; an LMDB failure
 * (map full, I/O) aborts the transaction: a full map is grown and the
 * batch retried, anything else fails every op of the batch. A committed
 * batch may be followed by a reaping pass (reap.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lmdb.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void op_fail(lm_op *op, int rc, const char *fmt, ...)
    KVSTORE_PRINTF(3, 4);

static void op_fail(lm_op *op, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(op->msg, sizeof op->msg, fmt, ap);
    va_end(ap);
    op->rc = rc;
}

/* Writes one record of `key` in bucket `b` at `version`. Returns an LMDB
 * code (0 or an error that aborts the batch) and sets op->rc for an op
 * error. */
static int put_one(MDB_txn *txn, lm_env *e, const lm_bucket *b,
                   const char *key, const void *value, size_t len,
                   uint64_t expires, uint64_t version)
{
    unsigned char buf[LM_SKEY_CAP], kcopy[LM_SKEY_CAP];
    MDB_val skey, slot, v;
    lm_rec rec;
    size_t klen = strlen(key);
    bool longk = lm_key_is_long(b, klen);
    if (!longk) {
        /* A short key has one stored key: no lookup needed. */
        size_t at = lm_skey_bucket(b, kcopy);
        memcpy(kcopy + at, key, klen);
        slot.mv_data = kcopy;
        slot.mv_size = at + klen;
    } else {
        int rc = lm_find(b, txn, key, klen, buf, &skey, &rec, &slot);
        if (rc == KVSTORE_OK)
            slot = skey; /* overwrite in place */
        else if (rc != KVSTORE_NOTFOUND)
            return MDB_CORRUPTED;
        /* Copy the stored key: lm_find may have pointed it into the map. */
        memcpy(kcopy, slot.mv_data, slot.mv_size);
        slot.mv_data = kcopy;
    }
    size_t size = lm_rec_build(NULL, version, expires, longk ? key : NULL,
                               klen, value, len);
    v.mv_size = size;
    v.mv_data = NULL;
    /* MDB_RESERVE: LMDB hands us the space and we build the record in
     * place, saving one copy of the value. */
    int rc = mdb_put(txn, e->data, &slot, &v, MDB_RESERVE);
    if (rc != 0)
        return rc;
    lm_rec_build(v.mv_data, version, expires, longk ? key : NULL, klen,
                 value, len);
    return 0;
}

/* Reads the live record of `key`: KVSTORE_OK, KVSTORE_NOTFOUND (absent or
 * expired) or an error. */
static int read_live(MDB_txn *txn, const lm_bucket *b, const char *key,
                     lm_rec *rec)
{
    unsigned char buf[LM_SKEY_CAP];
    MDB_val skey;
    int rc = lm_find(b, txn, key, strlen(key), buf, &skey, rec, NULL);
    uint64_t now = 0;
    if (rc == KVSTORE_OK && lm_rec_expired(rec, &now))
        rc = KVSTORE_NOTFOUND;
    return rc;
}

/* Registers bucket `b` if a write finds it removed (or never added). */
static int ensure_bucket(MDB_txn *txn, lm_env *e, const lm_bucket *b)
{
    unsigned char rk[KVSTORE_BUCKET_NAME_MAX + 1];
    MDB_val k = { lm_bucket_key(b->name, b->nlen, rk), rk }, v = { 0, NULL };
    int rc = mdb_put(txn, e->data, &k, &v, MDB_NOOVERWRITE);
    return rc == MDB_KEYEXIST ? 0 : rc;
}

static int drop_bucket(MDB_txn *txn, lm_env *e, lm_op *op)
{
    size_t nlen = strlen(op->name);
    unsigned char rk[KVSTORE_BUCKET_NAME_MAX + 1];
    MDB_val k = { lm_bucket_key(op->name, nlen, rk), rk }, v;
    int rc = mdb_del(txn, e->data, &k, NULL);
    if (rc == MDB_NOTFOUND) {
        op_fail(op, KVSTORE_ENOSTORE, "lmdb: no bucket '%s'", op->name);
        return 0;
    }
    if (rc != 0)
        return rc;
    unsigned char pre[KVSTORE_BUCKET_NAME_MAX + 1];
    memcpy(pre, op->name, nlen);
    pre[nlen] = '\0';
    MDB_cursor *c;
    if ((rc = mdb_cursor_open(txn, e->data, &c)) != 0)
        return rc;
    /* Seek to the bucket's first key each time: simple, and O(log n) per
     * key removed. */
    for (;;) {
        k.mv_data = pre;
        k.mv_size = nlen + 1;
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        if (rc != 0 || k.mv_size < nlen + 1 ||
            memcmp(k.mv_data, pre, nlen + 1) != 0)
            break;
        if ((rc = mdb_cursor_del(c, 0)) != 0)
            break;
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Applies one op. Returns 0 or an LMDB error for the whole batch. */
static int apply(MDB_txn *txn, lm_env *e, lm_op *op, uint64_t version)
{
    lm_rec rec;
    int rc = 0;
    op->rc = KVSTORE_OK;
    switch (op->kind) {
    case LM_OP_PUT:
        for (size_t i = 0; i < op->n && rc == 0; i++)
            rc = put_one(txn, e, op->b, op->keys[i], op->values[i],
                         op->lens[i], op->expires, version);
        if (rc == 0)
            rc = ensure_bucket(txn, e, op->b);
        return rc;
    case LM_OP_DEL:
        for (size_t i = 0; i < op->n && rc == 0; i++) {
            unsigned char buf[LM_SKEY_CAP];
            MDB_val skey;
            int f = lm_find(op->b, txn, op->keys[i], strlen(op->keys[i]),
                            buf, &skey, &rec, NULL);
            if (f == KVSTORE_NOTFOUND)
                continue;
            if (f != KVSTORE_OK)
                return MDB_CORRUPTED;
            unsigned char kcopy[LM_SKEY_CAP];
            memcpy(kcopy, skey.mv_data, skey.mv_size);
            skey.mv_data = kcopy;
            /* An expired record is absent for readers: no event. */
            uint64_t now = 0;
            if (op->hit != NULL && !lm_rec_expired(&rec, &now))
                op->hit[i] = 1;
            rc = mdb_del(txn, e->data, &skey, NULL);
        }
        return rc;
    case LM_OP_INCR: {
        int64_t cur = 0, next;
        int f = read_live(txn, op->b, op->keys[0], &rec);
        if (f == KVSTORE_OK &&
            kvstore_counter_parse(rec.value, rec.len, &cur) != KVSTORE_OK) {
            op_fail(op, KVSTORE_EINVAL, "lmdb: the value of '%s' is not a "
                    "decimal int64 counter", op->keys[0]);
            return 0;
        }
        if (f != KVSTORE_OK && f != KVSTORE_NOTFOUND)
            return MDB_CORRUPTED;
        if (__builtin_add_overflow(cur, op->delta, &next)) {
            op_fail(op, KVSTORE_EINVAL, "lmdb: incrementing '%s' by %" PRId64
                    " overflows int64", op->keys[0], op->delta);
            return 0;
        }
        char text[24];
        int n = snprintf(text, sizeof text, "%" PRId64, next);
        op->result = next;
        /* A counter keeps no expiry of an earlier set_ttl: like set. */
        rc = put_one(txn, e, op->b, op->keys[0], text, (size_t)n, 0,
                     version);
        return rc == 0 ? ensure_bucket(txn, e, op->b) : rc;
    }
    case LM_OP_CAS: {
        int f = read_live(txn, op->b, op->keys[0], &rec);
        if (f != KVSTORE_OK && f != KVSTORE_NOTFOUND)
            return MDB_CORRUPTED;
        bool same = f == KVSTORE_OK ? op->snap_found &&
                                          rec.version == op->snap_version
                                    : !op->snap_found;
        if (!same) {
            op_fail(op, KVSTORE_ECONFLICT, "lmdb: '%s' changed since the "
                    "compare-and-swap snapshot", op->keys[0]);
            return 0;
        }
        rc = put_one(txn, e, op->b, op->keys[0], op->values[0], op->lens[0],
                     0, version);
        return rc == 0 ? ensure_bucket(txn, e, op->b) : rc;
    }
    case LM_OP_BUCKET_ADD:
        return ensure_bucket(txn, e, op->b);
    case LM_OP_BUCKET_DROP:
        return drop_bucket(txn, e, op);
    }
    return 0;
}

typedef struct batch {
    lm_env *e;
    void *const *ops;
    size_t n;
} batch;

/* lm_write_txn's body: every op of the batch, versioned by the txn id. */
static int apply_batch(MDB_txn *txn, void *ctx)
{
    const batch *b = ctx;
    uint64_t version = (uint64_t)mdb_txn_id(txn);
    int rc = 0;
    for (size_t i = 0; i < b->n && rc == 0; i++)
        rc = apply(txn, b->e, b->ops[i], version);
    return rc;
}

/* The commit queue's callback: applies one batch in one write
 * transaction and commits it, on the leader; every op gets its rc, and
 * the watches their events before the next batch starts. */
static int commit_batch(void *ctx, void *const *ops, int *status, size_t n)
{
    lm_env *e = ctx;
    bool durable = false;
    for (size_t i = 0; i < n; i++)
        durable |= ((lm_op *)ops[i])->durable;

    for (int attempt = 0;; attempt++) {
        for (size_t i = 0; i < n; i++) {
            lm_op *op = ops[i];
            if (op->hit != NULL)
                memset(op->hit, 0, op->n);
        }
        /* Only this thread commits in this process, so the sync flag can
         * follow the batch: one durable op makes the whole commit sync. */
        size_t mapsize;
        int rc = lm_write_txn(e, durable ? 0 : 1, apply_batch,
                              &(batch){ e, ops, n }, &mapsize);
        if (rc == 0) {
            for (size_t i = 0; i < n; i++)
                status[i] = ((lm_op *)ops[i])->rc;
            lm_watch_dispatch(e, ops, n);
            /* After the statuses are set, so a pass cannot change them;
             * before the writers are released, like sqlite's reaping. */
            lm_maybe_reap(e);
            return KVSTORE_OK;
        }
        if ((rc == MDB_MAP_FULL || rc == MDB_MAP_RESIZED) && attempt < 40) {
            if (lm_env_grow(e, mapsize, rc == MDB_MAP_RESIZED) == KVSTORE_OK)
                continue;
        }
        int code = rc == ENOMEM ? KVSTORE_ENOMEM : KVSTORE_EIO;
        for (size_t i = 0; i < n; i++) {
            if (rc == MDB_CORRUPTED)
                op_fail(ops[i], code, "lmdb: write failed: a malformed "
                        "record (the store was written by something else)");
            else
                op_fail(ops[i], code, "lmdb: write failed: %s",
                        mdb_strerror(rc));
        }
        return code;
    }
}

int lm_commits_new(lm_env *e)
{
    return kvstore_commit_queue_new(&e->commits, commit_batch, e);
}
