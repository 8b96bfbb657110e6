/*
 * File backend: increment and compare-and-swap are atomic across threads
 * and across processes sharing the directory, and increment is strict
 * about what it accepts.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>

#include "procs.h"
#include "util.h"

static void expect_incr_einval(kvstore_bucket *b, const char *stored,
                               int64_t delta)
{
    set_str(b, "x", stored);
    int64_t r = 12345;
    int rc = kvstore_increment(b, "x", delta, &r);
    if (rc != KVSTORE_EINVAL)
        fail_msg("'%s' + %" PRId64 ": rc %d", stored, delta, rc);
    expect_str(b, "x", stored); /* unchanged */
}

static void test_increment_strict(void **state)
{
    (void)state;
    tmp_store fx = tmp_store_open("file://{dir}?sync=false", "i");
    kvstore_bucket *b = fx.b;
    int64_t r = 0;
    assert_int_equal(kvstore_increment(b, "new", -7, &r), KVSTORE_OK);
    assert_int_equal(r, -7);
    expect_str(b, "new", "-7");
    assert_int_equal(kvstore_increment(b, "new", 10, NULL), KVSTORE_OK);
    expect_str(b, "new", "3");

    const char *bad[] = {"abc", "12a", " 1", "1 ", "+1", "", "-",
                         "0x10", "1.5", "99999999999999999999",
                         "9223372036854775808", "-9223372036854775809"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_incr_einval(b, bad[i], 1);
    expect_incr_einval(b, "9223372036854775807", 1);
    expect_incr_einval(b, "-9223372036854775808", -1);
    expect_incr_einval(b, "1", INT64_MAX);

    set_str(b, "x", "9223372036854775806");
    assert_int_equal(kvstore_increment(b, "x", 1, &r), KVSTORE_OK);
    assert_int_equal(r, INT64_MAX);
    set_str(b, "x", "-9223372036854775807");
    assert_int_equal(kvstore_increment(b, "x", -1, &r), KVSTORE_OK);
    assert_int_equal(r, INT64_MIN);
    expect_str(b, "x", "-9223372036854775808");
    tmp_store_close(&fx);
}

static void test_cas_semantics(void **state)
{
    (void)state;
    tmp_store fx = tmp_store_open("file://{dir}?sync=false", "c");
    kvstore_bucket *b = fx.b;
    kvstore_store *s2 = open_store(fx.dir, "?sync=false");
    kvstore_bucket *b2 = open_bucket(s2, "c");
    kvstore_cas *cas = NULL;
    const void *v;
    size_t len;

    /* absent snapshot, then another handle creates the key */
    assert_int_equal(kvstore_cas_open(&cas, b, "k"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_current(cas, &v, &len), KVSTORE_NOTFOUND);
    set_str(b2, "k", "A");
    assert_int_equal(kvstore_cas_swap(cas, "B", 1), KVSTORE_ECONFLICT);
    kvstore_cas_free(cas);
    expect_str(b, "k", "A");

    /* ABA: delete and re-set the same bytes still counts as a change */
    assert_int_equal(kvstore_cas_open(&cas, b, "k"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_current(cas, &v, &len), KVSTORE_OK);
    assert_int_equal(len, 1);
    assert_memory_equal(v, "A", 1);
    assert_int_equal(kvstore_delete(b2, "k"), KVSTORE_OK);
    set_str(b2, "k", "A");
    assert_int_equal(kvstore_cas_swap(cas, "C", 1), KVSTORE_ECONFLICT);
    kvstore_cas_free(cas);

    /* unchanged: the swap lands */
    assert_int_equal(kvstore_cas_open(&cas, b, "k"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_swap(cas, "D", 1), KVSTORE_OK);
    kvstore_cas_free(cas);
    expect_str(b2, "k", "D");

    /* absent and still absent: the swap creates the key */
    assert_int_equal(kvstore_cas_open(&cas, b, "fresh"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_swap(cas, "", 0), KVSTORE_OK);
    kvstore_cas_free(cas);
    expect_str(b2, "fresh", "");

    /* a snapshot taken, then the key deleted: conflict, nothing written */
    assert_int_equal(kvstore_cas_open(&cas, b, "fresh"), KVSTORE_OK);
    assert_int_equal(kvstore_delete(b2, "fresh"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_swap(cas, "E", 1), KVSTORE_ECONFLICT);
    kvstore_cas_free(cas);
    bool ex = true;
    assert_int_equal(kvstore_exists(b, "fresh", &ex), KVSTORE_OK);
    assert_false(ex);

    kvstore_bucket_close(b2);
    kvstore_close(s2);
    tmp_store_close(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* Atomicity does not depend on fsync; ?sync=false keeps this
         * fast. Two threads per process: threads and processes contend
         * at once. */
        PROCS_COUNT(test_two_processes_5000_each,
                    .uri = "file://{dir}?sync=false",
                    .procs = 2, .threads = 2, .per_thread = 2500),
        PROCS_COUNT(test_two_processes_durable,
                    .uri = "file://{dir}",
                    .procs = 2, .threads = 1, .per_thread = 150),
        /* An increment written by hand over compare-and-swap, retried on
         * conflict: only correct if cas_swap detects concurrent writes. */
        PROCS_COUNT(test_two_processes_cas,
                    .uri = "file://{dir}?sync=false",
                    .procs = 2, .threads = 1, .per_thread = 1000,
                    .cas = true),
        cmocka_unit_test(test_increment_strict),
        cmocka_unit_test(test_cas_semantics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
