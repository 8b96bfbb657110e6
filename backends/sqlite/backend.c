/*
 * kvstore-sqlite: the backend table, stores (open, close) and the module
 * entry point.
 *
 * Scheme "sqlite": sqlite:///abs/path/file.db or sqlite:rel/file.db
 * (docs/backends/sqlite.md). A table of version 2: the core owns the
 * cursors (list.c gives it the last key of each page as the state).
 *
 * SPDX-License-Identifier: MIT
 */
#include "sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int store_open(void **out, const kvstore_uri *uri)
{
    const char *path;
    bool sync, create;
    int64_t timeout_ms, reap_ms;
    int rc = kvstore_uri_local(uri, "file.db", &path, &sync, &create);
    if (rc == KVSTORE_OK)
        rc = kvstore_uri_param_int(uri, "timeout_ms", 1, 600000, 5000,
                                   &timeout_ms);
    if (rc == KVSTORE_OK)
        rc = kvstore_uri_param_int(uri, "reap_ms", 0, INT64_C(86400000) * 365,
                                   60000, &reap_ms);
    if (rc != KVSTORE_OK)
        return rc;
    /* This libsqlite3 takes a file name starting with "file:" as an SQLite
     * URI (SQLITE_USE_URI): a relative path of that spelling is made
     * explicit so that it stays a file name. */
    char *fixed = NULL;
    if (strncmp(path, "file:", 5) == 0) {
        size_t n = strlen(path) + 3;
        if ((fixed = malloc(n)) == NULL)
            return kvstore_set_error(KVSTORE_ENOMEM, "sqlite: out of memory");
        snprintf(fixed, n, "./%s", path);
        path = fixed;
    }
    sq_store *st = calloc(1, sizeof *st);
    if (st == NULL) {
        free(fixed);
        return kvstore_set_error(KVSTORE_ENOMEM, "sqlite: out of memory");
    }
    st->sync = sync;
    rc = sq_db_get(&st->db, path, create, timeout_ms, reap_ms);
    free(fixed);
    if (rc != KVSTORE_OK) {
        free(st);
        return rc;
    }
    *out = st;
    return KVSTORE_OK;
}

static void store_close(void *p)
{
    sq_store *st = p;
    sq_db_put(st->db);
    free(st);
}

static const char *const sq_options[] = {
    "sync", "timeout_ms", "reap_ms", NULL
};

static const kvstore_backend sq_backend = {
    .version = 2,
    .name = "sqlite",
    .options = sq_options,
    .store_open = store_open,
    .store_close = store_close,
    .bucket_open = sq_bucket_open,
    .bucket_close = sq_bucket_close,
    .get = sq_get,
    .set = sq_set,
    .del = sq_del,
    .exists = sq_exists,
    .list_keys = sq_list_keys,
    .get_many = sq_get_many,
    .set_many = sq_set_many,
    .delete_many = sq_delete_many,
    .increment = sq_increment,
    .cas_open = sq_cas_open,
    .cas_swap = sq_cas_swap,
    .cas_free = sq_cas_free,
    .watch_start = sq_watch_start,
    .watch_stop = sq_watch_stop,
    /* Keys are listed once (a range scan of a unique key); watch events
     * carry the value written; only this process's writes are watched. */
    .caps = KVSTORE_CAP_TTL,
    .set_ttl = sq_set_ttl,
    .ttl = sq_ttl,
    .bucket_list = sq_bucket_list,
    .bucket_remove = sq_bucket_remove,
    .bucket_info = sq_bucket_info,
    .get_with = sq_get_with,
};

static const kvstore_backend *const sq_backends[] = { &sq_backend, NULL };

static const kvstore_module sq_module = {
    .version = KVSTORE_MODULE_VERSION,
    .name = "sqlite",
    .backends = sq_backends,
};

/* Declared here for -Wmissing-prototypes; the loader finds it by name. */
KVSTORE_API const kvstore_module *kvstore_module_entry(void);

KVSTORE_MODULE_ENTRY
{
    return &sq_module;
}
