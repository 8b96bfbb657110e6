/*
 * Conformance: kvstore_get_with, the get that lends its value to a
 * callback, on every backend: the same answers as kvstore_get (found,
 * absent, empty, large, binary, expired, invalid keys, a bucket whose
 * store was closed), the callback called exactly once with the value or
 * never, and its own result returned unchanged. A backend without a
 * get_with slot is served by the core's copy; one with a slot lends from
 * its own memory, and the concurrent test checks that a lent value is
 * never torn by a write.
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What the callback saw: a copy of the value and how often it ran. */
typedef struct seen {
    unsigned calls;
    bool null_value;
    unsigned char *copy;
    size_t len;
    int answer; /* what the callback returns */
} seen;

static int record(void *ctx, const void *value, size_t len)
{
    seen *s = ctx;
    s->calls++;
    s->null_value = value == NULL;
    free(s->copy);
    s->copy = malloc(len ? len : 1);
    if (s->copy != NULL && value != NULL)
        memcpy(s->copy, value, len);
    s->len = len;
    return s->answer;
}

/* Asserts that get_with lends exactly `len` bytes `data` for `key`, once,
 * as kvstore_get returns them. */
static void assert_lent(kvstore_bucket *b, const char *key, const void *data,
                        size_t len)
{
    seen s = { 0 };
    int rc = kvstore_get_with(b, key, record, &s);
    if (rc != KVSTORE_OK)
        fail_msg("get_with(%s) = %d: %s", key, rc, kvstore_errmsg());
    assert_int_equal(s.calls, 1);
    assert_false(s.null_value);
    assert_non_null(s.copy);
    assert_int_equal(s.len, len);
    if (len)
        assert_memory_equal(s.copy, data, len);
    free(s.copy);
    assert_value(b, key, data, len);
}

/* Asserts that get_with answers `code` for `key` without calling back. */
static void assert_not_lent(kvstore_bucket *b, const char *key, int code)
{
    seen s = { 0 };
    int rc = kvstore_get_with(b, key, record, &s);
    if (rc != code)
        fail_msg("get_with = %d, expected %d", rc, code);
    if (code < 0)
        assert_fails(rc, code);
    assert_int_equal(s.calls, 0);
    free(s.copy);
}

void test_get_with_found(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(kvstore_set(c->bucket, "gw", "hello", 5), KVSTORE_OK);
    assert_lent(c->bucket, "gw", "hello", 5);
    /* A replaced value is what the next call lends. */
    assert_int_equal(kvstore_set(c->bucket, "gw", "hello again", 11),
                     KVSTORE_OK);
    assert_lent(c->bucket, "gw", "hello again", 11);
    /* Non-ASCII keys and every byte value. */
    unsigned char bin[256];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (unsigned char)(255 - i);
    const char *key = "gw/\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80";
    assert_int_equal(kvstore_set(c->bucket, key, bin, sizeof bin), KVSTORE_OK);
    assert_lent(c->bucket, key, bin, sizeof bin);
    if (!conf_disposable) {
        (void)kvstore_delete(c->bucket, "gw");
        (void)kvstore_delete(c->bucket, key);
    }
}

void test_get_with_absent(void **state)
{
    conf_ctx *c = *state;
    assert_not_lent(c->bucket, "gw-never-set", KVSTORE_NOTFOUND);
    assert_int_equal(kvstore_set(c->bucket, "gw-gone", "x", 1), KVSTORE_OK);
    assert_int_equal(kvstore_delete(c->bucket, "gw-gone"), KVSTORE_OK);
    assert_not_lent(c->bucket, "gw-gone", KVSTORE_NOTFOUND);
    /* A similar key in another bucket is not this one. */
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
    conf_unique_name(name, sizeof name);
    kvstore_bucket *other = open_bucket(c->store, name);
    assert_int_equal(kvstore_set(other, "gw-elsewhere", "o", 1), KVSTORE_OK);
    assert_not_lent(c->bucket, "gw-elsewhere", KVSTORE_NOTFOUND);
    assert_lent(other, "gw-elsewhere", "o", 1);
    conf_drop_bucket(other);
}

void test_get_with_empty_value(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(kvstore_set(c->bucket, "gw-empty", NULL, 0), KVSTORE_OK);
    /* Found, called once, with a pointer even for no bytes. */
    assert_lent(c->bucket, "gw-empty", "", 0);
    if (!conf_disposable)
        (void)kvstore_delete(c->bucket, "gw-empty");
}

void test_get_with_large_value(void **state)
{
    conf_ctx *c = *state;
    /* Under a mebibyte by the 4 KiB NATS counts for headers against
     * max_payload, so one size fits every backend. */
    enum { BIG = 1024 * 1024 - 4096 };
    uint32_t *big = malloc(BIG);
    assert_non_null(big);
    for (uint32_t i = 0; i < BIG / 4; i++)
        big[i] = i * 2654435761u;
    assert_int_equal(kvstore_set(c->bucket, "gw-big", big, BIG), KVSTORE_OK);
    assert_lent(c->bucket, "gw-big", big, BIG);
    free(big);
    if (!conf_disposable)
        (void)kvstore_delete(c->bucket, "gw-big");
}

