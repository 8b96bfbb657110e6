/*
 * File backend: per-key expiry (kvstore_set_ttl, kvstore_ttl). Records
 * with an expiry are "KVF2" records (docs/backends/file.md); the tests
 * make a key expire without waiting by rewriting that field of its file
 * to a past time, so no test depends on timing. An expired key is absent
 * for every read, from every handle; listing removes a bounded number of
 * expired files per scan.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "util.h"
#include "file.h"

#define HOUR_MS 3600000ull

/* Moves the expiry of the record file `name` of bucket `bucket` to 1970. */
static void expire_now(const char *dir, const char *bucket, const char *name)
{
    char p[4400];
    uint8_t past[8] = {1, 0, 0, 0, 0, 0, 0, 0}; /* 1 ms after the epoch */
    char magic[4];
    snprintf(p, sizeof p, "%s/%s/%s", dir, bucket, name);
    int fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, magic, 4, 0), 4);
    assert_memory_equal(magic, KVF_MAGIC2, 4);
    assert_int_equal(pwrite(fd, past, 8, 24), 8);
    close(fd);
}

static void expect_magic(const char *dir, const char *bucket,
                         const char *name, const char *magic)
{
    char p[4400], got[4];
    snprintf(p, sizeof p, "%s/%s/%s", dir, bucket, name);
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, got, 4), 4);
    close(fd);
    assert_memory_equal(got, magic, 4);
}

static bool cas_found(kvstore_cas *cas)
{
    const void *v = NULL;
    size_t len = 0;
    int rc = kvstore_cas_current(cas, &v, &len);
    assert_true(rc == KVSTORE_OK || rc == KVSTORE_NOTFOUND);
    return rc == KVSTORE_OK;
}

