/*
 * Test support: a Sentinel set-up (see topology.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "topology.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RS_READY_TRIES 600   /* of 100 ms */

static void rs_nap(void)
{
    struct timespec ts = { 0, 100 * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The integer after a line starting with `name` and `sep`: "name:value"
 * in INFO output (sep ':'), or the line after "name" in redis-cli's
 * output of a flat reply, one element per line (sep '\n'); -1 if absent. */
static long rs_value(const char *out, const char *name, char sep)
{
    size_t n = strlen(name);

    for (const char *p = out; p != NULL; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (strncmp(p, name, n) == 0 && p[n] == sep)
            return strtol(p + n + 1, NULL, 10);
    }
    return -1;
}

/* The port others reach s on. */
static int rs_port(const rs_topology *t, const rs_server *s)
{
    return t->tls ? s->tls_port : s->port;
}

static int rs_node_of_port(const rs_topology *t, long port)
{
    for (int i = 0; i < 2; i++)
        if (t->nodes[i].pid > 0 && rs_port(t, &t->nodes[i]) == port)
            return i;
    return -1;
}

/* The master sentinel s names: an index in nodes[], or -1. */
static int rs_named_master(rs_topology *t, int s)
{
    static const char *const ask[] = { "SENTINEL",
                                       "get-master-addr-by-name",
                                       RS_MASTER_NAME, NULL };
    char out[256];
    char *nl;

    if (rs_cli(&t->sentinels[s], out, sizeof out, ask) != 0)
        return -1;
    nl = strchr(out, '\n');
    return nl ? rs_node_of_port(t, strtol(nl + 1, NULL, 10)) : -1;
}

int rs_topology_master(rs_topology *t)
{
    int m = rs_named_master(t, 0);

    for (int s = 1; s < RS_SENTINELS && m >= 0; s++)
        if (rs_named_master(t, s) != m)
            return -1;
    return m;
}

static int rs_ready_once(rs_topology *t)
{
    static const char *const master_info[] = { "SENTINEL", "master",
                                               RS_MASTER_NAME, NULL };
    static const char *const info[] = { "INFO", "replication", NULL };
    char out[8192];
    int m = rs_named_master(t, 0);

    if (m < 0 || t->nodes[1 - m].pid <= 0)
        return -1;
    for (int s = 0; s < RS_SENTINELS; s++) {
        if (rs_named_master(t, s) != m ||
            rs_cli(&t->sentinels[s], out, sizeof out, master_info) != 0 ||
            rs_value(out, "num-other-sentinels", '\n') != RS_SENTINELS - 1 ||
            rs_value(out, "num-slaves", '\n') < 1)
            return -1;
    }
    /* The replica answers as one, in sync with the master. */
    if (rs_cli(&t->nodes[1 - m], out, sizeof out, info) != 0 ||
        strstr(out, "role:slave") == NULL ||
        strstr(out, "master_link_status:up") == NULL ||
        rs_value(out, "master_port", ':') != rs_port(t, &t->nodes[m]))
        return -1;
    if (rs_cli(&t->nodes[m], out, sizeof out, info) != 0 ||
        rs_value(out, "connected_slaves", ':') < 1)
        return -1;
    return m;
}

int rs_topology_ready(rs_topology *t)
{
    for (int i = 0; i < RS_READY_TRIES; i++) {
        int m = rs_ready_once(t);

        if (m >= 0)
            return m;
        rs_nap();
    }
    fprintf(stderr, "sentinel topology: not ready after 60 s\n");
    return -1;
}

/* nodes[i] with `extra` and "--replicaof 127.0.0.1 <port of `of`>". */
static int rs_node_start(rs_topology *t, int i, int of, int restart)
{
    const char *args[64];
    char port[16];
    int n = 0;

    if (t->tls) {
        args[n++] = "--tls-replication";
        args[n++] = "yes";
    }
    if (of >= 0) {
        snprintf(port, sizeof port, "%d", rs_port(t, &t->nodes[of]));
        args[n++] = "--replicaof";
        args[n++] = "127.0.0.1";
        args[n++] = port;
    }
    if (restart) {
        args[n++] = "--replica-priority";
        args[n++] = "0";
    }
    for (int k = 0; t->extra && t->extra[k] && n < 63; k++)
        args[n++] = t->extra[k];
    args[n] = NULL;
    if (restart)
        return rs_restart(&t->nodes[i], args);
    if (t->tls)
        return i == 0 ? rs_start_tls(&t->nodes[i], args, 0)
                      : rs_start_tls_shared(&t->nodes[i], args,
                                            t->nodes[0].tls_dir);
    return rs_start(&t->nodes[i], args);
}

int rs_topology_rejoin(rs_topology *t, int i, int of)
{
    return rs_node_start(t, i, of, 1);
}

static int rs_topology_start_with(rs_topology *t, const char *const *extra,
                                  bool tls)
{
    static const char *const tls_args[] = { "--tls-replication", "yes",
                                            NULL };
    char conf[512];
    size_t len = 0;

    memset(t, 0, sizeof *t);
    t->extra = extra;
    t->tls = tls;
    if (rs_node_start(t, 0, -1, 0) != 0 || rs_node_start(t, 1, 0, 0) != 0)
        return -1;
    snprintf(conf, sizeof conf,
             "sentinel monitor " RS_MASTER_NAME " 127.0.0.1 %d 2\n"
             "sentinel down-after-milliseconds " RS_MASTER_NAME " 1000\n"
             "sentinel failover-timeout " RS_MASTER_NAME " 3000\n"
             "sentinel parallel-syncs " RS_MASTER_NAME " 1\n",
             rs_port(t, &t->nodes[0]));
    for (int s = 0; s < RS_SENTINELS; s++) {
        if (rs_start_sentinel(&t->sentinels[s], conf, tls ? tls_args : NULL,
                              tls ? t->nodes[0].tls_dir : NULL) != 0)
            return -1;
        len += (size_t)snprintf(t->hosts + len, sizeof t->hosts - len,
                                "%s127.0.0.1:%d", s ? "," : "",
                                rs_port(t, &t->sentinels[s]));
    }
    return rs_topology_ready(t) >= 0 ? 0 : -1;
}

int rs_topology_start(rs_topology *t, const char *const *extra)
{
    return rs_topology_start_with(t, extra, false);
}

int rs_topology_start_tls(rs_topology *t, const char *const *extra)
{
    return rs_topology_start_with(t, extra, true);
}

void rs_topology_destroy(rs_topology *t)
{
    for (int s = 0; s < RS_SENTINELS; s++)
        rs_destroy(&t->sentinels[s]);
    for (int i = 0; i < 2; i++)
        rs_destroy(&t->nodes[i]);
}
