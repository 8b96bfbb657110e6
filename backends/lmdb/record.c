/*
 * Stored keys and records (layout in lmdb.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lmdb.h"

#include <endian.h>
#include <string.h>
#include <time.h>

#define HASH_LEN 8
#define SEQ_LEN 2
/* 0xFF never occurs in UTF-8: it marks the long form. */
#define LONG_MARK 0xFFu

uint64_t lm_now_ms(void)
{
    /* Wall-clock time: expiries are shared with other processes and must
     * survive a restart. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Little-endian, unaligned: one load or store each. The byte loops they
 * replace were 48 of the 76 instructions of parsing a record on every get
 * (callgrind, docs/benchmarks.md). */
static void put64(unsigned char *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, sizeof v);
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return le64toh(v);
}

int lm_rec_parse(const MDB_val *v, lm_rec *out)
{
    const unsigned char *p = v->mv_data;
    size_t n = v->mv_size, at = 9;
    if (n < 9 || (p[0] & ~(LM_REC_TTL | LM_REC_LONG)) != 0)
        goto bad;
    /* Every field is assigned (no memset first): this runs on every get. */
    out->flags = p[0];
    out->version = get64(p + 1);
    out->expires = 0;
    out->key = NULL;
    out->klen = 0;
    if (out->flags & LM_REC_TTL) {
        if (n - at < 8)
            goto bad;
        out->expires = get64(p + at);
        at += 8;
    }
    if (out->flags & LM_REC_LONG) {
        if (n - at < 2)
            goto bad;
        size_t klen = (size_t)p[at] | (size_t)p[at + 1] << 8;
        at += 2;
        if (n - at < klen || klen == 0 || klen > KVSTORE_KEY_MAX)
            goto bad;
        out->key = (const char *)p + at;
        out->klen = klen;
        at += klen;
    }
    out->value = p + at;
    out->len = n - at;
    return KVSTORE_OK;
bad:
    return kvstore_set_error(KVSTORE_EIO, "lmdb: malformed record (the "
                             "store was written by something else)");
}

bool lm_rec_expired(const lm_rec *r, uint64_t *now)
{
    if (!(r->flags & LM_REC_TTL))
        return false;
    if (*now == 0)
        *now = lm_now_ms();
    return r->expires <= *now;
}

bool lm_rec_raw_expired(const MDB_val *v, uint64_t now)
{
    const unsigned char *p = v->mv_data;
    if (v->mv_size < LM_REC_HEAD + 8 || !(p[0] & LM_REC_TTL) ||
        (p[0] & ~(LM_REC_TTL | LM_REC_LONG)) != 0)
        return false;
    return get64(p + LM_REC_HEAD) <= now;
}

size_t lm_rec_build(void *buf, uint64_t version, uint64_t expires,
                    const char *longkey, size_t klen, const void *value,
                    size_t len)
{
    size_t size = 9 + (expires ? 8 : 0) + (longkey ? 2 + klen : 0) + len;
    if (buf == NULL)
        return size;
    unsigned char *p = buf;
    p[0] = (unsigned char)((expires ? LM_REC_TTL : 0) |
                           (longkey ? LM_REC_LONG : 0));
    put64(p + 1, version);
    size_t at = 9;
    if (expires) {
        put64(p + at, expires);
        at += 8;
    }
    if (longkey) {
        p[at] = (unsigned char)(klen & 0xff);
        p[at + 1] = (unsigned char)(klen >> 8);
        memcpy(p + at + 2, longkey, klen);
        at += 2 + klen;
    }
    if (len)
        memcpy(p + at, value, len);
    return size;
}

bool lm_key_is_long(const lm_bucket *b, size_t klen)
{
    return b->nlen + 1 + klen > b->st->env->maxkey;
}

size_t lm_long_keep(const lm_bucket *b)
{
    return b->st->env->maxkey - b->nlen - 1 - 1 - HASH_LEN - SEQ_LEN;
}

size_t lm_bucket_key(const char *name, size_t nlen, unsigned char *buf)
{
    buf[0] = '\0';
    memcpy(buf + 1, name, nlen);
    return nlen + 1;
}

size_t lm_skey_bucket(const lm_bucket *b, unsigned char *buf)
{
    memcpy(buf, b->name, b->nlen);
    buf[b->nlen] = '\0';
    return b->nlen + 1;
}

static uint64_t fnv64(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int lm_find(const lm_bucket *b, MDB_txn *txn, const char *key, size_t klen,
            unsigned char *buf, MDB_val *skey, lm_rec *rec,
            MDB_val *free_slot)
{
    lm_env *e = b->st->env;
    size_t at = lm_skey_bucket(b, buf);
    MDB_val v;
    int rc;
    if (!lm_key_is_long(b, klen)) {
        memcpy(buf + at, key, klen);
        skey->mv_data = buf;
        skey->mv_size = at + klen;
        rc = mdb_get(txn, e->data, skey, &v);
        if (rc == MDB_NOTFOUND) {
            if (free_slot != NULL)
                *free_slot = *skey;
            return KVSTORE_NOTFOUND;
        }
        if (rc != 0)
            return lm_error(rc, "get");
        return lm_rec_parse(&v, rec);
    }

    /* Long form: walk the (normally one-entry) range of keys that share
     * the kept bytes and the hash, and compare the whole key. */
    size_t keep = lm_long_keep(b);
    memcpy(buf + at, key, keep);
    at += keep;
    buf[at++] = LONG_MARK;
    uint64_t h = fnv64(key, klen);
    for (int i = 0; i < HASH_LEN; i++)
        buf[at++] = (unsigned char)(h >> (56 - 8 * i));
    size_t plen = at;
    buf[at++] = 0;
    buf[at++] = 0;
    MDB_cursor *c;
    if ((rc = mdb_cursor_open(txn, e->data, &c)) != 0)
        return lm_error(rc, "cursor");
    MDB_val k = { at, buf };
    unsigned next_seq = 0;
    bool gap = false;
    int out = KVSTORE_NOTFOUND;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == plen + SEQ_LEN &&
           memcmp(k.mv_data, buf, plen) == 0) {
        const unsigned char *kp = k.mv_data;
        unsigned seq = (unsigned)kp[plen] << 8 | kp[plen + 1];
        int prc = lm_rec_parse(&v, rec);
        if (prc != KVSTORE_OK) {
            out = prc;
            break;
        }
        if (rec->key != NULL && rec->klen == klen &&
            memcmp(rec->key, key, klen) == 0) {
            *skey = k;
            out = KVSTORE_OK;
            break;
        }
        if (!gap && seq == next_seq)
            next_seq++;
        else
            gap = true;
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    if (out == KVSTORE_NOTFOUND && rc != 0 && rc != MDB_NOTFOUND)
        return lm_error(rc, "get");
    if (out == KVSTORE_NOTFOUND && free_slot != NULL) {
        if (next_seq > 0xffff)
            return kvstore_set_error(KVSTORE_EIO, "lmdb: too many keys "
                                     "collide with this long key");
        buf[plen] = (unsigned char)(next_seq >> 8);
        buf[plen + 1] = (unsigned char)(next_seq & 0xff);
        free_slot->mv_data = buf;
        free_slot->mv_size = plen + SEQ_LEN;
    }
    return out;
}

void lm_user_key(const lm_bucket *b, const MDB_val *k, const lm_rec *r,
                 const char **key, size_t *klen)
{
    if (r->key != NULL) {
        *key = r->key;
        *klen = r->klen;
    } else {
        *key = (const char *)k->mv_data + b->nlen + 1;
        *klen = k->mv_size - b->nlen - 1;
    }
}
