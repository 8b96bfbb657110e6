/*
 * Dispatch for what version 2 tables added: capabilities, expiry and the
 * management of buckets. Older tables have these slots NULL (the registry
 * zero-extends them), which gives KVSTORE_ENOTSUP.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "internal.h"

#define NULL_ARG(what) kvstore_set_error(KVSTORE_EINVAL, "%s is NULL", what)

static int unsupported(const kvstore_backend *be, const char *what)
{
    return kvstore_set_error(KVSTORE_ENOTSUP, "backend '%s' does not support "
                                              "%s", be->name, what);
}

unsigned int kvstore_caps(const kvstore_store *store)
{
    return store ? store->be->caps : 0;
}

static int set_ttl_impl(kvstore_bucket *b, const char *key, const void *value,
                        size_t len, uint64_t ttl_ms)
{
    unsigned mark;
    int rc;

    if (ttl_ms == 0)
        return kvs_set(b, key, value, len);
    if (b == NULL)
        return NULL_ARG("bucket");
    rc = kvstore_key_check(key);
    if (rc == KVSTORE_OK)
        rc = kvs_value_check(value, len);
    if (rc != KVSTORE_OK)
        return rc;
    if (b->be->set_ttl == NULL)
        return unsupported(b->be, b->be->caps & KVSTORE_CAP_TTL_BUCKET_ONLY
                                      ? "per-key expiry (only whole buckets "
                                        "expire; see its ttl URI parameter)"
                                      : "expiry");
    mark = kvs_error_mark();
    return kvs_error_finish(b->be->set_ttl(b->state, key, value ? value : "",
                                           len, ttl_ms), mark, "set_ttl");
}

static int ttl_impl(kvstore_bucket *b, const char *key, int64_t *ms_left)
{
    unsigned mark;
    int rc;

    if (ms_left)
        *ms_left = -1;
    if (b == NULL)
        return NULL_ARG("bucket");
    if (ms_left == NULL)
        return NULL_ARG("ms_left");
    rc = kvstore_key_check(key);
    if (rc != KVSTORE_OK)
        return rc;
    if (b->be->ttl == NULL)
        return unsupported(b->be, "per-key expiry");
    mark = kvs_error_mark();
    rc = b->be->ttl(b->state, key, ms_left);
    if (rc != KVSTORE_OK || *ms_left < -1)
        *ms_left = -1;
    return kvs_error_finish(rc, mark, "ttl");
}

static int bucket_list_impl(kvstore_store *store, const char *cursor,
                            size_t limit, kvstore_keys **out)
{
    char state[KVSTORE_CURSOR_STATE_MAX + 1];
    unsigned mark;
    int rc;

    if (out == NULL)
        return NULL_ARG("out");
    *out = NULL;
    if (store == NULL)
        return NULL_ARG("store");
    if (store->be->bucket_list == NULL)
        return unsupported(store->be, "listing buckets");
    if (cursor != NULL) {
        rc = kvs_cursor_unwrap(cursor, store, NULL, state);
        if (rc != KVSTORE_OK)
            return rc;
    }
    if (limit == 0 || limit > KVSTORE_PAGE_MAX)
        limit = KVSTORE_PAGE_MAX;
    mark = kvs_error_mark();
    rc = store->be->bucket_list(store->state, cursor ? state : NULL, limit,
                                out);
    if (rc == KVSTORE_OK && *out == NULL)
        rc = kvstore_set_error(KVSTORE_EIO, "bucket_list: backend '%s' "
                                            "returned no page",
                               store->be->name);
    if (rc == KVSTORE_OK)
        rc = kvs_page_wrap(*out, store, NULL);
    if (rc != KVSTORE_OK) {
        kvstore_keys_free(*out);
        *out = NULL;
    }
    return kvs_error_finish(rc, mark, "bucket_list");
}

static int bucket_remove_impl(kvstore_store *store, const char *name)
{
    unsigned mark;
    int rc;

    if (store == NULL)
        return NULL_ARG("store");
    rc = kvstore_bucket_name_check(name);
    if (rc != KVSTORE_OK)
        return rc;
    if (store->be->bucket_remove == NULL)
        return unsupported(store->be, "removing buckets");
    mark = kvs_error_mark();
    return kvs_error_finish(store->be->bucket_remove(store->state, name),
                            mark, "bucket_remove");
}

static int bucket_info_impl(kvstore_store *store, const char *name,
                            kvstore_bucket_stat *info)
{
    unsigned mark;
    int rc;

    if (store == NULL || info == NULL)
        return NULL_ARG(store == NULL ? "store" : "info");
    if (info->version < 1 || info->version > KVSTORE_BUCKET_STAT_VERSION)
        return kvstore_set_error(KVSTORE_EINVAL, "kvstore_bucket_stat "
                                                 "version %u is unknown "
                                                 "(this library knows 1 to "
                                                 "%d)", info->version,
                                 KVSTORE_BUCKET_STAT_VERSION);
    rc = kvstore_bucket_name_check(name);
    if (rc != KVSTORE_OK)
        return rc;
    if (store->be->bucket_info == NULL)
        return unsupported(store->be, "bucket information");
    {
        /* The backend fills a full-size copy: the caller's may be of an
         * older, shorter version. */
        kvstore_bucket_stat full;

        memset(&full, 0, sizeof full);
        full.version = KVSTORE_BUCKET_STAT_VERSION;
        full.keys = -1;
        mark = kvs_error_mark();
        rc = store->be->bucket_info(store->state, name, &full);
        if (rc == KVSTORE_OK) {
            full.version = info->version;
            memcpy(info, &full, sizeof full); /* one version so far */
        }
    }
    return kvs_error_finish(rc, mark, "bucket_info");
}

