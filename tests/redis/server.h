/*
 * Test support: a private redis-server on a free loopback port and a unix
 * socket in a fresh temporary directory, killed and removed at the end.
 * Shared by the redis tests, the conformance harness and bench-redis.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_TESTS_REDIS_SERVER_H
#define KVSTORE_TESTS_REDIS_SERVER_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct rs_server {
    pid_t pid;        /* 0 when not running */
    int port;
    char dir[128];    /* the server's --dir, removed by rs_destroy */
    char sock[192];   /* dir/redis.sock */
    int tls_port;     /* 0 without TLS */
    int tls_auth;     /* the server asks for a client certificate */
    char tls_dir[192]; /* dir/tls: the certificates (rs_start_tls) */
    char conf[192];   /* dir/sentinel.conf for a sentinel, else "" */
} rs_server;

/* An argument vector being built, NULL-terminated at every step: words
 * beyond its capacity are dropped, with a line on stderr. */
#define RS_ARGV_MAX 64
typedef struct rs_argv {
    const char *argv[RS_ARGV_MAX];
    int n;
} rs_argv;
/* Appends the words up to a NULL. */
void rs_argv_add(rs_argv *v, ...);
/* Appends the NULL-terminated `words` (may be NULL). */
void rs_argv_addv(rs_argv *v, const char *const *words);

/* Starts redis-server ($REDIS_SERVER or redis-server from PATH) with
 * `extra` (NULL-terminated, may be NULL) appended to the default
 * arguments; picks a free port by retrying. Waits until it answers on
 * the unix socket. Returns 0, or -1 after printing why. */
int rs_start(rs_server *s, const char *const *extra);
/* rs_start, plus TLS on tls_port (= port + 1) with certificates made by
 * the openssl command in tls_dir:
 *   ca.crt, ca.key            the test CA, which the server trusts
 *   server.crt, server.key    for localhost and 127.0.0.1 (the server's)
 *   expired.crt/.key          the same names, expired yesterday
 *   other-host.crt/.key       for other.invalid only
 *   client.crt, client.key    a client certificate from the CA
 *   other-ca.crt              a CA that signed none of these
 * With client_auth the server requires a client certificate
 * (tls-auth-clients yes), else it accepts clients without one. Returns 0,
 * or -1 after printing why (-2 if the openssl command is missing). */
int rs_start_tls(rs_server *s, const char *const *extra, int client_auth);
/* rs_start_tls with the certificates of tls_dir (made by an earlier
 * rs_start_tls, still running), no client certificate needed: servers
 * that trust each other. */
int rs_start_tls_shared(rs_server *s, const char *const *extra,
                        const char *tls_dir);
/* Starts redis-server in sentinel mode (--sentinel) with a sentinel.conf
 * holding `conf` (e.g. "sentinel monitor ..." lines), written to its
 * directory (it rewrites the file as it learns), and `extra`; with TLS as
 * rs_start_tls_shared if tls_dir is not NULL. Returns 0 or -1. */
int rs_start_sentinel(rs_server *s, const char *conf,
                      const char *const *extra, const char *tls_dir);
/* Starts it again on the same port and directory. */
int rs_restart(rs_server *s, const char *const *extra);
/* Sends `sig` (SIGKILL, SIGTERM, SIGSTOP, SIGCONT); for a terminating
 * signal also reaps the process. */
void rs_signal(rs_server *s, int sig);
/* Kills the server if it runs and removes its directory. */
void rs_destroy(rs_server *s);

/* `cmd` (a hiredis format without arguments) on the unix socket, after
 * AUTH `password` unless it is NULL; the reply (freeReplyObject), or NULL
 * if the server did not answer within a second. */
struct redisReply *rs_command(const rs_server *s, const char *password,
                              const char *cmd);

/* Sleeps `ms` milliseconds (resumed after signals). */
void rs_sleep_ms(int ms);

/* Runs redis-cli ($REDIS_CLI or redis-cli) on the unix socket with
 * `args` (NULL-terminated, exact bytes: no shell) and captures stdout
 * into out (NUL-terminated, trailing newline removed). With s NULL the
 * args name their own host and port (no -s); with out NULL the output
 * goes to stderr. Returns the exit status, or -1. */
int rs_cli(const rs_server *s, char *out, size_t cap,
           const char *const *args);
/* rs_cli with the arguments as the NULL-terminated rest of the call. */
int rs_cli_words(const rs_server *s, char *out, size_t cap, ...);
/* How many times the server ran `cmd` (INFO commandstats: "set",
 * "incrby", ...), by redis-cli; -1 if redis-cli failed. */
long rs_calls_of(const rs_server *s, const char *cmd);

#endif
