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

int mem_get_with(void *bucket, const char *key, kvstore_value_fn fn,
                 void *ctx)
{
    mem_stripe *st;
    uint64_t now = 0;
    mem_entry *e = mem_read_begin(bucket, key, &st, &now);
    /* e->value is never NULL, even for an empty value. */
    int rc = e ? fn(ctx, e->value, e->vlen) : KVSTORE_NOTFOUND;

    pthread_rwlock_unlock(&st->lock);
    return rc;
}