int kvstore_set_ttl(kvstore_bucket *b, const char *key, const void *value,
                    size_t len, uint64_t ttl_ms)
{
    struct kvs_obs_call c;
    int rc;

    if (b == NULL || !kvs_obs_begin(&c, b->store))
        return set_ttl_impl(b, key, value, len, ttl_ms);
    rc = set_ttl_impl(b, key, value, len, ttl_ms);
    kvs_obs_end(&c, KVSTORE_OP_SET_TTL, b->name, 1, len, 0, rc);
    return rc;
}

int kvstore_ttl(kvstore_bucket *b, const char *key, int64_t *ms_left)
{
    struct kvs_obs_call c;
    int rc;

    if (b == NULL || !kvs_obs_begin(&c, b->store))
        return ttl_impl(b, key, ms_left);
    rc = ttl_impl(b, key, ms_left);
    kvs_obs_end(&c, KVSTORE_OP_TTL, b->name, 1, 0, 0, rc);
    return rc;
}

int kvstore_bucket_list(kvstore_store *store, const char *cursor,
                        size_t limit, kvstore_keys **out)
{
    struct kvs_obs_call c;
    int rc;

    if (store == NULL || !kvs_obs_begin(&c, store))
        return bucket_list_impl(store, cursor, limit, out);
    rc = bucket_list_impl(store, cursor, limit, out);
    kvs_obs_end(&c, KVSTORE_OP_BUCKET_LIST, NULL,
                rc == KVSTORE_OK ? (*out)->count : 0, 0, 0, rc);
    return rc;
}

int kvstore_bucket_remove(kvstore_store *store, const char *name)
{
    struct kvs_obs_call c;
    int rc;

    if (store == NULL || !kvs_obs_begin(&c, store))
        return bucket_remove_impl(store, name);
    rc = bucket_remove_impl(store, name);
    kvs_obs_end(&c, KVSTORE_OP_BUCKET_REMOVE,
                rc != KVSTORE_EINVAL ? name : NULL, 0, 0, 0, rc);
    return rc;
}

int kvstore_bucket_info(kvstore_store *store, const char *name,
                        kvstore_bucket_stat *info)
{
    struct kvs_obs_call c;
    int rc;

    if (store == NULL || !kvs_obs_begin(&c, store))
        return bucket_info_impl(store, name, info);
    rc = bucket_info_impl(store, name, info);
    kvs_obs_end(&c, KVSTORE_OP_BUCKET_INFO,
                rc != KVSTORE_EINVAL ? name : NULL, 0, 0, 0, rc);
    return rc;
}
