/*
 * Observers: one callback per operation on a store (kvstore_observe).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>

#include "internal.h"

static const char *const op_names[KVSTORE_OP_COUNT] = {
    [KVSTORE_OP_GET] = "get",
    [KVSTORE_OP_SET] = "set",
    [KVSTORE_OP_DELETE] = "delete",
    [KVSTORE_OP_EXISTS] = "exists",
    [KVSTORE_OP_LIST_KEYS] = "list_keys",
    [KVSTORE_OP_INCREMENT] = "increment",
    [KVSTORE_OP_CAS_OPEN] = "cas_open",
    [KVSTORE_OP_CAS_SWAP] = "cas_swap",
    [KVSTORE_OP_GET_MANY] = "get_many",
    [KVSTORE_OP_SET_MANY] = "set_many",
    [KVSTORE_OP_DELETE_MANY] = "delete_many",
    [KVSTORE_OP_WATCH_START] = "watch_start",
    [KVSTORE_OP_SET_TTL] = "set_ttl",
    [KVSTORE_OP_TTL] = "ttl",
    [KVSTORE_OP_BUCKET_OPEN] = "bucket_open",
    [KVSTORE_OP_BUCKET_LIST] = "bucket_list",
    [KVSTORE_OP_BUCKET_REMOVE] = "bucket_remove",
    [KVSTORE_OP_BUCKET_INFO] = "bucket_info",
};

const char *kvstore_op_name(kvstore_op op)
{
    if ((int)op <= 0 || (int)op >= KVSTORE_OP_COUNT || !op_names[op])
        return "unknown";
    return op_names[op];
}

int kvstore_observe(kvstore_store *store, const kvstore_observer *obs,
                    void *payload)
{
    struct kvs_observer *rec = NULL;

    if (store == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "store is NULL");
    if (obs != NULL) {
        if (obs->version < 1 || obs->version > KVSTORE_OBSERVER_VERSION)
            return kvstore_set_error(KVSTORE_EINVAL, "kvstore_observer "
                                     "version %u is unknown (this library "
                                     "knows 1 to %d)", obs->version,
                                     KVSTORE_OBSERVER_VERSION);
        if (obs->on_operation == NULL)
            return kvstore_set_error(KVSTORE_EINVAL,
                                     "observer has no callback");
        rec = calloc(1, sizeof *rec);
        if (rec == NULL)
            return kvstore_set_error(KVSTORE_ENOMEM, "out of memory");
        rec->o = *obs;
        rec->payload = payload;
    }
    pthread_mutex_lock(&store->observer_lock);
    if (rec != NULL) {
        /* Kept until the store goes: a call in flight on another thread
         * may have loaded the one this replaces. */
        rec->next = store->observers;
        store->observers = rec;
    }
    atomic_store_explicit(&store->observer, rec, memory_order_release);
    pthread_mutex_unlock(&store->observer_lock);
    return KVSTORE_OK;
}

void kvs_obs_end(const struct kvs_obs_call *c, kvstore_op op,
                 const char *bucket, size_t keys, size_t bytes_in,
                 size_t bytes_out, int result)
{
    struct timespec t1;
    kvstore_observation o;
    int64_t ns;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    ns = (int64_t)(t1.tv_sec - c->t0.tv_sec) * 1000000000 +
         (t1.tv_nsec - c->t0.tv_nsec);
    o.version = KVSTORE_OBSERVATION_VERSION;
    o.op = op;
    o.bucket = bucket;
    o.keys = keys;
    o.bytes_in = bytes_in;
    o.bytes_out = bytes_out;
    o.result = result;
    o.duration_ns = ns > 0 ? (uint64_t)ns : 0;
    c->obs->o.on_operation(c->obs->payload, &o);
}

void kvs_obs_free(kvstore_store *store)
{
    struct kvs_observer *o = store->observers;

    pthread_mutex_destroy(&store->observer_lock);
    while (o != NULL) {
        struct kvs_observer *next = o->next;
        free(o);
        o = next;
    }
}
