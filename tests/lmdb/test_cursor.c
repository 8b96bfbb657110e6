/*
 * LMDB listing and buckets: cursors with forged states, long keys, bucket
 * isolation whatever the names, bucket list/remove/info, per-key expiry,
 * the value limit and map growth.
 *
 * Forging: the core wraps a backend's state as "c2" hex(state) "."
 * fnv64(backend name, store identity, bucket, state) (src/cursor.c): an
 * integrity check, not a secret, so a guest can wrap any state. wrap()
 * below does the same (tests/support/net.h), and checks itself against a
 * real cursor first so that a change of the envelope fails here instead
 * of testing nothing.
 *
 * SPDX-License-Identifier: MIT
 */
#include <time.h>

#include "net.h"
#include "util.h"

/* A cursor for `state` (n bytes) in bucket `bucket` of lmdb://dir. */
static char *wrap(const char *dir, const char *bucket, const void *state,
                  size_t n)
{
    char id[4200];
    snprintf(id, sizeof id, "lmdb://%s", dir);
    net_bind("lmdb", id);
    return net_wrap(bucket, state, n);
}

/* The state inside a real cursor of `bucket` of lmdb://dir, as a
 * string; the envelope's checksum must hold. */
static char *unwrap(const char *dir, const char *cursor, const char *bucket)
{
    unsigned char st[KVSTORE_CURSOR_STATE_MAX + 1];
    size_t n = 0;
    char id[4200];
    snprintf(id, sizeof id, "lmdb://%s", dir);
    net_bind("lmdb", id);
    assert_int_equal(net_unwrap(cursor, bucket, st, sizeof st - 1, &n),
                     KVSTORE_OK);
    st[n] = '\0';
    return strdup((const char *)st);
}

static void test_forged_states(void **state)
{
    tmp_store *t = *state;
    const char *dir = t->dir;
    /* "mine" sorts between "mi" and "mine-x" and "minf": neighbours in
     * the key space on both sides. */
    const char *names[] = { "mi", "mine", "mine-x", "minf", "a", "z" };
    kvstore_bucket *bs[6];
    for (int i = 0; i < 6; i++) {
        bs[i] = open_bucket(t->s, names[i]);
        fill_tagged(bs[i], names[i], 40);
    }
    kvstore_bucket *mine = bs[1];

    /* Self-check: wrap() reproduces a real cursor. */
    kvstore_keys *page = NULL;
    assert_int_equal(kvstore_list_keys(mine, NULL, NULL, 7, &page),
                     KVSTORE_OK);
    assert_non_null(page->cursor);
    char *st = unwrap(dir, page->cursor, "mine");
    char *again = wrap(dir, "mine", st, strlen(st));
    assert_string_equal(again, page->cursor);
    free(again);
    kvstore_keys_free(page);

    /* A real state of another bucket, re-wrapped for "mine": a walk of
     * mine from there, never the other bucket's keys. */
    page = NULL;
    assert_int_equal(kvstore_list_keys(bs[2], NULL, NULL, 7, &page),
                     KVSTORE_OK);
    char *theirs = unwrap(dir, page->cursor, "mine-x");
    kvstore_keys_free(page);
    char *c = wrap(dir, "mine", theirs, strlen(theirs));
    int n = walk_tagged(mine, NULL, c, "mine");
    assert_true(n >= -1 && n <= 40);
    free(c);
    free(theirs);

    /* Hand-made states: odd length, upper case, non-hex, a NUL byte,
     * over-long, 0xFF runs, "00", positions before and after everything,
     * and positions that spell another bucket's keys. */
    const char *forged[] = {
        "6", "4G", "4A", "zz", "6d696e652f303130", /* "mine/010" */
        "ffffffffffffffff", "00", "0000", "01", "2f", "7a2f303030",
        "6d692f303030", "6d696e652d782f303030", "00ff00ff",
    };
    for (size_t i = 0; i < sizeof forged / sizeof *forged; i++) {
        /* The string is the state the backend receives (its own format
         * is hex of a stored key, so "6d69..." names a position). */
        c = wrap(dir, "mine", forged[i], strlen(forged[i]));
        n = walk_tagged(mine, NULL, c, "mine");
        assert_true(n >= -1 && n <= 40);
        n = walk_tagged(mine, "mine/01", c, "mine");
        assert_true(n >= -1 && n <= 10);
        free(c);
    }
    /* An over-long state (beyond any stored key) is refused. */
    char big[1400];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    c = wrap(dir, "mine", big, strlen(big));
    assert_int_equal(walk_tagged(mine, NULL, c, "mine"), -1);
    free(c);
    /* A valid state that lies before the prefix range starts at the range,
     * one after it gives an empty last page. */
    c = wrap(dir, "mine", "2f", 2); /* "/" < "mine/..." */
    assert_int_equal(walk_tagged(mine, "mine/02", c, "mine"), 10);
    free(c);
    c = wrap(dir, "mine", "7a", 2); /* "z" > every key */
    assert_int_equal(walk_tagged(mine, NULL, c, "mine"), 0);
    free(c);
    /* A real position in the middle resumes exactly after it. */
    c = wrap(dir, "mine", "6d696e652f303139", 16); /* after "mine/019" */
    assert_int_equal(walk_tagged(mine, NULL, c, "mine"), 20);
    free(c);

    free(st);
    for (int i = 0; i < 6; i++)
        kvstore_bucket_close(bs[i]);
}

