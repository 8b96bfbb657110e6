/*
 * libkvstore - built-in "memory" backend: shared internal definitions.
 *
 * Layout: a store (private, or shared process-wide by name) holds buckets;
 * a bucket is split into MEM_STRIPES stripes by key hash, each with its own
 * uthash table and rwlock, so readers and writers of different keys rarely
 * meet on a lock. A bucket lives as long as its store, whether or not a
 * handle to it is open, unless it is removed (kvstore_bucket_remove): then
 * it leaves the store at once and is freed when its last handle or watch
 * goes. Listing goes through the core's walk helper (kvstore_walks), one
 * cache per store. Everything here is written only against
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
#include <stdlib.h>
#include <string.h>

/* uthash must not exit() on out of memory: an insert that fails leaves
 * the element's hh.tbl NULL, which callers check. */
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

/* Largest value accepted by set, set_many, cas_swap (the contract asks
 * for at least 1 MiB). */
#define MEM_VALUE_MAX ((size_t)64 * 1024 * 1024)

/* A power of two; enough stripes that a handful of threads rarely share
 * one, few enough that a listing snapshot visits them cheaply. */
#define MEM_STRIPES 64

/* Bucket names, and store names, which follow the same rule. */
#define MEM_NAME_MAX KVSTORE_BUCKET_NAME_MAX
#define MEM_CACHELINE 64

/* Values up to this size are rewritten in place, under the stripe's write
 * lock, when they fit the entry's room: no allocation at all. Larger values
 * are copied into a new entry before the lock is taken, so that no lock is
 * held across a large copy. */
#define MEM_INPLACE_MAX ((size_t)64 * 1024)

/* One key and its value, in a single allocation: key bytes, NUL, then
 * `cap` bytes of room for the value. The key never changes; the value and
 * version change only under the stripe's write lock, so a reader holding
 * the read lock sees a consistent pair. Owned by its stripe's table. */
typedef struct mem_entry {
    UT_hash_handle hh;
    uint64_t version;   /* stripe clock at the last write; CAS compares it */
    uint64_t expires_ms; /* mem_now_ms() deadline; 0: never */
    size_t klen;
    size_t vlen;
    size_t cap;         /* room for the value */
    char *value;        /* points into data[], after the key's NUL */
    char data[];
} mem_entry;

typedef struct mem_stripe {
    _Alignas(MEM_CACHELINE) pthread_rwlock_t lock;
    mem_entry *table;   /* uthash head */
    uint64_t clock;     /* last version handed out; under the write lock */
    /* Set (under the write lock) once a key with an expiry was written:
     * until then no read or count needs to look at the clock, and the
     * reaper has nothing to do. */
    bool ttl_seen;
    unsigned reap_pos;  /* next uthash chain the reaper visits */
    /* Bumped (under the write lock) when a key is added or removed, not
     * when a value is replaced: their sum over the stripes is the key
     * space's version for the walk helper (list.c). */
    _Atomic uint64_t keygen;
} mem_stripe;

typedef struct mem_watch mem_watch;
typedef struct mem_store mem_store;

