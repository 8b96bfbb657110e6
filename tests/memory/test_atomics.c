/*
 * memory backend: native increment (strict decimal) and CAS by version.
 *
 * SPDX-License-Identifier: MIT
 */
#include "support.h"

static void increment_basics(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *bucket = t->b;
    int64_t r = 0;

    assert_int_equal(kvstore_increment(bucket, "c", 5, &r), KVSTORE_OK);
    assert_int_equal(r, 5);
    assert_int_equal(kvstore_increment(bucket, "c", -12, &r), KVSTORE_OK);
    assert_int_equal(r, -7);
    expect_str(bucket, "c", "-7");
    assert_int_equal(kvstore_increment(bucket, "c", 7, NULL), KVSTORE_OK);
    expect_str(bucket, "c", "0");
    set_str(bucket, "c", "-9223372036854775808");
    assert_int_equal(kvstore_increment(bucket, "c", 0, &r), KVSTORE_OK);
    assert_int_equal(r, INT64_MIN);
    set_str(bucket, "c", "9223372036854775806");
    assert_int_equal(kvstore_increment(bucket, "c", 1, &r), KVSTORE_OK);
    expect_str(bucket, "c", "9223372036854775807");
}

/* Every value that is not the canonical decimal form of an int64 is
 * EINVAL and stays as it was. */
static void increment_rejects_non_decimal(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *bucket = t->b;
    static const char *const bad[] = {
        "", "abc", "1.5", " 1", "1 ", "+1", "007", "00", "-0", "-", "0x10",
        "1e3", "9223372036854775808", "-9223372036854775809",
        "99999999999999999999999", "12a",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t r = 42;

        set_str(bucket, "bad", bad[i]);
        assert_int_equal(kvstore_increment(bucket, "bad", 1, &r),
                         KVSTORE_EINVAL);
        expect_str(bucket, "bad", bad[i]);
    }
    /* A NUL inside the value is not a digit either. */
    assert_int_equal(kvstore_set(bucket, "bad", "1\0", 2), KVSTORE_OK);
    assert_int_equal(kvstore_increment(bucket, "bad", 1, NULL),
                     KVSTORE_EINVAL);
}

static void increment_overflow(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *bucket = t->b;

    set_str(bucket, "big", "9223372036854775807");
    assert_int_equal(kvstore_increment(bucket, "big", 1, NULL),
                     KVSTORE_EINVAL);
    expect_str(bucket, "big", "9223372036854775807");
    set_str(bucket, "big", "-9223372036854775807");
    assert_int_equal(kvstore_increment(bucket, "big", -2, NULL),
                     KVSTORE_EINVAL);
    expect_str(bucket, "big", "-9223372036854775807");
    assert_int_equal(kvstore_increment(bucket, "fresh", INT64_MIN, NULL),
                     KVSTORE_OK);
    expect_str(bucket, "fresh", "-9223372036854775808");
}

