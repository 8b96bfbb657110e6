/*
 * Test support: a private Redis Cluster on loopback, `masters` masters
 * with one replica each, every node an rs_server (server.c) with
 * cluster-enabled and a small cluster-node-timeout, joined with
 * `redis-cli --cluster create`. Shared by the redis harness (--cluster),
 * the cluster test and bench-redis.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_TESTS_REDIS_CLUSTER_H
#define KVSTORE_TESTS_REDIS_CLUSTER_H

#include <stddef.h>

#include "server.h"

#define RS_CLUSTER_NODES_MAX 6
/* Failure detection (ms): small so that a failover takes a few seconds. */
#define RS_CLUSTER_NODE_TIMEOUT "1000"

typedef struct rs_cluster {
    rs_server node[RS_CLUSTER_NODES_MAX];
    int n;
    char seeds[RS_CLUSTER_NODES_MAX * 24];  /* "127.0.0.1:p1,..." */
    const char *password;  /* requirepass of every node, or NULL */
    int tls;               /* rs_cluster_start_tls: seeds are TLS ports */
} rs_cluster;

/* Starts 2 * masters nodes (masters <= 3), creates the cluster and waits
 * until every node reports cluster_state:ok and every replica is in
 * sync. `password` (NULL for none; kept, not copied) becomes every
 * node's requirepass and masterauth. Returns 0, or -1 after printing why
 * (and destroying what was started). */
int rs_cluster_start(rs_cluster *c, int masters, const char *password);
/* rs_cluster_start with TLS only (port 0, tls-cluster and
 * tls-replication yes): clients, the bus and replicas all use TLS, with
 * the certificates rs_start_tls makes in node[0].tls_dir; the seeds are
 * the masters' TLS ports, which the nodes announce. */
int rs_cluster_start_tls(rs_cluster *c, int masters);
/* Waits until every running node reports cluster_state:ok (after a
 * failover, say); 0, or -1 after timeout_ms. */
int rs_cluster_wait_ok(rs_cluster *c, int timeout_ms);
/* The node listening on `port`, or NULL. */
rs_server *rs_cluster_node(rs_cluster *c, int port);
void rs_cluster_destroy(rs_cluster *c);

#endif
