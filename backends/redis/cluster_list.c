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
 * Migrations: a slot being migrated keeps its owner in the map until the
 * last key has moved, so a key can leave a master not yet walked for one
 * already walked with no change of fingerprint. After the last master the
 * walk takes a second pass over the nodes slots are migrating to
 * (cluster_moving.c), in the order of their rd_node_tag, with the state
 *
 *   "I" <tag> "." <fp> "." <inner>
 *
 * A node that no longer imports when its turn comes is skipped (its
 * migration ended, which changed the map, or was abandoned).
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis.h"

/* Sets the page's cursor to "<kind><at>.<fp>.<inner>". */
static int rd_place_set(kvstore_keys *page, char kind, uint64_t at,
                        uint32_t fp, const char *inner)
{
    size_t ilen = inner ? strlen(inner) : 0;
    char *state = malloc(48 + ilen);
    int rc;

    if (state == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    snprintf(state, 48 + ilen, "%c%" PRIu64 ".%" PRIu32 ".%s", kind, at, fp,
             inner ? inner : "");
    rc = kvstore_keys_set_cursor(page, state);
    free(state);
    if (rc != KVSTORE_OK)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    return KVSTORE_OK;
}

/* The first of the sorted importers imp[0..n) whose tag is at least
 * `tag` (`after`: above it); n when none is. */
static size_t rd_importer_from(rd_node *const *imp, size_t n, uint64_t tag,
                               bool after)
{
    size_t at = 0;

    while (at < n && (rd_node_tag(imp[at]) < tag ||
                      (after && rd_node_tag(imp[at]) == tag)))
        at++;
    return at;
}

/* Where one page of a walk stands. */
typedef struct rd_walk_at {
    rd_master *m;        /* the masters of the map, by lowest slot */
    size_t n;
    rd_node **imp;       /* pass two: the importing nodes, by tag */
    size_t n_imp;
    bool importers;      /* in pass two */
    size_t at;           /* index into m, or into imp in pass two */
    uint32_t fp;         /* the map's fingerprint when the walk started */
} rd_walk_at;

static rd_node *rd_walk_node(const rd_walk_at *w)
{
    return w->importers ? w->imp[w->at] : w->m[w->at].node;
}

/* The cursor that resumes the walk on w's node with `inner`. */
static int rd_walk_place(kvstore_keys *page, const rd_walk_at *w,
                         const char *inner)
{
    if (w->importers)
        return rd_place_set(page, 'I', rd_node_tag(rd_walk_node(w)), w->fp,
                            inner);
    return rd_place_set(page, 'N', w->m[w->at].low, w->fp, inner);
}

/* w's node is finished: moves w to the next node to walk. *restart: the
 * map changed (the page's cursor restarts the walk); *over: nothing is
 * left to walk. */
static int rd_walk_advance(rd_lister *l, rd_walk_at *w, bool *restart,
                           bool *over)
{
    uint64_t tag = rd_node_tag(rd_walk_node(w));
    bool last = w->importers || w->at + 1 >= w->n;
    uint32_t now;
    int rc = KVSTORE_OK;

    *restart = *over = false;
    /* The importers are read before the map: a migration that ends in
     * between changes the map, so no key slips between the two checks. */
    if (last)
        rc = rd_cluster_importers(l->store, w->imp, &w->n_imp);
    if (rc == KVSTORE_OK)
        rc = rd_cluster_refresh(l->store);
    if (rc == KVSTORE_OK)
        rc = rd_cluster_masters(l->store, w->m, &w->n, &now);
    if (rc != KVSTORE_OK)
        return rc;
    if (now != w->fp) {
        w->fp = now;
        *restart = true;
        return KVSTORE_OK;
    }
    if (!last) {
        w->at++;
        return KVSTORE_OK;
    }
    /* Pass two: every node a slot is migrating to, walked again after
     * every master, so a key moved there from a master walked later is
     * seen. */
    w->at = rd_importer_from(w->imp, w->n_imp, w->importers ? tag : 0,
                             w->importers);
    w->importers = true;
    *over = w->at >= w->n_imp;
    return KVSTORE_OK;
}

/* Sets w from the state `pl` (a page's cursor). *resumed is false when
 * the walk must start again (the map changed, a forged state); *over:
 * pass two has nothing left. */
static int rd_walk_resume(rd_lister *l, rd_walk_at *w, rd_place *pl,
                          bool *resumed, bool *over)
{
    int rc;

    *resumed = *over = false;
    if (pl->fp != w->fp)
        return KVSTORE_OK;
    if (!pl->importers) {
        while (w->at < w->n && w->m[w->at].low != pl->low)
            w->at++;
        *resumed = w->at < w->n;
        return KVSTORE_OK;
    }
    rc = rd_cluster_importers(l->store, w->imp, &w->n_imp);
    if (rc != KVSTORE_OK)
        return rc;
    w->importers = *resumed = true;
    w->at = rd_importer_from(w->imp, w->n_imp, pl->tag, false);
    *over = w->at >= w->n_imp;
    /* That node no longer imports: it is done, go on to the next. */
    if (*over || rd_node_tag(w->imp[w->at]) != pl->tag)
        pl->inner = NULL;
    return KVSTORE_OK;
}

static int rd_cluster_walk_once(rd_lister *l, const char *cursor,
                                size_t limit, kvstore_keys **out)
{
    rd_walk_at w = { 0 };
    rd_place pl = { 0 };
    kvstore_keys *page = NULL;
    bool resumed = false, over = false, restart = false;
    int rc = KVSTORE_OK;

    *out = NULL;
    w.m = malloc(RD_NODES_MAX * sizeof *w.m);
    w.imp = malloc(RD_NODES_MAX * sizeof *w.imp);
    if (w.m == NULL || w.imp == NULL) {
        rc = kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
        goto done;
    }
    if (cursor != NULL)
        rc = rd_place_parse(&pl, cursor);
    else
        /* A walk starts from a fresh map: its fingerprint is the one the
         * walk is checked against. */
        rc = rd_cluster_refresh(l->store);
    if (rc == KVSTORE_OK)
        rc = rd_cluster_masters(l->store, w.m, &w.n, &w.fp);
    if (rc == KVSTORE_OK && cursor != NULL)
        rc = rd_walk_resume(l, &w, &pl, &resumed, &over);
    if (rc != KVSTORE_OK)
        goto done;
    if (!resumed) {
        /* A new walk, or the map changed since the state was made (or
         * the state was forged): from the first master again. */
        w.at = 0;
        pl.inner = NULL;
    }
    /* Nodes in turn until the page has enough keys. */
    while (!over) {
        rd_node *node = rd_walk_node(&w);  /* the store's, not w's */

        l->pool = &node->pool;
        rc = rd_walk(l, pl.inner, limit, &page);
        if (rc != KVSTORE_OK)
            goto done;
        if (page->cursor != NULL) {
            char *inner = strdup(page->cursor);

            rc = inner ? rd_walk_place(page, &w, inner)
                       : kvstore_set_error(KVSTORE_ENOMEM, "redis: out of "
                                           "memory");
            free(inner);
            goto done;
        }
        rc = rd_walk_advance(l, &w, &restart, &over);
        if (rc != KVSTORE_OK)
            goto done;
        if (restart) {
            rc = rd_place_set(page, 'N', w.m[0].low, w.fp, NULL);
            goto done;
        }
        pl.inner = NULL;
        if (!over && page->count >= RD_PAGE_TARGET(limit)) {
            rc = rd_walk_place(page, &w, NULL);
            goto done;
        }
    }
    if (page == NULL && (page = kvstore_keys_new()) == NULL)
        rc = kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
done:
    free(w.m);
    free(w.imp);
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
