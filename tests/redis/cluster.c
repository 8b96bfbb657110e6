/*
 * Test support: a private Redis Cluster (see cluster.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "cluster.h"

#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#define RS_CLUSTER_READY_MS 30000

/* Whether `cmd` (INFO replication, CLUSTER INFO) on the node's socket
 * answers a text containing `want`. */
static int rs_info_has(const rs_cluster *cl, const rs_server *s,
                       const char *cmd, const char *want)
{
    redisReply *r = rs_command(s, cl->password, cmd);
    int has = r != NULL && r->type == REDIS_REPLY_STRING &&
              strstr(r->str, want) != NULL;

    freeReplyObject(r);
    return has;
}

int rs_cluster_wait_ok(rs_cluster *c, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        int ok = 1;

        for (int i = 0; i < c->n && ok; i++) {
            if (c->node[i].pid <= 0)
                continue;
            ok = rs_info_has(c, &c->node[i], "CLUSTER INFO",
                             "cluster_state:ok") &&
                 (rs_info_has(c, &c->node[i], "INFO replication",
                              "role:master") ||
                  rs_info_has(c, &c->node[i], "INFO replication",
                              "master_link_status:up"));
        }
        if (ok)
            return 0;
        rs_sleep_ms(100);
    }
    fprintf(stderr, "redis test cluster: not ok after %d ms\n", timeout_ms);
    return -1;
}

rs_server *rs_cluster_node(rs_cluster *c, int port)
{
    for (int i = 0; i < c->n; i++)
        if (c->node[i].port == port)
            return &c->node[i];
    return NULL;
}

/* Starts node i: plain, or (c->tls) with TLS only, on the bus and
 * between replicas too, with the certificates node 0 made. */
static int rs_cluster_node_start(rs_cluster *c, int i, const char *password)
{
    rs_argv a = { .n = 0 };
    char cert[256], key[256];

    rs_argv_add(&a, "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", RS_CLUSTER_NODE_TIMEOUT,
                "--appendonly", "no", NULL);
    if (c->tls) {
        /* No plain port: the nodes then announce their TLS ports
         * (CLUSTER SLOTS, MOVED). */
        rs_argv_add(&a, "--tls-cluster", "yes", "--tls-replication", "yes",
                    "--port", "0", NULL);
        /* The bus always asks for a client certificate, and server.crt
         * is for servers only. Node 0 makes the certificates in its own
         * directory (its --dir, so a relative path reaches them). */
        snprintf(cert, sizeof cert, "%s/client.crt",
                 i == 0 ? "tls" : c->node[0].tls_dir);
        snprintf(key, sizeof key, "%s/client.key",
                 i == 0 ? "tls" : c->node[0].tls_dir);
        rs_argv_add(&a, "--tls-client-cert-file", cert,
                    "--tls-client-key-file", key, NULL);
    }
    if (password != NULL)
        rs_argv_add(&a, "--requirepass", password, "--masterauth", password,
                    NULL);
    /* A port above 55535 has no room for its bus port (+10000):
     * redis-server refuses it, and rs_start tries another. */
    if (!c->tls)
        return rs_start(&c->node[i], a.argv);
    if (i == 0)
        return rs_start_tls(&c->node[0], a.argv, 0);
    return rs_start_tls_shared(&c->node[i], a.argv, c->node[0].tls_dir);
}

static int rs_cluster_create(rs_cluster *c, int masters, const char *password,
                             int tls)
{
    char addr[RS_CLUSTER_NODES_MAX][24], ca[256];
    rs_argv a = { .n = 0 };
    size_t at = 0;

    memset(c, 0, sizeof *c);
    c->password = password;
    c->tls = tls;
    c->n = 2 * masters;
    if (masters < 1 || c->n > RS_CLUSTER_NODES_MAX)
        return -1;
    for (int i = 0; i < c->n; i++) {
        if (rs_cluster_node_start(c, i, password) != 0)
            return -1;
        snprintf(addr[i], sizeof addr[i], "127.0.0.1:%d",
                 tls ? c->node[i].tls_port : c->node[i].port);
    }
    if (tls) {
        snprintf(ca, sizeof ca, "%s/ca.crt", c->node[0].tls_dir);
        rs_argv_add(&a, "--tls", "--cacert", ca, NULL);
    }
    rs_argv_add(&a, "--cluster", "create", NULL);
    for (int i = 0; i < c->n; i++)
        rs_argv_add(&a, addr[i], NULL);
    rs_argv_add(&a, "--cluster-replicas", "1", "--cluster-yes", NULL);
    if (password != NULL)
        rs_argv_add(&a, "-a", password, "--no-auth-warning", NULL);
    if (rs_cli(NULL, NULL, 0, a.argv) != 0) {
        fprintf(stderr, "redis test cluster: redis-cli --cluster create "
                "failed\n");
        return -1;
    }
    for (int i = 0; i < masters; i++)
        at += (size_t)snprintf(c->seeds + at, sizeof c->seeds - at, "%s%s",
                               i ? "," : "", addr[i]);
    return rs_cluster_wait_ok(c, RS_CLUSTER_READY_MS);
}

int rs_cluster_start(rs_cluster *c, int masters, const char *password)
{
    if (rs_cluster_create(c, masters, password, 0) == 0)
        return 0;
    rs_cluster_destroy(c);
    return -1;
}

int rs_cluster_start_tls(rs_cluster *c, int masters)
{
    if (rs_cluster_create(c, masters, NULL, 1) == 0)
        return 0;
    rs_cluster_destroy(c);
    return -1;
}

void rs_cluster_destroy(rs_cluster *c)
{
    for (int i = 0; i < c->n; i++)
        rs_destroy(&c->node[i]);
    c->n = 0;
}
