/*
 * Test support: a private redis-server on a free loopback port and a unix
 * socket in a fresh temporary directory, killed and removed at the end.
 * Shared by the redis tests, the conformance harness and bench-redis.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_TESTS_REDIS_SERVER_H
#define KVSTORE_TESTS_REDIS_SERVER_H

#include <stddef.h>
#include <sys/types.h>

typedef struct rs_server {
    pid_t pid;        /* 0 when not running */
    int port;
    char dir[128];    /* the server's --dir, removed by rs_destroy */
    char sock[192];   /* dir/redis.sock */
} rs_server;

/* Starts redis-server ($REDIS_SERVER or redis-server from PATH) with
 * `extra` (NULL-terminated, may be NULL) appended to the default
 * arguments; picks a free port by retrying. Waits until it answers on
 * the unix socket. Returns 0, or -1 after printing why. */
int rs_start(rs_server *s, const char *const *extra);
/* Starts it again on the same port and directory. */
int rs_restart(rs_server *s, const char *const *extra);
/* Sends `sig` (SIGKILL, SIGTERM, SIGSTOP, SIGCONT); for a terminating
 * signal also reaps the process. */
void rs_signal(rs_server *s, int sig);
/* Kills the server if it runs and removes its directory. */
void rs_destroy(rs_server *s);

/* Sleeps `ms` milliseconds (resumed after signals). */
void rs_sleep_ms(int ms);

/* Runs redis-cli ($REDIS_CLI or redis-cli) on the unix socket with
 * `args` (NULL-terminated, exact bytes: no shell) and captures stdout
 * into out (NUL-terminated, trailing newline removed). Returns the exit
 * status, or -1. */
int rs_cli(const rs_server *s, char *out, size_t cap,
           const char *const *args);

#endif
