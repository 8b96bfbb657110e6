/*
 * Conformance: increment and compare-and-swap (API.md 7).
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Backends without increment (and without CAS) skip these tests. */
static int64_t incr(kvstore_bucket *b, const char *key, int64_t delta)
{
    int64_t r = 0x5a5a5a5a;
    int rc = kvstore_increment(b, key, delta, &r);
    if (rc == KVSTORE_ENOTSUP)
        skip();
    if (rc != KVSTORE_OK)
        fail_msg("increment(%s, %" PRId64 ") = %d: %s", key, delta, rc,
                 kvstore_errmsg());
    return r;
}

static kvstore_cas *cas_open(kvstore_bucket *b, const char *key)
{
    kvstore_cas *cas = NULL;
    int rc = kvstore_cas_open(&cas, b, key);
    if (rc == KVSTORE_ENOTSUP)
        skip();
    if (rc != KVSTORE_OK)
        fail_msg("cas_open(%s) = %d: %s", key, rc, kvstore_errmsg());
    assert_non_null(cas);
    return cas;
}

#define assert_str_value(b, key, s) assert_value((b), (key), (s), strlen(s))

/* Asserts what a snapshot holds: `len` bytes `want`, or (want NULL) that
 * the key was absent. */
static void expect_current(kvstore_cas *cas, const char *want, size_t len)
{
    /* Pre-set to what a call that set nothing would wrongly pass with. */
    const void *v = want != NULL ? NULL : (const void *)1;
    size_t n = 9;
    assert_int_equal(kvstore_cas_current(cas, &v, &n),
                     want != NULL ? KVSTORE_OK : KVSTORE_NOTFOUND);
    expect_bytes("cas_current", v, n, want, len);
}

void test_increment_missing(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(incr(c->bucket, "n", 5), 5);
    assert_int_equal(incr(c->bucket, "n", 1), 6);
    assert_int_equal(incr(c->bucket, "zero", 0), 0);
}

void test_increment_negative(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(incr(c->bucket, "n", -7), -7);
    assert_str_value(c->bucket, "n", "-7");
    assert_int_equal(incr(c->bucket, "n", 10), 3);
    assert_int_equal(incr(c->bucket, "n", -3), 0);
    assert_str_value(c->bucket, "n", "0");
}

void test_increment_stored_decimal(void **state)
{
    conf_ctx *c = *state;
    incr(c->bucket, "n", 42);
    assert_str_value(c->bucket, "n", "42");
    incr(c->bucket, "n", 1000000000000 - 42);
    assert_str_value(c->bucket, "n", "1000000000000");
    incr(c->bucket, "m", INT64_MIN);
    assert_str_value(c->bucket, "m", "-9223372036854775808");
}

void test_increment_existing_decimal(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(kvstore_set(c->bucket, "n", "41", 2), KVSTORE_OK);
    assert_int_equal(incr(c->bucket, "n", 1), 42);
    assert_int_equal(kvstore_set(c->bucket, "m", "-5", 2), KVSTORE_OK);
    assert_int_equal(incr(c->bucket, "m", 2), -3);
    assert_int_equal(kvstore_set(c->bucket, "max", "9223372036854775806",
                                 19), KVSTORE_OK);
    assert_int_equal(incr(c->bucket, "max", 1), INT64_MAX);
    assert_str_value(c->bucket, "max", "9223372036854775807");
}

void test_increment_not_decimal(void **state)
{
    conf_ctx *c = *state;
    static const char *const bad[] = {
        "abc", "12x", "1.5", "", "0x10", " 12", "12 ", "--1", "1e3",
        "99999999999999999999", "-9223372036854775809", "\x00\x31",
        /* one spelling per number, as Redis INCR: these are not counters */
        "007", "-0", "+1",
    };
    static const size_t lens[] = { 3, 3, 3, 0, 4, 3, 3, 3, 3, 20, 20, 2,
                                   3, 2, 2 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(kvstore_set(c->bucket, "bad", bad[i], lens[i]),
                         KVSTORE_OK);
        int64_t r = 0;
        int rc = kvstore_increment(c->bucket, "bad", 1, &r);
        if (rc == KVSTORE_ENOTSUP)
            skip();
        if (rc != KVSTORE_EINVAL)
            fail_msg("increment of value #%zu = %d, expected EINVAL", i, rc);
        assert_fails(rc, KVSTORE_EINVAL);
        /* Left unchanged. */
        assert_value(c->bucket, "bad", bad[i], lens[i]);
    }
}

