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
    kvstore_bucket *b = ((tmp_store *)*state)->b;
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
}

/* One compare-and-swap of `key` through the test's handle while another
 * store handle on the same directory writes between snapshot and swap. */
typedef struct cas_case {
    const char *what;
    const char *key;
    const char *snapshot;   /* what cas_current must see (NULL: absent) */
    const char *other[3];   /* the other handle's writes ("-": delete) */
    const char *swap;       /* the value swapped in */
    int rc;                 /* what the swap returns */
    const char *after;      /* the key's value then (NULL: absent) */
} cas_case;

static const cas_case cas_cases[] = {
    {"absent snapshot, then the other handle creates the key", "k", NULL,
     {"A"}, "B", KVSTORE_ECONFLICT, "A"},
    /* delete and re-set the same bytes still counts as a change */
    {"ABA", "k", "A", {"-", "A"}, "C", KVSTORE_ECONFLICT, "A"},
    {"unchanged: the swap lands", "k", "A", {NULL}, "D", KVSTORE_OK, "D"},
    {"absent and still absent: the swap creates the key", "fresh", NULL,
     {NULL}, "", KVSTORE_OK, ""},
    {"a snapshot taken, then the key deleted: nothing written", "fresh", "",
     {"-"}, "E", KVSTORE_ECONFLICT, NULL},
};

static void test_cas_semantics(void **state)
{
    tmp_store *t = *state;
    kvstore_store *s2 = open_in(t, "file://{dir}?sync=false");
    kvstore_bucket *b2 = open_bucket(s2, "c");

    for (size_t i = 0; i < sizeof cas_cases / sizeof *cas_cases; i++) {
        const cas_case *c = &cas_cases[i];
        kvstore_cas *cas = NULL;
        const void *v;
        size_t len;
        print_message("%s\n", c->what);
        assert_int_equal(kvstore_cas_open(&cas, t->b, c->key), KVSTORE_OK);
        int rc = kvstore_cas_current(cas, &v, &len);
        if (c->snapshot == NULL) {
            assert_int_equal(rc, KVSTORE_NOTFOUND);
        } else {
            assert_int_equal(rc, KVSTORE_OK);
            assert_int_equal(len, strlen(c->snapshot));
            assert_memory_equal(v, c->snapshot, len);
        }
        for (int w = 0; w < 3 && c->other[w] != NULL; w++) {
            if (strcmp(c->other[w], "-") == 0)
                assert_int_equal(kvstore_delete(b2, c->key), KVSTORE_OK);
            else
                set_str(b2, c->key, c->other[w]);
        }
        rc = kvstore_cas_swap(cas, c->swap, strlen(c->swap));
        kvstore_cas_free(cas);
        if (rc != c->rc)
            fail_msg("%s: swap = %d, expected %d", c->what, rc, c->rc);
        expect_str(t->b, c->key, c->after);
        expect_str(b2, c->key, c->after);
    }
    kvstore_bucket_close(b2);
    kvstore_close(s2);
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
        STORE_TEST(test_increment_strict, "file://{dir}?sync=false", "i"),
        STORE_TEST(test_cas_semantics, "file://{dir}?sync=false", "c"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
