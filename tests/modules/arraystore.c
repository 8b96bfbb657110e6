/*
 * A small backend for tests (see arraystore.h).
 *
 * Ownership: a store owns its buckets' data (names, entries, keys, values);
 * a bucket handle and a CAS snapshot point into the store and own only
 * themselves (a snapshot also owns its copy of the value).
 *
 * SPDX-License-Identifier: MIT
 */
#include "arraystore.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BUCKETS 256

static atomic_ulong calls[AS_SLOT_COUNT];

unsigned long arraystore_calls(enum arraystore_slot slot)
{
    return atomic_load(&calls[slot]);
}

void arraystore_calls_reset(void)
{
    for (int i = 0; i < AS_SLOT_COUNT; i++)
        atomic_store(&calls[i], 0);
}

#define COUNT(slot) atomic_fetch_add(&calls[slot], 1)

typedef struct entry {
    char *key;
    void *value;    /* NULL while deleted (a tombstone) */
    size_t len;
    bool live;
    uint64_t version; /* bumped by every write, kept by tombstones */
    uint64_t expires; /* CLOCK_MONOTONIC ms; 0: never */
} entry;

/* A removed bucket keeps its slot (open handles point at it) with no
 * entries; a write through such a handle, or an open, brings it back. */
typedef struct bucket_data {
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
    entry *e;
    size_t n, cap;
    bool removed;
} bucket_data;

typedef struct store {
    pthread_mutex_t mu;
    bucket_data *buckets[MAX_BUCKETS];
    size_t nbuckets;
} store;

typedef struct bucket {
    store *st;
    bucket_data *d;
} bucket;

typedef struct cas {
    bucket *b;
    char *key;
    uint64_t version; /* 0: no entry at all */
    void *value;
    size_t len;
} cas;

int arraystore_store_open(void **out, const kvstore_uri *uri)
{
    (void)uri;
    COUNT(AS_STORE_OPEN);
    store *st = calloc(1, sizeof *st);
    if (st == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "arraystore: out of memory");
    pthread_mutex_init(&st->mu, NULL);
    *out = st;
    return KVSTORE_OK;
}

/* Frees every entry of `d`, leaving it empty. */
static void clear(bucket_data *d)
{
    for (size_t j = 0; j < d->n; j++) {
        free(d->e[j].key);
        free(d->e[j].value);
    }
    free(d->e);
    d->e = NULL;
    d->n = d->cap = 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Whether `e` holds a value now: not deleted, not expired. */
static bool alive(const entry *e)
{
    return e != NULL && e->live && (e->expires == 0 || now_ms() < e->expires);
}

void arraystore_store_close(void *p)
{
    store *st = p;
    for (size_t i = 0; i < st->nbuckets; i++) {
        clear(st->buckets[i]);
        free(st->buckets[i]);
    }
    pthread_mutex_destroy(&st->mu);
    free(st);
}

int arraystore_bucket_open(void **out, void *p, const char *name, bool create)
{
    store *st = p;
    bucket_data *d = NULL;
    int rc = KVSTORE_OK;
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < st->nbuckets && d == NULL; i++)
        if (strcmp(st->buckets[i]->name, name) == 0)
            d = st->buckets[i];
    if (d != NULL && d->removed) {
        if (create)
            d->removed = false;
        else
            rc = kvstore_set_error(KVSTORE_ENOSTORE, "arraystore: no bucket "
                                   "'%s'", name);
    } else if (d == NULL) {
        if (!create)
            rc = kvstore_set_error(KVSTORE_ENOSTORE, "arraystore: no bucket "
                                   "'%s'", name);
        else if (st->nbuckets == MAX_BUCKETS)
            rc = kvstore_set_error(KVSTORE_EIO, "arraystore: too many "
                                   "buckets");
        else if ((d = calloc(1, sizeof *d)) == NULL)
            rc = kvstore_set_error(KVSTORE_ENOMEM, "arraystore: out of "
                                   "memory");
        else {
            snprintf(d->name, sizeof d->name, "%s", name);
            st->buckets[st->nbuckets++] = d;
        }
    }
    pthread_mutex_unlock(&st->mu);
    if (rc != KVSTORE_OK)
        return rc;
    bucket *b = malloc(sizeof *b);
    if (b == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "arraystore: out of memory");
    b->st = st;
    b->d = d;
    *out = b;
    return KVSTORE_OK;
}

void arraystore_bucket_close(void *b)
{
    free(b);
}

/* The entry for `key`, live or not, or NULL. Caller holds the mutex. */
static entry *find(bucket_data *d, const char *key)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->e[i].key, key) == 0)
            return &d->e[i];
    return NULL;
}

