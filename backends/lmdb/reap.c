/*
 * Reaping: expired records are absent for every read already, but they
 * keep their space until something deletes them, so a store used as a
 * cache with TTLs would grow without bound. After a batch has committed,
 * the leader runs a pass when one is due (at most every reap_ms): one
 * write transaction of its own that walks at most LM_REAP_WALK entries
 * from where the last pass stopped, wrapping to the top at the end, and
 * deletes the expired records it meets. Walking in slices bounds what one
 * pass adds to its batch's wait, however large the store; keeping the
 * position makes successive passes cover the whole store.
 *
 * Best effort: a failed pass (map full, I/O) is aborted and its slice
 * walked again by the next pass; the batch's writers never see it. No
 * watch events: an expired record was already absent for readers.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lmdb.h"

#include <string.h>

/* Entries a pass looks at, expired or not. */
#define LM_REAP_WALK 10000

/* Walks from at[0..*alen) (0: the top) and deletes what expired by `now`;
 * leaves in `at` where the next pass starts. `at` is the caller's copy,
 * read until the walk ends and written only then. Returns an LMDB code. */
static int walk(lm_env *e, MDB_txn *txn, uint64_t now, unsigned char *at,
                size_t *alen)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, e->data, &c);
    if (rc != 0)
        return rc;
    unsigned char cur[LM_SKEY_CAP];
    size_t slen = *alen;
    /* A walk from the top ends at the bottom; one from elsewhere wraps
     * once and ends where it started. */
    bool wrapped = slen == 0;
    const MDB_val start = { slen, at };
    MDB_val k = start, v;
    rc = mdb_cursor_get(c, &k, &v, slen == 0 ? MDB_FIRST : MDB_SET_RANGE);
    for (size_t seen = 0;;) {
        if (rc == MDB_NOTFOUND) {
            if (wrapped) {
                *alen = 0;
                rc = 0;
                break;
            }
            wrapped = true;
            rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
            continue;
        }
        if (rc != 0)
            break;
        if (wrapped && slen != 0 && mdb_cmp(txn, e->data, &k, &start) >= 0) {
            *alen = slen; /* the whole store in one pass */
            break;
        }
        if (seen++ == LM_REAP_WALK) {
            memcpy(at, k.mv_data, k.mv_size);
            *alen = k.mv_size;
            break;
        }
        /* Bucket registry entries are empty and plain records carry no
         * expiry: the first byte or the size rules both out. */
        if (!lm_rec_raw_expired(&v, now)) {
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
            continue;
        }
        /* A long key's record is its one entry, as for a delete; the free
         * seq it leaves is reused by lm_find. Re-seeking after the delete
         * (as drop_bucket does) relies on nothing about where LMDB leaves
         * a cursor whose entry was deleted. */
        size_t n = k.mv_size;
        memcpy(cur, k.mv_data, n);
        if ((rc = mdb_cursor_del(c, 0)) != 0)
            break;
        k.mv_data = cur;
        k.mv_size = n;
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    }
    mdb_cursor_close(c);
    return rc;
}

typedef struct pass {
    lm_env *e;
    uint64_t now;
    unsigned char *at;
    size_t *alen;
} pass;

static int walk_body(MDB_txn *txn, void *ctx)
{
    const pass *p = ctx;
    return walk(p->e, txn, p->now, p->at, p->alen);
}

void lm_maybe_reap(lm_env *e)
{
    if (e->reap_ms == 0)
        return;
    uint64_t now = lm_now_ms();
    if (now < e->next_reap)
        return;
    e->next_reap = now + e->reap_ms;

    /* The position moves only when the pass commits: a failed slice is
     * walked again. */
    unsigned char at[LM_SKEY_CAP];
    size_t alen = e->reap_len;
    memcpy(at, e->reap_at, alen);
    /* The pass keeps the sync flag its batch set: a pass after a durable
     * batch is synced too, so that it cannot be the unsynced commit a
     * power loss tears a sync=true store with. */
    int rc = lm_write_txn(e, -1, walk_body,
                          &(pass){ e, now, at, &alen }, NULL);
    if (rc == 0) {
        memcpy(e->reap_at, at, alen);
        e->reap_len = alen;
    }
}
