/*
 * redis-harness: runs one command against a private redis-server.
 *
 *   redis-harness [SERVER-ARG...] -- COMMAND [ARG...]
 *   redis-harness --cluster -- COMMAND [ARG...]
 *
 * --cluster starts a 3-master, 3-replica Redis Cluster instead
 * (cluster.c) and adds {seeds}, the masters' "127.0.0.1:port" list;
 * {port}, {sock} and {dir} are then the first node's.
 *
 * Starts redis-server (server.c) with the extra SERVER-ARGs, replaces
 * {port}, {sock} and {dir} in the command's arguments (tests/support/run.c,
 * the placeholders of every server runner), runs it, then kills the
 * server and removes its directory. Exits with the command's status (77,
 * meson's "skipped", if the server cannot start).
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

int main(int argc, char **argv)
{
    const char *extra[64];
    int n = 0, sep = -1, status;
    char port[16];
    bool cluster = false;
    rs_cluster c;
    rs_server s, *first = &s;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            sep = i;
            break;
        }
        if (strcmp(argv[i], "--cluster") == 0)
            cluster = true;
        else if (n < 63)
            extra[n++] = argv[i];
    }
    extra[n] = NULL;
    if (sep < 0 || sep + 1 >= argc) {
        fprintf(stderr, "usage: %s [SERVER-ARG...] -- COMMAND [ARG...]\n",
                argv[0]);
        return 2;
    }
    if (cluster) {
        if (rs_cluster_start(&c, 3, NULL) != 0) {
            rs_cluster_destroy(&c);
            return 77;
        }
        first = &c.node[0];
        fprintf(stderr, "redis-harness: cluster, masters %s\n", c.seeds);
    } else {
        if (rs_start(&s, extra) != 0) {
            rs_destroy(&s);
            return 77;
        }
        fprintf(stderr, "redis-harness: redis-server pid %d on "
                "127.0.0.1:%d and %s\n", (int)s.pid, s.port, s.sock);
    }
    snprintf(port, sizeof port, "%d", first->port);
    const ts_placeholder ph[] = {
        { "port", port }, { "sock", first->sock }, { "dir", first->dir },
        { "seeds", cluster ? c.seeds : "" },
    };
    status = ts_run(argv + sep + 1, argc - sep - 1, ph,
                    sizeof ph / sizeof *ph, "KVSTORE_REDIS_WRAPPER");
    if (cluster)
        rs_cluster_destroy(&c);
    else
        rs_destroy(&s);
    return status;
}
