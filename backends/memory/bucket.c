/*
 * libkvstore - memory backend: stores and buckets.
 *
 * "memory:" opens a private store; "memory:NAME" opens the process-wide
 * store NAME, shared by every open of that name and freed when the last
 * handle to it (store, bucket or watch) goes away. Buckets are listed,
 * removed and described here too (the version 2 slots).
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Named stores of the process. The registry mutex guards the table and
 * every named store's transition to zero references. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static mem_store *registry;

/* Numbers buckets for their walk scope (see mem_bucket.scope). */
static _Atomic uint64_t next_bucket_uid = 1;

static mem_store *store_new(const char *name)
{
    mem_store *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    /* Up to 16 walks per store, 256 MiB of snapshots, 5 minutes idle:
     * the helper's defaults. */
    s->walks = kvstore_walks_new(0, 0, 0);
    if (!s->walks || pthread_mutex_init(&s->lock, NULL) != 0) {
        kvstore_walks_free(s->walks);
        free(s);
        return NULL;
    }
    atomic_init(&s->refs, 1);
    if (name) {
        s->named = true;
        strcpy(s->name, name); /* a valid name: <= MEM_NAME_MAX */
    }
    return s;
}

/* Frees every entry of the stripe; the caller holds its write lock or is
 * the bucket's last user. */
static void stripe_clear(mem_stripe *st)
{
    mem_entry *e, *tmp;

    HASH_ITER(hh, st->table, e, tmp) {
        HASH_DELETE(hh, st->table, e);
        free(e);
    }
}

static void bucket_free(mem_bucket *b)
{
    for (size_t i = 0; i < MEM_STRIPES; i++) {
        stripe_clear(&b->stripes[i]);
        pthread_rwlock_destroy(&b->stripes[i].lock);
    }
    pthread_rwlock_destroy(&b->watch_lock);
    free(b);
}

void mem_bucket_ref(mem_bucket *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

/* Only a removed bucket can reach zero here: the table's reference of a
 * bucket still in the store is dropped by store_free alone. */
void mem_bucket_unref(mem_bucket *b)
{
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
        bucket_free(b);
}

static void store_free(mem_store *s)
{
    mem_bucket *b, *tmp;

    HASH_ITER(hh, s->buckets, b, tmp) {
        HASH_DELETE(hh, s->buckets, b);
        bucket_free(b);
    }
    kvstore_walks_free(s->walks);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void mem_store_ref(mem_store *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void mem_store_unref(mem_store *s)
{
    if (!s->named) {
        if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
            store_free(s);
        return;
    }
    /* A named store reaching zero must leave the registry before an open
     * can find it again, hence the registry lock around the last drop. */
    pthread_mutex_lock(&registry_lock);
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1) {
        pthread_mutex_unlock(&registry_lock);
        return;
    }
    HASH_DELETE(hh, registry, s);
    pthread_mutex_unlock(&registry_lock);
    store_free(s);
}

int mem_store_open(void **out, const kvstore_uri *uri)
{
    const char *hosts = kvstore_uri_hosts(uri);
    const char *path = kvstore_uri_path(uri);
    mem_store *s;

    if (hosts || kvstore_uri_user(uri))
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "memory: takes no host or user: use "
                                 "\"memory:\" or \"memory:NAME\"");
    if (path[0] == '\0') {
        s = store_new(NULL);
        if (!s)
            return kvstore_set_error(KVSTORE_ENOMEM, "memory: out of memory");
        *out = s;
        return KVSTORE_OK;
    }
    if (!kvstore_bucket_name_valid(path, strlen(path)))
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "memory: store name must be 1 to %d bytes "
                                 "of [A-Za-z0-9_-]", MEM_NAME_MAX);

    pthread_mutex_lock(&registry_lock);
    HASH_FIND_STR(registry, path, s);
    if (s) {
        /* Under the registry lock a registered store has refs > 0: the
         * last drop removes it from the registry under the same lock. */
        mem_store_ref(s);
    } else {
        s = store_new(path);
        if (s) {
            HASH_ADD_STR(registry, name, s);
            if (!s->hh.tbl) {
                store_free(s);
                s = NULL;
            }
        }
    }
    pthread_mutex_unlock(&registry_lock);
    if (!s)
        return kvstore_set_error(KVSTORE_ENOMEM, "memory: out of memory");
    *out = s;
    return KVSTORE_OK;
}

void mem_store_close(void *store)
{
    if (store)
        mem_store_unref(store);
}

