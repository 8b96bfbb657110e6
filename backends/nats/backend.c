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
        .version = KVSTORE_BACKEND_VERSION, .name = scheme,               \
        .options = nk_options,                                            \
        .caps = KVSTORE_CAP_WATCH_CROSS_PROCESS |                         \
                KVSTORE_CAP_TTL_BUCKET_ONLY,                              \
        KVSTORE_SLOTS_REQUIRED(nk), KVSTORE_SLOTS_BATCH(nk),              \
        KVSTORE_SLOTS_ATOMICS(nk), KVSTORE_SLOTS_WATCH(nk),               \
    }

static const kvstore_backend nk_backend = NK_TABLE("nats");
static const kvstore_backend nk_backend_tls = NK_TABLE("nats+tls");

KVSTORE_MODULE_DEFINE("nats", &nk_backend, &nk_backend_tls);
