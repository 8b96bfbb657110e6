/*
 * kvstore-sqlite: the backend table and the module entry point.
 *
 * Scheme "sqlite": sqlite:///abs/path/file.db or sqlite:rel/file.db
 * (docs/backends/sqlite.md). A table of version 2: the core owns the
 * cursors (list.c gives it the last key of each page as the state).
 *
 * SPDX-License-Identifier: MIT
 */
#include "sqlite.h"

static const char *const sq_options[] = {
    "sync", "timeout_ms", "reap_ms", NULL
};

static const kvstore_backend sq_backend = {
    .version = 2,
    .name = "sqlite",
    .options = sq_options,
    .store_open = sq_store_open,
    .store_close = sq_store_close,
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
