/*
 * Redis backend, what table version 2 added, against a private
 * redis-server: the capability flags, per-key expiry (SET PX / PTTL),
 * and bucket management (bucket_list over the markers, bucket_remove,
 * bucket_info), checked against what redis-cli sees. Each test uses its
 * own database so that listings are exact.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <kvstore/kvstore.h>

#include "fx_servers.h"
#include "group.h"
#include "net.h"

static rs_server srv;

/* The URI of database `db` (a string literal). */
#define DB(db) "redis://127.0.0.1:{port}/" db

static void test_caps(void **state)
{
    kvstore_store *s = ((server_store *)*state)->s;
    unsigned caps = kvstore_caps(s);

    assert_true(caps & KVSTORE_CAP_LIST_REPEATS);
    assert_true(caps & KVSTORE_CAP_WATCH_LATE_VALUES);
    assert_true(caps & KVSTORE_CAP_WATCH_CROSS_PROCESS);
    assert_true(caps & KVSTORE_CAP_TTL);
    assert_false(caps & KVSTORE_CAP_TTL_BUCKET_ONLY);
}

/* ---- expiry ---- */

static void test_ttl_set_and_read(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    char out[64];
    int64_t left = 0;

    assert_ok(kvstore_set_ttl(b, "k", "v", 1, 60000));
    expect_str(b, "k", "v");
    assert_ok(kvstore_ttl(b, "k", &left));
    assert_true(left > 0 && left <= 60000);
    /* The expiry is Redis' own, on the key other clients see. */
    RS_CLI(&srv, out, "-n", "1", "PTTL", "t:k");
    assert_true(atol(out) > 0 && atol(out) <= 60000);

    /* A plain set replaces the value and clears the expiry. */
    assert_ok(kvstore_set(b, "k", "w", 1));
    assert_ok(kvstore_ttl(b, "k", &left));
    assert_int_equal(left, -1);
    RS_CLI(&srv, out, "-n", "1", "PTTL", "t:k");
    assert_string_equal(out, "-1");

    /* No key: NOTFOUND with -1. */
    left = 5;
    assert_int_equal(kvstore_ttl(b, "nokey", &left), KVSTORE_NOTFOUND);
    assert_int_equal(left, -1);

    /* 0 is a plain set. */
    assert_ok(kvstore_set_ttl(b, "z", "0", 1, 0));
    assert_ok(kvstore_ttl(b, "z", &left));
    assert_int_equal(left, -1);

    /* Beyond what Redis' clock holds: refused before anything is sent. */
    assert_int_equal(kvstore_set_ttl(b, "big", "v", 1, UINT64_MAX),
                     KVSTORE_EINVAL);
    assert_int_equal(kvstore_set_ttl(b, "big", "v", 1,
                                     ((uint64_t)1 << 62) + 1),
                     KVSTORE_EINVAL);
    {
        bool ex = true;
        assert_ok(kvstore_exists(b, "big", &ex));
        assert_false(ex);
    }
    /* The largest accepted one is stored. */
    assert_ok(kvstore_set_ttl(b, "big", "v", 1, (uint64_t)1 << 62));
    assert_ok(kvstore_ttl(b, "big", &left));
    assert_true(left > 0);
}

static void test_ttl_expired_is_absent(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    const char *keys[2] = { "gone", "stays" };
    void *vals[2] = { NULL, NULL };
    size_t lens[2] = { 0, 0 };
    kvstore_keys *page = NULL;
    kvstore_cas *cas = NULL;
    const void *cv = NULL;
    size_t cl = 0;
    int64_t left = 0;
    bool ex = true;

    assert_ok(kvstore_set(b, "stays", "s", 1));
    assert_ok(kvstore_set_ttl(b, "gone", "g", 1, 100));
    /* Past the deadline on the server's clock: Redis treats the key as
     * absent from then on, reaped or not. */
    rs_sleep_ms(250);
    void *v = NULL;
    size_t len = 0;
    assert_int_equal(kvstore_get(b, "gone", &v, &len), KVSTORE_NOTFOUND);
    assert_ok(kvstore_exists(b, "gone", &ex));
    assert_false(ex);
    assert_ok(kvstore_get_many(b, keys, 2, vals, lens));
    assert_null(vals[0]);
    assert_non_null(vals[1]);
    kvstore_free(vals[1]);
    assert_ok(kvstore_list_keys(b, "", NULL, 0, &page));
    assert_int_equal(page->count, 1);
    assert_string_equal(page->keys[0], "stays");
    kvstore_keys_free(page);
    assert_int_equal(kvstore_ttl(b, "gone", &left), KVSTORE_NOTFOUND);
    assert_ok(kvstore_cas_open(&cas, b, "gone"));
    assert_int_equal(kvstore_cas_current(cas, &cv, &cl), KVSTORE_NOTFOUND);
    kvstore_cas_free(cas);
}

