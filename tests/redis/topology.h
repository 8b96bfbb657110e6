/*
 * Test support: a Redis Sentinel set-up on loopback, one master, one
 * replica and three sentinels (redis-server --sentinel), each a private
 * server of server.c. The sentinels declare the master down after 1 s
 * (500 ms made them flap on a loaded machine), so a failover takes a few
 * seconds.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_TESTS_REDIS_TOPOLOGY_H
#define KVSTORE_TESTS_REDIS_TOPOLOGY_H

#include <stdbool.h>

#include "server.h"

#define RS_MASTER_NAME "kvmaster"
#define RS_SENTINELS 3

typedef struct rs_topology {
    rs_server nodes[2];            /* the master and the replica, either way */
    rs_server sentinels[RS_SENTINELS];
    char hosts[128];               /* "127.0.0.1:P1,127.0.0.1:P2,..." */
    const char *const *extra;      /* more arguments for both nodes */
    bool tls;    /* everyone talks TLS (tls-replication), on tls_port */
} rs_topology;

/* Starts nodes[0] as the master, nodes[1] as its replica (both with
 * `extra`), then the sentinels, and waits until rs_topology_ready. */
int rs_topology_start(rs_topology *t, const char *const *extra);
/* The same with TLS between everyone (one CA, in nodes[0].tls_dir): the
 * sentinels monitor, name and listen on the tls_ports. */
int rs_topology_start_tls(rs_topology *t, const char *const *extra);
/* Waits (up to 60 s) until every sentinel names the same master, knows
 * the two other sentinels, and that master has its replica in sync.
 * Returns the index in nodes[] of the master, or -1. */
int rs_topology_ready(rs_topology *t);
/* The node every sentinel names as master: an index in nodes[], or -1
 * while they disagree (a failover is still spreading) or name a node
 * that is down. */
int rs_topology_master(rs_topology *t);
/* Restarts the stopped node i as a replica of node `of`, with
 * replica-priority 0: the sentinels never promote it, not even before its
 * first sync completed (see test_sentinel.c, run_failover). */
int rs_topology_rejoin(rs_topology *t, int i, int of);
void rs_topology_destroy(rs_topology *t);

#endif
