/*
 * nats-run: runs a program against a fresh single nats-server.
 *   nats-run PROGRAM [ARG...]
 * In the arguments, "{url}" becomes "nats://127.0.0.1:PORT" of a
 * JetStream server started on a free loopback port with a temporary store
 * ({port} and {dir}: its port and directory; the placeholders of every
 * server runner, tests/support/run.c); the server is killed and its
 * directory removed when the program ends. KVSTORE_NATS_WRAPPER is put in
 * front of the program, as KVSTORE_REDIS_WRAPPER for redis-harness.
 * Exits with the program's status (77, meson's "skip", when no server).
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"
#include "run.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static nh_server srv;

static void on_signal(int sig)
{
    if (ts_run_child > 0)
        kill(ts_run_child, SIGKILL);
    nh_cleanup(&srv);
    _exit(128 + sig);
}

int main(int argc, char **argv)
{
    char url[64], port[16];
    int st;

    if (argc < 2) {
        fprintf(stderr, "usage: nats-run PROGRAM [ARG...]\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (nh_single(&srv, NULL) != 0) {
        fprintf(stderr, "nats-run: cannot start nats-server\n");
        nh_cleanup(&srv);
        return 77;
    }
    nh_url(&srv, url, sizeof url);
    snprintf(port, sizeof port, "%d", srv.port);
    const ts_placeholder ph[] = {
        { "url", url }, { "port", port }, { "dir", srv.dir },
    };
    st = ts_run(argv + 1, argc - 1, ph, sizeof ph / sizeof *ph,
                "KVSTORE_NATS_WRAPPER");
    nh_cleanup(&srv);
    return st;
}