void test_increment_overflow(void **state)
{
    conf_ctx *c = *state;
    int64_t r = 0;
    incr(c->bucket, "n", INT64_MAX);
    assert_fails(kvstore_increment(c->bucket, "n", 1, &r), KVSTORE_EINVAL);
    assert_str_value(c->bucket, "n", "9223372036854775807");
    assert_fails(kvstore_increment(c->bucket, "n", INT64_MAX, &r),
                 KVSTORE_EINVAL);
    assert_str_value(c->bucket, "n", "9223372036854775807");
    incr(c->bucket, "m", INT64_MIN);
    assert_fails(kvstore_increment(c->bucket, "m", -1, &r), KVSTORE_EINVAL);
    assert_str_value(c->bucket, "m", "-9223372036854775808");
    /* The boundary itself is fine. */
    assert_int_equal(incr(c->bucket, "m", INT64_MAX), -1);
}

void test_increment_result_null(void **state)
{
    conf_ctx *c = *state;
    int rc = kvstore_increment(c->bucket, "n", 3, NULL);
    if (rc == KVSTORE_ENOTSUP)
        skip();
    assert_int_equal(rc, KVSTORE_OK);
    assert_int_equal(kvstore_increment(c->bucket, "n", 4, NULL), KVSTORE_OK);
    assert_str_value(c->bucket, "n", "7");
}

void test_increment_bad_args(void **state)
{
    conf_ctx *c = *state;
    int64_t r;
    assert_fails(kvstore_increment(NULL, "n", 1, &r), KVSTORE_EINVAL);
    assert_fails(kvstore_increment(c->bucket, NULL, 1, &r), KVSTORE_EINVAL);
    assert_fails(kvstore_increment(c->bucket, "", 1, &r), KVSTORE_EINVAL);
    assert_absent(c->bucket, "n");
}

void test_cas_swap_existing(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(kvstore_set(c->bucket, "k", "old", 3), KVSTORE_OK);
    kvstore_cas *cas = cas_open(c->bucket, "k");
    expect_current(cas, "old", 3);
    assert_int_equal(kvstore_cas_swap(cas, "new", 3), KVSTORE_OK);
    /* The snapshot stays readable until freed. */
    expect_current(cas, "old", 3);
    kvstore_cas_free(cas);
    assert_value(c->bucket, "k", "new", 3);
    /* A fresh snapshot after the swap succeeds again. */
    cas = cas_open(c->bucket, "k");
    assert_int_equal(kvstore_cas_swap(cas, "newer", 5), KVSTORE_OK);
    kvstore_cas_free(cas);
    assert_value(c->bucket, "k", "newer", 5);
}

/* Opens a snapshot of `key`, lets `intervene` write through a second
 * handle, and checks the swap loses and writes nothing. */
static void conflict(conf_ctx *c, const char *initial,
                     void (*intervene)(kvstore_bucket *),
                     const char *after, bool after_present)
{
    if (initial != NULL)
        assert_int_equal(kvstore_set(c->bucket, "k", initial, strlen(initial)),
                         KVSTORE_OK);
    kvstore_cas *cas = cas_open(c->bucket, "k");
    intervene(conf_second_bucket(c, c->store));
    int rc = kvstore_cas_swap(cas, "mine", 4);
    kvstore_cas_free(cas);
    if (rc != KVSTORE_ECONFLICT)
        fail_msg("cas_swap after an intervening write = %d, expected "
                 "ECONFLICT", rc);
    assert_fails(rc, KVSTORE_ECONFLICT);
    if (after_present)
        assert_value(c->bucket, "k", after, strlen(after));
    else
        assert_absent(c->bucket, "k");
}

static void set_theirs(kvstore_bucket *b)
{
    assert_int_equal(kvstore_set(b, "k", "theirs", 6), KVSTORE_OK);
}