/* Stores a copy of value at key; caller holds the mutex. */
static int put(bucket_data *d, const char *key, const void *value, size_t len)
{
    if (len > ARRAYSTORE_VALUE_MAX)
        return kvstore_set_error(KVSTORE_ETOOBIG, "arraystore: values are "
                                 "limited to %u bytes", ARRAYSTORE_VALUE_MAX);
    void *copy = malloc(len ? len : 1);
    if (copy == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "arraystore: out of memory");
    if (len)
        memcpy(copy, value, len);
    entry *e = find(d, key);
    if (e == NULL) {
        if (d->n == d->cap) {
            size_t cap = d->cap ? d->cap * 2 : 16;
            entry *grown = realloc(d->e, cap * sizeof *grown);
            if (grown == NULL) {
                free(copy);
                return kvstore_set_error(KVSTORE_ENOMEM, "arraystore: out "
                                         "of memory");
            }
            d->e = grown;
            d->cap = cap;
        }
        char *k = strdup(key);
        if (k == NULL) {
            free(copy);
            return kvstore_set_error(KVSTORE_ENOMEM, "arraystore: out of "
                                     "memory");
        }
        e = &d->e[d->n++];
        memset(e, 0, sizeof *e);
        e->key = k;
    }
    free(e->value);
    e->value = copy;
    e->len = len;
    e->live = true;
    e->expires = 0;
    e->version++;
    d->removed = false;
    return KVSTORE_OK;
}

static void drop(bucket_data *d, const char *key)
{
    entry *e = find(d, key);
    if (e != NULL && e->live) {
        /* An expired entry is dropped like a live one: either way the key
         * is absent afterwards and its version moves on. */
        free(e->value);
        e->value = NULL;
        e->len = 0;
        e->live = false;
        e->version++;
    }
}

static int get_locked(bucket_data *d, const char *key, void **value,
                      size_t *len)
{
    entry *e = find(d, key);
    if (!alive(e)) {
        *value = NULL;
        *len = 0;
        return KVSTORE_NOTFOUND;
    }
    *value = kvstore_malloc(e->len ? e->len : 1);
    if (*value == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "arraystore: out of memory");
    memcpy(*value, e->value, e->len);
    *len = e->len;
    return KVSTORE_OK;
}

/* The prologue of a bucket slot: counts a call of `slot` and locks the
 * store of bucket `p`; leave() unlocks it. */
static bucket *enter(void *p, enum arraystore_slot slot)
{
    bucket *b = p;
    COUNT(slot);
    pthread_mutex_lock(&b->st->mu);
    return b;
}

/* Unlocks what enter() locked and passes `rc` on. */
static int leave(bucket *b, int rc)
{
    pthread_mutex_unlock(&b->st->mu);
    return rc;
}

int arraystore_get(void *p, const char *key, void **value, size_t *len)
{
    bucket *b = enter(p, AS_GET);
    return leave(b, get_locked(b->d, key, value, len));
}

int arraystore_set(void *p, const char *key, const void *value, size_t len)
{
    bucket *b = enter(p, AS_SET);
    return leave(b, put(b->d, key, value, len));
}

int arraystore_del(void *p, const char *key)
{
    bucket *b = enter(p, AS_DEL);
    drop(b->d, key);
    return leave(b, KVSTORE_OK);
}

int arraystore_exists(void *p, const char *key, bool *exists)
{
    bucket *b = enter(p, AS_EXISTS);
    *exists = alive(find(b->d, key));
    return leave(b, KVSTORE_OK);
}

/* The position state is a decimal index. A version 2 table hands it to
 * the core as it is; a version 1 table (a module built against the 1.0
 * headers) wraps it in the bucket's envelope itself. Either way a guest can
 * forge it, so it is parsed strictly. Sets *pos (0 without a cursor) and a
 * new empty *page. `bucket_name` names the envelope (version 1 only). */
static int page_start(const char *cursor, const char *bucket_name,
                      size_t *pos, kvstore_keys **page)
{
    *pos = 0;
    if (cursor != NULL) {
#if KVSTORE_BACKEND_VERSION < 2
        char state[24];
        size_t n = 0;
        int rc = kvstore_cursor_decode(cursor, bucket_name, state,
                                       sizeof state - 1, &n);
        if (rc != KVSTORE_OK)
            return rc;
        state[n] = '\0';
        cursor = state;
#else
        (void)bucket_name;
#endif
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(cursor, &end, 10);
        if (errno != 0 || end == cursor || *end != '\0' || cursor[0] == '-')
            return kvstore_set_error(KVSTORE_EINVAL, "arraystore: bad "
                                     "cursor");
        *pos = v < SIZE_MAX ? (size_t)v : SIZE_MAX;
    }
    *page = kvstore_keys_new();
    if (*page == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "arraystore: out of memory");
    return KVSTORE_OK;
}

/* Hands `page` out, with the state `next` when there is `more` (wrapped
 * for `bucket_name` by a version 1 table); frees it on error (`rc` or
 * setting the state). */
