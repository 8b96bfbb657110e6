/*
 * Batch operations: every key is validated before anything is done, then
 * the backend's batch slot runs, or a loop over the single-key slots.
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

static int check_keys(const char *const *keys, size_t n)
{
    if (keys == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "keys is NULL");
    for (size_t i = 0; i < n; i++) {
        int rc = kvstore_key_check(keys[i]);
        if (rc != KVSTORE_OK)
            return kvstore_set_error(rc, "key %zu of the batch: %s", i,
                                     kvstore_errmsg());
    }
    return KVSTORE_OK;
}

int kvstore_get_many(kvstore_bucket *b, const char *const *keys, size_t n,
                     void **values, size_t *lens)
{
    unsigned mark;
    int rc = KVSTORE_OK;

    if (b == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "bucket is NULL");
    if (n == 0)
        return KVSTORE_OK;
    if (values == NULL || lens == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "values or lens is NULL");
    for (size_t i = 0; i < n; i++) {
        values[i] = NULL;
        lens[i] = 0;
    }
    rc = check_keys(keys, n);
    if (rc != KVSTORE_OK)
        return rc;
    mark = kvs_error_mark();
    if (b->be->get_many) {
        rc = b->be->get_many(b->state, keys, n, values, lens);
    } else {
        for (size_t i = 0; i < n && rc == KVSTORE_OK; i++) {
            rc = b->be->get(b->state, keys[i], &values[i], &lens[i]);
            if (rc == KVSTORE_NOTFOUND) {
                values[i] = NULL;
                lens[i] = 0;
                rc = KVSTORE_OK;
            }
        }
    }
    if (rc != KVSTORE_OK) {
        for (size_t i = 0; i < n; i++) {
            kvstore_free(values[i]);
            values[i] = NULL;
            lens[i] = 0;
        }
    }
    return kvs_error_finish(rc, mark, "get_many");
}

int kvstore_set_many(kvstore_bucket *b, const char *const *keys,
                     const void *const *values, const size_t *lens, size_t n)
{
    unsigned mark;
    int rc;

    if (b == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "bucket is NULL");
    if (n == 0)
        return KVSTORE_OK;
    if (values == NULL || lens == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "values or lens is NULL");
    rc = check_keys(keys, n);
    for (size_t i = 0; i < n && rc == KVSTORE_OK; i++) {
        if (values[i] == NULL && lens[i] != 0)
            rc = kvstore_set_error(KVSTORE_EINVAL,
                                   "value %zu of the batch is NULL but its "
                                   "length is %zu", i, lens[i]);
    }
    if (rc != KVSTORE_OK)
        return rc;
    mark = kvs_error_mark();
    if (b->be->set_many) {
        rc = b->be->set_many(b->state, keys, values, lens, n);
    } else {
        for (size_t i = 0; i < n && rc == KVSTORE_OK; i++)
            rc = b->be->set(b->state, keys[i], values[i] ? values[i] : "",
                            lens[i]);
    }
    return kvs_error_finish(rc, mark, "set_many");
}

int kvstore_delete_many(kvstore_bucket *b, const char *const *keys, size_t n)
{
    unsigned mark;
    int rc;

    if (b == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "bucket is NULL");
    if (n == 0)
        return KVSTORE_OK;
    rc = check_keys(keys, n);
    if (rc != KVSTORE_OK)
        return rc;
    mark = kvs_error_mark();
    if (b->be->delete_many) {
        rc = b->be->delete_many(b->state, keys, n);
    } else {
        for (size_t i = 0; i < n && rc == KVSTORE_OK; i++)
            rc = b->be->del(b->state, keys[i]);
    }
    return kvs_error_finish(rc, mark, "delete_many");
}
