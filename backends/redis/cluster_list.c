/*
 * Redis backend: listing on a cluster. SCAN sees one node's keys, so a
 * walk visits every master in turn, ordered by the lowest slot each one
 * serves, with list.c's walk (rd_walk) on each. The state is
 *
 *   "N" <low> "." <fp> "." <inner>
 *
 * <low>: the lowest slot of the master being walked (it names the master
 * across a failover: the promoted replica serves the same slots); <fp>:
 * the fingerprint of the slot map when the walk started; <inner>: that
 * master's rd_walk state ("" for its start).
 *
 * Resharding: when a master is finished the map is read again; if it
 * changed since the walk started (a slot moved, a replica took over),
 * the walk starts again from the first master, so a key that moved to a
 * master already walked is not lost; keys repeat instead
 * (KVSTORE_CAP_LIST_REPEATS). A page goes on to the next master when
 * it has room, so a small bucket lists in one page.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis.h"

/* Sets the page's cursor to "N<low>.<fp>.<inner>". */
static int rd_place_set(kvstore_keys *page, unsigned low, uint32_t fp,
                        const char *inner)
{
    size_t ilen = inner ? strlen(inner) : 0;
    char *state = malloc(40 + ilen);
    int rc;

    if (state == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    snprintf(state, 40 + ilen, "N%u.%" PRIu32 ".%s", low, fp,
             inner ? inner : "");
    rc = kvstore_keys_set_cursor(page, state);
    free(state);
    if (rc != KVSTORE_OK)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    return KVSTORE_OK;
}

static int rd_cluster_walk_once(rd_lister *l, const char *cursor,
                                size_t limit, kvstore_keys **out)
{
    rd_master *m = malloc(RD_NODES_MAX * sizeof *m);
    rd_place pl = { 0, 0, NULL };
    kvstore_keys *page = NULL;
    size_t n = 0, at = 0;
    uint32_t fp = 0;
    int rc = KVSTORE_OK;

    *out = NULL;
    if (m == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    if (cursor != NULL)
        rc = rd_place_parse(&pl, cursor);
    else
        /* A walk starts from a fresh map: its fingerprint is the one the
         * walk is checked against. */
        rc = rd_cluster_refresh(l->store);
    if (rc == KVSTORE_OK)
        rc = rd_cluster_masters(l->store, m, &n, &fp);
    if (rc != KVSTORE_OK)
        goto done;
    if (cursor != NULL && pl.fp == fp) {
        while (at < n && m[at].low != pl.low)
            at++;
    }
    if (cursor == NULL || at == n) {
        /* A new walk, or the map changed since the state was made (or
         * the state was forged): from the first master again. */
        at = 0;
        pl.inner = NULL;
    }
    /* Masters in turn until the page has enough keys. */
    for (;;) {
        uint32_t now;
        size_t n2 = 0;

        l->pool = &m[at].node->pool;
        rc = rd_walk(l, pl.inner, limit, &page);
        if (rc != KVSTORE_OK)
            goto done;
        if (page->cursor != NULL) {
            char *inner = strdup(page->cursor);

            rc = inner ? rd_place_set(page, m[at].low, fp, inner)
                       : kvstore_set_error(KVSTORE_ENOMEM, "redis: out of "
                                           "memory");
            free(inner);
            goto done;
        }
        /* This master is done: go on to the next, unless the map
         * changed while it was walked. */
        rc = rd_cluster_refresh(l->store);
        if (rc == KVSTORE_OK)
            rc = rd_cluster_masters(l->store, m, &n2, &now);
        if (rc != KVSTORE_OK)
            goto done;
        if (now != fp) {
            rc = rd_place_set(page, m[0].low, now, NULL);
            goto done;
        }
        if (++at >= n2)
            goto done;  /* the last master: the walk is over */
        pl.inner = NULL;
        if (page->count >= RD_PAGE_TARGET(limit)) {
            rc = rd_place_set(page, m[at].low, fp, NULL);
            goto done;
        }
    }
done:
    free(m);
    if (rc != KVSTORE_OK) {
        kvstore_keys_free(page);  /* NULL when rd_walk failed */
        return rc;
    }
    *out = page;
    return KVSTORE_OK;
}

int rd_cluster_walk(rd_lister *l, const char *cursor, size_t limit,
                    kvstore_keys **out)
{
    int64_t deadline = rd_cluster_deadline(l->store);

    /* A master that cannot be reached may be failing over: the page is
     * taken again from the same state (the keys of the masters before it
     * in this call were dropped with the failed page) until the map names
     * its successor, which changes the fingerprint and restarts the walk,
     * or until timeout_ms. */
    for (;;) {
        int rc = rd_cluster_walk_once(l, cursor, limit, out);

        if (rc != KVSTORE_EUNAVAILABLE ||
            !rd_cluster_wait(l->store, deadline))
            return rc;
    }
}