static int page_finish(kvstore_keys *page, int rc, bool more, size_t next,
                       const char *bucket_name, kvstore_keys **out)
{
    if (rc == KVSTORE_OK && more) {
        char state[24];
        snprintf(state, sizeof state, "%zu", next);
#if KVSTORE_BACKEND_VERSION < 2
        char *cur = NULL;
        rc = kvstore_cursor_encode(&cur, bucket_name, state, strlen(state));
        if (rc == KVSTORE_OK)
            rc = kvstore_keys_set_cursor(page, cur);
        kvstore_free(cur);
#else
        (void)bucket_name;
        rc = kvstore_keys_set_cursor(page, state);
#endif
    }
    if (rc != KVSTORE_OK) {
        kvstore_keys_free(page);
        return rc;
    }
    *out = page;
    return KVSTORE_OK;
}

int arraystore_list_keys(void *p, const char *prefix, const char *cursor,
                         size_t limit, kvstore_keys **out)
{
    bucket *b = p;
    size_t pos;
    kvstore_keys *page;
    COUNT(AS_LIST);
    int rc = page_start(cursor, b->d->name, &pos, &page);
    if (rc != KVSTORE_OK)
        return rc;
    size_t plen = strlen(prefix);
    pthread_mutex_lock(&b->st->mu);
    size_t i = pos < b->d->n ? pos : b->d->n;
    for (; i < b->d->n && page->count < limit && rc == KVSTORE_OK; i++) {
        entry *e = &b->d->e[i];
        if (alive(e) && strncmp(e->key, prefix, plen) == 0)
            rc = kvstore_keys_add(page, e->key, strlen(e->key));
    }
    bool more = i < b->d->n;
    pthread_mutex_unlock(&b->st->mu);
    return page_finish(page, rc, more, i, b->d->name, out);
}

int arraystore_get_many(void *p, const char *const *keys, size_t n,
                        void **values, size_t *lens)
{
    bucket *b = enter(p, AS_GET_MANY);
    int rc = KVSTORE_OK;
    for (size_t i = 0; i < n; i++)
        values[i] = NULL;
    for (size_t i = 0; i < n && rc >= 0; i++)
        rc = get_locked(b->d, keys[i], &values[i], &lens[i]);
    if (leave(b, rc) < 0) {
        for (size_t i = 0; i < n; i++) {
            kvstore_free(values[i]);
            values[i] = NULL;
        }
        return rc;
    }
    return KVSTORE_OK;
}

int arraystore_set_many(void *p, const char *const *keys,
                        const void *const *values, const size_t *lens,
                        size_t n)
{
    bucket *b = enter(p, AS_SET_MANY);
    int rc = KVSTORE_OK;
    for (size_t i = 0; i < n && rc == KVSTORE_OK; i++)
        rc = put(b->d, keys[i], values[i], lens[i]);
    return leave(b, rc);
}

int arraystore_delete_many(void *p, const char *const *keys, size_t n)
{
    bucket *b = enter(p, AS_DELETE_MANY);
    for (size_t i = 0; i < n; i++)
        drop(b->d, keys[i]);
    return leave(b, KVSTORE_OK);
}

int arraystore_increment(void *p, const char *key, int64_t delta,
                         int64_t *result)
{
    bucket *b = enter(p, AS_INCREMENT);
    int64_t cur = 0, next;
    int rc;
    entry *e = find(b->d, key);
    if (alive(e) && kvstore_counter_parse(e->value, e->len, &cur) != KVSTORE_OK) {
        rc = kvstore_set_error(KVSTORE_EINVAL, "arraystore: not a counter");
    } else if (__builtin_add_overflow(cur, delta, &next)) {
        rc = kvstore_set_error(KVSTORE_EINVAL, "arraystore: overflow");
    } else {
        char text[24];
        int n = snprintf(text, sizeof text, "%" PRId64, next);
        rc = put(b->d, key, text, (size_t)n);
        if (rc == KVSTORE_OK && result != NULL)
            *result = next;
    }
    return leave(b, rc);
}

int arraystore_cas_open(void **out, void *p, const char *key, bool *found,
                        const void **value, size_t *len)
{
    bucket *b = p;
    COUNT(AS_CAS_OPEN);
    cas *c = calloc(1, sizeof *c);
    if (c == NULL || (c->key = strdup(key)) == NULL) {
        free(c);
        return kvstore_set_error(KVSTORE_ENOMEM, "arraystore: out of memory");
    }
    c->b = b;
    int rc = KVSTORE_OK;
    pthread_mutex_lock(&b->st->mu);
    entry *e = find(b->d, key);
    c->version = e ? e->version : 0;
    *found = alive(e);
    if (*found) {
        c->value = malloc(e->len ? e->len : 1);
        if (c->value == NULL)
            rc = kvstore_set_error(KVSTORE_ENOMEM, "arraystore: out of "
                                   "memory");
        else
            memcpy(c->value, e->value, e->len);
        c->len = e->len;
    }
    pthread_mutex_unlock(&b->st->mu);
    if (rc != KVSTORE_OK) {
        arraystore_cas_free(c);
        return rc;
    }
    *value = c->value;
    *len = c->len;
    *out = c;
    return KVSTORE_OK;
}

