/*
 * Running a command against a test server: the redis and nats runners
 * (tests/redis/harness.c, tests/nats/nats-run.c) start their server, then
 * hand the command to ts_run, which replaces the placeholders the server
 * defines ("{port}", "{url}", "{sock}", "{dir}": one syntax for every
 * runner, as "{tmpdir}" in conformance URIs) and returns its status.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVS_TEST_RUN_H
#define KVS_TEST_RUN_H

#include <stddef.h>
#include <sys/types.h>

/* "{name}" in an argument becomes `value`. */
typedef struct ts_placeholder {
    const char *name;
    const char *value;
} ts_placeholder;

/* `arg` with every "{name}" of `ph` replaced (others are left as they
 * are); malloc'd, or NULL when out of memory. */
char *ts_substitute(const char *arg, const ts_placeholder *ph, size_t nph);

/* The running command's pid while ts_run waits for it (0 otherwise), for
 * a signal handler that must kill it before removing the server. */
extern volatile pid_t ts_run_child;

/* Runs argv[0..argc) with the placeholders replaced, behind the words of
 * the environment variable `wrapper_env` when it is set (e.g.
 * KVSTORE_REDIS_WRAPPER="valgrind --error-exitcode=1": meson's --wrap
 * would wrap the runner, not the command). Returns the command's exit
 * status, 128 + signal if it was killed, 127 if it could not run. */
int ts_run(char *const *argv, int argc, const ts_placeholder *ph,
           size_t nph, const char *wrapper_env);

#endif /* KVS_TEST_RUN_H */
