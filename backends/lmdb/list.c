/*
 * Listing is a range scan of the ordered key space. A page's cursor state
 * is the position of its last entry: the lower-case hex of that entry's
 * stored key after "bucket\0" (hex because a long key's stored form holds
 * binary hash bytes). Resuming seeks there (O(log n)) and goes on: no
 * snapshot, nothing kept between pages. The state is untrusted (a guest can
 * forge one): it is parsed strictly and only ever placed after this
 * bucket's own "bucket\0", and the scan stops at the end of the bucket's
 * (and the prefix's) range, so a forged state gives EINVAL or a page of
 * this bucket.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lmdb.h"

#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int bad_cursor(void)
{
    return kvstore_set_error(KVSTORE_EINVAL, "lmdb: malformed list cursor");
}

/* Decodes `state` into buf + at; sets *len. */
static int decode_state(const char *state, unsigned char *buf, size_t at,
                        size_t cap, size_t *len)
{
    size_t n = strlen(state);
    if (n == 0 || n % 2 != 0 || at + n / 2 > cap)
        return bad_cursor();
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(state[i]), lo = hexval(state[i + 1]);
        if (hi < 0 || lo < 0)
            return bad_cursor();
        buf[at + i / 2] = (unsigned char)(hi << 4 | lo);
    }
    *len = n / 2;
    return KVSTORE_OK;
}

static int set_state(kvstore_keys *page, const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char state[2 * LM_SKEY_CAP + 1];
    for (size_t i = 0; i < n; i++) {
        state[2 * i] = digits[p[i] >> 4];
        state[2 * i + 1] = digits[p[i] & 15];
    }
    state[2 * n] = '\0';
    return kvstore_keys_set_cursor(page, state);
}

/* A page being filled from one cursor in one read transaction. */
typedef struct scan {
    kvstore_keys *page;
    MDB_txn *txn;
    MDB_cursor *c;
} scan;

/* Starts a scan: an empty page, a read transaction and a cursor on the
 * main database. On failure nothing is left open. */
static int scan_begin(lm_env *e, scan *s)
{
    s->c = NULL;
    s->page = kvstore_keys_new();
    if (s->page == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "lmdb: out of memory");
    int rc = lm_rtxn_begin(e, &s->txn);
    if (rc != KVSTORE_OK) {
        kvstore_keys_free(s->page);
        return rc;
    }
    int mrc = mdb_cursor_open(s->txn, e->data, &s->c);
    if (mrc != 0) {
        s->c = NULL;
        lm_rtxn_end(e, s->txn);
        kvstore_keys_free(s->page);
        return lm_error(mrc, "cursor");
    }
    return KVSTORE_OK;
}

/* Closes the cursor; the status of the walk: `rc`, else the cursor's last
 * `mrc` unless that is the end of the data. The transaction stays open
 * (the last entry seen still points into the map). */
