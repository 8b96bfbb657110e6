/*
 * Increment and compare-and-swap, with the increment fallback over CAS for
 * backends that have no native increment.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

/* A CAS loop that keeps losing is livelock, not progress: give up with
 * KVSTORE_ECONFLICT rather than spin for ever. */
#define INCREMENT_CAS_ATTEMPTS 100000

static int increment_via_cas(kvstore_bucket *b, const char *key,
                             int64_t delta, int64_t *result)
{
    const kvstore_backend *be = b->be;

    for (int attempt = 0; attempt < INCREMENT_CAS_ATTEMPTS; attempt++) {
        void *cas = NULL;
        const void *value = NULL;
        size_t len = 0;
        bool found = false;
        int64_t cur = 0, next;
        char text[24];
        int rc, n;

        rc = be->cas_open(&cas, b->state, key, &found, &value, &len);
        if (rc != KVSTORE_OK)
            return rc;
        if (found && kvstore_counter_parse(value, len, &cur) != KVSTORE_OK) {
            be->cas_free(cas);
            return kvstore_set_error(KVSTORE_EINVAL,
                                     "increment: the value of the key is "
                                     "not a decimal int64");
        }
        if (__builtin_add_overflow(cur, delta, &next)) {
            be->cas_free(cas);
            return kvstore_set_error(KVSTORE_EINVAL,
                                     "increment: %" PRId64 " + %" PRId64
                                     " overflows int64", cur, delta);
        }
        n = snprintf(text, sizeof text, "%" PRId64, next);
        rc = be->cas_swap(cas, text, (size_t)n);
        be->cas_free(cas);
        if (rc == KVSTORE_OK) {
            if (result)
                *result = next;
            return KVSTORE_OK;
        }
        if (rc != KVSTORE_ECONFLICT)
            return rc;
        sched_yield();
    }
    return kvstore_set_error(KVSTORE_ECONFLICT,
                             "increment: gave up after %d conflicting "
                             "attempts", INCREMENT_CAS_ATTEMPTS);
}

static int increment_impl(kvstore_bucket *b, const char *key, int64_t delta,
                          int64_t *result)
{
    unsigned mark;
    int rc;

    if (b == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "bucket is NULL");
    rc = kvstore_key_check(key);
    if (rc != KVSTORE_OK)
        return rc;
    mark = kvs_error_mark();
    if (b->be->increment)
        rc = b->be->increment(b->state, key, delta, result);
    else if (b->be->cas_open)
        rc = increment_via_cas(b, key, delta, result);
    else
        rc = kvstore_set_error(KVSTORE_ENOTSUP,
                               "increment: backend '%s' supports neither "
                               "increment nor compare-and-swap",
                               b->be->name);
    return kvs_error_finish(rc, mark, "increment");
}

static int cas_open_impl(kvstore_cas **out, kvstore_bucket *b, const char *key)
{
    kvstore_cas *cas;
    unsigned mark;
    int rc;

    if (out == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "out is NULL");
    *out = NULL;
    if (b == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "bucket is NULL");
    rc = kvstore_key_check(key);
    if (rc != KVSTORE_OK)
        return rc;
    if (b->be->cas_open == NULL)
        return kvstore_set_error(KVSTORE_ENOTSUP,
                                 "cas: backend '%s' does not support "
                                 "compare-and-swap", b->be->name);
    cas = calloc(1, sizeof *cas);
    if (cas == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "out of memory");
    cas->be = b->be;
    cas->bucket = b;
    mark = kvs_error_mark();
    rc = b->be->cas_open(&cas->state, b->state, key, &cas->found, &cas->value,
                         &cas->len);
    if (rc != KVSTORE_OK) {
        free(cas);
        return kvs_error_finish(rc, mark, "cas_open");
    }
    if (!cas->found) {
        cas->value = NULL;
        cas->len = 0;
    } else if (cas->value == NULL) {
        cas->value = "";
    }
    *out = cas;
    return KVSTORE_OK;
}

int kvstore_cas_current(kvstore_cas *cas, const void **value, size_t *len)
{
    if (value)
        *value = NULL;
    if (len)
        *len = 0;
    if (cas == NULL || value == NULL || len == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "cas_current: NULL argument");
    if (!cas->found)
        return KVSTORE_NOTFOUND;
    *value = cas->value;
    *len = cas->len;
    return KVSTORE_OK;
}

static int cas_swap_impl(kvstore_cas *cas, const void *value, size_t len)
{
    unsigned mark;
    int rc;

    if (cas == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "cas is NULL");
    rc = kvs_value_check(value, len);
    if (rc != KVSTORE_OK)
        return rc;
    if (cas->swapped)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "cas_swap: this snapshot was already "
                                 "swapped; open a new one");
    cas->swapped = true;
    mark = kvs_error_mark();
    rc = cas->be->cas_swap(cas->state, value ? value : "", len);
    if (rc == KVSTORE_ECONFLICT && kvs_error_mark() == mark)
        kvstore_set_error(rc, "cas_swap: the key changed since the snapshot");
    return kvs_error_finish(rc, mark, "cas_swap");
}

void kvstore_cas_free(kvstore_cas *cas)
{
    if (cas == NULL)
        return;
    cas->be->cas_free(cas->state);
    free(cas);
}

int kvstore_increment(kvstore_bucket *b, const char *key, int64_t delta,
                      int64_t *result)
{
    struct kvs_obs_call c;
    int rc;

    if (b == NULL || !kvs_obs_begin(&c, b->store))
        return increment_impl(b, key, delta, result);
    rc = increment_impl(b, key, delta, result);
    kvs_obs_end(&c, KVSTORE_OP_INCREMENT, b->name, 1, 0, 0, rc);
    return rc;
}

int kvstore_cas_open(kvstore_cas **out, kvstore_bucket *b, const char *key)
{
    struct kvs_obs_call c;
    int rc;

    if (b == NULL || !kvs_obs_begin(&c, b->store))
        return cas_open_impl(out, b, key);
    rc = cas_open_impl(out, b, key);
    kvs_obs_end(&c, KVSTORE_OP_CAS_OPEN, b->name, 1, 0,
                rc == KVSTORE_OK ? (*out)->len : 0, rc);
    return rc;
}

/* The cas snapshot's bucket must still be open: the contract has a
 * snapshot used with its bucket. */
int kvstore_cas_swap(kvstore_cas *cas, const void *value, size_t len)
{
    struct kvs_obs_call c;
    int rc;

    if (cas == NULL || !kvs_obs_begin(&c, cas->bucket->store))
        return cas_swap_impl(cas, value, len);
    rc = cas_swap_impl(cas, value, len);
    kvs_obs_end(&c, KVSTORE_OP_CAS_SWAP, cas->bucket->name, 1, len, 0, rc);
    return rc;
}
