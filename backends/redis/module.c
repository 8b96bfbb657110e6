/*
 * Redis backend module: the two backend tables ("redis" over TCP,
 * "redis+unix" over a unix socket; same code, different options) and the
 * module entry point, the only symbol the module exports.
 *
 * SPDX-License-Identifier: MIT
 */
#include "rd.h"

static const char *const rd_tcp_options[] = { "timeout_ms", "pool", NULL };
static const char *const rd_unix_options[] = { "timeout_ms", "pool", "db",
                                               NULL };

#define RD_SLOTS                                  \
    .store_open = rd_store_open,                  \
    .store_close = rd_store_close,                \
    .bucket_open = rd_bucket_open,                \
    .bucket_close = rd_bucket_close,              \
    .get = rd_get,                                \
    .set = rd_set,                                \
    .del = rd_del,                                \
    .exists = rd_exists,                          \
    .list_keys = rd_list_keys,                    \
    .get_many = rd_get_many,                      \
    .set_many = rd_set_many,                      \
    .delete_many = rd_delete_many,                \
    .increment = rd_increment,                    \
    .cas_open = rd_cas_open,                      \
    .cas_swap = rd_cas_swap,                      \
    .cas_free = rd_cas_free,                      \
    .watch_start = rd_watch_start,                \
    .watch_stop = rd_watch_stop

static const kvstore_backend rd_tcp = {
    .version = 1, /* list_keys still wraps its own cursors */
    .name = "redis",
    .options = rd_tcp_options,
    RD_SLOTS,
};

static const kvstore_backend rd_unix = {
    .version = 1, /* list_keys still wraps its own cursors */
    .name = "redis+unix",
    .options = rd_unix_options,
    RD_SLOTS,
};

static const kvstore_backend *const rd_backends[] = { &rd_tcp, &rd_unix,
                                                      NULL };

static const kvstore_module rd_module = {
    .version = KVSTORE_MODULE_VERSION,
    .name = "redis",
    .backends = rd_backends,
};

/* The macro is also the prototype -Wmissing-prototypes asks for. */
KVSTORE_MODULE_ENTRY;
KVSTORE_MODULE_ENTRY
{
    return &rd_module;
}
