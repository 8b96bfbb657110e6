/*
 * memory backend: native increment (strict decimal) and CAS by version.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fx_memory.h"

/* One store for the whole file: each test uses keys of its own. */
static tmp_store store;
static kvstore_bucket *bucket;

static int setup(void **state)
{
    (void)state;
    store = tmp_store_open("memory:", "atomics");
    bucket = store.b;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tmp_store_close(&store);
    return 0;
}

static void increment_basics(void **state)
{
    int64_t r = 0;

    (void)state;
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
    static const char *const bad[] = {
        "", "abc", "1.5", " 1", "1 ", "+1", "007", "00", "-0", "-", "0x10",
        "1e3", "9223372036854775808", "-9223372036854775809",
        "99999999999999999999999", "12a",
    };

    (void)state;
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
    (void)state;
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
    const void *v;
    size_t len;

    (void)state;
    set_str(bucket, "cas", "one");
    kvstore_cas *cas = cas_of(bucket, "cas");
    assert_int_equal(kvstore_cas_current(cas, &v, &len), KVSTORE_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(v, "one", 3);
    cas_swap_free(cas, "two", KVSTORE_OK);
    expect_str(bucket, "cas", "two");
}

/* Any write in between, even one that stores the same bytes, or a delete
 * and re-create, makes the swap lose. The lent value is a copy that
 * stays as snapshotted. */
static void cas_conflicts_on_any_write(void **state)
{
    kvstore_cas *cas;
    const void *v;
    size_t len;

    (void)state;
    set_str(bucket, "cas2", "same");
    cas = cas_of(bucket, "cas2");
    set_str(bucket, "cas2", "same");
    cas_swap_free(cas, "new", KVSTORE_ECONFLICT);
    expect_str(bucket, "cas2", "same");

    cas = cas_of(bucket, "cas2");
    assert_int_equal(kvstore_delete(bucket, "cas2"), KVSTORE_OK);
    set_str(bucket, "cas2", "same");
    assert_int_equal(kvstore_cas_current(cas, &v, &len), KVSTORE_OK);
    assert_memory_equal(v, "same", 4);
    cas_swap_free(cas, "new", KVSTORE_ECONFLICT);

    cas = cas_of(bucket, "cas2");
    assert_int_equal(kvstore_increment(bucket, "cas2", 1, NULL),
                     KVSTORE_EINVAL); /* "same" is no number: no write */
    cas_swap_free(cas, "new", KVSTORE_OK);
    expect_str(bucket, "cas2", "new");

    cas = cas_of(bucket, "cas2");
    assert_int_equal(kvstore_delete(bucket, "cas2"), KVSTORE_OK);
    cas_swap_free(cas, "x", KVSTORE_ECONFLICT);
    expect_str(bucket, "cas2", NULL);
}

/* An absent snapshot swaps only if the key is still absent. */
static void cas_absent(void **state)
{
    kvstore_cas *cas = cas_of(bucket, "absent");
    const void *v = (const void *)1;
    size_t len = 1;

    (void)state;
    assert_int_equal(kvstore_cas_current(cas, &v, &len), KVSTORE_NOTFOUND);
    assert_null(v);
    assert_int_equal(len, 0);
    kvstore_cas *cas2 = cas_of(bucket, "absent");
    cas_swap_free(cas, "first", KVSTORE_OK);
    cas_swap_free(cas2, "second", KVSTORE_ECONFLICT);
    expect_str(bucket, "absent", "first");

    /* Set then deleted again: absent again, so an absent snapshot of the
     * earlier absence still swaps (absence has no version). */
    assert_int_equal(kvstore_delete(bucket, "absent"), KVSTORE_OK);
    cas = cas_of(bucket, "absent");
    set_str(bucket, "absent", "x");
    assert_int_equal(kvstore_delete(bucket, "absent"), KVSTORE_OK);
    cas_swap_free(cas, "", KVSTORE_OK);
    expect_str(bucket, "absent", "");
}

/* An empty value is lent as a non-NULL pointer. */
static void cas_empty_value(void **state)
{
    const void *v = NULL;
    size_t len = 9;

    (void)state;
    assert_int_equal(kvstore_set(bucket, "empty", NULL, 0), KVSTORE_OK);
    kvstore_cas *cas = cas_of(bucket, "empty");
    assert_int_equal(kvstore_cas_current(cas, &v, &len), KVSTORE_OK);
    assert_non_null(v);
    assert_int_equal(len, 0);
    kvstore_cas_free(cas);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(increment_basics),
        cmocka_unit_test(increment_rejects_non_decimal),
        cmocka_unit_test(increment_overflow),
        cmocka_unit_test(cas_unchanged_swaps),
        cmocka_unit_test(cas_conflicts_on_any_write),
        cmocka_unit_test(cas_absent),
        cmocka_unit_test(cas_empty_value),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