/* Regular files of a bucket directory whose names do not start with '.'. */
static size_t count_files(const char *dir, const char *bucket)
{
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", dir, bucket);
    DIR *d = opendir(p);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void test_caps_and_live_ttl(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    assert_true(kvstore_caps(t->s) & KVSTORE_CAP_TTL);
    assert_false(kvstore_caps(t->s) & KVSTORE_CAP_TTL_BUCKET_ONLY);

    assert_int_equal(kvstore_set_ttl(b, "k", "v", 1, HOUR_MS), KVSTORE_OK);
    expect_str(b, "k", "v");
    int64_t left = 0;
    assert_int_equal(kvstore_ttl(b, "k", &left), KVSTORE_OK);
    assert_true(left > 0 && left <= (int64_t)HOUR_MS);
    expect_magic(t->dir, "t", "k", KVF_MAGIC2);
    /* set clears the expiry and writes the 1.0 record format again */
    set_str(b, "k", "w");
    assert_int_equal(kvstore_ttl(b, "k", &left), KVSTORE_OK);
    assert_int_equal(left, -1);
    expect_magic(t->dir, "t", "k", KVF_MAGIC);
    /* ttl of a missing key */
    left = 0;
    assert_int_equal(kvstore_ttl(b, "nope", &left), KVSTORE_NOTFOUND);
    assert_int_equal(left, -1);
    /* set_ttl with 0 is a plain set */
    assert_int_equal(kvstore_set_ttl(b, "z", "v", 1, 0), KVSTORE_OK);
    assert_int_equal(kvstore_ttl(b, "z", &left), KVSTORE_OK);
    assert_int_equal(left, -1);
    /* a TTL beyond the clock's range saturates */
    assert_int_equal(kvstore_set_ttl(b, "far", "v", 1, UINT64_MAX),
                     KVSTORE_OK);
    assert_int_equal(kvstore_ttl(b, "far", &left), KVSTORE_OK);
    assert_true(left > 0);
}

/* An expired key is absent for every read, from this handle and from
 * another store handle (another process sees the same files). */
static void test_expired_is_absent(void **state)
{
    tmp_store *t = *state;
    char longkey[400];
    kvstore_store *s2 = open_in(t, "file://{dir}?sync=false");
    kvstore_bucket *b = t->b;
    memset(longkey, 'L', 300); /* a hashed-form name */
    longkey[300] = '\0';
    char hashed[KVF_NAME_BUF];
    kvf_name_encode(longkey, 300, hashed);

    set_str(b, "live", "1");
    assert_int_equal(kvstore_set_ttl(b, "gone", "v", 1, HOUR_MS), KVSTORE_OK);
    assert_int_equal(kvstore_set_ttl(b, longkey, "v", 1, HOUR_MS),
                     KVSTORE_OK);
    assert_int_equal(listed_count(b, NULL), 3);
    expire_now(t->dir, "t", "gone");
    expire_now(t->dir, "t", hashed);

    kvstore_bucket *b2 = open_bucket(s2, "t");
    kvstore_bucket *handles[] = {b, b2};
    for (int h = 0; h < 2; h++) {
        kvstore_bucket *x = handles[h];
        void *v = NULL;
        size_t len = 0;
        bool there = true;
        int64_t left = 0;
        assert_int_equal(kvstore_get(x, "gone", &v, &len), KVSTORE_NOTFOUND);
        assert_int_equal(kvstore_get(x, longkey, &v, &len),
                         KVSTORE_NOTFOUND);
        assert_int_equal(kvstore_exists(x, "gone", &there), KVSTORE_OK);
        assert_false(there);
        assert_int_equal(kvstore_ttl(x, "gone", &left), KVSTORE_NOTFOUND);
        assert_int_equal(left, -1);
        const char *keys[] = {"live", "gone"};
        void *vals[2] = {NULL, NULL};
        size_t lens[2];
        assert_int_equal(kvstore_get_many(x, keys, 2, vals, lens),
                         KVSTORE_OK);
        assert_non_null(vals[0]);
        assert_null(vals[1]);
        kvstore_free(vals[0]);
        kvstore_cas *cas = NULL;
        assert_int_equal(kvstore_cas_open(&cas, x, "gone"), KVSTORE_OK);
        assert_false(cas_found(cas));
        kvstore_cas_free(cas);
    }
    /* Listed nowhere; bucket_info agrees. (Listing may reap them.) */
    expect_listed(b2, NULL, "live");
    kvstore_bucket_stat info = {.version = KVSTORE_BUCKET_STAT_VERSION};
    assert_int_equal(kvstore_bucket_info(t->s, "t", &info), KVSTORE_OK);
    assert_int_equal(info.keys, 1);
    /* deleting an expired key succeeds */
    assert_int_equal(kvstore_delete(b, "gone"), KVSTORE_OK);
    kvstore_bucket_close(b2);
    kvstore_close(s2);
}

/* increment keeps a live key's expiry and counts an expired one from 0
 * (without expiry); a CAS swap writes without expiry. */
static void test_increment_and_cas(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    int64_t n = 0, left = 0;

    assert_int_equal(kvstore_set_ttl(b, "c", "5", 1, HOUR_MS), KVSTORE_OK);
    assert_int_equal(kvstore_increment(b, "c", 1, &n), KVSTORE_OK);
    assert_int_equal(n, 6);
    assert_int_equal(kvstore_ttl(b, "c", &left), KVSTORE_OK);
    assert_true(left > 0);
    expire_now(t->dir, "t", "c");
    assert_int_equal(kvstore_increment(b, "c", 1, &n), KVSTORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(kvstore_ttl(b, "c", &left), KVSTORE_OK);
    assert_int_equal(left, -1);

    assert_int_equal(kvstore_set_ttl(b, "x", "a", 1, HOUR_MS), KVSTORE_OK);
    kvstore_cas *cas = NULL;
    assert_int_equal(kvstore_cas_open(&cas, b, "x"), KVSTORE_OK);
    assert_true(cas_found(cas));
    assert_int_equal(kvstore_cas_swap(cas, "b", 1), KVSTORE_OK);
    kvstore_cas_free(cas);
    expect_str(b, "x", "b");
    assert_int_equal(kvstore_ttl(b, "x", &left), KVSTORE_OK);
    assert_int_equal(left, -1);
    /* a CAS on an expired key sees it absent and may create it */
    assert_int_equal(kvstore_set_ttl(b, "y", "a", 1, HOUR_MS), KVSTORE_OK);
    expire_now(t->dir, "t", "y");
    assert_int_equal(kvstore_cas_open(&cas, b, "y"), KVSTORE_OK);
    assert_false(cas_found(cas));
    assert_int_equal(kvstore_cas_swap(cas, "new", 3), KVSTORE_OK);
    kvstore_cas_free(cas);
    expect_str(b, "y", "new");
}

/* Listing removes expired files, at most 64 per scan, and only expired
 * ones. */
static void test_reaper_bounded(void **state)
{
    tmp_store *t = *state;
    const char *dir = t->dir;
    char key[32];
    kvstore_bucket *b = t->b;
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "e%03d", i);
        assert_int_equal(kvstore_set_ttl(b, key, "v", 1, HOUR_MS),
                         KVSTORE_OK);
        expire_now(dir, "t", key);
    }
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "live%d", i);
        assert_int_equal(kvstore_set_ttl(b, key, "v", 1, HOUR_MS),
                         KVSTORE_OK);
    }
    assert_int_equal(count_files(dir, "t"), 110);
    assert_int_equal(listed_count(b, NULL), 10);
    assert_int_equal(count_files(dir, "t"), 110 - 64);
    assert_int_equal(listed_count(b, NULL), 10);
    assert_int_equal(count_files(dir, "t"), 10);
}

int main(void)
{
    /* Every test works in bucket "t" of its own store. */
#define T(test) STORE_TEST(test, "file://{dir}?sync=false", "t")
    const struct CMUnitTest tests[] = {
        T(test_caps_and_live_ttl),
        T(test_expired_is_absent),
        T(test_increment_and_cas),
        T(test_reaper_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
