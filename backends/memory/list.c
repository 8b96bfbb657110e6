/*
 * libkvstore - memory backend: listing keys and buckets.
 *
 * A hash table has no order, so listing goes through the core's walk
 * helper (kvstore_walks, one per store): the first page of a walk copies
 * the bucket's live keys into a snapshot, one stripe at a time under its
 * read lock, and the helper sorts it once and serves the walk's pages from
 * it. Its cursor states name a position by key, so a walk survives an
 * evicted snapshot and never lists a key twice; keys written during a
 * walk may or may not appear, as the contract allows. Expired keys are
 * left out of the snapshot whether or not they were reaped.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory.h"

#include <string.h>

/* True if the snapshot wants the entry: live, with the prefix, after
 * `after`. */
static bool wanted(const mem_stripe *st, const char *key, size_t klen,
                   uint64_t expires_ms, const char *prefix, size_t plen,
                   const char *after, uint64_t *now)
{
    if ((plen && (klen < plen || memcmp(key, prefix, plen) != 0)) ||
        (after && strcmp(key, after) <= 0))
        return false;
    if (!st->ttl_seen || expires_ms == 0)
        return true;
    if (*now == 0)
        *now = mem_now_ms();
    return expires_ms > *now;
}

/* Stripes copied together. A stripe's entries are spread over the whole
 * heap (keys go to stripes by hash), so copying one stripe after another
 * is a chain of cache misses, one per key, each waiting for the last:
 * that was a third of a big listing's time. Walking FILL_GROUP stripes'
 * chains in turn keeps that many misses in flight at once. The group's
 * read locks are held together, for about 1/MEM_STRIPES * FILL_GROUP of
 * the copy each. */
#define FILL_GROUP 16
_Static_assert(MEM_STRIPES % FILL_GROUP == 0, "whole groups");

static int fill_keys(void *ctx, const char *prefix, const char *after,
                     kvstore_walk_sink *sink)
{
    mem_bucket *b = ctx;
    size_t plen = strlen(prefix);
    uint64_t now = 0;
    int rc = KVSTORE_OK;

    for (size_t g = 0; g < MEM_STRIPES && rc == KVSTORE_OK; g += FILL_GROUP) {
        mem_stripe *st = &b->stripes[g];
        mem_entry *cur[FILL_GROUP];
        size_t count = 0, live = FILL_GROUP;

        for (size_t j = 0; j < FILL_GROUP; j++) {
            pthread_rwlock_rdlock(&st[j].lock);
            cur[j] = st[j].table;
            count += HASH_COUNT(st[j].table);
        }
        rc = kvstore_walk_reserve(sink, count, 0);
        while (live > 0 && rc == KVSTORE_OK) {
            live = 0;
            for (size_t j = 0; j < FILL_GROUP && rc == KVSTORE_OK; j++) {
                mem_entry *e = cur[j];

                if (!e)
                    continue;
                live++;
                cur[j] = e->hh.next;
                /* Ask for the next entry's lines now, so that by this
                 * chain's next turn they have arrived: its handle (the
                 * link), then its key and expiry. */
                if (cur[j]) {
                    __builtin_prefetch(cur[j]);
                    __builtin_prefetch((char *)cur[j] + 64);
                }
                if (wanted(&st[j], e->data, e->klen, e->expires_ms, prefix,
                           plen, after, &now))
                    rc = kvstore_walk_add(sink, e->data, e->klen);
            }
        }
        for (size_t j = 0; j < FILL_GROUP; j++)
            pthread_rwlock_unlock(&st[j].lock);
    }
    return rc;
}

/* The key space's version for the walk helper: changes whenever a key
 * is added or removed, so that listing an unchanged bucket again is
 * served from the snapshot of the last walk. 0 (none) once the bucket has
 * held a key with an expiry, since such a key leaves without a write. */
static uint64_t key_version(mem_bucket *b)
{
    uint64_t v = 1;

    if (atomic_load(&b->ttl_seen))
        return 0;
    for (size_t i = 0; i < MEM_STRIPES; i++)
        v += atomic_load_explicit(&b->stripes[i].keygen,
                                  memory_order_acquire);
    return v ? v : 1;
}

int mem_list_keys(void *bucket, const char *prefix, const char *cursor,
                  size_t limit, kvstore_keys **out)
{
    mem_bucket *b = bucket;

    return kvstore_walk_page_at(b->store->walks, b->scope, prefix, cursor,
                                limit, key_version(b), fill_keys, b, out);
}

static int fill_buckets(void *ctx, const char *prefix, const char *after,
                        kvstore_walk_sink *sink)
{
    mem_store *s = ctx;
    mem_bucket *b, *tmp;
    int rc = KVSTORE_OK;

    (void)prefix;
    pthread_mutex_lock(&s->lock);
    HASH_ITER(hh, s->buckets, b, tmp) {
        if (after && strcmp(b->name, after) <= 0)
            continue;
        rc = kvstore_walk_add(sink, b->name, strlen(b->name));
        if (rc != KVSTORE_OK)
            break;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int mem_bucket_list(void *store, const char *cursor, size_t limit,
                    kvstore_keys **out)
{
    mem_store *s = store;

    /* Bucket scopes are never empty: "" is the bucket names' own. */
    return kvstore_walk_page(s->walks, "", "", cursor, limit, fill_buckets,
                             s, out);
}