static void test_increment_keeps_ttl(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    int64_t r = 0, left = 0;

    assert_ok(kvstore_set_ttl(b, "n", "5", 1, 60000));
    assert_ok(kvstore_increment(b, "n", 1, &r));
    assert_int_equal(r, 6);
    assert_ok(kvstore_ttl(b, "n", &left));
    assert_true(left > 0 && left <= 60000);
    /* A new counter has no expiry. */
    assert_ok(kvstore_increment(b, "m", 1, &r));
    assert_ok(kvstore_ttl(b, "m", &left));
    assert_int_equal(left, -1);
}

/* ---- bucket management ---- */

/* Every name of the store's bucket list, walked with `limit`, each page
 * checked against it; repeats (SCAN may give some) removed. Returns the
 * count; *names is malloc'd (free_names). */
static int walk_buckets(kvstore_store *s, size_t limit, char ***names)
{
    char *cursor = NULL;
    int n = 0, pages = 0;

    *names = NULL;
    do {
        kvstore_keys *page = NULL;

        assert_ok(kvstore_bucket_list(s, cursor, limit, &page));
        assert_true(page->count <= limit);
        free(cursor);
        cursor = page->cursor ? strdup(page->cursor) : NULL;
        for (size_t i = 0; i < page->count; i++) {
            bool dup = false;
            for (int j = 0; j < n && !dup; j++)
                dup = strcmp((*names)[j], page->keys[i]) == 0;
            if (dup)
                continue;
            *names = realloc(*names, (size_t)(n + 1) * sizeof **names);
            (*names)[n++] = strdup(page->keys[i]);
        }
        kvstore_keys_free(page);
        assert_true(++pages < 10000);
    } while (cursor != NULL);
    return n;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static bool has_name(char **names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static void test_bucket_list(void **state)
{
    kvstore_store *s = ((server_store *)*state)->s;
    static const size_t limits[] = { 1, 7, 1000 };
    char out[64], name[16];
    char **names = NULL;
    int n;

    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "b%03d", i);
        kvstore_bucket_close(open_bucket(s, name));
    }
    /* Keys ending in ':' that are not markers: a key "y:" of bucket "x"
     * (which has no marker), names no bucket can have, glob bytes. */
    RS_CLI(&srv, out, "-n", "4", "SET", "x:y:", "v");
    RS_CLI(&srv, out, "-n", "4", "SET", "bad name:", "v");
    RS_CLI(&srv, out, "-n", "4", "SET", "*:", "v");
    RS_CLI(&srv, out, "-n", "4", "SET", ":", "v");
    RS_CLI(&srv, out, "-n", "4", "SET", "b000:k", "v");
    for (size_t l = 0; l < sizeof limits / sizeof *limits; l++) {
        n = walk_buckets(s, limits[l], &names);
        assert_int_equal(n, 300);
        for (int i = 0; i < 300; i++) {
            snprintf(name, sizeof name, "b%03d", i);
            if (!has_name(names, n, name))
                fail_msg("bucket %s missing (limit %zu)", name, limits[l]);
        }
        free_names(names, n);
    }
    /* A bucket list cursor is not a key listing cursor, nor another
     * store's. */
    {
        kvstore_keys *page = NULL;
        kvstore_store *other = fx_open(DB("5"));
        kvstore_bucket *b = open_bucket(s, "b001");

        assert_ok(kvstore_bucket_list(s, NULL, 3, &page));
        assert_non_null(page->cursor);
        char *cur = strdup(page->cursor);
        kvstore_keys_free(page);
        page = NULL;
        assert_int_equal(kvstore_list_keys(b, "", cur, 3, &page),
                         KVSTORE_EINVAL);
        assert_int_equal(kvstore_bucket_list(s, "garbage", 3, &page),
                         KVSTORE_EINVAL);
        /* The store identity has the database (/4 vs /5). */
        assert_int_equal(kvstore_bucket_list(other, cur, 3, &page),
                         KVSTORE_EINVAL);
        free(cur);
        kvstore_bucket_close(b);
        kvstore_close(other);
    }
}

/* A bucket list cursor of db `db` around the forged state `st` (net.h;
 * the bucket list's binding is "\x01buckets"). */
static char *bucket_list_cursor(int db, const char *st)
{
    char id[64];

    snprintf(id, sizeof id, "redis://127.0.0.1:%d/%d", srv.port, db);
    net_bind("redis", id);
    return net_wrap("\x01" "buckets", st, strlen(st));
}

static void test_bucket_list_forged(void **state)
{
    kvstore_store *s = ((server_store *)*state)->s;
    kvstore_keys *page = NULL;
    char out[64];
    char *c;

    kvstore_bucket_close(open_bucket(s, "real"));
    /* A key "k:" of bucket "a" is the Redis key "a:k:"; the owed name
     * "a:k" must not be listed as a bucket, nor "ghost", which has no
     * marker. */
    RS_CLI(&srv, out, "-n", "6", "SET", "a:k:", "v");
    c = bucket_list_cursor(6, "S0\xff" "ghost\xff" "a:k\xff" "real");
    assert_ok(kvstore_bucket_list(s, c, 10, &page));
    free(c);
    for (size_t i = 0; i < page->count; i++)
        if (strcmp(page->keys[i], "real") != 0)
            fail_msg("'%s' listed as a bucket", page->keys[i]);
    assert_int_equal(page->count, 1);
    kvstore_keys_free(page);
    /* Malformed states are EINVAL, not a crash. */
    static const char *const bad[] = { "C0", "S1", "R1 0 0\xffx", "Q",
                                       "S1\xff\xff" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        c = bucket_list_cursor(6, bad[i]);
        page = (kvstore_keys *)1;
        assert_int_equal(kvstore_bucket_list(s, c, 10, &page),
                         KVSTORE_EINVAL);
        assert_null(page);
        free(c);
    }
}

