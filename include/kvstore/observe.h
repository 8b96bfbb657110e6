/*
 * libkvstore - observing the operations on a store (since 1.1): one
 * callback per operation, to feed metrics or traces (docs/observability.md).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_OBSERVE_H
#define KVSTORE_OBSERVE_H

#include "common.h"
#include "store.h"

KVSTORE_BEGIN_DECLS

/** The operation an observation reports. Values are part of the ABI and
 * only ever appended. */
typedef enum kvstore_op {
    KVSTORE_OP_GET = 1,
    KVSTORE_OP_SET = 2,
    KVSTORE_OP_DELETE = 3,
    KVSTORE_OP_EXISTS = 4,
    KVSTORE_OP_LIST_KEYS = 5,
    KVSTORE_OP_INCREMENT = 6,
    KVSTORE_OP_CAS_OPEN = 7,
    KVSTORE_OP_CAS_SWAP = 8,
    KVSTORE_OP_GET_MANY = 9,
    KVSTORE_OP_SET_MANY = 10,
    KVSTORE_OP_DELETE_MANY = 11,
    KVSTORE_OP_WATCH_START = 12,
    KVSTORE_OP_SET_TTL = 13,
    KVSTORE_OP_TTL = 14,
    KVSTORE_OP_BUCKET_OPEN = 15,
    KVSTORE_OP_BUCKET_LIST = 16,
    KVSTORE_OP_BUCKET_REMOVE = 17,
    KVSTORE_OP_BUCKET_INFO = 18
} kvstore_op;
/** One more than the largest kvstore_op value of this header. */
#define KVSTORE_OP_COUNT 19

/** Static lower-case name of an operation ("get", "set_many", ...), or
 * "unknown". Never NULL. */
KVSTORE_API const char *kvstore_op_name(kvstore_op op);

/** One observed operation. Lent to the callback for the duration of the
 * call only; fields are only ever appended (check `version`). */
#define KVSTORE_OBSERVATION_VERSION 1
typedef struct kvstore_observation {
    unsigned int version;  /* KVSTORE_OBSERVATION_VERSION of the library */
    kvstore_op op;
    const char *bucket;    /* the bucket's name; NULL for store operations
                              (bucket_list) */
    size_t keys;           /* keys the call named or returned */
    size_t bytes_in;       /* value bytes written */
    size_t bytes_out;      /* value bytes returned */
    int result;            /* the status the call returned */
    uint64_t duration_ns;  /* time inside the library, monotonic clock */
} kvstore_observation;

/** What kvstore_observe() registers. The caller sets `version` to
 * KVSTORE_OBSERVER_VERSION. */
#define KVSTORE_OBSERVER_VERSION 1
typedef struct kvstore_observer {
    unsigned int version;
    /* Called once per operation on a bucket or the store, on the thread
     * that made the call, after the operation and before it returns. It
     * may be called from many threads at once. It must not call back into
     * the same store. */
    void (*on_operation)(void *payload, const kvstore_observation *obs);
} kvstore_observer;

/**
 * Makes `obs` (copied; it need not outlive the call) observe every
 * operation on `store` and its buckets from now on, replacing any previous
 * observer; NULL stops observing. Calls already in progress may still
 * report to the previous observer, so a payload must stay valid until
 * kvstore_close(). Calls refused before any work (a NULL handle) are not
 * reported; calls refused for a bad key or argument are, with their
 * error. With no observer, operations pay one atomic load.
 * Returns KVSTORE_OK, KVSTORE_EINVAL (NULL store, NULL callback, unknown
 * version) or KVSTORE_ENOMEM. Thread-safe.
 */
KVSTORE_API int kvstore_observe(kvstore_store *store,
                                const kvstore_observer *obs, void *payload);

KVSTORE_END_DECLS

#endif /* KVSTORE_OBSERVE_H */