int arraystore_cas_swap(void *p, const void *value, size_t len)
{
    cas *c = p;
    int rc;
    COUNT(AS_CAS_SWAP);
    pthread_mutex_lock(&c->b->st->mu);
    entry *e = find(c->b->d, c->key);
    if ((e ? e->version : 0) != c->version)
        rc = KVSTORE_ECONFLICT;
    else
        rc = put(c->b->d, c->key, value, len);
    pthread_mutex_unlock(&c->b->st->mu);
    return rc;
}

void arraystore_cas_free(void *p)
{
    cas *c = p;
    if (c == NULL)
        return;
    free(c->key);
    free(c->value);
    free(c);
}

/* ---- version 2: expiry and bucket management ---- */
#if KVSTORE_BACKEND_VERSION >= 2

int arraystore_set_ttl(void *p, const char *key, const void *value,
                       size_t len, uint64_t ttl_ms)
{
    bucket *b = enter(p, AS_SET_TTL);
    int rc = put(b->d, key, value, len);
    if (rc == KVSTORE_OK)
        find(b->d, key)->expires = now_ms() + ttl_ms;
    return leave(b, rc);
}

int arraystore_ttl(void *p, const char *key, int64_t *ms_left)
{
    bucket *b = enter(p, AS_TTL);
    int rc = KVSTORE_OK;
    entry *e = find(b->d, key);
    if (!alive(e)) {
        rc = KVSTORE_NOTFOUND;
    } else if (e->expires == 0) {
        *ms_left = -1;
    } else {
        uint64_t now = now_ms();
        *ms_left = e->expires > now ? (int64_t)(e->expires - now) : 0;
    }
    return leave(b, rc);
}

/* The prologue of a slot about one bucket of the store: counts a call of
 * `slot`, locks `st` (the caller unlocks it) and returns the bucket named
 * `name` that is not removed, or NULL with *rc set to ENOSTORE. */
static bucket_data *enter_named(store *st, enum arraystore_slot slot,
                                const char *name, int *rc)
{
    COUNT(slot);
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < st->nbuckets; i++)
        if (!st->buckets[i]->removed && strcmp(st->buckets[i]->name, name) == 0)
            return st->buckets[i];
    *rc = kvstore_set_error(KVSTORE_ENOSTORE, "arraystore: no bucket '%s'",
                            name);
    return NULL;
}

int arraystore_bucket_list(void *p, const char *cursor, size_t limit,
                           kvstore_keys **out)
{
    store *st = p;
    size_t pos;
    kvstore_keys *page;
    COUNT(AS_BUCKET_LIST);
    /* The state is an index into st->buckets: slots are never freed
     * before the store. */
    int rc = page_start(cursor, NULL, &pos, &page);
    if (rc != KVSTORE_OK)
        return rc;
    pthread_mutex_lock(&st->mu);
    size_t i = pos < st->nbuckets ? pos : st->nbuckets;
    for (; i < st->nbuckets && page->count < limit && rc == KVSTORE_OK; i++)
        if (!st->buckets[i]->removed)
            rc = kvstore_keys_add(page, st->buckets[i]->name,
                                  strlen(st->buckets[i]->name));
    bool more = i < st->nbuckets;
    pthread_mutex_unlock(&st->mu);
    return page_finish(page, rc, more, i, NULL, out);
}

int arraystore_bucket_remove(void *p, const char *name)
{
    store *st = p;
    int rc = KVSTORE_OK;
    bucket_data *d = enter_named(st, AS_BUCKET_REMOVE, name, &rc);
    if (d != NULL) {
        clear(d);
        d->removed = true;
    }
    pthread_mutex_unlock(&st->mu);
    return rc;
}

int arraystore_bucket_info(void *p, const char *name,
                           kvstore_bucket_stat *info)
{
    store *st = p;
    int rc = KVSTORE_OK;
    bucket_data *d = enter_named(st, AS_BUCKET_INFO, name, &rc);
    if (d != NULL) {
        int64_t keys = 0;
        for (size_t i = 0; i < d->n; i++)
            keys += alive(&d->e[i]);
        info->keys = keys;
        info->max_value = ARRAYSTORE_VALUE_MAX;
    }
    pthread_mutex_unlock(&st->mu);
    return rc;
}
#endif /* KVSTORE_BACKEND_VERSION >= 2 */
