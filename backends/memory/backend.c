/*
 * libkvstore - memory backend: the backend table.
 *
 * The core registers kvstore_builtin_memory at first use. The table is
 * hidden: it is reached through the core's list of built-ins, never
 * exported from libkvstore.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory.h"

/* Declared here rather than in a header: only the core's generated list
 * of built-ins refers to it. */
extern MEM_HIDDEN const kvstore_backend kvstore_builtin_memory;

const kvstore_backend kvstore_builtin_memory = {
    .version = KVSTORE_BACKEND_VERSION, /* cursor states via kvstore_walks */
    .name = "memory",
    .options = NULL, /* only "create", which the core handles */
    .store_open = mem_store_open,
    .store_close = mem_store_close,
    .bucket_open = mem_bucket_open,
    .bucket_close = mem_bucket_close,
    .get = mem_get,
    .set = mem_set,
    .del = mem_del,
    .exists = mem_exists,
    .list_keys = mem_list_keys,
    .get_many = mem_get_many,
    .set_many = mem_set_many,
    .delete_many = mem_delete_many,
    .increment = mem_increment,
    .cas_open = mem_cas_open,
    .cas_swap = mem_cas_swap,
    .cas_free = mem_cas_free,
    .watch_start = mem_watch_start,
    .watch_stop = mem_watch_stop,
    /* Per-key expiry; a walk never repeats a key; watch events carry the
     * written value; watches see this process only. */
    .caps = KVSTORE_CAP_TTL,
    .set_ttl = mem_set_ttl,
    .ttl = mem_ttl,
    .bucket_list = mem_bucket_list,
    .bucket_remove = mem_bucket_remove,
    .bucket_info = mem_bucket_info,
    .get_with = mem_get_with, /* lends under the stripe's read lock */
};
