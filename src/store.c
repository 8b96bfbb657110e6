/*
 * Dispatch for stores, buckets and the basic store interface. The core is
 * the only caller of backend slots: it validates every argument first so
 * that backends see only valid input, and fills in a message when a
 * backend fails without one.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NULL_ARG(what) kvstore_set_error(KVSTORE_EINVAL, "%s is NULL", what)

static int check_params(const kvstore_backend *be, const kvstore_uri *uri)
{
    for (size_t i = 0; i < kvs_uri_param_count(uri); i++) {
        const char *name = kvs_uri_param_name(uri, i);
        bool known = strcmp(name, "create") == 0;

        for (size_t j = 0; !known && be->options && be->options[j]; j++)
            known = strcmp(be->options[j], name) == 0;
        if (!known)
            return kvstore_set_error(KVSTORE_EINVAL,
                                     "unknown URI parameter '%.64s' for "
                                     "scheme '%s'", name, be->name);
    }
    return KVSTORE_OK;
}

/* What a cursor binds to: the URI without credentials and parameters, so
 * that a cursor stays valid across handles and restarts of one store. */
static char *store_identity(const kvstore_uri *uri)
{
    const char *hosts = kvstore_uri_hosts(uri);
    const char *scheme = kvstore_uri_scheme(uri), *path = kvstore_uri_path(uri);
    size_t n = strlen(scheme) + 3 + (hosts ? strlen(hosts) : 0) +
               strlen(path) + 1;
    char *id = malloc(n);

    if (id != NULL)
        snprintf(id, n, "%s:%s%s%s", scheme, hosts ? "//" : "",
                 hosts ? hosts : "", path);
    return id;
}

int kvstore_open(kvstore_store **out, const char *uri_text)
{
    kvstore_uri *uri = NULL;
    const kvstore_backend *be;
    kvstore_store *store;
    void *state = NULL;
    bool create;
    unsigned mark;
    int rc;

    if (out == NULL)
        return NULL_ARG("out");
    *out = NULL;
    if (uri_text != NULL && uri_text[0] == '@') {
        char *named = NULL;

        rc = kvs_named_resolve(uri_text, &named);
        if (rc == KVSTORE_OK) {
            rc = kvstore_open(out, named);
            free(named);
        }
        return rc;
    }
    rc = kvs_uri_parse(&uri, uri_text);
    if (rc != KVSTORE_OK)
        return rc;
    rc = kvs_backend_for_scheme(&be, kvstore_uri_scheme(uri));
    if (rc == KVSTORE_OK)
        rc = check_params(be, uri);
    if (rc == KVSTORE_OK)
        rc = kvstore_uri_param_bool(uri, "create", true, &create);
    if (rc != KVSTORE_OK) {
        kvs_uri_free(uri);
        return rc;
    }
    store = calloc(1, sizeof *store);
    if (store != NULL && (store->id = store_identity(uri)) == NULL) {
        free(store);
        store = NULL;
    }
    if (store == NULL) {
        kvs_uri_free(uri);
        return kvstore_set_error(KVSTORE_ENOMEM, "out of memory opening a "
                                                 "store");
    }
    mark = kvs_error_mark();
    rc = be->store_open(&state, uri);
    if (rc == KVSTORE_OK) {
        store->be = be;
        store->state = state;
        store->create = create;
        atomic_init(&store->refs, 1);
        atomic_init(&store->observer, NULL);
        pthread_mutex_init(&store->observer_lock, NULL);
        *out = store;
    } else {
        free(store->id);
        free(store);
        if (kvs_error_mark() == mark)
            kvstore_set_error(rc, "cannot open %s: %s",
                              kvstore_uri_redacted(uri), kvstore_strerror(rc));
    }
    kvs_uri_free(uri);
    return kvs_error_finish(rc, mark, "open");
}

void kvs_store_release(kvstore_store *store)
{
    if (atomic_fetch_sub_explicit(&store->refs, 1, memory_order_acq_rel) != 1)
        return;
    store->be->store_close(store->state);
    kvs_obs_free(store);
    free(store->id);
    free(store);
}

void kvstore_close(kvstore_store *store)
{
    if (store != NULL)
        kvs_store_release(store);
}