static void test_forged_bucket_list_states(void **state)
{
    tmp_store *t = *state;
    for (int i = 0; i < 30; i++) {
        char name[16];
        snprintf(name, sizeof name, "b%02d", i);
        kvstore_bucket_close(open_bucket(t->s, name));
    }
    const char *forged[] = { "b15", "", "b99", "!", "a b", "b15\xff" };
    for (size_t i = 0; i < sizeof forged / sizeof *forged; i++) {
        char *c = wrap(t->dir, "\x01" "buckets", forged[i],
                       strlen(forged[i]));
        kvstore_keys *page = NULL;
        int rc = kvstore_bucket_list(t->s, c, 100, &page);
        if (rc == KVSTORE_OK) {
            for (size_t k = 0; k < page->count; k++)
                assert_true(page->keys[k][0] == 'b');
            if (i == 0)
                assert_int_equal(page->count, 14); /* b16..b29 */
            kvstore_keys_free(page);
        } else {
            assert_int_equal(rc, KVSTORE_EINVAL);
        }
        free(c);
    }
}

#define LONG_KEYS 30

/* test_long_keys' keys and how often a walk listed each. */
typedef struct long_keys {
    char (*keys)[1025];
    int seen[LONG_KEYS];
} long_keys;

static void count_long_key(void *arg, const char *key)
{
    long_keys *lk = arg;
    int hit = 0;
    for (int i = 0; i < LONG_KEYS; i++)
        if (strcmp(key, lk->keys[i]) == 0) {
            lk->seen[i]++;
            hit = 1;
        }
    assert_true(hit);
}

/* Keys past LMDB's 511-byte key limit take the hashed form: each must be
 * stored, read, listed once, found by prefix and deleted on its own. */
static void test_long_keys(void **state)
{
    tmp_store *t = *state;
    char bname[65];
    memset(bname, 'B', 64);
    bname[64] = '\0';
    kvstore_bucket *b = t->b = open_bucket(t->s, bname);
    enum { N = LONG_KEYS };
    static char keys[N][1025];
    for (int i = 0; i < N; i++) {
        /* Lengths around the limit; all share a 500-byte prefix. */
        size_t len = i < 10 ? 440 + (size_t)i : 1000 + (size_t)i % 25;
        memset(keys[i], 'p', 500);
        memset(keys[i] + 500, 'x', len > 500 ? len - 500 : 0);
        keys[i][len] = '\0';
        char tail[16];
        int tn = snprintf(tail, sizeof tail, "%02d", i);
        memcpy(keys[i] + len - (size_t)tn, tail, (size_t)tn);
        assert_int_equal(kvstore_set(b, keys[i], keys[i], 7), KVSTORE_OK);
    }
    for (int i = 0; i < N; i++) {
        void *v = NULL;
        size_t len = 0;
        assert_int_equal(kvstore_get(b, keys[i], &v, &len), KVSTORE_OK);
        assert_int_equal(len, 7);
        assert_memory_equal(v, keys[i], 7);
        kvstore_free(v);
    }
    /* Listing: every key exactly once, in pages of 4. */
    long_keys lk = {keys, {0}};
    walk_all(b, "ppp", NULL, 4, count_long_key, &lk);
    for (int i = 0; i < N; i++)
        assert_int_equal(lk.seen[i], 1);
    /* A prefix longer than what a long key keeps still filters exactly. */
    char pre[1025];
    memcpy(pre, keys[N - 1], strlen(keys[N - 1]) - 1);
    pre[strlen(keys[N - 1]) - 1] = '\0';
    size_t want = 0;
    for (int i = 0; i < N; i++)
        want += strncmp(keys[i], pre, strlen(pre)) == 0;
    assert_int_equal(listed_count(b, pre), want);
    /* Delete every other one: the rest stay. */
    for (int i = 0; i < N; i += 2)
        assert_int_equal(kvstore_delete(b, keys[i]), KVSTORE_OK);
    for (int i = 0; i < N; i++) {
        bool ex = true;
        assert_int_equal(kvstore_exists(b, keys[i], &ex), KVSTORE_OK);
        assert_int_equal(ex, i % 2 == 1);
    }
}