static mem_bucket *bucket_new(mem_store *s, const char *name)
{
    /* Stripes are cache-line aligned so that two stripes' locks never
     * share a line; malloc does not promise that alignment. */
    size_t size = (sizeof(mem_bucket) + MEM_CACHELINE - 1) &
                  ~(size_t)(MEM_CACHELINE - 1);
    mem_bucket *b = aligned_alloc(MEM_CACHELINE, size);
    size_t i;

    if (!b)
        return NULL;
    memset(b, 0, sizeof(*b));
    for (i = 0; i < MEM_STRIPES; i++) {
        if (pthread_rwlock_init(&b->stripes[i].lock, NULL) != 0)
            goto fail_stripes;
        atomic_init(&b->stripes[i].keygen, 0);
    }
    if (pthread_rwlock_init(&b->watch_lock, NULL) != 0)
        goto fail_stripes;
    atomic_init(&b->nwatch, 0);
    atomic_init(&b->refs, 1); /* the store's table */
    atomic_init(&b->ttl_seen, false);
    b->store = s;
    strcpy(b->name, name); /* validated by the core: <= 64 bytes */
    snprintf(b->scope, sizeof(b->scope), "%s/%" PRIu64, name,
             atomic_fetch_add(&next_bucket_uid, 1));
    return b;

fail_stripes:
    while (i-- > 0)
        pthread_rwlock_destroy(&b->stripes[i].lock);
    free(b);
    return NULL;
}

int mem_bucket_open(void **out, void *store, const char *name, bool create)
{
    mem_store *s = store;
    mem_bucket *b;
    int rc = KVSTORE_OK;

    pthread_mutex_lock(&s->lock);
    HASH_FIND_STR(s->buckets, name, b);
    if (!b && !create) {
        rc = kvstore_set_error(KVSTORE_ENOSTORE,
                               "memory: no bucket \"%s\" (create=false)",
                               name);
    } else if (!b) {
        b = bucket_new(s, name);
        if (b) {
            HASH_ADD_STR(s->buckets, name, b);
            if (!b->hh.tbl) {
                bucket_free(b);
                b = NULL;
            }
        }
        if (!b)
            rc = kvstore_set_error(KVSTORE_ENOMEM, "memory: out of memory");
    }
    if (rc == KVSTORE_OK)
        mem_bucket_ref(b); /* under the lock: a remove cannot free it */
    pthread_mutex_unlock(&s->lock);
    if (rc != KVSTORE_OK)
        return rc;
    /* The bucket belongs to the store; a handle keeps the store (and so
     * the bucket) alive, even if the store handle is closed first, and the
     * bucket itself alive if it is removed meanwhile. */
    mem_store_ref(s);
    *out = b;
    return KVSTORE_OK;
}

void mem_bucket_close(void *bucket)
{
    mem_bucket *b = bucket;
    mem_store *s;

    if (!b)
        return;
    s = b->store;
    mem_bucket_unref(b);
    mem_store_unref(s);
}

int mem_bucket_remove(void *store, const char *name)
{
    mem_store *s = store;
    mem_bucket *b;

    pthread_mutex_lock(&s->lock);
    HASH_FIND_STR(s->buckets, name, b);
    if (b)
        HASH_DELETE(hh, s->buckets, b);
    pthread_mutex_unlock(&s->lock);
    if (!b)
        return kvstore_set_error(KVSTORE_ENOSTORE,
                                 "memory: no bucket \"%s\"", name);
    kvstore_walks_forget(s->walks, b->scope);
    /* Open handles see the bucket empty; what they write afterwards goes
     * to this detached bucket, freed with their last close. */
    for (size_t i = 0; i < MEM_STRIPES; i++) {
        pthread_rwlock_wrlock(&b->stripes[i].lock);
        stripe_clear(&b->stripes[i]);
        pthread_rwlock_unlock(&b->stripes[i].lock);
    }
    mem_bucket_unref(b); /* the table's reference */
    return KVSTORE_OK;
}

int mem_bucket_info(void *store, const char *name, kvstore_bucket_stat *info)
{
    mem_store *s = store;
    mem_bucket *b;
    int64_t keys = 0;

    pthread_mutex_lock(&s->lock);
    HASH_FIND_STR(s->buckets, name, b);
    if (b)
        mem_bucket_ref(b);
    pthread_mutex_unlock(&s->lock);
    if (!b)
        return kvstore_set_error(KVSTORE_ENOSTORE,
                                 "memory: no bucket \"%s\"", name);
    /* Counting is cheap: uthash keeps each stripe's count. Only a stripe
     * that has seen expiries is walked, to leave out expired keys not yet
     * reaped. */
    for (size_t i = 0; i < MEM_STRIPES; i++) {
        mem_stripe *st = &b->stripes[i];
        uint64_t now = 0;

        pthread_rwlock_rdlock(&st->lock);
        if (!st->ttl_seen) {
            keys += (int64_t)HASH_COUNT(st->table);
        } else {
            mem_entry *e, *tmp;
            HASH_ITER(hh, st->table, e, tmp)
                keys += !mem_expired(e, &now);
        }
        pthread_rwlock_unlock(&st->lock);
    }
    mem_bucket_unref(b);
    info->keys = keys;
    info->max_value = MEM_VALUE_MAX;
    return KVSTORE_OK;
}
