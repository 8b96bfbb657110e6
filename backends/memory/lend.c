/*
 * libkvstore - memory backend: get_with, the get that lends the value
 * (kvstore_get_with). The callback reads the entry in place under the
 * stripe's read lock: no allocation and no copy, which is most of a get's
 * cost here. Writers of the same stripe wait for the callback, which the
 * API tells to copy and return.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory.h"

#include <string.h>

int mem_get_with(void *bucket, const char *key, kvstore_value_fn fn,
                 void *ctx)
{
    mem_bucket *b = bucket;
    size_t klen = strlen(key);
    uint32_t hashv = mem_hash(key, klen);
    mem_stripe *st = mem_stripe_of(b, hashv);
    uint64_t now = 0;
    mem_entry *e;
    int rc = KVSTORE_NOTFOUND;

    pthread_rwlock_rdlock(&st->lock);
    HASH_FIND_BYHASHVALUE(hh, st->table, key, klen, hashv, e);
    if (e && !mem_expired(e, &now))
        rc = fn(ctx, e->value, e->vlen); /* e->value: never NULL */
    pthread_rwlock_unlock(&st->lock);
    return rc;
}