static void test_bucket_remove(void **state)
{
    kvstore_store *s = ((server_store *)*state)->s;
    kvstore_bucket *doomed = open_bucket(s, "doomed");
    kvstore_bucket *near = open_bucket(s, "doomed-not");
    kvstore_bucket *again = NULL;
    enum { N = 2500 };
    char **keys = calloc(N, sizeof *keys);
    const void **vals = calloc(N, sizeof *vals);
    size_t *lens = calloc(N, sizeof *lens);
    kvstore_keys *page = NULL;
    kvstore_bucket_stat info = { .version = KVSTORE_BUCKET_STAT_VERSION };
    char out[64];
    char **names = NULL;
    int n;

    for (int i = 0; i < N; i++) {
        keys[i] = malloc(16);
        snprintf(keys[i], 16, "k%04d", i);
        vals[i] = "v";
        lens[i] = 1;
    }
    assert_ok(kvstore_set_many(doomed, (const char *const *)keys, vals,
                               lens, N));
    assert_ok(kvstore_set(near, "k0001", "stays", 5));
    /* A key of "doomed" written by another client, glob bytes and all. */
    RS_CLI(&srv, out, "-n", "7", "SET", "doomed:*", "v");

    assert_ok(kvstore_bucket_info(s, "doomed", &info));
    assert_int_equal(info.keys, -1);
    assert_int_equal(info.max_value, (uint64_t)512 * 1024 * 1024);
    assert_int_equal(info.ttl_ms, 0);

    assert_ok(kvstore_bucket_remove(s, "doomed"));
    /* Nothing of it is left on the server, marker included. */
    RS_CLI(&srv, out, "-n", "7", "EXISTS", "doomed:", "doomed:k0000",
        "doomed:k2499", "doomed:*");
    assert_string_equal(out, "0");
    RS_CLI(&srv, out, "-n", "7", "DBSIZE");
    assert_string_equal(out, "2"); /* doomed-not: marker and one key */
    /* The open handle sees it empty; the neighbour is untouched. */
    assert_ok(kvstore_list_keys(doomed, "", NULL, 0, &page));
    assert_int_equal(page->count, 0);
    kvstore_keys_free(page);
    expect_str(near, "k0001", "stays");
    n = walk_buckets(s, 10, &names);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "doomed-not");
    free_names(names, n);

    assert_int_equal(kvstore_bucket_remove(s, "doomed"), KVSTORE_ENOSTORE);
    assert_int_equal(kvstore_bucket_info(s, "doomed", &info),
                     KVSTORE_ENOSTORE);
    {
        kvstore_store *nc = fx_open(DB("7") "?create=false");

        assert_int_equal(kvstore_bucket_open(&again, nc, "doomed"),
                         KVSTORE_ENOSTORE);
        kvstore_close(nc);
    }

    /* A bucket without a marker exists while it has keys: info and
     * remove find it. */
    RS_CLI(&srv, out, "-n", "7", "SET", "unmarked:k", "v");
    assert_ok(kvstore_bucket_info(s, "unmarked", &info));
    assert_ok(kvstore_bucket_remove(s, "unmarked"));
    RS_CLI(&srv, out, "-n", "7", "EXISTS", "unmarked:k");
    assert_string_equal(out, "0");
    assert_int_equal(kvstore_bucket_remove(s, "nothing"), KVSTORE_ENOSTORE);

    for (int i = 0; i < N; i++)
        free(keys[i]);
    free(keys);
    free(vals);
    free(lens);
    kvstore_bucket_close(near);
    kvstore_bucket_close(doomed);
}

int main(void)
{
    static const char *const args[] = { "--databases", "16", NULL };
    const struct CMUnitTest tests[] = {
        SERVER_TEST(test_caps, DB("0"), NULL),
        SERVER_TEST(test_ttl_set_and_read, DB("1"), "t"),
        SERVER_TEST(test_ttl_expired_is_absent, DB("2"), "e"),
        SERVER_TEST(test_increment_keeps_ttl, DB("3"), "i"),
        SERVER_TEST(test_bucket_list, DB("4"), NULL),
        SERVER_TEST(test_bucket_list_forged, DB("6"), NULL),
        SERVER_TEST(test_bucket_remove, DB("7"), NULL),
    };
    return RS_RUN_GROUP(tests, .srv = &srv, .args = args);
}
