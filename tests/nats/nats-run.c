/*
 * nats-run: runs a program against a fresh single nats-server.
 *   nats-run PROGRAM [ARG...]
 * Every "@NATS_URL@" in the arguments becomes "nats://127.0.0.1:PORT" of a
 * JetStream server started on a free loopback port with a temporary store;
 * the server is killed and its directory removed when the program ends.
 * Exits with the program's status (77, meson's "skip", when no server).
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static nh_server srv;
static pid_t child;

static void on_signal(int sig)
{
    if (child > 0)
        kill(child, SIGKILL);
    nh_cleanup(&srv);
    _exit(128 + sig);
}

static char *subst(const char *arg, const char *url)
{
    const char *p = strstr(arg, "@NATS_URL@");
    if (!p)
        return strdup(arg);
    size_t n = strlen(arg) - 10 + strlen(url) + 1;
    char *r = malloc(n);
    if (r)
        snprintf(r, n, "%.*s%s%s", (int)(p - arg), arg, url, p + 10);
    return r;
}

int main(int argc, char **argv)
{
    char url[64];
    int st = 0;

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
    char **args = calloc((size_t)argc, sizeof *args);
    for (int i = 1; args && i < argc; i++)
        args[i - 1] = subst(argv[i], url);
    child = fork();
    if (child == 0) {
        execv(args[0], args);
        perror("nats-run: exec");
        _exit(127);
    }
    waitpid(child, &st, 0);
    nh_cleanup(&srv);
    for (int i = 0; i < argc - 1; i++)
        free(args[i]);
    free(args);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
