/*
 * kvstore-nats: the backend tables and the module entry point.
 *
 * Schemes: "nats" (plain TCP) and "nats+tls" (TLS, optional ?ca=). The
 * generic name "tls" that nats.c accepts in its own URLs is not registered:
 * it would claim a scheme other backends could mean.
 *
 * SPDX-License-Identifier: MIT
 */
#include "nats.h"

static const char *const nk_options[] = {
    "timeout_ms", "replicas", "creds", "ca", "ttl", "history", NULL
};

/* caps: watch events carry the message's own value (not late) and the
 * server sees every client's writes; a listing walk never repeats a key. */
#define NK_TABLE(scheme)                                                  \
    {                                                                     \
        .version = KVSTORE_BACKEND_VERSION,                               \
        .name = scheme,                                                   \
        .options = nk_options,                                            \
        .store_open = nk_store_open,                                      \
        .store_close = nk_store_close,                                    \
        .bucket_open = nk_bucket_open,                                    \
        .bucket_close = nk_bucket_close,                                  \
        .get = nk_get,                                                    \
        .set = nk_set,                                                    \
        .del = nk_del,                                                    \
        .exists = nk_exists,                                              \
        .list_keys = nk_list_keys,                                        \
        .get_many = nk_get_many,                                          \
        .set_many = nk_set_many,                                          \
        .delete_many = nk_delete_many,                                    \
        .increment = nk_increment,                                        \
        .cas_open = nk_cas_open,                                          \
        .cas_swap = nk_cas_swap,                                          \
        .cas_free = nk_cas_free,                                          \
        .watch_start = nk_watch_start,                                    \
        .watch_stop = nk_watch_stop,                                      \
        .caps = KVSTORE_CAP_WATCH_CROSS_PROCESS |                         \
                KVSTORE_CAP_TTL_BUCKET_ONLY,                              \
    }

static const kvstore_backend nk_backend = NK_TABLE("nats");
static const kvstore_backend nk_backend_tls = NK_TABLE("nats+tls");

static const kvstore_backend *const nk_backends[] = {
    &nk_backend, &nk_backend_tls, NULL
};

static const kvstore_module nk_module = {
    .version = KVSTORE_MODULE_VERSION,
    .name = "nats",
    .backends = nk_backends,
};

/* Declared here for -Wmissing-prototypes; the loader finds it by name. */
KVSTORE_API const kvstore_module *kvstore_module_entry(void);

KVSTORE_MODULE_ENTRY
{
    return &nk_module;
}
