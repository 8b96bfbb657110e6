/*
 * The lmdb backend table and the module's entry point.
 *
 *   lmdb:///abs/dir  or  lmdb:rel/dir
 *   ?sync=false      commits are not synced (survive a process crash, not
 *                    a power loss); default true: an acknowledged write
 *                    survives kill -9 and power loss
 *   ?map_size=BYTES  initial LMDB map size (default 256 MiB); the map
 *                    doubles whenever it fills
 *   ?create=false    missing buckets (and the directory) are not created
 *
 * SPDX-License-Identifier: MIT
 */
#include "lmdb.h"

#include <stdlib.h>

static int store_open(void **out, const kvstore_uri *uri)
{
    const char *path;
    bool sync, create;
    int64_t map_size;

    *out = NULL;
    int rc = kvstore_uri_local(uri, "dir", &path, &sync, &create);
    if (rc == KVSTORE_OK)
        rc = kvstore_uri_param_int(uri, "map_size", 1 << 20,
                                   (int64_t)1 << 40, (int64_t)LM_MAP_DEFAULT,
                                   &map_size);
    if (rc != KVSTORE_OK)
        return rc;

    lm_store *st = calloc(1, sizeof *st);
    if (st == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "lmdb: out of memory");
    rc = lm_env_acquire(&st->env, path, create, (size_t)map_size);
    if (rc != KVSTORE_OK) {
        free(st);
        return rc;
    }
    st->sync = sync;
    *out = st;
    return KVSTORE_OK;
}

static void store_close(void *store)
{
    lm_store *st = store;
    lm_env_release(st->env);
    free(st);
}

static const char *const lm_options[] = { "sync", "map_size", NULL };

static const kvstore_backend lmdb_backend = {
    .version = KVSTORE_BACKEND_VERSION,
    .name = "lmdb",
    .options = lm_options,
    .store_open = store_open,
    .store_close = store_close,
    .bucket_open = lm_bucket_open,
    .bucket_close = lm_bucket_close,
    .get = lm_get,
    .set = lm_set,
    .del = lm_del,
    .exists = lm_exists,
    .list_keys = lm_list_keys,
    .get_many = lm_get_many,
    .set_many = lm_set_many,
    .delete_many = lm_delete_many,
    .increment = lm_increment,
    .cas_open = lm_cas_open,
    .cas_swap = lm_cas_swap,
    .cas_free = lm_cas_free,
    .watch_start = lm_watch_start,
    .watch_stop = lm_watch_stop,
    /* Watch sees this process's writes only, with the exact value
     * written; listing never repeats a key. */
    .caps = KVSTORE_CAP_TTL,
    .set_ttl = lm_set_ttl,
    .ttl = lm_ttl,
    .bucket_list = lm_bucket_list,
    .bucket_remove = lm_bucket_remove,
    .bucket_info = lm_bucket_info,
    .get_with = lm_get_with,
};

static const kvstore_backend *const lmdb_backends[] = { &lmdb_backend, NULL };

static const kvstore_module lmdb_module = {
    .version = KVSTORE_MODULE_VERSION,
    .name = "lmdb",
    .backends = lmdb_backends,
};

KVSTORE_MODULE_ENTRY
{
    return &lmdb_module;
}
