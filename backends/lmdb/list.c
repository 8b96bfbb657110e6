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
    MDB_val k, v; /* the current entry, when mrc is 0 */
    int mrc;      /* the cursor's last result */
} scan;

/* Starts a scan: an empty page, a read transaction and a cursor on the
 * main database, placed on the first entry at or after `from` (after it
 * when `after`: a resumed walk). On failure nothing is left open. */
static int scan_begin(lm_env *e, scan *s, const unsigned char *from,
                      size_t fromlen, bool after)
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
    s->k = (MDB_val){ fromlen, (void *)from };
    s->mrc = mdb_cursor_get(s->c, &s->k, &s->v, MDB_SET_RANGE);
    if (s->mrc == 0 && after && s->k.mv_size == fromlen &&
        memcmp(s->k.mv_data, from, fromlen) == 0)
        s->mrc = mdb_cursor_get(s->c, &s->k, &s->v, MDB_NEXT);
    return KVSTORE_OK;
}

static void scan_next(scan *s)
{
    s->mrc = mdb_cursor_get(s->c, &s->k, &s->v, MDB_NEXT);
}

/* Closes the cursor; the status of the walk: `rc`, else the cursor's last
 * result unless that is the end of the data. The transaction stays open
 * (the last entry seen still points into the map). */
static int scan_stop(scan *s, int rc, const char *what)
{
    mdb_cursor_close(s->c);
    s->c = NULL;
    if (rc == KVSTORE_OK && s->mrc != 0 && s->mrc != MDB_NOTFOUND)
        rc = lm_error(s->mrc, what);
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
    int rc = scan_begin(e, &sc, from, fromlen, skip_equal);
    if (rc != KVSTORE_OK)
        return rc;
    kvstore_keys *page = sc.page;
    const MDB_val *k = &sc.k, *v = &sc.v;
    uint64_t now = 0;
    bool more = false;
    MDB_val last = { 0, NULL }; /* points into the map: copied before the
                                  transaction ends */
    while (sc.mrc == 0 && rc == KVSTORE_OK) {
        if (k->mv_size < lolen || memcmp(k->mv_data, lo, lolen) != 0)
            break; /* past the bucket's (prefix's) range */
        if (page->count == limit) {
            more = true;
            break;
        }
        const char *key = (const char *)k->mv_data + at;
        size_t klen = k->mv_size - at;
        if (lm_rec_plain(v)) {
            /* The common record (no expiry, short key): the key is the
             * stored key's suffix and the range already holds the whole
             * prefix when it was not cut. */
            if (plen == cut ||
                (klen >= plen && memcmp(key, prefix, plen) == 0))
                rc = kvstore_keys_add(page, key, klen);
        } else {
            lm_rec rec;
            if ((rc = lm_rec_parse(v, &rec)) != KVSTORE_OK)
                break;
            lm_user_key(b, k, &rec, &key, &klen);
            if (!lm_rec_expired(&rec, &now) && klen >= plen &&
                memcmp(key, prefix, plen) == 0)
                rc = kvstore_keys_add(page, key, klen);
        }
        last = *k;
        scan_next(&sc);
    }
    rc = scan_stop(&sc, rc, "list");
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
    unsigned char from[KVSTORE_BUCKET_NAME_MAX + 1];
    size_t fromlen = cursor ? lm_bucket_key(cursor, strlen(cursor), from)
                            : lm_bucket_key("", 0, from);
    /* The registry is the range of keys that start with NUL. */
    scan sc;
    int rc = scan_begin(e, &sc, from, fromlen, cursor != NULL);
    if (rc != KVSTORE_OK)
        return rc;
    kvstore_keys *page = sc.page;
    char last[KVSTORE_BUCKET_NAME_MAX + 1] = "";
    bool more = false;
    while (sc.mrc == 0 && rc == KVSTORE_OK) {
        const char *name = sc.k.mv_data;
        if (sc.k.mv_size == 0 || name[0] != '\0')
            break;
        if (page->count == limit) {
            more = true;
            break;
        }
        size_t nlen = sc.k.mv_size - 1;
        if (nlen == 0 || nlen > KVSTORE_BUCKET_NAME_MAX) {
            rc = kvstore_set_error(KVSTORE_EIO, "lmdb: malformed bucket "
                                   "name in the store");
            break;
        }
        memcpy(last, name + 1, nlen);
        last[nlen] = '\0';
        rc = kvstore_keys_add(page, last, nlen);
        scan_next(&sc);
    }
    rc = scan_stop(&sc, rc, "bucket list");
    if (rc == KVSTORE_OK && more && last[0] != '\0')
        rc = kvstore_keys_set_cursor(page, last);
    return scan_finish(e, &sc, rc, out);
}
