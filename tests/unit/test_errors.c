/*
 * Unit tests: status texts, kvstore_set_error and the thread-locality of
 * kvstore_errmsg().
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <kvstore/backend.h>

static void test_strerror_every_code(void **state)
{
    (void)state;
    const char *seen[16];
    size_t n = 0;
    for (int code = KVSTORE_EIO; code <= KVSTORE_NOTFOUND; code++) {
        const char *t = kvstore_strerror(code);
        assert_non_null(t);
        assert_true(strlen(t) > 0);
        assert_string_not_equal(t, "unknown status");
        for (size_t j = 0; j < n; j++)
            assert_string_not_equal(t, seen[j]);
        seen[n++] = t;
    }
    assert_int_equal(n, 13);
    assert_string_equal(kvstore_strerror(KVSTORE_EIO - 1), "unknown status");
    assert_string_equal(kvstore_strerror(2), "unknown status");
    assert_string_equal(kvstore_strerror(-2147483647 - 1), "unknown status");
}

static void test_set_error(void **state)
{
    (void)state;
    assert_int_equal(kvstore_set_error(KVSTORE_EIO, "disk %s at %d", "full",
                                       42), KVSTORE_EIO);
    assert_string_equal(kvstore_errmsg(), "disk full at 42");
    /* A very long message is truncated, never overflowing. */
    char big[10000];
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    kvstore_set_error(KVSTORE_EIO, "%s", big);
    assert_true(strlen(kvstore_errmsg()) > 0);
    assert_true(strlen(kvstore_errmsg()) < sizeof big);
}

typedef struct thread_arg {
    pthread_barrier_t *barrier;
    int code;
    char msg[64];
    char got[128];
} thread_arg;

static void *errmsg_thread(void *p)
{
    thread_arg *a = p;
    kvstore_set_error(a->code, "%s", a->msg);
    /* Both threads have set their message before either reads. */
    pthread_barrier_wait(a->barrier);
    snprintf(a->got, sizeof a->got, "%s", kvstore_errmsg());
    pthread_barrier_wait(a->barrier);
    return NULL;
}

static void *fresh_thread(void *p)
{
    snprintf(p, 64, "%s", kvstore_errmsg());
    return NULL;
}

static void test_errmsg_thread_local(void **state)
{
    (void)state;
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 2);
    thread_arg a = { &barrier, KVSTORE_EIO, "message of thread one", "" };
    thread_arg b = { &barrier, KVSTORE_EINVAL, "message of thread two", "" };
    pthread_t ta, tb;
    kvstore_set_error(KVSTORE_ENOMEM, "main thread message");
    assert_int_equal(pthread_create(&ta, NULL, errmsg_thread, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, errmsg_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&barrier);
    assert_string_equal(a.got, a.msg);
    assert_string_equal(b.got, b.msg);
    assert_string_equal(kvstore_errmsg(), "main thread message");
    /* A thread that never failed reads "no error". */
    char fresh[64] = "";
    assert_int_equal(pthread_create(&ta, NULL, fresh_thread, fresh), 0);
    pthread_join(ta, NULL);
    assert_string_equal(fresh, "no error");
}

static void test_errmsg_from_public_calls(void **state)
{
    (void)state;
    kvstore_store *s = NULL;
    /* A public failure leaves a describing message. */
    assert_int_equal(kvstore_open(&s, NULL), KVSTORE_EINVAL);
    assert_non_null(kvstore_errmsg());
    assert_true(strlen(kvstore_errmsg()) > 0);
    assert_string_not_equal(kvstore_errmsg(), "no error");
    assert_int_equal(kvstore_open(&s, "nosuch-scheme:"), KVSTORE_ENOSTORE);
    assert_non_null(strstr(kvstore_errmsg(), "nosuch-scheme"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_every_code),
        cmocka_unit_test(test_set_error),
        cmocka_unit_test(test_errmsg_thread_local),
        cmocka_unit_test(test_errmsg_from_public_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