static int bucket_open_impl(kvstore_bucket **out, kvstore_store *store,
                            const char *name, bool create)
{
    kvstore_bucket *b;
    unsigned mark;
    int rc;

    if (out == NULL)
        return NULL_ARG("out");
    *out = NULL;
    if (store == NULL)
        return NULL_ARG("store");
    rc = kvstore_bucket_name_check(name);
    if (rc != KVSTORE_OK)
        return rc;
    b = calloc(1, sizeof *b);
    if (b == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "out of memory opening a "
                                                 "bucket");
    b->be = store->be;
    b->store = store;
    memcpy(b->name, name, strlen(name) + 1);
    mark = kvs_error_mark();
    rc = store->be->bucket_open(&b->state, store->state, name,
                                create && store->create);
    if (rc != KVSTORE_OK) {
        free(b);
        return kvs_error_finish(rc, mark, "bucket_open");
    }
    atomic_fetch_add_explicit(&store->refs, 1, memory_order_relaxed);
    *out = b;
    return KVSTORE_OK;
}

void kvstore_bucket_close(kvstore_bucket *bucket)
{
    if (bucket == NULL)
        return;
    bucket->be->bucket_close(bucket->state);
    kvs_store_release(bucket->store);
    free(bucket);
}

static int get_impl(kvstore_bucket *b, const char *key, void **value,
                    size_t *len)
{
    unsigned mark;
    int rc;

    if (value)
        *value = NULL;
    if (len)
        *len = 0;
    if (b == NULL)
        return NULL_ARG("bucket");
    if (value == NULL || len == NULL)
        return NULL_ARG(value == NULL ? "value" : "len");
    rc = kvstore_key_check(key);
    if (rc != KVSTORE_OK)
        return rc;
    mark = kvs_error_mark();
    rc = b->be->get(b->state, key, value, len);
    if (rc == KVSTORE_OK && *value == NULL) {
        /* The contract promises a pointer even for an empty value. */
        *value = kvstore_malloc(0);
        *len = 0;
        if (*value == NULL)
            rc = kvstore_set_error(KVSTORE_ENOMEM, "get: out of memory");
    }
    if (rc != KVSTORE_OK) {
        /* A backend must not hand anything out with a failure. */
        kvstore_free(*value);
        *value = NULL;
        *len = 0;
    }
    return kvs_error_finish(rc, mark, "get");
}

static int set_impl(kvstore_bucket *b, const char *key, const void *value,
                    size_t len)
{
    unsigned mark;
    int rc;

    if (b == NULL)
        return NULL_ARG("bucket");
    rc = kvstore_key_check(key);
    if (rc == KVSTORE_OK)
        rc = kvs_value_check(value, len);
    if (rc != KVSTORE_OK)
        return rc;
    mark = kvs_error_mark();
    return kvs_error_finish(b->be->set(b->state, key, value ? value : "",
                                       len), mark, "set");
}

static int delete_impl(kvstore_bucket *b, const char *key)
{
    unsigned mark;
    int rc;

    if (b == NULL)
        return NULL_ARG("bucket");
    rc = kvstore_key_check(key);
    if (rc != KVSTORE_OK)
        return rc;
    mark = kvs_error_mark();
    return kvs_error_finish(b->be->del(b->state, key), mark, "delete");
}

static int exists_impl(kvstore_bucket *b, const char *key, bool *exists)
{
    unsigned mark;
    int rc;

    if (exists)
        *exists = false;
    if (b == NULL)
        return NULL_ARG("bucket");
    if (exists == NULL)
        return NULL_ARG("exists");
    rc = kvstore_key_check(key);
    if (rc != KVSTORE_OK)
        return rc;
    mark = kvs_error_mark();
    rc = b->be->exists(b->state, key, exists);
    if (rc != KVSTORE_OK)
        *exists = false;
    return kvs_error_finish(rc, mark, "exists");
}

static int list_keys_impl(kvstore_bucket *b, const char *prefix,
                          const char *cursor, size_t limit, kvstore_keys **out)
{
    unsigned mark;
    int rc;

    if (out == NULL)
        return NULL_ARG("out");
    *out = NULL;
    if (b == NULL)
        return NULL_ARG("bucket");
    if (prefix == NULL)
        prefix = "";
    rc = kvs_prefix_check(prefix);
    if (rc == KVSTORE_OK && cursor)
        rc = kvs_cursor_check(cursor);
    if (rc != KVSTORE_OK)
        return rc;
    if (limit == 0 || limit > KVSTORE_PAGE_MAX)
        limit = KVSTORE_PAGE_MAX;
    mark = kvs_error_mark();
    if (b->be->version >= 2) {
        char state[KVSTORE_CURSOR_STATE_MAX + 1];

        rc = cursor ? kvs_cursor_unwrap(cursor, b->store, b->name, state)
                    : KVSTORE_OK;
        if (rc == KVSTORE_OK)
            rc = b->be->list_keys(b->state, prefix, cursor ? state : NULL,
                                  limit, out);
        if (rc == KVSTORE_OK && *out != NULL)
            rc = kvs_page_wrap(*out, b->store, b->name);
    } else {
        rc = b->be->list_keys(b->state, prefix, cursor, limit, out);
    }
    if (rc != KVSTORE_OK) {
        kvstore_keys_free(*out);
        *out = NULL;
    } else if (*out == NULL) {
        rc = kvstore_set_error(KVSTORE_EIO, "list_keys: backend '%s' "
                                            "returned no page", b->be->name);
    }
    return kvs_error_finish(rc, mark, "list_keys");
}