static void set_same(kvstore_bucket *b)
{
    assert_int_equal(kvstore_set(b, "k", "old", 3), KVSTORE_OK);
}

static void del_key(kvstore_bucket *b)
{
    assert_int_equal(kvstore_delete(b, "k"), KVSTORE_OK);
}

static void incr_key(kvstore_bucket *b)
{
    assert_int_equal(kvstore_increment(b, "k", 1, NULL), KVSTORE_OK);
}

void test_cas_conflict_set(void **state)
{
    conflict(*state, "old", set_theirs, "theirs", true);
}

void test_cas_conflict_same_value(void **state)
{
    /* A write of the same bytes is still a write: CAS is by version. */
    conflict(*state, "old", set_same, "old", true);
}

void test_cas_conflict_delete(void **state)
{
    conflict(*state, "old", del_key, NULL, false);
}

void test_cas_conflict_increment(void **state)
{
    conflict(*state, "41", incr_key, "42", true);
}

void test_cas_absent_key(void **state)
{
    conf_ctx *c = *state;
    kvstore_cas *cas = cas_open(c->bucket, "absent");
    expect_current(cas, NULL, 0);
    assert_int_equal(kvstore_cas_swap(cas, "created", 7), KVSTORE_OK);
    kvstore_cas_free(cas);
    assert_value(c->bucket, "absent", "created", 7);
}

void test_cas_absent_conflict(void **state)
{
    /* Absent at the snapshot, created by someone else before the swap. */
    conflict(*state, NULL, set_theirs, "theirs", true);
}

void test_cas_swap_twice(void **state)
{
    conf_ctx *c = *state;
    kvstore_cas *cas = cas_open(c->bucket, "k");
    assert_int_equal(kvstore_cas_swap(cas, "one", 3), KVSTORE_OK);
    assert_fails(kvstore_cas_swap(cas, "two", 3), KVSTORE_EINVAL);
    kvstore_cas_free(cas);
    assert_value(c->bucket, "k", "one", 3);
    /* A failed swap also uses up the snapshot. */
    cas = cas_open(c->bucket, "k");
    set_theirs(c->bucket);
    assert_int_equal(kvstore_cas_swap(cas, "x", 1), KVSTORE_ECONFLICT);
    assert_fails(kvstore_cas_swap(cas, "y", 1), KVSTORE_EINVAL);
    kvstore_cas_free(cas);
    assert_value(c->bucket, "k", "theirs", 6);
}

void test_cas_empty_value(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(kvstore_set(c->bucket, "k", "", 0), KVSTORE_OK);
    kvstore_cas *cas = cas_open(c->bucket, "k");
    expect_current(cas, "", 0);
    assert_int_equal(kvstore_cas_swap(cas, NULL, 0), KVSTORE_OK);
    kvstore_cas_free(cas);
    assert_value(c->bucket, "k", "", 0);
}

void test_cas_bad_args(void **state)
{
    conf_ctx *c = *state;
    kvstore_cas *cas = NULL;
    const void *v;
    size_t n;
    assert_fails(kvstore_cas_open(NULL, c->bucket, "k"), KVSTORE_EINVAL);
    assert_fails(kvstore_cas_open(&cas, NULL, "k"), KVSTORE_EINVAL);
    assert_fails(kvstore_cas_open(&cas, c->bucket, NULL), KVSTORE_EINVAL);
    assert_fails(kvstore_cas_current(NULL, &v, &n), KVSTORE_EINVAL);
    assert_fails(kvstore_cas_swap(NULL, "v", 1), KVSTORE_EINVAL);
    cas = cas_open(c->bucket, "k");
    assert_fails(kvstore_cas_current(cas, NULL, &n), KVSTORE_EINVAL);
    assert_fails(kvstore_cas_current(cas, &v, NULL), KVSTORE_EINVAL);
    assert_fails(kvstore_cas_swap(cas, NULL, 1), KVSTORE_EINVAL);
    kvstore_cas_free(cas);
    assert_absent(c->bucket, "k");
    kvstore_cas_free(NULL);
}
