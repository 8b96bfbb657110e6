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
 *   ?reap_ms=MS      at most this often, after a commit, delete expired
 *                    records (default 60000; 0: never; reap.c)
 *
 * SPDX-License-Identifier: MIT
 */
#include "lmdb.h"

#include <stdlib.h>

/* The numeric options; reap_ms has the sqlite backend's range and
 * default. */
static int parse_sizes(const kvstore_uri *uri, int64_t *map_size,
                       int64_t *reap_ms)
{
    int rc = kvstore_uri_param_int(uri, "map_size", 1 << 20, (int64_t)1 << 40,
                                   (int64_t)LM_MAP_DEFAULT, map_size);
    return rc != KVSTORE_OK ? rc
                            : kvstore_uri_param_int(uri, "reap_ms", 0,
                                                    INT64_C(86400000) * 365,
                                                    60000, reap_ms);
}

int lm_store_open(void **out, const kvstore_uri *uri)
{
    const char *path;
    bool sync, create;
    int64_t map_size, reap_ms;

    *out = NULL;
    int rc = kvstore_uri_local(uri, "dir", &path, &sync, &create);
    if (rc != KVSTORE_OK || (rc = parse_sizes(uri, &map_size, &reap_ms)) !=
                                KVSTORE_OK)
        return rc;

    lm_store *st = calloc(1, sizeof *st);
    if (st == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "lmdb: out of memory");
    rc = lm_env_acquire(&st->env, path, create, (size_t)map_size,
                        (uint64_t)reap_ms);
    if (rc != KVSTORE_OK) {
        free(st);
        return rc;
    }
    st->sync = sync;
    *out = st;
    return KVSTORE_OK;
}

void lm_store_close(void *store)
{
    lm_store *st = store;
    lm_env_release(st->env);
    free(st);
}

static const char *const lm_options[] = { "sync", "map_size", "reap_ms",
                                         NULL };

/* Watch sees this process's writes only, with the exact value written;
 * listing never repeats a key. */
static const kvstore_backend lmdb_backend =
    KVSTORE_BACKEND_TABLE(lm, "lmdb", lm_options, KVSTORE_CAP_TTL);

KVSTORE_MODULE_DEFINE("lmdb", &lmdb_backend);
