/*
 * The group fixture of the redis test programs (group.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "group.h"
#include "fx_servers.h"

/* The one group a program runs (fx_group's hooks take no argument). */
static const rs_group *current;

/* The placeholders of redis-harness (harness.c), for SERVER_TEST URIs:
 * those of the first server, and the sentinels' or seeds' list. */
static void define_placeholders(const rs_server *s)
{
    fx_define_int("port", s->port);
    fx_define("sock", s->sock);
    fx_define("dir", s->dir);
    fx_define_int("tls_port", s->tls_port);
    fx_define("tls_dir", s->tls_dir);
    if (current->topo)
        fx_define("sentinels", current->topo->hosts);
    if (current->cluster)
        fx_define("seeds", current->cluster->seeds);
}

static int start(void)
{
    const rs_server *first;
    int rc;

    if (current->cluster) {  /* cleans up after itself on failure */
        rc = rs_cluster_start(current->cluster, 3, current->password);
        first = &current->cluster->node[0];
    } else if (current->topo) {
        rc = rs_topology_start(current->topo, current->args);
        first = &current->topo->nodes[0];
    } else {
        rc = current->tls ? rs_start_tls(current->srv, current->args, 0)
                          : rs_start(current->srv, current->args);
        first = current->srv;
    }
    if (rc != 0)
        return -1;
    define_placeholders(first);
    return 0;
}

static void stop(void)
{
    if (current->cluster)
        rs_cluster_destroy(current->cluster);
    else if (current->topo)
        rs_topology_destroy(current->topo);
    else
        rs_destroy(current->srv);
}

int rs_run_group(const rs_group *g, const struct CMUnitTest *tests,
                 size_t n)
{
    current = g;
    return fx_run_group(&(fx_group){ "redis", start, stop, g->started,
                                     g->stopping }, tests, n);
}
