/*
 * The fixture every redis test program shares: one private redis-server
 * (server.h) for the whole cmocka group, started before the first test
 * and destroyed after the last, so a program only lists its tests.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_TESTS_REDIS_GROUP_H
#define KVSTORE_TESTS_REDIS_GROUP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "server.h"

typedef struct rs_group {
    rs_server *srv;              /* the program's server */
    const char *const *args;     /* extra server arguments (may be NULL) */
    int (*started)(void);        /* may be NULL: once it answers; 0 = ok */
    void (*stopping)(void);      /* may be NULL: before it is destroyed */
} rs_group;

/* Starts g->srv, runs `tests` as one group and destroys the server;
 * returns what cmocka returns (the number of failed tests), or 1 if the
 * server did not start. */
int rs_run_group(const rs_group *g, const struct CMUnitTest *tests,
                 size_t n);

/* RS_RUN_GROUP(tests, .srv = &srv, .args = args, ...): the rs_group's
 * fields, with the size of the array `tests`. */
#define RS_RUN_GROUP(tests, ...) \
    rs_run_group(&(rs_group){ __VA_ARGS__ }, (tests), \
                 sizeof (tests) / sizeof *(tests))

#endif
