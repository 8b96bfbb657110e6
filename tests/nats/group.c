/*
 * The group fixture of the nats test programs (group.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "group.h"
#include "fx_servers.h"

/* The one group a program runs (fx_group's hooks take no argument). */
static const nh_group *current;

/* {url}, {port} and {dir} of `first`; with a cluster also {urls}. */
static void define_placeholders(const nh_server *first,
                                const nh_server *cluster)
{
    char url[64], urls[96];

    fx_define("url", nh_url(first, url, sizeof url));
    fx_define_int("port", first->port);
    fx_define("dir", first->dir);
    if (cluster) {
        snprintf(urls, sizeof urls, "127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d",
                 cluster[0].port, cluster[1].port, cluster[2].port);
        fx_define("urls", urls);
    }
}

static void stop(void)
{
    for (int i = 0; i < (current->cluster ? 3 : 1); i++)
        nh_cleanup(current->cluster ? &current->cluster[i] : current->srv);
}

static int start(void)
{
    const nh_server *first = current->cluster ? current->cluster
                                              : current->srv;
    int rc = current->cluster ? nh_cluster(current->cluster)
                              : nh_single(current->srv, current->auth);

    if (rc != 0) {
        stop();
        return -1;
    }
    define_placeholders(first, current->cluster);
    return 0;
}

int nh_run_group(const nh_group *g, const struct CMUnitTest *tests,
                 size_t n)
{
    current = g;
    return fx_run_group(&(fx_group){ "nats", start, stop, g->started,
                                     g->stopping }, tests, n);
}

int nh_fresh_setup(void **state)
{
    nh_fresh *f = *state;

    if (nh_single(f->srv, NULL) != 0) {
        nh_cleanup(f->srv);
        return -1;
    }
    define_placeholders(f->srv, NULL);
    if (server_store_setup(state) != 0) {
        nh_cleanup(f->srv);
        return -1;
    }
    return 0;
}

int nh_fresh_teardown(void **state)
{
    nh_fresh *f = *state;

    server_store_teardown(state);
    nh_cleanup(f->srv);
    return 0;
}
