/*
 * Conformance: version, status codes and error messages (API.md 1, 2).
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

void test_version_matches_macros(void **state)
{
    (void)state;
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", KVSTORE_VERSION_MAJOR,
             KVSTORE_VERSION_MINOR, KVSTORE_VERSION_PATCH);
    assert_non_null(kvstore_version());
    assert_string_equal(kvstore_version(), want);
}

void test_strerror_every_code(void **state)
{
    (void)state;
    static const int codes[] = {
        KVSTORE_OK, KVSTORE_NOTFOUND, KVSTORE_EINVAL, KVSTORE_ENOSTORE,
        KVSTORE_EACCESS, KVSTORE_EUNAVAILABLE, KVSTORE_ECONFLICT,
        KVSTORE_ENOTSUP, KVSTORE_ETOOBIG, KVSTORE_ENOMEM, KVSTORE_EEXISTS,
        KVSTORE_EUNCERTAIN, KVSTORE_EIO,
    };
    const size_t n = sizeof codes / sizeof codes[0];
    const char *unknown = kvstore_strerror(-1000);
    assert_non_null(unknown);
    assert_string_equal(unknown, "unknown status");
    assert_string_equal(kvstore_strerror(1000), "unknown status");
    for (size_t i = 0; i < n; i++) {
        const char *t = kvstore_strerror(codes[i]);
        assert_non_null(t);
        assert_true(strlen(t) > 0);
        assert_string_not_equal(t, unknown);
        /* Each code has its own text: a table shifted by one would not. */
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(t, kvstore_strerror(codes[j]));
    }
}

static void *fresh_thread_errmsg(void *arg)
{
    const char **out = arg;
    *out = kvstore_errmsg();
    return NULL;
}

void test_errmsg_never_null(void **state)
{
    (void)state;
    /* A thread that never failed reads "no error". */
    const char *fresh = NULL;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fresh_thread_errmsg, &fresh), 0);
    pthread_join(t, NULL);
    assert_non_null(fresh);
    assert_string_equal(fresh, "no error");

    /* After a failure the message describes it. */
    kvstore_store *s = NULL;
    assert_fails(kvstore_open(&s, NULL), KVSTORE_EINVAL);
    assert_non_null(kvstore_errmsg());
}
