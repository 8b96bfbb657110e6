/*
 * Redis backend module: the backend tables ("redis" over TCP, "rediss"
 * over TLS, "redis+unix" over a unix socket, "redis+sentinel" and
 * "rediss+sentinel" through Redis Sentinel, "redis+cluster" and
 * "rediss+cluster" for a Redis Cluster; same code, different options)
 * and the module entry point, the only symbol the module exports.
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis.h"

static const char *const rd_tcp_options[] = { "timeout_ms", "pool",
                                              "watch_config", NULL };
static const char *const rd_tls_options[] = { "timeout_ms", "pool",
                                              "watch_config", "tls_ca",
                                              "tls_cert", "tls_key",
                                              "tls_sni", "tls_insecure",
                                              NULL };
static const char *const rd_sentinel_options[] = { "timeout_ms", "pool",
                                                   "watch_config", "wait",
                                                   "wait_timeout_ms", NULL };
static const char *const rd_tls_sentinel_options[] = {
    "timeout_ms", "pool", "watch_config", "wait", "wait_timeout_ms",
    "tls_ca", "tls_cert", "tls_key", "tls_sni", "tls_insecure", NULL,
};
static const char *const rd_cluster_options[] = { "timeout_ms", "pool",
                                                  "watch_config", NULL };
static const char *const rd_tls_cluster_options[] = {
    "timeout_ms", "pool", "watch_config", "tls_ca", "tls_cert", "tls_key",
    "tls_sni", "tls_insecure", NULL,
};
static const char *const rd_unix_options[] = { "timeout_ms", "pool", "db",
                                               "watch_config", NULL };

#define RD_SLOTS                                                          \
    KVSTORE_SLOTS_REQUIRED(rd), KVSTORE_SLOTS_BATCH(rd),                  \
    KVSTORE_SLOTS_ATOMICS(rd), KVSTORE_SLOTS_TTL(rd),                     \
    KVSTORE_SLOTS_BUCKETS(rd)

/* What the module can do (kvstore_caps):
 * - LIST_REPEATS: SCAN may return a key twice during a walk (the
 *   dictionary is rehashed between calls, or an "R" state replays a
 *   batch); it never loses one that stayed.
 * - WATCH_LATE_VALUES: a keyspace notification carries no value, so the
 *   watch thread reads it after the event (watch.c).
 * - WATCH_CROSS_PROCESS: notifications come from the server, for every
 *   client's writes.
 * - TTL: per-key expiry (SET PX, PTTL); Redis hides an expired key from
 *   every read, SCAN included, whether or not it was reaped. */
#define RD_CAPS (KVSTORE_CAP_LIST_REPEATS | KVSTORE_CAP_WATCH_LATE_VALUES | \
                 KVSTORE_CAP_WATCH_CROSS_PROCESS | KVSTORE_CAP_TTL)

/* Watch on one server (watch.c), for every scheme but redis+cluster. */
#define RD_SERVER_WATCH KVSTORE_SLOTS_WATCH(rd), .caps = RD_CAPS

/* One table per scheme: the same slots, the scheme's options and watch. */
#define RD_TABLE(var, scheme, opts, watch)        \
    static const kvstore_backend var = {          \
        .version = KVSTORE_BACKEND_VERSION,       \
        .name = scheme,                           \
        .options = opts,                          \
        RD_SLOTS,                                 \
        watch,                                    \
    }

/* A cluster (cluster.c): the same caps; a watch subscribes on every
 * master (cluster_watch.c), and listing may also repeat keys across a
 * resharding or failover (cluster_list.c). */
#define RD_CLUSTER_WATCH                          \
    .watch_start = rd_cluster_watch_start,        \
    .watch_stop = rd_cluster_watch_stop,          \
    .caps = RD_CAPS

RD_TABLE(rd_tcp, "redis", rd_tcp_options, RD_SERVER_WATCH);
RD_TABLE(rd_tls, "rediss", rd_tls_options, RD_SERVER_WATCH);
RD_TABLE(rd_unix, "redis+unix", rd_unix_options, RD_SERVER_WATCH);
RD_TABLE(rd_sentinel_tcp, "redis+sentinel", rd_sentinel_options,
         RD_SERVER_WATCH);
RD_TABLE(rd_tls_sentinel, "rediss+sentinel", rd_tls_sentinel_options,
         RD_SERVER_WATCH);
RD_TABLE(rd_cluster_table, "redis+cluster", rd_cluster_options,
         RD_CLUSTER_WATCH);
/* Over TLS to every node (the nodes announce their TLS ports when they
 * run with tls-cluster yes). */
RD_TABLE(rd_tls_cluster_table, "rediss+cluster", rd_tls_cluster_options,
         RD_CLUSTER_WATCH);

KVSTORE_MODULE_DEFINE("redis", &rd_tcp, &rd_tls, &rd_unix, &rd_sentinel_tcp,
                      &rd_tls_sentinel, &rd_cluster_table,
                      &rd_tls_cluster_table);
