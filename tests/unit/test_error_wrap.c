/*
 * Core: kvstore_set_error with the current message as an argument, the
 * natural way for a backend to wrap a lower layer's failure
 * ("redis: %s", kvstore_errmsg()). The message is formatted from the
 * thread-local buffer into itself; it must come out intact, not garbled
 * (overlapping vsnprintf is undefined behaviour). Also: a message at the
 * size limit is truncated, never overflowed, even when wrapped.
 *
 * SPDX-License-Identifier: MIT
 */
#include <kvstore/backend.h>

#include "support.h"

static void wrap_current_message(void **state)
{
    (void)state;
    kvstore_set_error(KVSTORE_EIO, "connection refused (port %d)", 6379);
    assert_int_equal(kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: %s",
                                       kvstore_errmsg()),
                     KVSTORE_EUNAVAILABLE);
    assert_string_equal(kvstore_errmsg(),
                        "redis: connection refused (port 6379)");
    /* Twice, and with the message after other text. */
    kvstore_set_error(KVSTORE_EIO, "%s; %s", "first", kvstore_errmsg());
    assert_string_equal(kvstore_errmsg(),
                        "first; redis: connection refused (port 6379)");
}

static void wrap_long_message(void **state)
{
    (void)state;
    char big[4000];

    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    kvstore_set_error(KVSTORE_EIO, "%s", big);
    size_t n = strlen(kvstore_errmsg());
    assert_true(n > 100 && n < sizeof big);
    kvstore_set_error(KVSTORE_EIO, "wrapped: %s", kvstore_errmsg());
    const char *m = kvstore_errmsg();
    assert_int_equal(strncmp(m, "wrapped: xxx", 12), 0);
    assert_int_equal(strlen(m), n); /* same limit, truncated */
    for (size_t i = 9; i < n; i++)
        assert_int_equal(m[i], 'x');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wrap_current_message),
        cmocka_unit_test(wrap_long_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