void test_get_with_callback_result(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(kvstore_set(c->bucket, "gw-cb", "abc", 3), KVSTORE_OK);
    /* Any non-zero code of the callback's comes back unchanged: codes no
     * KVSTORE_ status has, and ones that have a meaning here. */
    const int answers[] = { -4242, 77, KVSTORE_NOTFOUND, KVSTORE_EIO,
                            KVSTORE_EINVAL, -1000000 };
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        seen s = { .answer = answers[i] };
        int rc = kvstore_get_with(c->bucket, "gw-cb", record, &s);
        if (rc != answers[i])
            fail_msg("callback returned %d, get_with %d", answers[i], rc);
        assert_int_equal(s.calls, 1);
        assert_int_equal(s.len, 3);
        assert_memory_equal(s.copy, "abc", 3);
        free(s.copy);
        /* Said why, in words. */
        assert_true(strlen(kvstore_errmsg()) > 0);
        assert_string_not_equal(kvstore_errmsg(), "no error");
    }
    /* Nothing was changed by a callback's failure. */
    assert_value(c->bucket, "gw-cb", "abc", 3);
    if (!conf_disposable)
        (void)kvstore_delete(c->bucket, "gw-cb");
}

void test_get_with_invalid(void **state)
{
    conf_ctx *c = *state;
    static const char *const bad[] = {
        "", "\xc0\xaf", "a\xc0\x80", "\xed\xa0\x80", "ab\xc3", "\x80",
        "x\xffy", "\xf4\x90\x80\x80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_not_lent(c->bucket, bad[i], KVSTORE_EINVAL);
    char long_key[KVSTORE_KEY_MAX + 2];
    memset(long_key, 'k', KVSTORE_KEY_MAX + 1);
    long_key[KVSTORE_KEY_MAX + 1] = '\0';
    assert_not_lent(c->bucket, long_key, KVSTORE_EINVAL);
    /* The longest key is fine. */
    long_key[KVSTORE_KEY_MAX] = '\0';
    assert_int_equal(kvstore_set(c->bucket, long_key, "L", 1), KVSTORE_OK);
    assert_lent(c->bucket, long_key, "L", 1);
    if (!conf_disposable)
        (void)kvstore_delete(c->bucket, long_key);

    assert_not_lent(c->bucket, NULL, KVSTORE_EINVAL);
    seen s = { 0 };
    assert_fails(kvstore_get_with(NULL, "k", record, &s), KVSTORE_EINVAL);
    assert_fails(kvstore_get_with(c->bucket, "k", NULL, &s), KVSTORE_EINVAL);
    assert_int_equal(s.calls, 0);
}

/* ctx may be NULL: it is only handed to the callback. */
static int count_calls(void *ctx, const void *value, size_t len)
{
    (void)value;
    (void)len;
    if (ctx == NULL)
        return 5;
    (*(unsigned *)ctx)++;
    return 0;
}

void test_get_with_null_ctx(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(kvstore_set(c->bucket, "gw-ctx", "v", 1), KVSTORE_OK);
    assert_int_equal(kvstore_get_with(c->bucket, "gw-ctx", count_calls, NULL),
                     5);
    unsigned calls = 0;
    assert_int_equal(kvstore_get_with(c->bucket, "gw-ctx", count_calls,
                                      &calls), KVSTORE_OK);
    assert_int_equal(calls, 1);
    if (!conf_disposable)
        (void)kvstore_delete(c->bucket, "gw-ctx");
}

void test_get_with_orphan_bucket(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(kvstore_set(c->bucket, "gw-orphan", "kept", 4),
                     KVSTORE_OK);
    /* A bucket keeps its store alive (API.md 11). */
    kvstore_close(c->store);
    c->store = NULL;
    assert_lent(c->bucket, "gw-orphan", "kept", 4);
    assert_not_lent(c->bucket, "gw-orphan-not", KVSTORE_NOTFOUND);
    if (!conf_disposable)
        (void)kvstore_delete(c->bucket, "gw-orphan");
}

void test_get_with_expired(void **state)
{
    conf_ctx *c = *state;
    if (!(kvstore_caps(c->store) & KVSTORE_CAP_TTL))
        skip();
    assert_int_equal(kvstore_set_ttl(c->bucket, "gw-ttl", "t", 1, 1),
                     KVSTORE_OK);
    /* Expired 1 ms after the set; sleeping at least 50 ms is past it on any
     * machine (no time is asserted, only that the deadline has passed). */
    struct timespec pause = { 0, 50 * 1000 * 1000 };
    while (nanosleep(&pause, &pause) != 0)
        ;
    assert_absent(c->bucket, "gw-ttl");
    assert_not_lent(c->bucket, "gw-ttl", KVSTORE_NOTFOUND);
}

/* Observed as a get, with the value's size as the bytes returned. */
typedef struct observed {
    pthread_mutex_t mu;
    unsigned gets;
    size_t bytes_out;
    int result;
} observed;

static void on_op(void *payload, const kvstore_observation *o)
{
    observed *ob = payload;
    pthread_mutex_lock(&ob->mu);
    if (o->op == KVSTORE_OP_GET) {
        ob->gets++;
        ob->bytes_out = o->bytes_out;
        ob->result = o->result;
    }
    pthread_mutex_unlock(&ob->mu);
}

void test_get_with_observed(void **state)
{
    conf_ctx *c = *state;
    observed ob = { .mu = PTHREAD_MUTEX_INITIALIZER };
    kvstore_observer obs = { KVSTORE_OBSERVER_VERSION, on_op };
    assert_int_equal(kvstore_set(c->bucket, "gw-obs", "1234567", 7),
                     KVSTORE_OK);
    assert_int_equal(kvstore_observe(c->store, &obs, &ob), KVSTORE_OK);
    assert_lent(c->bucket, "gw-obs", "1234567", 7); /* get_with, then get */
    assert_int_equal(ob.gets, 2);
    assert_int_equal(ob.bytes_out, 7);
    assert_not_lent(c->bucket, "gw-obs-none", KVSTORE_NOTFOUND);
    assert_int_equal(ob.gets, 3);
    assert_int_equal(ob.bytes_out, 0);
    assert_int_equal(ob.result, KVSTORE_NOTFOUND);
    assert_int_equal(kvstore_observe(c->store, NULL, NULL), KVSTORE_OK);
    if (!conf_disposable)
        (void)kvstore_delete(c->bucket, "gw-obs");
}

/* ---- a lent value is never torn by a concurrent write ---------------- */

#define TEAR_LEN 4096
#define TEAR_WRITES 2000
#define TEAR_READS_MIN 200

typedef struct tear {
    kvstore_bucket *b;
    bool failed;
    atomic_bool done;
} tear;

/* Rewrites the key with values of one repeated byte, of changing sizes. */
static void *writer(void *p)
{
    tear *t = p;
    unsigned char *v = malloc(TEAR_LEN);
    if (v == NULL) {
        t->failed = true;
        return NULL;
    }
    /* At most TEAR_WRITES, and for at most 3 s: under valgrind a durable
     * set costs milliseconds, and the test only needs rewrites to race
     * with reads, not a fixed number of them. */
    time_t stop = time(NULL) + 3;
    for (unsigned r = 0; r < TEAR_WRITES && time(NULL) < stop; r++) {
        size_t len = TEAR_LEN - (r % 7) * 100;
        memset(v, 'a' + r % 26, len);
        if (kvstore_set(t->b, "gw-tear", v, len) != KVSTORE_OK)
            t->failed = true;
    }
    free(v);
    atomic_store(&t->done, true);
    return NULL;
}

/* Fails on a value that is not one byte repeated, at one of the sizes the
 * writer writes. */
static int check_whole(void *ctx, const void *value, size_t len)
{
    const unsigned char *v = value;
    (void)ctx;
    if (len > TEAR_LEN || (TEAR_LEN - len) % 100 != 0)
        return -2;
    for (size_t i = 1; i < len; i++)
        if (v[i] != v[0])
            return -3;
    return 0;
}

void test_get_with_concurrent_writes(void **state)
{
    conf_ctx *c = *state;
    unsigned char first[TEAR_LEN];
    memset(first, 'z', sizeof first);
    assert_int_equal(kvstore_set(c->bucket, "gw-tear", first, sizeof first),
                     KVSTORE_OK);
    tear t = { .b = c->bucket };
    atomic_init(&t.done, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, writer, &t), 0);
    int bad = 0;
    /* Reads for as long as the writer writes. */
    for (unsigned r = 0; bad == 0 && (r < TEAR_READS_MIN ||
                                      !atomic_load(&t.done)); r++) {
        bad = kvstore_get_with(c->bucket, "gw-tear", check_whole, NULL);
        /* valgrind runs one thread at a time: without a yield this loop
         * holds the CPU for whole time slices while the writer waits
         * (conformance-sqlite took 529 s under memcheck instead of 44). */
        sched_yield();
    }
    pthread_join(th, NULL);
    assert_false(t.failed);
    if (bad != 0)
        fail_msg("get_with = %d: a lent value was torn or failed (%s)", bad,
                 kvstore_errmsg());
    if (!conf_disposable)
        (void)kvstore_delete(c->bucket, "gw-tear");
}