static int scan_stop(scan *s, int rc, int mrc, const char *what)
{
    mdb_cursor_close(s->c);
    s->c = NULL;
    if (rc == KVSTORE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = lm_error(mrc, what);
    return rc;
}

/* Ends the transaction and hands the page to *out, or frees it when `rc`
 * is a failure. */
static int scan_finish(lm_env *e, scan *s, int rc, kvstore_keys **out)
{
    lm_rtxn_end(e, s->txn);
    if (rc != KVSTORE_OK) {
        kvstore_keys_free(s->page);
        return rc;
    }
    *out = s->page;
    return KVSTORE_OK;
}

int lm_list_keys(void *bucket, const char *prefix, const char *cursor,
                 size_t limit, kvstore_keys **out)
{
    lm_bucket *b = bucket;
    lm_env *e = b->st->env;
    unsigned char lo[LM_SKEY_CAP], from[LM_SKEY_CAP];
    size_t plen = strlen(prefix);

    /* The range: stored keys that start with bucket '\0' prefix', where
     * prefix' is the prefix cut to what a long key keeps, so long keys are
     * in it too; entries are then checked against the whole prefix. */
    size_t at = lm_skey_bucket(b, lo);
    size_t cut = plen < lm_long_keep(b) ? plen : lm_long_keep(b);
    memcpy(lo + at, prefix, cut);
    size_t lolen = at + cut;

    size_t fromlen = lolen;
    memcpy(from, lo, lolen);
    bool skip_equal = false;
    if (cursor != NULL) {
        size_t slen = 0;
        memcpy(from, lo, at);
        int rc = decode_state(cursor, from, at, e->maxkey, &slen);
        if (rc != KVSTORE_OK)
            return rc;
        /* Start from the later of the cursor and the range start. */
        size_t m = at + slen < lolen ? at + slen : lolen;
        int cmp = memcmp(from, lo, m);
        if (cmp > 0 || (cmp == 0 && at + slen >= lolen)) {
            fromlen = at + slen;
            skip_equal = true;
        } else {
            memcpy(from, lo, lolen);
        }
    }

    scan sc;
    int rc = scan_begin(e, &sc);
    if (rc != KVSTORE_OK)
        return rc;
    kvstore_keys *page = sc.page;
    MDB_cursor *c = sc.c;
    MDB_val k = { fromlen, from }, v;
    uint64_t now = 0;
    bool more = false;
    MDB_val last = { 0, NULL }; /* points into the map: copied before the
                                  transaction ends */
    int mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (mrc == 0 && skip_equal && k.mv_size == fromlen &&
        memcmp(k.mv_data, from, fromlen) == 0)
        mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    while (mrc == 0 && rc == KVSTORE_OK) {
        if (k.mv_size < lolen || memcmp(k.mv_data, lo, lolen) != 0)
            break; /* past the bucket's (prefix's) range */
        if (page->count == limit) {
            more = true;
            break;
        }
        const char *key = (const char *)k.mv_data + at;
        size_t klen = k.mv_size - at;
        const unsigned char *vp = v.mv_data;
        if (v.mv_size >= 9 && vp[0] == 0) {
            /* The common record (no expiry, short key): the key is the
             * stored key's suffix and the range already holds the whole
             * prefix when it was not cut. */
            if (plen == cut ||
                (klen >= plen && memcmp(key, prefix, plen) == 0))
                rc = kvstore_keys_add(page, key, klen);
        } else {
            lm_rec rec;
            if ((rc = lm_rec_parse(&v, &rec)) != KVSTORE_OK)
                break;
            lm_user_key(b, &k, &rec, &key, &klen);
            if (!lm_rec_expired(&rec, &now) && klen >= plen &&
                memcmp(key, prefix, plen) == 0)
                rc = kvstore_keys_add(page, key, klen);
        }
        last = k;
        mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    rc = scan_stop(&sc, rc, mrc, "list");
    /* With a full page, the next may hold more: its state is our last
     * entry. */
    if (rc == KVSTORE_OK && more && last.mv_size > at)
        rc = set_state(page, (const unsigned char *)last.mv_data + at,
                       last.mv_size - at);
    return scan_finish(e, &sc, rc, out);
}

int lm_bucket_list(void *store, const char *cursor, size_t limit,
                   kvstore_keys **out)
{
    lm_store *st = store;
    lm_env *e = st->env;
    if (cursor != NULL && kvstore_bucket_name_check(cursor) != KVSTORE_OK)
        return bad_cursor();
    scan sc;
    int rc = scan_begin(e, &sc);
    if (rc != KVSTORE_OK)
        return rc;
    kvstore_keys *page = sc.page;
    MDB_cursor *c = sc.c;
    unsigned char from[KVSTORE_BUCKET_NAME_MAX + 1];
    size_t fromlen = cursor ? lm_bucket_key(cursor, strlen(cursor), from)
                            : lm_bucket_key("", 0, from);
    MDB_val k = { fromlen, from }, v;
    char last[KVSTORE_BUCKET_NAME_MAX + 1] = "";
    bool more = false;
    /* The registry is the range of keys that start with NUL. */
    int mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (mrc == 0 && cursor != NULL && k.mv_size == fromlen &&
        memcmp(k.mv_data, from, fromlen) == 0)
        mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    while (mrc == 0 && rc == KVSTORE_OK) {
        const char *name = k.mv_data;
        if (k.mv_size == 0 || name[0] != '\0')
            break;
        if (page->count == limit) {
            more = true;
            break;
        }
        size_t nlen = k.mv_size - 1;
        if (nlen == 0 || nlen > KVSTORE_BUCKET_NAME_MAX) {
            rc = kvstore_set_error(KVSTORE_EIO, "lmdb: malformed bucket "
                                   "name in the store");
            break;
        }
        memcpy(last, name + 1, nlen);
        last[nlen] = '\0';
        rc = kvstore_keys_add(page, last, nlen);
        mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    rc = scan_stop(&sc, rc, mrc, "bucket list");
    if (rc == KVSTORE_OK && more && last[0] != '\0')
        rc = kvstore_keys_set_cursor(page, last);
    return scan_finish(e, &sc, rc, out);
}
