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

static int get_many_impl(kvstore_bucket *b, const char *const *keys, size_t n,
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

static int set_many_impl(kvstore_bucket *b, const char *const *keys,
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

static int delete_many_impl(kvstore_bucket *b, const char *const *keys, size_t n)
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

static size_t sum_lens(const size_t *lens, size_t n)
{
    size_t total = 0;

    for (size_t i = 0; lens != NULL && i < n; i++)
        total += lens[i];
    return total;
}

int kvstore_get_many(kvstore_bucket *b, const char *const *keys, size_t n,
                     void **values, size_t *lens)
{
    struct kvs_obs_call c;
    int rc;

    if (b == NULL || !kvs_obs_begin(&c, b->store))
        return get_many_impl(b, keys, n, values, lens);
    rc = get_many_impl(b, keys, n, values, lens);
    kvs_obs_end(&c, KVSTORE_OP_GET_MANY, b->name, n, 0,
                rc == KVSTORE_OK ? sum_lens(lens, n) : 0, rc);
    return rc;
}

int kvstore_set_many(kvstore_bucket *b, const char *const *keys,
                     const void *const *values, const size_t *lens, size_t n)
{
    struct kvs_obs_call c;
    int rc;

    if (b == NULL || !kvs_obs_begin(&c, b->store))
        return set_many_impl(b, keys, values, lens, n);
    rc = set_many_impl(b, keys, values, lens, n);
    kvs_obs_end(&c, KVSTORE_OP_SET_MANY, b->name, n, sum_lens(lens, n), 0,
                rc);
    return rc;
}

int kvstore_delete_many(kvstore_bucket *b, const char *const *keys, size_t n)
{
    struct kvs_obs_call c;
    int rc;

    if (b == NULL || !kvs_obs_begin(&c, b->store))
        return delete_many_impl(b, keys, n);
    rc = delete_many_impl(b, keys, n);
    kvs_obs_end(&c, KVSTORE_OP_DELETE_MANY, b->name, n, 0, 0, rc);
    return rc;
}