typedef struct mem_bucket {
    mem_stripe stripes[MEM_STRIPES];
    UT_hash_handle hh;           /* in store->buckets, keyed by name */
    mem_store *store;
    char name[MEM_NAME_MAX + 1];
    /* The walk cache scope: name and a process-unique number, so that a
     * removed bucket's walks never serve a new bucket of the same name. */
    char scope[MEM_NAME_MAX + 24];
    /* One reference for the store's table (dropped by bucket_remove), one
     * per open handle and per watch. The last drop frees the bucket; while
     * it is in the table that is the store's free. */
    _Atomic unsigned refs;
    /* Set once any stripe has seen an expiry: keys may then leave without
     * a write, so the bucket has no key-space version any more. */
    _Atomic bool ttl_seen;

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
    kvstore_walks *walks;        /* listing snapshots; owned */
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

/* The backend's slots, mem_<slot> (see <kvstore/backend.h>). */
KVSTORE_SLOT_PROTOTYPES(mem);

/* ---- bucket.c: stores and buckets ---- */
void mem_store_ref(mem_store *s);
void mem_store_unref(mem_store *s);
void mem_bucket_ref(mem_bucket *b);
void mem_bucket_unref(mem_bucket *b);

/* The hash of a bucket's keys: picks the stripe and the uthash chain.
 * The core's keyed SipHash (kvstore_hash), folded to the 32 bits uthash
 * keeps, so both halves of the output count. */
static inline uint32_t mem_hash(const char *key, size_t klen)
{
    uint64_t h = kvstore_hash(key, klen);
    return (uint32_t)h ^ (uint32_t)(h >> 32);
}

/* ---- store.c: single keys ---- */
/* Milliseconds of CLOCK_MONOTONIC: the clock of expiries. */
uint64_t mem_now_ms(void);
/* True if `e` has expired. `*now` is 0 until the clock was read, so a
 * caller checking many entries reads it once, and never for entries
 * without an expiry. */
static inline bool mem_expired(const mem_entry *e, uint64_t *now)
{
    if (e->expires_ms == 0)
        return false;
    if (*now == 0)
        *now = mem_now_ms();
    return e->expires_ms <= *now;
}
/* Helpers shared with atomics.c. */
mem_stripe *mem_stripe_of(mem_bucket *b, uint32_t hashv);
/* The start of every read of one key: finds its live entry (NULL when
 * absent or expired; `*now` as for mem_expired) and returns with the
 * stripe's read lock held and *stp set to the stripe, which the caller
 * unlocks once it has read the entry. */
static inline mem_entry *mem_read_begin(mem_bucket *b, const char *key,
                                        mem_stripe **stp, uint64_t *now)
{
    size_t klen = strlen(key);
    uint32_t hashv = mem_hash(key, klen);
    mem_stripe *st = mem_stripe_of(b, hashv);
    mem_entry *e;

    pthread_rwlock_rdlock(&st->lock);
    HASH_FIND_BYHASHVALUE(hh, st->table, key, klen, hashv, e);
    *stp = st;
    return e && !mem_expired(e, now) ? e : NULL;
}

int mem_check_value(size_t len);
mem_entry *mem_entry_new(const char *key, size_t klen,
                         const void *value, size_t vlen);
/* Writes `value` for `key` in stripe `st`, whose write lock the caller
 * holds; `old` is the key's current entry (expired or not) or NULL; the
 * key's expiry becomes `expires_ms` (0: none). The value is rewritten
 * in `old` if it fits, else it goes in `fresh` (an entry the caller built
 * with mem_entry_new, or NULL to build one here). Returns KVSTORE_OK and
 * sets *garbage to what the caller frees after unlocking (the replaced
 * entry, or `fresh` when unused), or KVSTORE_ENOMEM with nothing changed
 * (the caller still owns `fresh`). */
int mem_stripe_write(mem_stripe *st, mem_entry *old,
                     const char *key, size_t klen, uint32_t hashv,
                     const void *value, size_t vlen,
                     uint64_t expires_ms, mem_entry *fresh,
                     mem_entry **garbage);

/* The bounded reaper: every write to a stripe that has seen expiries
 * unlinks the expired entries of the next MEM_REAP_CHAINS uthash chains,
 * at most MEM_REAP_MAX of them, so that expired keys nobody reads again
 * are freed as writes go on, at a small fixed cost per write. Called
 * with the write lock held; the caller frees the entries after unlocking
 * (mem_reaped_free). Reaped keys produce no watch event. */
#define MEM_REAP_CHAINS 2
#define MEM_REAP_MAX 8
typedef struct mem_reaped {
    size_t n;
    mem_entry *e[MEM_REAP_MAX];
} mem_reaped;
void mem_reap_chains(mem_stripe *st, mem_reaped *r);
/* Sets r->n (0 when the stripe never saw an expiry: the common case costs
 * one test) and reaps. */
static inline void mem_reap(mem_stripe *st, mem_reaped *r)
{
    r->n = 0;
    if (st->ttl_seen)
        mem_reap_chains(st, r);
}
static inline void mem_reaped_free(mem_reaped *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->e[i]);
}
/* How every write to a stripe ends: reaps under the write lock, unlocks,
 * then frees what was reaped. */
static inline void mem_write_unlock(mem_stripe *st)
{
    mem_reaped reaped;

    mem_reap(st, &reaped);
    pthread_rwlock_unlock(&st->lock);
    mem_reaped_free(&reaped);
}

/* ---- watch.c ---- */
/* Builds the event for a write of `key` when the bucket has watches, else
 * returns NULL (also on out of memory: the write still happens, the event
 * is lost, which is documented). Called before taking the stripe lock. */
mem_event *mem_event_prepare(mem_bucket *b, kvstore_event type,
                             const char *key, size_t klen,
                             const void *value, size_t vlen);
/* True when the bucket has a watch: lets writers skip mem_event_prepare
 * inline in the common case. */
static inline bool mem_watched(mem_bucket *b)
{
    return atomic_load_explicit(&b->nwatch, memory_order_acquire) != 0;
}
/* Queues `ev` to every matching watch and drops the caller's reference.
 * Called with the stripe's write lock held, so that events of one key are
 * queued in the order the writes were applied. NULL is a no-op. */
void mem_event_publish(mem_bucket *b, mem_event *ev);
/* Drops one reference. */
void mem_event_unref(mem_event *ev);

#endif /* KVSTORE_MEMORY_H */
