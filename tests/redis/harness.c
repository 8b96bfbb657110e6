/*
 * redis-harness: runs one command against a private redis-server.
 *
 *   redis-harness [--tls | --sentinel | --sentinel-tls] [SERVER-ARG...] --
 *                 COMMAND [ARG...]
 *   redis-harness --cluster | --cluster-tls -- COMMAND [ARG...]
 *
 * Starts redis-server (server.c) with the extra SERVER-ARGs, replaces
 * {port}, {sock} and {dir} in the command's arguments (tests/support/run.c,
 * the placeholders of every server runner), runs it, then kills the
 * server and removes its directory. With --tls the server also listens
 * with TLS (rs_start_tls, no client certificate needed) on {tls_port},
 * with the test certificates in {tls_dir} (ca.crt, client.crt, ...).
 * With --sentinel it starts a master and a replica (both with the
 * SERVER-ARGs) and three sentinels (topology.c): {sentinels} is their
 * "host:port,..." list, the master's name is kvmaster, and {port}, {sock}
 * and {dir} are the master's. --sentinel-tls is the same with TLS between
 * all of them (rs_topology_start_tls): {sentinels} are TLS ports, the
 * certificates in {tls_dir}.
 * --cluster starts a 3-master, 3-replica Redis Cluster instead
 * (cluster.c): {seeds} is the masters' "127.0.0.1:port" list, and
 * {port}, {sock} and {dir} are the first node's. --cluster-tls is the
 * same with TLS only (rs_cluster_start_tls): {seeds} are TLS ports, the
 * certificates in {tls_dir}.
 * Exits with the command's status (77, meson's "skipped", if the server
 * cannot start).
 *
 * KVSTORE_REDIS_WRAPPER (e.g. "valgrind --error-exitcode=1") is put in
 * front of the command: meson's --wrap/--setup would wrap this harness,
 * not the program under test.
 *
 * SPDX-License-Identifier: MIT
 */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "run.h"
#include "server.h"
#include "topology.h"

int main(int argc, char **argv)
{
    const char *extra[64];
    int n = 0, sep = -1, status, first = 1, started;
    bool tls = false, sentinel = false, sentinel_tls = false, cluster = false,
         cluster_tls = false;
    char port[16], tls_port[16];
    rs_topology topo;
    rs_cluster cl;
    rs_server single, *s = &single;

    if (argc > 1 && strcmp(argv[1], "--tls") == 0)
        tls = true;
    if (argc > 1 && strcmp(argv[1], "--sentinel") == 0)
        sentinel = true;
    if (argc > 1 && strcmp(argv[1], "--sentinel-tls") == 0)
        sentinel = sentinel_tls = true;
    if (argc > 1 && strcmp(argv[1], "--cluster") == 0)
        cluster = true;
    if (argc > 1 && strcmp(argv[1], "--cluster-tls") == 0)
        cluster = cluster_tls = true;
    first += tls || sentinel || cluster;
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            sep = i;
            break;
        }
        if (n < 63)
            extra[n++] = argv[i];
    }
    extra[n] = NULL;
    if (sep < 0 || sep + 1 >= argc) {
        fprintf(stderr, "usage: %s [--tls | --sentinel | --sentinel-tls | "
                "--cluster | --cluster-tls] [SERVER-ARG...] -- COMMAND "
                "[ARG...]\n", argv[0]);
        return 2;
    }
    if (sentinel) {
        started = sentinel_tls ? rs_topology_start_tls(&topo, extra)
                               : rs_topology_start(&topo, extra);
        s = &topo.nodes[0];
    } else if (cluster) {
        started = cluster_tls ? rs_cluster_start_tls(&cl, 3)
                              : rs_cluster_start(&cl, 3, NULL);
        s = &cl.node[0];
    } else {
        started = tls ? rs_start_tls(s, extra, 0) : rs_start(s, extra);
    }
    if (started != 0) {
        if (sentinel)
            rs_topology_destroy(&topo);
        else if (!cluster)  /* rs_cluster_start cleaned up after itself */
            rs_destroy(s);
        return 77;
    }
    fprintf(stderr, "redis-harness: redis-server pid %d on 127.0.0.1:%d and "
            "%s%s%s%s%s\n", (int)s->pid, s->port, s->sock,
            sentinel ? ", sentinels " : "", sentinel ? topo.hosts : "",
            cluster ? ", cluster masters " : "", cluster ? cl.seeds : "");
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(tls_port, sizeof tls_port, "%d", s->tls_port);
    const ts_placeholder ph[] = {
        { "port", port }, { "sock", s->sock }, { "dir", s->dir },
        { "tls_port", tls_port }, { "tls_dir", s->tls_dir },
        { "sentinels", sentinel ? topo.hosts : "" },
        { "seeds", cluster ? cl.seeds : "" },
    };
    status = ts_run(argv + sep + 1, argc - sep - 1, ph,
                    sizeof ph / sizeof *ph, "KVSTORE_REDIS_WRAPPER");
    if (sentinel)
        rs_topology_destroy(&topo);
    else if (cluster)
        rs_cluster_destroy(&cl);
    else
        rs_destroy(s);
    return status;
}