static void cas_unchanged_swaps(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *bucket = t->b;
    kvstore_cas *cas = NULL;
    const void *v;
    size_t len;

    set_str(bucket, "cas", "one");
    assert_int_equal(kvstore_cas_open(&cas, bucket, "cas"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_current(cas, &v, &len), KVSTORE_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(v, "one", 3);
    assert_int_equal(kvstore_cas_swap(cas, "two", 3), KVSTORE_OK);
    kvstore_cas_free(cas);
    expect_str(bucket, "cas", "two");
}

/* Any write in between, even one that stores the same bytes, or a delete
 * and re-create, makes the swap lose. The lent value is a copy that
 * stays as snapshotted. */
static void cas_conflicts_on_any_write(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *bucket = t->b;
    kvstore_cas *cas = NULL;
    const void *v;
    size_t len;

    set_str(bucket, "cas2", "same");
    assert_int_equal(kvstore_cas_open(&cas, bucket, "cas2"), KVSTORE_OK);
    set_str(bucket, "cas2", "same");
    assert_int_equal(kvstore_cas_swap(cas, "new", 3), KVSTORE_ECONFLICT);
    kvstore_cas_free(cas);
    expect_str(bucket, "cas2", "same");

    assert_int_equal(kvstore_cas_open(&cas, bucket, "cas2"), KVSTORE_OK);
    assert_int_equal(kvstore_delete(bucket, "cas2"), KVSTORE_OK);
    set_str(bucket, "cas2", "same");
    assert_int_equal(kvstore_cas_current(cas, &v, &len), KVSTORE_OK);
    assert_memory_equal(v, "same", 4);
    assert_int_equal(kvstore_cas_swap(cas, "new", 3), KVSTORE_ECONFLICT);
    kvstore_cas_free(cas);

    assert_int_equal(kvstore_cas_open(&cas, bucket, "cas2"), KVSTORE_OK);
    assert_int_equal(kvstore_increment(bucket, "cas2", 1, NULL),
                     KVSTORE_EINVAL); /* "same" is no number: no write */
    assert_int_equal(kvstore_cas_swap(cas, "new", 3), KVSTORE_OK);
    kvstore_cas_free(cas);
    expect_str(bucket, "cas2", "new");

    assert_int_equal(kvstore_cas_open(&cas, bucket, "cas2"), KVSTORE_OK);
    assert_int_equal(kvstore_delete(bucket, "cas2"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_swap(cas, "x", 1), KVSTORE_ECONFLICT);
    kvstore_cas_free(cas);
    expect_str(bucket, "cas2", NULL);
}

/* An absent snapshot swaps only if the key is still absent. */
static void cas_absent(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *bucket = t->b;
    kvstore_cas *cas = NULL, *cas2 = NULL;
    const void *v = (const void *)1;
    size_t len = 1;

    assert_int_equal(kvstore_cas_open(&cas, bucket, "absent"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_current(cas, &v, &len), KVSTORE_NOTFOUND);
    assert_null(v);
    assert_int_equal(len, 0);
    assert_int_equal(kvstore_cas_open(&cas2, bucket, "absent"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_swap(cas, "first", 5), KVSTORE_OK);
    assert_int_equal(kvstore_cas_swap(cas2, "second", 6), KVSTORE_ECONFLICT);
    kvstore_cas_free(cas);
    kvstore_cas_free(cas2);
    expect_str(bucket, "absent", "first");

    /* Set then deleted again: absent again, so an absent snapshot of the
     * earlier absence still swaps (absence has no version). */
    assert_int_equal(kvstore_delete(bucket, "absent"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_open(&cas, bucket, "absent"), KVSTORE_OK);
    set_str(bucket, "absent", "x");
    assert_int_equal(kvstore_delete(bucket, "absent"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_swap(cas, "", 0), KVSTORE_OK);
    kvstore_cas_free(cas);
    expect_str(bucket, "absent", "");
}

/* An empty value is lent as a non-NULL pointer. */
static void cas_empty_value(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *bucket = t->b;
    kvstore_cas *cas = NULL;
    const void *v = NULL;
    size_t len = 9;

    assert_int_equal(kvstore_set(bucket, "empty", NULL, 0), KVSTORE_OK);
    assert_int_equal(kvstore_cas_open(&cas, bucket, "empty"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_current(cas, &v, &len), KVSTORE_OK);
    assert_non_null(v);
    assert_int_equal(len, 0);
    kvstore_cas_free(cas);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(increment_basics, "memory:", "atomics"),
        STORE_TEST(increment_rejects_non_decimal, "memory:", "atomics"),
        STORE_TEST(increment_overflow, "memory:", "atomics"),
        STORE_TEST(cas_unchanged_swaps, "memory:", "atomics"),
        STORE_TEST(cas_conflicts_on_any_write, "memory:", "atomics"),
        STORE_TEST(cas_absent, "memory:", "atomics"),
        STORE_TEST(cas_empty_value, "memory:", "atomics"),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
