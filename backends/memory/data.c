/*
 * libkvstore - memory backend: get, set, delete, exists.
 *
 * The hot path takes one stripe lock and makes one allocation: the new
 * entry (set, outside the lock) or the returned copy (get). No lock is
 * shared by all keys of a bucket.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory.h"

#include <stdlib.h>
#include <string.h>

uint32_t mem_hash(const char *key, size_t klen)
{
    unsigned hashv;

    HASH_VALUE(key, klen, hashv);
    return hashv;
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
    mem_entry *e = malloc(sizeof(*e) + klen + 1 + vlen);

    if (!e)
        return NULL;
    e->klen = klen;
    e->vlen = vlen;
    memcpy(e->data, key, klen);
    e->data[klen] = '\0';
    e->value = e->data + klen + 1;
    if (vlen)
        memcpy(e->value, value, vlen);
    return e;
}

int mem_stripe_put(mem_stripe *st, mem_entry *old, mem_entry *e,
                   uint32_t hashv)
{
    /* Add before removing: if the add fails for lack of memory the old
     * entry is still in place. uthash tolerates the transient duplicate
     * and HASH_DELETE removes the exact element. */
    HASH_ADD_KEYPTR_BYHASHVALUE(hh, st->table, e->data, e->klen, hashv, e);
    if (!e->hh.tbl)
        return KVSTORE_ENOMEM;
    if (old)
        HASH_DELETE(hh, st->table, old);
    else
        atomic_fetch_add_explicit(&st->keygen, 1, memory_order_release);
    e->version = ++st->clock;
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
    mem_entry *e, *old;
    mem_event *ev;
    int rc = mem_check_value(len);

    if (rc != KVSTORE_OK)
        return rc;
    e = mem_entry_new(key, klen, value, len);
    if (!e)
        return kvstore_set_error(KVSTORE_ENOMEM, "memory: out of memory");
    ev = mem_event_prepare(b, KVSTORE_EVENT_SET, key, klen, value, len);
    hashv = mem_hash(key, klen);
    st = mem_stripe_of(b, hashv);

    pthread_rwlock_wrlock(&st->lock);
    HASH_FIND_BYHASHVALUE(hh, st->table, key, klen, hashv, old);
    rc = mem_stripe_put(st, old, e, hashv);
    if (rc == KVSTORE_OK)
        mem_event_publish(b, ev);
    pthread_rwlock_unlock(&st->lock);

    if (rc != KVSTORE_OK) {
        if (ev)
            mem_event_unref(ev);
        free(e);
        return kvstore_set_error(rc, "memory: out of memory");
    }
    free(old);
    return KVSTORE_OK;
}

int mem_del(void *bucket, const char *key)
{
    mem_bucket *b = bucket;
    size_t klen = strlen(key);
    uint32_t hashv = mem_hash(key, klen);
    mem_stripe *st = mem_stripe_of(b, hashv);
    mem_event *ev = mem_event_prepare(b, KVSTORE_EVENT_DELETE, key, klen,
                                      NULL, 0);
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
