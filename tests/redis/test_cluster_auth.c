/*
 * redis+cluster with credentials: every node of a private cluster has a
 * requirepass (and masterauth). The right password reaches every master
 * (AUTH on each node connection); a wrong or missing one is
 * KVSTORE_EACCESS at open, and the password never appears in a message.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <kvstore/kvstore.h>

#include "group.h"

#define PASSWORD "s3cret-Cluster-pw"
#define WRONG "wr0ng-Cluster-pw"
#define N 60

static rs_cluster cl;

static int open_with(const char *userinfo, kvstore_store **s)
{
    char uri[256];

    snprintf(uri, sizeof uri, "redis+cluster://%s%s", userinfo, cl.seeds);
    return kvstore_open(s, uri);
}

static void test_password_reaches_every_master(void **state)
{
    kvstore_store *s = NULL;
    kvstore_bucket *b = NULL;
    char kbuf[N][8];
    const char *keys[N];
    const void *vals[N];
    size_t lens[N];
    void *got[N];
    size_t got_len[N];

    (void)state;
    assert_int_equal(open_with(":" PASSWORD "@", &s), KVSTORE_OK);
    assert_int_equal(kvstore_bucket_open(&b, s, "auth"), KVSTORE_OK);
    /* 60 keys cover the three masters' slot ranges. */
    for (int i = 0; i < N; i++) {
        snprintf(kbuf[i], sizeof kbuf[i], "k%d", i);
        keys[i] = kbuf[i];
        vals[i] = kbuf[i];
        lens[i] = strlen(kbuf[i]);
    }
    assert_int_equal(kvstore_set_many(b, keys, vals, lens, N), KVSTORE_OK);
    assert_int_equal(kvstore_get_many(b, keys, N, got, got_len), KVSTORE_OK);
    for (int i = 0; i < N; i++) {
        assert_int_equal(got_len[i], lens[i]);
        assert_memory_equal(got[i], kbuf[i], lens[i]);
        kvstore_free(got[i]);
    }
    kvstore_bucket_close(b);
    kvstore_close(s);
}

static void test_wrong_or_missing_password(void **state)
{
    kvstore_store *s = NULL;

    (void)state;
    assert_int_equal(open_with(":" WRONG "@", &s), KVSTORE_EACCESS);
    assert_null(s);
    assert_null(strstr(kvstore_errmsg(), WRONG));
    assert_int_equal(open_with("", &s), KVSTORE_EACCESS);
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_reaches_every_master),
        cmocka_unit_test(test_wrong_or_missing_password),
    };
    return RS_RUN_GROUP(tests, .cluster = &cl, .password = PASSWORD);
}
