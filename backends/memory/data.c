/*
 * libkvstore - memory backend: get, set, delete, exists.
 *
 * The hot path takes one stripe lock and makes at most one allocation: the
 * returned copy (get), or none for a set that rewrites a value in place.
 * No lock is shared by all keys of a bucket.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory.h"

#include <stdlib.h>
#include <string.h>

mem_stripe *mem_stripe_of(mem_bucket *b, uint32_t hashv)
{
    /* uthash picks its buckets from the low bits of the hash; take the
     * stripe from a multiplicative mix of all bits so the two choices do
     * not correlate. */
    uint32_t mixed = hashv * UINT32_C(0x9E3779B1);

    return &b->stripes[mixed >> (32 - 6)];
}

_Static_assert(MEM_STRIPES == 64, "mem_stripe_of takes 6 bits");

int mem_check_value(size_t len)
{
    if (len > MEM_VALUE_MAX)
        return kvstore_set_error(KVSTORE_ETOOBIG,
                                 "memory: value of %zu bytes is above the "
                                 "limit of 64 MiB (%zu bytes)",
                                 len, MEM_VALUE_MAX);
    return KVSTORE_OK;
}

mem_entry *mem_entry_new(const char *key, size_t klen, const void *value,
                         size_t vlen)
{
    /* Small values get a little slack so that a slightly longer rewrite
     * (a counter gaining a digit) still fits in place. */
    size_t cap = vlen <= MEM_INPLACE_MAX ? (vlen + 15) & ~(size_t)15 : vlen;
    mem_entry *e = malloc(sizeof(*e) + klen + 1 + cap);

    if (!e)
        return NULL;
    e->klen = klen;
    e->vlen = vlen;
    e->cap = cap;
    memcpy(e->data, key, klen);
    e->data[klen] = '\0';
    e->value = e->data + klen + 1;
    if (vlen)
        memcpy(e->value, value, vlen);
    return e;
}

/* Reusing the room is worth it only while it is not mostly wasted: a
 * value that shrank a lot gets a new, smaller entry. */
static bool fits(const mem_entry *e, size_t vlen)
{
    return vlen <= MEM_INPLACE_MAX && vlen <= e->cap &&
           (e->cap <= 128 || vlen >= e->cap / 2);
}

/* uthash doubles a table only when one chain reaches 10 entries, which
 * leaves ~2.5 keys per chain, and a lookup pays a cache miss for each
 * entry it walks past. Lookups dominate here, so double whenever there are
 * more keys than chains: about one entry per chain, for at most 32 bytes
 * of chain heads per key. HASH_EXPAND_BUCKETS is uthash's own doubling
 * step (its first argument is unused); it leaves the table as it was if
 * memory runs out, and we respect the table's noexpand verdict (set when
 * doubling stops helping, e.g. under colliding keys). */
static void keep_load_low(UT_hash_table *tbl)
{
    if (tbl->num_items > tbl->num_buckets && !tbl->noexpand) {
        int oomed = 0;

        HASH_EXPAND_BUCKETS(hh, tbl, oomed);
        (void)oomed;
    }
}

/* Puts `e` in place of `old` (may be NULL) and stamps its version. */
static int stripe_put(mem_stripe *st, mem_entry *old, mem_entry *e,
                      uint32_t hashv)
{
    /* Add before removing: if the add fails for lack of memory the old
     * entry is still in place. uthash tolerates the transient duplicate
     * and HASH_DELETE removes the exact element. */
    HASH_ADD_KEYPTR_BYHASHVALUE(hh, st->table, e->data, e->klen, hashv, e);
    if (!e->hh.tbl)
        return KVSTORE_ENOMEM;
    if (old) {
        HASH_DELETE(hh, st->table, old);
    } else {
        atomic_fetch_add_explicit(&st->keygen, 1, memory_order_release);
        keep_load_low(st->table->hh.tbl);
    }
    e->version = ++st->clock;
    return KVSTORE_OK;
}

int mem_stripe_write(mem_stripe *st, mem_entry *old, const char *key,
                     size_t klen, uint32_t hashv, const void *value,
                     size_t vlen, mem_entry *fresh, mem_entry **garbage)
{
    mem_entry *e = fresh;

    if (old && fits(old, vlen)) {
        if (vlen)
            memcpy(old->value, value, vlen);
        old->vlen = vlen;
        old->version = ++st->clock;
        *garbage = fresh;
        return KVSTORE_OK;
    }
    if (!e)
        e = mem_entry_new(key, klen, value, vlen);
    if (!e || stripe_put(st, old, e, hashv) != KVSTORE_OK) {
        if (e != fresh)
            free(e);
        return KVSTORE_ENOMEM;
    }
    *garbage = old;
    return KVSTORE_OK;
}

