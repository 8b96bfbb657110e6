/*
 * libkvstore - memory backend: increment and compare-and-swap.
 *
 * Both run under the key's stripe write lock, which makes them atomic with
 * respect to every other operation on the key. CAS compares the entry's
 * version: versions come from a per-stripe clock that only moves forward,
 * so a key deleted and set again never returns to an old version.
 *
 * Expiry: an expired entry is an absent key to both. Increment keeps a
 * live key's expiry (as Redis INCR does); a CAS swap is a set and clears
 * it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mem_increment(void *bucket, const char *key, int64_t delta,
                  int64_t *result)
{
    mem_bucket *b = bucket;
    size_t klen = strlen(key);
    uint32_t hashv = mem_hash(key, klen);
    mem_stripe *st = mem_stripe_of(b, hashv);
    mem_entry *old, *garbage = NULL;
    mem_event *ev = NULL;
    int64_t cur = 0, sum = 0;
    uint64_t now = 0, expires = 0;
    char buf[24];
    int n, rc = KVSTORE_OK;

    pthread_rwlock_wrlock(&st->lock);
    HASH_FIND_BYHASHVALUE(hh, st->table, key, klen, hashv, old);
    bool live = old && !mem_expired(old, &now);
    if (live)
        expires = old->expires_ms;
    if (live && kvstore_counter_parse(old->value, old->vlen, &cur) != KVSTORE_OK) {
        rc = KVSTORE_EINVAL;
    } else if (__builtin_add_overflow(cur, delta, &sum)) {
        rc = KVSTORE_ETOOBIG; /* reported as EINVAL below, with its text */
    } else {
        n = snprintf(buf, sizeof(buf), "%" PRId64, sum);
        rc = mem_stripe_write(st, old, key, klen, hashv, buf, (size_t)n,
                              expires, NULL, &garbage);
        if (rc == KVSTORE_OK) {
            /* The value is known only under the lock; so is the event. */
            ev = mem_event_prepare(b, KVSTORE_EVENT_SET, key, klen, buf,
                                   (size_t)n);
            mem_event_publish(b, ev);
        }
    }
    mem_write_unlock(st);
    switch (rc) {
    case KVSTORE_OK:
        free(garbage);
        if (result)
            *result = sum;
        return KVSTORE_OK;
    case KVSTORE_EINVAL:
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "memory: value of \"%s\" is not a decimal "
                                 "int64", key);
    case KVSTORE_ETOOBIG:
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "memory: incrementing \"%s\" by %" PRId64
                                 " overflows int64", key, delta);
    default:
        return kvstore_set_error(KVSTORE_ENOMEM, "memory: out of memory");
    }
}

/* A snapshot of one key. Owned by the caller of cas_open, freed by
 * cas_free; `value` is lent to the user until then. */
typedef struct mem_cas {
    mem_bucket *b;
    bool found;
    uint64_t version;
    uint32_t hashv;
    size_t klen;
    size_t vlen;
    void *value;   /* copy of the value when found (never NULL then) */
    char key[];
} mem_cas;

int mem_cas_open(void **out, void *bucket, const char *key, bool *found,
                 const void **value, size_t *len)
{
    mem_bucket *b = bucket;
    size_t klen = strlen(key);
    mem_cas *c = malloc(sizeof(*c) + klen + 1);
    mem_stripe *st;
    mem_entry *e;
    uint64_t now = 0;
    bool oom = false;

    if (!c)
        return kvstore_set_error(KVSTORE_ENOMEM, "memory: out of memory");
    memcpy(c->key, key, klen + 1);
    c->b = b;
    c->klen = klen;
    c->hashv = mem_hash(key, klen);
    c->value = NULL;
    c->vlen = 0;
    c->version = 0;
    st = mem_stripe_of(b, c->hashv);

    pthread_rwlock_rdlock(&st->lock);
    HASH_FIND_BYHASHVALUE(hh, st->table, key, klen, c->hashv, e);
    if (e && mem_expired(e, &now))
        e = NULL;
    c->found = e != NULL;
    if (e) {
        c->version = e->version;
        c->vlen = e->vlen;
        c->value = malloc(e->vlen ? e->vlen : 1);
        if (c->value)
            memcpy(c->value, e->value, e->vlen);
        else
            oom = true;
    }
    pthread_rwlock_unlock(&st->lock);

    if (oom) {
        free(c);
        return kvstore_set_error(KVSTORE_ENOMEM, "memory: out of memory");
    }
    *found = c->found;
    *value = c->value;
    *len = c->vlen;
    *out = c;
    return KVSTORE_OK;
}

int mem_cas_swap(void *cas, const void *value, size_t len)
{
    mem_cas *c = cas;
    mem_bucket *b = c->b;
    mem_stripe *st = mem_stripe_of(b, c->hashv);
    mem_entry *cur, *fresh = NULL, *garbage = NULL;
    mem_event *ev;
    uint64_t now = 0;
    int rc = mem_check_value(len);

    if (rc != KVSTORE_OK)
        return rc;
    if (len > MEM_INPLACE_MAX) {
        fresh = mem_entry_new(c->key, c->klen, value, len);
        if (!fresh)
            return kvstore_set_error(KVSTORE_ENOMEM, "memory: out of memory");
    }
    ev = mem_event_prepare(b, KVSTORE_EVENT_SET, c->key, c->klen, value, len);

    pthread_rwlock_wrlock(&st->lock);
    HASH_FIND_BYHASHVALUE(hh, st->table, c->key, c->klen, c->hashv, cur);
    bool live = cur && !mem_expired(cur, &now);
    if (c->found ? (live && cur->version == c->version) : !live) {
        rc = mem_stripe_write(st, cur, c->key, c->klen, c->hashv, value, len,
                              0, fresh, &garbage);
        if (rc == KVSTORE_OK) {
            mem_event_publish(b, ev);
            ev = NULL;
            fresh = NULL; /* now in the table, or in garbage */
        }
    } else {
        rc = KVSTORE_ECONFLICT;
    }
    mem_write_unlock(st);
    if (ev)
        mem_event_unref(ev);
    free(fresh);
    free(garbage);
    if (rc == KVSTORE_ECONFLICT)
        return kvstore_set_error(KVSTORE_ECONFLICT,
                                 "memory: \"%s\" changed since the snapshot",
                                 c->key);
    if (rc != KVSTORE_OK)
        return kvstore_set_error(rc, "memory: out of memory");
    return KVSTORE_OK;
}

void mem_cas_free(void *cas)
{
    mem_cas *c = cas;
    free(c->value);
    free(c);
}
