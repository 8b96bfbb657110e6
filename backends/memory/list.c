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

static int fill_keys(void *ctx, const char *prefix, const char *after,
                     kvstore_walk_sink *sink)
{
    mem_bucket *b = ctx;
    size_t plen = strlen(prefix);
    uint64_t now = 0;
    int rc = KVSTORE_OK;

    for (size_t i = 0; i < MEM_STRIPES && rc == KVSTORE_OK; i++) {
        mem_stripe *st = &b->stripes[i];
        mem_entry *e, *tmp;

        pthread_rwlock_rdlock(&st->lock);
        rc = kvstore_walk_reserve(sink, HASH_COUNT(st->table), 0);
        HASH_ITER(hh, st->table, e, tmp) {
            if (rc != KVSTORE_OK)
                break;
            if ((plen && (e->klen < plen ||
                          memcmp(e->data, prefix, plen) != 0)) ||
                (after && strcmp(e->data, after) <= 0) ||
                (st->ttl_seen && mem_expired(e, &now)))
                continue;
            rc = kvstore_walk_add(sink, e->data, e->klen);
        }
        pthread_rwlock_unlock(&st->lock);
    }
    return rc;
}

int mem_list_keys(void *bucket, const char *prefix, const char *cursor,
                  size_t limit, kvstore_keys **out)
{
    mem_bucket *b = bucket;

    return kvstore_walk_page(b->store->walks, b->scope, prefix, cursor,
                             limit, fill_keys, b, out);
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
