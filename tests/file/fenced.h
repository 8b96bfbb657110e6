/*
 * The fixture of the file tests that plant links out of the store: the
 * store lives in "<dir>/root" and, beside it, "<dir>/outside" holds a
 * file "secret" ("SECRET"), a place that links planted in the store
 * point to and that no operation may ever read or write through them.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVF_TEST_FENCED_H
#define KVF_TEST_FENCED_H

#include "support.h"

typedef struct fenced {
    tmp_store t;        /* t.dir: the test's directory; t.s, t.b: root */
    char root[4200];    /* dir/root: the store (file://...?sync=false) */
    char outside[4200]; /* dir/outside: must stay untouched */
    char secret[4300];  /* dir/outside/secret */
} fenced;

/* cmocka set-up and clean-up; the initial state is the name of the
 * bucket to open (NULL: none). The clean-up also runs when the test
 * fails. */
int fenced_setup(void **state);
int fenced_teardown(void **state);

/* FENCED_TEST(test, "bucket"): a CMUnitTest entry whose test reads its
 * fenced from *state. */
#define FENCED_TEST(test, bucket)                                        \
    { .name = #test, .test_func = test, .setup_func = fenced_setup,      \
      .teardown_func = fenced_teardown, .initial_state = (void *)(bucket) }

/* Fails the test unless the secret file still holds "SECRET". */
void expect_secret_intact(const fenced *f);

#endif /* KVF_TEST_FENCED_H */