static void test_buckets_manage(void **state)
{
    tmp_store *t = *state;
    kvstore_store *s = t->s;
    kvstore_bucket *a = open_bucket(s, "a"), *ab = open_bucket(s, "a-b");
    set_str(a, "-b", "in a");   /* "a" + "\0" + "-b" vs "a-b" + ...: apart */
    set_str(ab, "x", "in a-b");
    kvstore_bucket_stat info = { .version = KVSTORE_BUCKET_STAT_VERSION };
    assert_int_equal(kvstore_bucket_info(s, "a", &info), KVSTORE_OK);
    assert_int_equal(info.max_value, 64u * 1024 * 1024);
    assert_int_equal(kvstore_bucket_info(s, "nope", &info), KVSTORE_ENOSTORE);

    expect_buckets(s, 1, "a a-b");
    assert_int_equal(expect_buckets(s, 10, "a a-b"), 1);

    assert_int_equal(kvstore_bucket_remove(s, "a"), KVSTORE_OK);
    assert_int_equal(kvstore_bucket_remove(s, "a"), KVSTORE_ENOSTORE);
    bool ex = true;
    assert_int_equal(kvstore_exists(a, "-b", &ex), KVSTORE_OK);
    assert_false(ex);
    expect_str(ab, "x", "in a-b");
    expect_buckets(s, 0, "a-b");
    kvstore_bucket_close(a);
    kvstore_bucket_close(ab);
    /* create=false: a removed bucket stays missing. */
    tmp_store_reopen(t, "lmdb://{dir}?create=false", "a-b");
    kvstore_bucket *b = NULL;
    assert_int_equal(kvstore_bucket_open(&b, t->s, "a"), KVSTORE_ENOSTORE);
}

/* Per-key expiry as the API promises it is conformance-lmdb's
 * (test_ttl_*: expired keys absent for get, exists, get_many, listing,
 * CAS and ttl; an expired counter counts from 0; a set clears the
 * expiry). Here: lmdb declares it, and reports the time left to the
 * millisecond's order of an hour. */
static void test_ttl(void **state)
{
    tmp_store *t = *state;
    int64_t left = 0;
    assert_true(kvstore_caps(t->s) & KVSTORE_CAP_TTL);
    assert_int_equal(kvstore_set_ttl(t->b, "long", "y", 1, 3600000),
                     KVSTORE_OK);
    assert_int_equal(kvstore_ttl(t->b, "long", &left), KVSTORE_OK);
    assert_true(left > 3500000 && left <= 3600000);
}

/* The store's map is 1 MiB: it must grow to hold 8 MiB of values. */
static void test_value_limit_and_map_growth(void **state)
{
    kvstore_bucket *b = ((tmp_store *)*state)->b;
    size_t mib = 1024 * 1024;
    unsigned char *v = malloc(2 * mib);
    assert_non_null(v);
    for (size_t i = 0; i < 2 * mib; i++)
        v[i] = (unsigned char)(i * 7 + 3);
    for (int i = 0; i < 4; i++) {
        char key[16];
        snprintf(key, sizeof key, "v%d", i);
        assert_int_equal(kvstore_set(b, key, v, 2 * mib), KVSTORE_OK);
    }
    void *got = NULL;
    size_t len = 0;
    assert_int_equal(kvstore_get(b, "v3", &got, &len), KVSTORE_OK);
    assert_int_equal(len, 2 * mib);
    assert_memory_equal(got, v, len);
    kvstore_free(got);
    free(v);
    /* Above the documented 64 MiB: ETOOBIG with a message. calloc'd
     * pages are never touched, so this costs no memory. */
    size_t over = 64 * mib + 1;
    void *huge = calloc(1, over);
    assert_non_null(huge);
    assert_int_equal(kvstore_set(b, "huge", huge, over), KVSTORE_ETOOBIG);
    assert_non_null(strstr(kvstore_errmsg(), "67108864"));
    free(huge);
}

/* Two stores of one directory in one process share one environment: a
 * write through either is read through the other, and closing one leaves
 * the other working (LMDB would lose its locks if opened twice). */
static void test_shared_environment(void **state)
{
    tmp_store *t = *state;
    /* "{dir}/./": another spelling of the same directory */
    kvstore_store *s2 = open_in(t, "lmdb://{dir}/./?sync=false");
    kvstore_bucket *b2 = open_bucket(s2, "x");
    set_str(t->b, "k", "1");
    expect_str(b2, "k", "1");
    tmp_store_shut(t);
    set_str(b2, "k", "2");
    expect_str(b2, "k", "2");
    kvstore_bucket_close(b2);
    kvstore_close(s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(test_forged_states, "lmdb://{dir}", NULL),
        STORE_TEST(test_forged_bucket_list_states, "lmdb://{dir}", NULL),
        STORE_TEST(test_long_keys, "lmdb://{dir}", NULL),
        STORE_TEST(test_buckets_manage, "lmdb://{dir}", NULL),
        STORE_TEST(test_ttl, "lmdb://{dir}", "ttl"),
        STORE_TEST(test_value_limit_and_map_growth,
                   "lmdb://{dir}?map_size=1048576", "big"),
        STORE_TEST(test_shared_environment, "lmdb://{dir}", "x"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
