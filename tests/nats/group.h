/*
 * The fixture the nats test programs share: one JetStream server (with
 * an authorization block or not) or a 3-node cluster (harness.h) for the
 * whole cmocka group, started before the first test and removed after
 * the last. It defines the placeholders of nats-run ({url}, {port},
 * {dir}) for the URIs of SERVER_TEST and fx_expand (fx_servers.h), and
 * with a cluster {urls}: the three nodes' "127.0.0.1:port" list.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_TEST_NATS_GROUP_H
#define KVSTORE_TEST_NATS_GROUP_H

#include "fx_servers.h"
#include "harness.h"
#include "util.h"

/* Exactly one of srv and cluster is set: what the group starts. */
typedef struct nh_group {
    nh_server *srv;          /* a single server (nh_single) */
    const char *auth;        /* its authorization block, or NULL */
    nh_server *cluster;      /* three servers (nh_cluster) */
    int (*started)(void);    /* may be NULL: once it runs; 0 = ok */
    void (*stopping)(void);  /* may be NULL: before it is removed */
} nh_group;

/* Starts what g names, runs `tests` as one group and removes it;
 * returns what cmocka returns (the number of failed tests). */
int nh_run_group(const nh_group *g, const struct CMUnitTest *tests,
                 size_t n);

/* NH_RUN_GROUP(tests, .srv = &srv, .auth = ..., ...): the nh_group's
 * fields, with the size of the array `tests`. */
#define NH_RUN_GROUP(tests, ...) \
    FX_RUN_GROUP(nh_run_group, nh_group, tests, __VA_ARGS__)

/* A test on a fresh server of its own (the fault tests kill theirs):
 * NH_FRESH_TEST(test, &srv, "{url}?timeout_ms=1500", "bucket") starts
 * srv, defines the placeholders and opens the server_store the test
 * reads from *state, as SERVER_TEST; the teardown closes it and removes
 * the server. */
typedef struct nh_fresh {
    server_store st;   /* first: *state is also the server_store */
    nh_server *srv;
} nh_fresh;
int nh_fresh_setup(void **state);
int nh_fresh_teardown(void **state);
#define NH_FRESH_TEST(test, srv_, uri_, bucket_)                         \
    cmocka_unit_test_prestate_setup_teardown(test, nh_fresh_setup,       \
        nh_fresh_teardown, (&(nh_fresh){                                 \
            .st = { .uri = (uri_), .name = (bucket_) }, .srv = (srv_) }))

#endif
