/*
 * libkvstore - built-in "memory" backend: shared internal definitions.
 *
 * Layout: a store (private, or shared process-wide by name) holds buckets;
 * a bucket is split into MEM_STRIPES stripes by key hash, each with its own
 * uthash table and rwlock, so readers and writers of different keys rarely
 * meet on a lock. A bucket lives as long as its store, whether or not a
 * handle to it is open. Everything here is written only against
 * <kvstore/backend.h>.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_MEMORY_H
#define KVSTORE_MEMORY_H

#include <kvstore/backend.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* uthash must not exit() on out of memory: an insert that fails leaves
 * the element's hh.tbl NULL, which callers check. */
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#define MEM_HIDDEN __attribute__((visibility("hidden")))

/* Largest value accepted by set, set_many, cas_swap (the contract asks
 * for at least 1 MiB). */
#define MEM_VALUE_MAX ((size_t)64 * 1024 * 1024)

/* A power of two; enough stripes that a handful of threads rarely share
 * one, few enough that a listing snapshot visits them cheaply. */
#define MEM_STRIPES 64

#define MEM_NAME_MAX 64
#define MEM_CACHELINE 64

/* One key and its value, in a single allocation: key bytes, NUL, then the
 * value. Immutable once inserted: a set replaces the whole entry, so a
 * reader holding the stripe's read lock sees a consistent pair. Owned by
 * its stripe's table. */
typedef struct mem_entry {
    UT_hash_handle hh;
    uint64_t version;   /* stripe clock at the write; CAS compares it */
    size_t klen;
    size_t vlen;
    char *value;        /* points into data[], after the key's NUL */
    char data[];
} mem_entry;

typedef struct mem_stripe {
    _Alignas(MEM_CACHELINE) pthread_rwlock_t lock;
    mem_entry *table;   /* uthash head */
    uint64_t clock;     /* last version handed out; under the write lock */
    /* Bumped when a key is added or removed (not when a value is merely
     * replaced): listing snapshots compare it to know they are stale. */
    _Atomic uint64_t keygen;
} mem_stripe;

typedef struct mem_snapshot mem_snapshot;
typedef struct mem_watch mem_watch;
typedef struct mem_store mem_store;

typedef struct mem_bucket {
    mem_stripe stripes[MEM_STRIPES];
    UT_hash_handle hh;           /* in store->buckets, keyed by name */
    mem_store *store;
    char name[MEM_NAME_MAX + 1];

    /* The cached sorted key snapshot used by list_keys (list.c). */
    pthread_mutex_t snap_lock;
    mem_snapshot *snap;          /* owned (one reference) by the bucket */

    /* Watches on this bucket (watch.c). Writers read nwatch without a lock
     * to skip all watch work when there is none. */
    pthread_rwlock_t watch_lock;
    mem_watch *watches;          /* singly linked, owned by their starters */
    _Atomic unsigned nwatch;
} mem_bucket;

struct mem_store {
    UT_hash_handle hh;           /* in the named-store registry */
    _Atomic unsigned refs;       /* store handles + bucket handles + watches */
    bool named;
    char name[MEM_NAME_MAX + 1];
    pthread_mutex_t lock;        /* guards buckets */
    mem_bucket *buckets;         /* uthash head; owned by the store */
};

/* A change published to watches: one allocation shared by every watch
 * queue it is pushed to, freed by whoever drops the last reference. */
typedef struct mem_event {
    _Atomic unsigned refs;
    kvstore_event type;
    size_t klen;
    size_t vlen;
    char *value;                 /* into data[], NULL for a delete */
    char data[];                 /* key, NUL, value */
} mem_event;

/* ---- store.c ---- */
MEM_HIDDEN int mem_store_open(void **out, const kvstore_uri *uri);
MEM_HIDDEN void mem_store_close(void *store);
MEM_HIDDEN int mem_bucket_open(void **out, void *store, const char *name,
                               bool create);
MEM_HIDDEN void mem_bucket_close(void *bucket);
MEM_HIDDEN void mem_store_ref(mem_store *s);
MEM_HIDDEN void mem_store_unref(mem_store *s);

/* ---- data.c ---- */
MEM_HIDDEN int mem_get(void *bucket, const char *key, void **value,
                       size_t *len);
MEM_HIDDEN int mem_set(void *bucket, const char *key, const void *value,
                       size_t len);
MEM_HIDDEN int mem_del(void *bucket, const char *key);
MEM_HIDDEN int mem_exists(void *bucket, const char *key, bool *exists);
/* Helpers shared with atomics.c. */
MEM_HIDDEN uint32_t mem_hash(const char *key, size_t klen);
MEM_HIDDEN mem_stripe *mem_stripe_of(mem_bucket *b, uint32_t hashv);
MEM_HIDDEN int mem_check_value(size_t len);
MEM_HIDDEN mem_entry *mem_entry_new(const char *key, size_t klen,
                                    const void *value, size_t vlen);
/* Puts `e` in place of `old` (may be NULL) in stripe `st`, whose write
 * lock the caller holds, and stamps its version. Returns KVSTORE_OK (the
 * caller frees `old` after unlocking) or KVSTORE_ENOMEM (`e` not added,
 * `old` untouched). */
MEM_HIDDEN int mem_stripe_put(mem_stripe *st, mem_entry *old, mem_entry *e,
                              uint32_t hashv);

/* ---- batch.c ---- */
MEM_HIDDEN int mem_get_many(void *bucket, const char *const *keys, size_t n,
                            void **values, size_t *lens);
MEM_HIDDEN int mem_set_many(void *bucket, const char *const *keys,
                            const void *const *values, const size_t *lens,
                            size_t n);
MEM_HIDDEN int mem_delete_many(void *bucket, const char *const *keys,
                               size_t n);

/* ---- list.c ---- */
MEM_HIDDEN int mem_list_keys(void *bucket, const char *prefix,
                             const char *cursor, size_t limit,
                             kvstore_keys **out);
MEM_HIDDEN void mem_snapshot_release(mem_snapshot *snap);

/* ---- atomics.c ---- */
MEM_HIDDEN int mem_increment(void *bucket, const char *key, int64_t delta,
                             int64_t *result);
MEM_HIDDEN int mem_cas_open(void **out, void *bucket, const char *key,
                            bool *found, const void **value, size_t *len);
MEM_HIDDEN int mem_cas_swap(void *cas, const void *value, size_t len);
MEM_HIDDEN void mem_cas_free(void *cas);

/* ---- watch.c ---- */
MEM_HIDDEN int mem_watch_start(void **out, void *bucket, const char *prefix,
                               kvstore_watch_fn fn, void *payload);
MEM_HIDDEN void mem_watch_stop(void *watch);
/* Builds the event for a write of `key` when the bucket has watches, else
 * returns NULL (also on out of memory: the write still happens, the event
 * is lost, which is documented). Called before taking the stripe lock. */
MEM_HIDDEN mem_event *mem_event_prepare(mem_bucket *b, kvstore_event type,
                                        const char *key, size_t klen,
                                        const void *value, size_t vlen);
/* Queues `ev` to every matching watch and drops the caller's reference.
 * Called with the stripe's write lock held, so that events of one key are
 * queued in the order the writes were applied. NULL is a no-op. */
MEM_HIDDEN void mem_event_publish(mem_bucket *b, mem_event *ev);
/* Drops one reference. */
MEM_HIDDEN void mem_event_unref(mem_event *ev);

#endif /* KVSTORE_MEMORY_H */
