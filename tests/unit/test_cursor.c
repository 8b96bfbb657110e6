/*
 * Unit tests: the cursor envelope (kvstore_cursor_encode/decode). A cursor
 * comes back from an untrusted caller, so every truncation and every
 * single-byte change of a valid cursor, and any other bucket's cursor,
 * must be rejected.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <kvstore/backend.h>

static char *encode(const char *bucket, const void *state, size_t len)
{
    char *c = NULL;
    int rc = kvstore_cursor_encode(&c, bucket, state, len);
    if (rc != KVSTORE_OK)
        fail_msg("encode(%zu bytes) = %d: %s", len, rc, kvstore_errmsg());
    assert_non_null(c);
    /* Printable ASCII, within the limit the core enforces on input. */
    assert_true(strlen(c) <= KVSTORE_CURSOR_MAX);
    for (const char *p = c; *p; p++)
        assert_true(*p >= 0x21 && *p <= 0x7e);
    return c;
}

static void test_roundtrip(void **state)
{
    (void)state;
    static const unsigned char bin[] = { 0, 1, 2, 0xff, 0, 0x80, '%', 0 };
    unsigned char buf[KVSTORE_CURSOR_STATE_MAX];
    size_t sizes[] = { 0, 1, sizeof bin };
    for (size_t i = 0; i < 3; i++) {
        char *c = encode("bucket", bin, sizes[i]);
        size_t len = 999;
        assert_int_equal(kvstore_cursor_decode(c, "bucket", buf, sizeof buf,
                                               &len), KVSTORE_OK);
        assert_int_equal(len, sizes[i]);
        if (len)
            assert_memory_equal(buf, bin, len);
        kvstore_free(c);
    }
    /* The largest state fits, one more byte does not. */
    unsigned char *big = malloc(KVSTORE_CURSOR_STATE_MAX + 1);
    assert_non_null(big);
    for (size_t i = 0; i <= KVSTORE_CURSOR_STATE_MAX; i++)
        big[i] = (unsigned char)(i * 7);
    char *c = encode("b", big, KVSTORE_CURSOR_STATE_MAX);
    size_t len = 0;
    assert_int_equal(kvstore_cursor_decode(c, "b", buf, sizeof buf, &len),
                     KVSTORE_OK);
    assert_int_equal(len, KVSTORE_CURSOR_STATE_MAX);
    assert_memory_equal(buf, big, len);
    kvstore_free(c);
    c = (char *)1;
    assert_int_equal(kvstore_cursor_encode(&c, "b", big,
                                           KVSTORE_CURSOR_STATE_MAX + 1),
                     KVSTORE_EINVAL);
    free(big);
}

static void test_small_buffer(void **state)
{
    (void)state;
    char *c = encode("b", "0123456789", 10);
    char buf[4];
    size_t len = 0;
    /* A state larger than the caller's buffer is not a valid cursor for
     * that caller: never an overflow. */
    assert_int_not_equal(kvstore_cursor_decode(c, "b", buf, sizeof buf, &len),
                         KVSTORE_OK);
    kvstore_free(c);
}

static void test_every_truncation(void **state)
{
    (void)state;
    unsigned char st[12] = "position-42";
    char *c = encode("bucket-1", st, sizeof st);
    size_t n = strlen(c);
    unsigned char buf[64];
    for (size_t k = 0; k < n; k++) {
        char *t = strndup(c, k);
        size_t len;
        if (kvstore_cursor_decode(t, "bucket-1", buf, sizeof buf, &len) !=
            KVSTORE_EINVAL)
            fail_msg("truncation to %zu of %zu bytes accepted", k, n);
        free(t);
        /* And every suffix. */
        if (kvstore_cursor_decode(c + k + 1, "bucket-1", buf, sizeof buf,
                                  &len) != KVSTORE_EINVAL)
            fail_msg("suffix from %zu accepted", k + 1);
    }
    kvstore_free(c);
}

static void test_every_corruption(void **state)
{
    (void)state;
    unsigned char st[16];
    for (size_t i = 0; i < sizeof st; i++)
        st[i] = (unsigned char)(i * 37 + 1);
    char *c = encode("bucket-1", st, sizeof st);
    size_t n = strlen(c);
    char *f = strdup(c);
    assert_non_null(f);
    unsigned char buf[64];
    for (size_t i = 0; i < n; i++) {
        for (int b = 1; b < 256; b++) {
            if ((char)b == c[i])
                continue;
            f[i] = (char)b;
            size_t len;
            if (kvstore_cursor_decode(f, "bucket-1", buf, sizeof buf, &len) !=
                KVSTORE_EINVAL)
                fail_msg("byte %zu of \"%s\" changed to 0x%02x accepted", i,
                         c, b);
        }
        f[i] = c[i];
    }
    /* Appending anything is a change too. */
    char *longer = malloc(n + 2);
    assert_non_null(longer);
    memcpy(longer, c, n);
    longer[n + 1] = '\0';
    for (int b = 0x21; b < 0x7f; b++) {
        longer[n] = (char)b;
        size_t len;
        if (kvstore_cursor_decode(longer, "bucket-1", buf, sizeof buf, &len) !=
            KVSTORE_EINVAL)
            fail_msg("cursor with '%c' appended accepted", b);
    }
    free(longer);
    free(f);
    kvstore_free(c);
}

static void test_other_bucket(void **state)
{
    (void)state;
    char *c = encode("a", "state", 5);
    unsigned char buf[16];
    size_t len;
    static const char *const others[] = { "b", "A", "a_b", "ab", "a-", "" };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        if (kvstore_cursor_decode(c, others[i], buf, sizeof buf, &len) !=
            KVSTORE_EINVAL)
            fail_msg("cursor of bucket \"a\" accepted for \"%s\"", others[i]);
    assert_int_equal(kvstore_cursor_decode(c, "a", buf, sizeof buf, &len),
                     KVSTORE_OK);
    kvstore_free(c);
    /* Two buckets, same state: different cursors. */
    char *c1 = encode("x1", "s", 1), *c2 = encode("x2", "s", 1);
    assert_string_not_equal(c1, c2);
    kvstore_free(c1);
    kvstore_free(c2);
}

static void test_garbage(void **state)
{
    (void)state;
    static const char *const garbage[] = {
        "", "x", "0", "garbage", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "\xff\xfe", "%00", "-1",
    };
    unsigned char buf[16];
    size_t len;
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
        assert_int_equal(kvstore_cursor_decode(garbage[i], "b", buf,
                                               sizeof buf, &len),
                         KVSTORE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_small_buffer),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_every_corruption),
        cmocka_unit_test(test_other_bucket),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
