/*
 * Single keys: reads (one read transaction each, from the pool) and
 * writes (through group commit).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lmdb.h"

#include <stdlib.h>
#include <string.h>

int lm_too_big(size_t len)
{
    return kvstore_set_error(KVSTORE_ETOOBIG, "lmdb: a value of %zu bytes "
                             "exceeds the limit of %u bytes (64 MiB)", len,
                             LM_VALUE_MAX);
}

/* The copy the user gets of a live record's value. */
static int copy_out(const void *data, size_t n, void **value, size_t *len)
{
    if ((*value = kvstore_memdup(data, n)) == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "lmdb: out of memory");
    *len = n;
    return KVSTORE_OK;
}

/* Copies the live value of `key` for the user, or KVSTORE_NOTFOUND. */
int lm_read_value(const lm_bucket *b, MDB_txn *txn, const char *key,
                  uint64_t *now, void **value, size_t *len)
{
    unsigned char buf[LM_SKEY_CAP];
    MDB_val skey;
    lm_rec rec;
    int rc = lm_find(b, txn, key, strlen(key), buf, &skey, &rec, NULL);
    if (rc == KVSTORE_OK && lm_rec_expired(&rec, now))
        rc = KVSTORE_NOTFOUND;
    if (rc != KVSTORE_OK)
        return rc;
    /* The map is only valid inside the transaction: copy out. */
    return copy_out(rec.value, rec.len, value, len);
}

/* The general get: any key, through lm_find. */
static int get_any(const lm_bucket *b, const char *key, void **value,
                   size_t *len)
{
    MDB_txn *txn;
    int rc = lm_rtxn_begin(b->st->env, &txn);
    if (rc != KVSTORE_OK)
        return rc;
    uint64_t now = 0;
    rc = lm_read_value(b, txn, key, &now, value, len);
    lm_rtxn_end(b->st->env, txn);
    return rc;
}

/* A short key (every key but those near the stored-key limit) is got in
 * this one frame: the stored key `bucket\0key` is built on the stack and
 * looked up with one mdb_get. Going through lm_read_value and lm_find
 * cost about 110 more instructions a get in calls, frames and a 1 KiB
 * buffer (callgrind, docs/benchmarks.md). */
int lm_get(void *bucket, const char *key, void **value, size_t *len)
{
    const lm_bucket *b = bucket;
    lm_env *e = b->st->env;
    *value = NULL;
    *len = 0;
    size_t klen = strlen(key);
    if (b->nlen + 1 + klen > e->maxkey) /* lm_key_is_long */
        return get_any(b, key, value, len);
    /* The name with its NUL and the zeros after it (the bucket is
     * calloc'ed): a copy of fixed size, a few moves instead of a call. */
    unsigned char buf[LM_KEY_LIMIT];
    _Static_assert(sizeof b->name <= sizeof buf, "a bucket name fits");
    memcpy(buf, b->name, sizeof b->name);
    memcpy(buf + b->nlen + 1, key, klen);
    MDB_val skey = { b->nlen + 1 + klen, buf }, v;
    MDB_txn *txn;
    int rc = lm_rtxn_begin(e, &txn);
    if (rc != KVSTORE_OK)
        return rc;
    int mrc = mdb_get(txn, e->data, &skey, &v);
    lm_rec rec;
    if (mrc == MDB_NOTFOUND)
        rc = KVSTORE_NOTFOUND;
    else if (mrc != 0)
        rc = lm_error(mrc, "get");
    else if (lm_rec_plain(&v))
        rc = copy_out((const unsigned char *)v.mv_data + LM_REC_HEAD,
                      v.mv_size - LM_REC_HEAD, value, len);
    else if ((rc = lm_rec_parse(&v, &rec)) == KVSTORE_OK)
        /* The clock is read only for a record that has an expiry. */
        rc = (rec.flags & LM_REC_TTL) && rec.expires <= lm_now_ms()
                 ? KVSTORE_NOTFOUND
                 : copy_out(rec.value, rec.len, value, len);
    lm_rtxn_end(e, txn);
    return rc;
}

/* Looks `key` up in a read transaction of its own. Only the scalar fields
 * of *rec (flags, version, expiry) outlive it: its key and value pointed
 * into the map and are cleared. */
static int find_header(const lm_bucket *b, const char *key, lm_rec *rec)
{
    MDB_txn *txn;
    unsigned char buf[LM_SKEY_CAP];
    MDB_val skey;
    int rc = lm_rtxn_begin(b->st->env, &txn);
    if (rc != KVSTORE_OK)
        return rc;
    rc = lm_find(b, txn, key, strlen(key), buf, &skey, rec, NULL);
    lm_rtxn_end(b->st->env, txn);
    rec->key = NULL;
    rec->value = NULL;
    return rc;
}

int lm_exists(void *bucket, const char *key, bool *exists)
{
    lm_rec rec;
    uint64_t now = 0;
    *exists = false;
    int rc = find_header(bucket, key, &rec);
    if (rc == KVSTORE_OK)
        *exists = !lm_rec_expired(&rec, &now);
    return rc == KVSTORE_NOTFOUND ? KVSTORE_OK : rc;
}

int lm_ttl(void *bucket, const char *key, int64_t *ms_left)
{
    lm_rec rec;
    uint64_t now = 0;
    *ms_left = -1;
    int rc = find_header(bucket, key, &rec);
    if (rc != KVSTORE_OK)
        return rc;
    if (lm_rec_expired(&rec, &now))
        return KVSTORE_NOTFOUND;
    if (rec.flags & LM_REC_TTL) {
        uint64_t left = rec.expires - now;
        *ms_left = left > INT64_MAX ? INT64_MAX : (int64_t)left;
    }
    return KVSTORE_OK;
}

int lm_put(lm_bucket *b, const char *const *keys, const void *const *values,
           const size_t *lens, size_t n, uint64_t expires)
{
    for (size_t i = 0; i < n; i++)
        if (lens[i] > LM_VALUE_MAX)
            return lm_too_big(lens[i]);
    lm_op op = {
        .kind = LM_OP_PUT, .b = b, .n = n, .keys = keys, .values = values,
        .lens = lens, .expires = expires, .durable = b->st->sync,
    };
    return lm_submit(b->st->env, &op);
}

int lm_set(void *bucket, const char *key, const void *value, size_t len)
{
    return lm_put(bucket, &key, &value, &len, 1, 0);
}

int lm_set_ttl(void *bucket, const char *key, const void *value, size_t len,
               uint64_t ttl_ms)
{
    uint64_t now = lm_now_ms();
    uint64_t expires = ttl_ms > UINT64_MAX - now ? UINT64_MAX : now + ttl_ms;
    return lm_put(bucket, &key, &value, &len, 1, expires);
}

int lm_del(void *bucket, const char *key)
{
    lm_bucket *b = bucket;
    lm_op op = {
        .kind = LM_OP_DEL, .b = b, .n = 1, .keys = &key,
        .durable = b->st->sync,
    };
    op.hit = &op.hit1;
    return lm_submit(b->st->env, &op);
}