int mem_get(void *bucket, const char *key, void **value, size_t *len)
{
    mem_bucket *b = bucket;
    size_t klen = strlen(key);
    uint32_t hashv = mem_hash(key, klen);
    mem_stripe *st = mem_stripe_of(b, hashv);
    mem_entry *e;
    void *copy = NULL;
    size_t vlen = 0;

    pthread_rwlock_rdlock(&st->lock);
    HASH_FIND_BYHASHVALUE(hh, st->table, key, klen, hashv, e);
    if (e) {
        vlen = e->vlen;
        /* Never NULL, even for an empty value. */
        copy = kvstore_malloc(vlen ? vlen : 1);
        if (copy)
            memcpy(copy, e->value, vlen);
    }
    pthread_rwlock_unlock(&st->lock);

    if (!e) {
        *value = NULL;
        *len = 0;
        return KVSTORE_NOTFOUND;
    }
    if (!copy) {
        *value = NULL;
        *len = 0;
        return kvstore_set_error(KVSTORE_ENOMEM, "memory: out of memory");
    }
    *value = copy;
    *len = vlen;
    return KVSTORE_OK;
}

int mem_set(void *bucket, const char *key, const void *value, size_t len)
{
    mem_bucket *b = bucket;
    size_t klen = strlen(key);
    uint32_t hashv;
    mem_stripe *st;
    mem_entry *fresh = NULL, *old, *garbage = NULL;
    mem_event *ev;
    int rc = mem_check_value(len);

    if (rc != KVSTORE_OK)
        return rc;
    if (len > MEM_INPLACE_MAX) {
        /* Copy a large value before locking; see MEM_INPLACE_MAX. */
        fresh = mem_entry_new(key, klen, value, len);
        if (!fresh)
            return kvstore_set_error(KVSTORE_ENOMEM, "memory: out of memory");
    }
    ev = mem_watched(b) ? mem_event_prepare(b, KVSTORE_EVENT_SET, key, klen,
                                            value, len)
                        : NULL;
    hashv = mem_hash(key, klen);
    st = mem_stripe_of(b, hashv);

    pthread_rwlock_wrlock(&st->lock);
    HASH_FIND_BYHASHVALUE(hh, st->table, key, klen, hashv, old);
    rc = mem_stripe_write(st, old, key, klen, hashv, value, len, fresh,
                          &garbage);
    if (rc == KVSTORE_OK && ev) {
        mem_event_publish(b, ev);
        ev = NULL;
    }
    pthread_rwlock_unlock(&st->lock);

    if (rc != KVSTORE_OK) {
        if (ev)
            mem_event_unref(ev);
        free(fresh);
        return kvstore_set_error(rc, "memory: out of memory");
    }
    free(garbage);
    return KVSTORE_OK;
}

int mem_del(void *bucket, const char *key)
{
    mem_bucket *b = bucket;
    size_t klen = strlen(key);
    uint32_t hashv = mem_hash(key, klen);
    mem_stripe *st = mem_stripe_of(b, hashv);
    mem_event *ev = mem_watched(b) ? mem_event_prepare(b, KVSTORE_EVENT_DELETE,
                                                       key, klen, NULL, 0)
                                   : NULL;
    mem_entry *e;

    pthread_rwlock_wrlock(&st->lock);
    HASH_FIND_BYHASHVALUE(hh, st->table, key, klen, hashv, e);
    if (e) {
        HASH_DELETE(hh, st->table, e);
        atomic_fetch_add_explicit(&st->keygen, 1, memory_order_release);
        /* Only a delete that removed something is an event. */
        mem_event_publish(b, ev);
        ev = NULL;
    }
    pthread_rwlock_unlock(&st->lock);

    if (ev)
        mem_event_unref(ev);
    free(e);
    return KVSTORE_OK;
}

int mem_exists(void *bucket, const char *key, bool *exists)
{
    mem_bucket *b = bucket;
    size_t klen = strlen(key);
    uint32_t hashv = mem_hash(key, klen);
    mem_stripe *st = mem_stripe_of(b, hashv);
    mem_entry *e;

    pthread_rwlock_rdlock(&st->lock);
    HASH_FIND_BYHASHVALUE(hh, st->table, key, klen, hashv, e);
    pthread_rwlock_unlock(&st->lock);
    *exists = e != NULL;
    return KVSTORE_OK;
}
