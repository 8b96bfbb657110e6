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
#include <time.h>

uint64_t mem_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    /* Never 0: mem_expired takes 0 for "not read yet". */
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + 1;
}

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
                     size_t vlen, uint64_t expires_ms, mem_entry *fresh,
                     mem_entry **garbage)
{
    mem_entry *e = fresh;

    if (expires_ms)
        st->ttl_seen = true;
    if (old && fits(old, vlen)) {
        if (vlen)
            memcpy(old->value, value, vlen);
        old->vlen = vlen;
        old->expires_ms = expires_ms;
        old->version = ++st->clock;
        *garbage = fresh;
        return KVSTORE_OK;
    }
    if (!e)
        e = mem_entry_new(key, klen, value, vlen);
    if (!e)
        return KVSTORE_ENOMEM;
    e->expires_ms = expires_ms;
    if (stripe_put(st, old, e, hashv) != KVSTORE_OK) {
        if (e != fresh)
            free(e);
        return KVSTORE_ENOMEM;
    }
    *garbage = old;
    return KVSTORE_OK;
}

void mem_reap_chains(mem_stripe *st, mem_reaped *r)
{
    uint64_t now = 0;

    for (int c = 0; c < MEM_REAP_CHAINS && st->table; c++) {
        UT_hash_table *tbl = st->table->hh.tbl;
        UT_hash_handle *hh = tbl->buckets[st->reap_pos++ %
                                          tbl->num_buckets].hh_head;

        while (hh && r->n < MEM_REAP_MAX) {
            UT_hash_handle *next = hh->hh_next;
            mem_entry *e = (mem_entry *)ELMT_FROM_HH(tbl, hh);

            if (mem_expired(e, &now)) {
                HASH_DELETE(hh, st->table, e);
                atomic_fetch_add_explicit(&st->keygen, 1,
                                          memory_order_release);
                r->e[r->n++] = e;
                if (!st->table)
                    return; /* the last entry: uthash freed the table */
            }
            hh = next;
        }
    }
}



int mem_get(void *bucket, const char *key, void **value, size_t *len)
{
    mem_stripe *st;
    uint64_t now = 0;
    mem_entry *e = mem_read_begin(bucket, key, &st, &now);
    void *copy = NULL;
    size_t vlen = 0;

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

/* set and set_ttl: writes the value and its expiry (0: none). */
static int write_key(mem_bucket *b, const char *key, const void *value,
                     size_t len, uint64_t expires_ms)
{
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
    rc = mem_stripe_write(st, old, key, klen, hashv, value, len, expires_ms,
                          fresh, &garbage);
    if (rc == KVSTORE_OK && ev) {
        mem_event_publish(b, ev);
        ev = NULL;
    }
    mem_write_unlock(st);
    if (rc != KVSTORE_OK) {
        if (ev)
            mem_event_unref(ev);
        free(fresh);
        return kvstore_set_error(rc, "memory: out of memory");
    }
    free(garbage);
    return KVSTORE_OK;
}

int mem_set(void *bucket, const char *key, const void *value, size_t len)
{
    return write_key(bucket, key, value, len, 0);
}

int mem_set_ttl(void *bucket, const char *key, const void *value,
                size_t len, uint64_t ttl_ms)
{
    mem_bucket *b = bucket;
    uint64_t now = mem_now_ms();
    /* A TTL past the clock's range never expires in practice: saturate. */
    uint64_t expires = ttl_ms > UINT64_MAX - now ? UINT64_MAX : now + ttl_ms;

    /* Before the write: from now on listings take no key-space version. */
    atomic_store(&b->ttl_seen, true);
    return write_key(b, key, value, len, expires);
}

int mem_ttl(void *bucket, const char *key, int64_t *ms_left)
{
    mem_stripe *st;
    uint64_t now = 0, expires = 0;
    mem_entry *e = mem_read_begin(bucket, key, &st, &now);

    if (e)
        expires = e->expires_ms;
    pthread_rwlock_unlock(&st->lock);
    if (!e)
        return KVSTORE_NOTFOUND;
    if (expires == 0) {
        *ms_left = -1;
    } else {
        uint64_t left = expires - now; /* > 0: not expired at `now` */
        *ms_left = left > INT64_MAX ? INT64_MAX : (int64_t)left;
    }
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
    uint64_t now = 0;
    mem_entry *e;

    pthread_rwlock_wrlock(&st->lock);
    HASH_FIND_BYHASHVALUE(hh, st->table, key, klen, hashv, e);
    if (e) {
        HASH_DELETE(hh, st->table, e);
        atomic_fetch_add_explicit(&st->keygen, 1, memory_order_release);
        /* Only a delete that removed something is an event: an expired
         * key was already absent. */
        if (!mem_expired(e, &now)) {
            mem_event_publish(b, ev);
            ev = NULL;
        }
    }
    mem_write_unlock(st);
    if (ev)
        mem_event_unref(ev);
    free(e);
    return KVSTORE_OK;
}

int mem_exists(void *bucket, const char *key, bool *exists)
{
    mem_stripe *st;
    uint64_t now = 0;
    bool live = mem_read_begin(bucket, key, &st, &now) != NULL;

    pthread_rwlock_unlock(&st->lock);
    *exists = live;
    return KVSTORE_OK;
}