/* Replaces the backend state a version 2 backend left in the page's cursor
 * by the cursor the user sees. */
int kvs_page_wrap(kvstore_keys *page, const kvstore_store *store,
                  const char *bucket)
{
    char *wrapped = NULL;
    int rc;

    if (page->cursor == NULL)
        return KVSTORE_OK;
    rc = kvs_cursor_wrap(&wrapped, store, bucket, page->cursor);
    kvstore_free(page->cursor);
    page->cursor = wrapped;
    return rc;
}

/* The public entry points: each runs its _impl, observed when the store
 * has an observer (observe.c). */

int kvstore_bucket_open(kvstore_bucket **out, kvstore_store *store,
                        const char *name)
{
    struct kvs_obs_call c;
    int rc;

    if (store == NULL || !kvs_obs_begin(&c, store))
        return bucket_open_impl(out, store, name, true);
    rc = bucket_open_impl(out, store, name, true);
    kvs_obs_end(&c, KVSTORE_OP_BUCKET_OPEN,
                rc != KVSTORE_EINVAL ? name : NULL, 0, 0, 0, rc);
    return rc;
}

int kvstore_bucket_open_existing(kvstore_bucket **out, kvstore_store *store,
                                 const char *name)
{
    struct kvs_obs_call c;
    int rc;

    if (store == NULL || !kvs_obs_begin(&c, store))
        return bucket_open_impl(out, store, name, false);
    rc = bucket_open_impl(out, store, name, false);
    kvs_obs_end(&c, KVSTORE_OP_BUCKET_OPEN,
                rc != KVSTORE_EINVAL ? name : NULL, 0, 0, 0, rc);
    return rc;
}

int kvstore_get(kvstore_bucket *b, const char *key, void **value, size_t *len)
{
    struct kvs_obs_call c;
    int rc;

    if (b == NULL || !kvs_obs_begin(&c, b->store))
        return get_impl(b, key, value, len);
    rc = get_impl(b, key, value, len);
    kvs_obs_end(&c, KVSTORE_OP_GET, b->name, 1, 0,
                rc == KVSTORE_OK ? *len : 0, rc);
    return rc;
}

int kvs_set(kvstore_bucket *b, const char *key, const void *value,
            size_t len)
{
    return set_impl(b, key, value, len);
}

int kvstore_set(kvstore_bucket *b, const char *key, const void *value,
                size_t len)
{
    struct kvs_obs_call c;
    int rc;

    if (b == NULL || !kvs_obs_begin(&c, b->store))
        return set_impl(b, key, value, len);
    rc = set_impl(b, key, value, len);
    kvs_obs_end(&c, KVSTORE_OP_SET, b->name, 1, len, 0, rc);
    return rc;
}

int kvstore_delete(kvstore_bucket *b, const char *key)
{
    struct kvs_obs_call c;
    int rc;

    if (b == NULL || !kvs_obs_begin(&c, b->store))
        return delete_impl(b, key);
    rc = delete_impl(b, key);
    kvs_obs_end(&c, KVSTORE_OP_DELETE, b->name, 1, 0, 0, rc);
    return rc;
}

int kvstore_exists(kvstore_bucket *b, const char *key, bool *exists)
{
    struct kvs_obs_call c;
    int rc;

    if (b == NULL || !kvs_obs_begin(&c, b->store))
        return exists_impl(b, key, exists);
    rc = exists_impl(b, key, exists);
    kvs_obs_end(&c, KVSTORE_OP_EXISTS, b->name, 1, 0, 0, rc);
    return rc;
}

int kvstore_list_keys(kvstore_bucket *b, const char *prefix,
                      const char *cursor, size_t limit, kvstore_keys **out)
{
    struct kvs_obs_call c;
    int rc;

    if (b == NULL || !kvs_obs_begin(&c, b->store))
        return list_keys_impl(b, prefix, cursor, limit, out);
    rc = list_keys_impl(b, prefix, cursor, limit, out);
    kvs_obs_end(&c, KVSTORE_OP_LIST_KEYS, b->name,
                rc == KVSTORE_OK ? (*out)->count : 0, 0, 0, rc);
    return rc;
}
