/*
 * The fixture every redis test program shares: one private redis-server
 * (server.h), with TLS or not, or a sentinel set-up (topology.h), or a
 * cluster (cluster.h) for the whole cmocka group, started before the
 * first test and destroyed after the last, so a program only lists its
 * tests.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_TESTS_REDIS_GROUP_H
#define KVSTORE_TESTS_REDIS_GROUP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cluster.h"
#include "fx_servers.h"
#include "server.h"
#include "topology.h"

/* Exactly one of srv, topo and cluster is set: what the group starts. */
typedef struct rs_group {
    rs_server *srv;              /* the program's server */
    bool tls;                    /* srv with TLS (rs_start_tls, no client
                                  * certificate asked) */
    rs_topology *topo;           /* a sentinel set-up (rs_topology_start) */
    rs_cluster *cluster;         /* a 3-master cluster (rs_cluster_start) */
    const char *password;        /* the cluster's requirepass (may be NULL) */
    const char *const *args;     /* extra server arguments (may be NULL;
                                  * not for a cluster) */
    int (*started)(void);        /* may be NULL: once it answers; 0 = ok */
    void (*stopping)(void);      /* may be NULL: before it is destroyed */
} rs_group;

/* Starts what g names, runs `tests` as one group and destroys it;
 * returns what cmocka returns (the number of failed tests), or 1 if the
 * servers did not start. */
int rs_run_group(const rs_group *g, const struct CMUnitTest *tests,
                 size_t n);

/* RS_RUN_GROUP(tests, .srv = &srv, .args = args, ...): the rs_group's
 * fields, with the size of the array `tests`. */
#define RS_RUN_GROUP(tests, ...) \
    FX_RUN_GROUP(rs_run_group, rs_group, tests, __VA_ARGS__)

/* redis-cli on `srv` (an rs_server *) with the words after `out` (a char
 * array, which gets its output); fails the test if redis-cli fails. */
#define RS_CLI(srv, out, ...) \
    assert_int_equal(rs_cli_words((srv), (out), sizeof(out), __VA_ARGS__, \
                                  (const char *)NULL), 0)

#endif
