/*
 * File backend: bucket management (kvstore_bucket_list, _remove, _info).
 * Listing pages through exactly the bucket directories of the root, in
 * byte-wise order, and parses its cursor states strictly; removal empties
 * a bucket without ever following a symlink out of it; info counts the
 * keys a listing would return.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <kvstore/backend.h>

#include "internal.h" /* the core's cursor wrapper, to forge states */
#include "fenced.h"
#include "util.h"

#define NBUCKETS 23

static void path_of(char *out, size_t cap, const char *dir, const char *rel)
{
    snprintf(out, cap, "%s/%s", dir, rel);
}

static void touch(const char *dir, const char *rel)
{
    char p[4400];
    path_of(p, sizeof p, dir, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
}

static void make_dir(const char *dir, const char *rel)
{
    char p[4400];
    path_of(p, sizeof p, dir, rel);
    assert_int_equal(mkdir(p, 0700), 0);
}

static bool exists_at(const char *dir, const char *rel)
{
    char p[4400];
    struct stat st;
    path_of(p, sizeof p, dir, rel);
    return lstat(p, &st) == 0;
}

/* Only directories with valid bucket names are buckets: files, symlinks,
 * reserved and invalid names in the root are not listed. */
static void test_list_pages(void **state)
{
    fenced *f = *state;
    char link[4400], want[NBUCKETS * 4 + 1] = "";
    for (int i = NBUCKETS - 1; i >= 0; i--) {
        /* made in reverse so that directory order is not sorted order */
        char name[16];
        snprintf(name, sizeof name, "b%02d", i);
        kvstore_bucket_close(open_bucket(f->t.s, name));
    }
    for (int i = 0; i < NBUCKETS; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%sb%02d",
                 i ? " " : "", i);
    touch(f->root, "plainfile");        /* a valid name, but a file */
    make_dir(f->root, ".hidden");       /* reserved */
    make_dir(f->root, "bad name");      /* not a bucket name */
    path_of(link, sizeof link, f->root, "alink");
    assert_int_equal(symlink(f->outside, link), 0);

    for (size_t limit = 1; limit <= 30; limit += 6)
        expect_buckets(f->t.s, limit, want);
    /* limit 0 is the backend's choice: all of them here, in one page */
    assert_int_equal(expect_buckets(f->t.s, 0, want), 1);
}

/* An empty store lists no bucket and no cursor. */
static void test_list_empty(void **state)
{
    tmp_store *t = *state;
    assert_int_equal(expect_buckets(t->s, 10, ""), 1);
}

/* States are parsed strictly: the core's checksum is public, so a forged
 * state is EINVAL or a position among this store's buckets. */
static void test_list_forged_states(void **state)
{
    tmp_store *t = *state;
    kvstore_store *s = t->s;
    const char *buckets[] = {"a", "m", "n", "z"};
    for (size_t i = 0; i < 4; i++)
        kvstore_bucket_close(open_bucket(s, buckets[i]));

    /* The state is the walk helper's "w1" + 16 hex + ":" + last name. */
    char too_long[KVSTORE_KEY_MAX + 32];
    memset(too_long, 'q', sizeof too_long - 1);
    memcpy(too_long, "w10000000000000000:", 19);
    too_long[sizeof too_long - 1] = '\0';
    const char *bad[] = {"b1.m", "w1", "w1m", "w100000000000000000m",
                         "w1000000000000000g:m", "W10000000000000000:m",
                         "w10000000000000000:", too_long};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *cursor = NULL;
        assert_int_equal(kvs_cursor_wrap(&cursor, s, NULL, bad[i]),
                         KVSTORE_OK);
        bucket_list_refused(s, cursor, bad[i]);
        kvstore_free(cursor);
    }
    /* A well-formed forged position lists the names after it. */
    char *cursor = NULL;
    kvstore_keys *page = NULL;
    assert_int_equal(kvs_cursor_wrap(&cursor, s, NULL,
                                     "w1ffffffffffffffff:m"), KVSTORE_OK);
    assert_int_equal(kvstore_bucket_list(s, cursor, 10, &page), KVSTORE_OK);
    assert_int_equal(page->count, 2);
    assert_string_equal(page->keys[0], "n");
    assert_string_equal(page->keys[1], "z");
    kvstore_keys_free(page);
    kvstore_free(cursor);
    /* A key-list cursor of a bucket is not a bucket-list cursor. */
    kvstore_bucket *b = open_bucket(s, "a");
    set_str(b, "k1", "v");
    set_str(b, "k2", "v");
    assert_int_equal(kvstore_list_keys(b, NULL, NULL, 1, &page), KVSTORE_OK);
    assert_non_null(page->cursor);
    bucket_list_refused(s, page->cursor, "a key-list");
    kvstore_keys_free(page);
    kvstore_bucket_close(b);
}

/* Removal deletes every key (escaped and hashed names), planted
 * subdirectories, and symlinks themselves, never what they point to. */
static void test_remove(void **state)
{
    fenced *f = *state;
    const char *dir = f->root, *outside = f->outside;
    char p[4400], key[400];
    kvstore_store *s = f->t.s;
    kvstore_bucket *b = f->t.b; /* "gone" */
    kvstore_bucket *keep = open_bucket(s, "kept");
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "k%d", i);
        set_str(b, key, "v");
    }
    memset(key, 'L', 300); /* a hashed-form name */
    key[300] = '\0';
    set_str(b, key, "long");
    set_str(keep, "k1", "stays");
    touch(outside, "victim");
    make_dir(outside, "sub");
    touch(outside, "sub/victim2");
    snprintf(p, sizeof p, "%s/gone/escape", dir);
    assert_int_equal(symlink(outside, p), 0);
    make_dir(dir, "gone/planted");
    touch(dir, "gone/planted/file");

    assert_int_equal(kvstore_bucket_remove(s, "gone"), KVSTORE_OK);
    assert_false(exists_at(dir, "gone"));
    assert_true(exists_at(outside, "victim"));
    assert_true(exists_at(outside, "sub/victim2"));
    /* nothing left behind in the root but the other bucket */
    expect_buckets(s, 10, "kept");
    expect_str(keep, "k1", "stays");
    /* The open handle sees the bucket empty. */
    expect_str(b, "k1", NULL);
    kvstore_bucket_close(b);
    f->t.b = NULL;
    /* Again: no such bucket. A new bucket of that name starts empty. */
    assert_int_equal(kvstore_bucket_remove(s, "gone"), KVSTORE_ENOSTORE);
    f->t.b = open_bucket(s, "gone");
    expect_listed(f->t.b, NULL, "");
    kvstore_bucket_close(keep);
}

/* A symlink in the root under a bucket's name is not a bucket: removal
 * and info refuse it and leave its target alone; a file under a bucket's
 * name is no bucket. */
static void test_remove_refuses_links(void **state)
{
    fenced *f = *state;
    const char *dir = f->root, *outside = f->outside;
    char p[4400];
    kvstore_store *s = f->t.s;
    touch(outside, "victim");
    snprintf(p, sizeof p, "%s/linked", dir);
    assert_int_equal(symlink(outside, p), 0);
    touch(dir, "afile");

    int rc = kvstore_bucket_remove(s, "linked");
    assert_int_not_equal(rc, KVSTORE_OK);
    assert_non_null(strstr(kvstore_errmsg(), "symbolic link"));
    assert_true(exists_at(outside, "victim"));
    assert_true(exists_at(dir, "linked"));
    kvstore_bucket_stat info = {.version = KVSTORE_BUCKET_STAT_VERSION};
    assert_int_not_equal(kvstore_bucket_info(s, "linked", &info),
                         KVSTORE_OK);
    assert_non_null(strstr(kvstore_errmsg(), "symbolic link"));
    /* bucket_open says why, not "Not a directory" */
    kvstore_bucket *b = NULL;
    assert_int_not_equal(kvstore_bucket_open(&b, s, "linked"), KVSTORE_OK);
    assert_non_null(strstr(kvstore_errmsg(), "symbolic link"));

    assert_int_equal(kvstore_bucket_remove(s, "afile"), KVSTORE_ENOSTORE);
    assert_true(exists_at(dir, "afile"));
    assert_int_equal(kvstore_bucket_info(s, "afile", &info),
                     KVSTORE_ENOSTORE);
    assert_int_equal(kvstore_bucket_remove(s, "missing"), KVSTORE_ENOSTORE);
}

/* info counts what a listing returns: not temp files, foreign files or
 * hashed files that do not hold their own key. */
static void test_info(void **state)
{
    tmp_store *t = *state;
    const char *dir = t->dir;
    char key[400];
    kvstore_store *s = t->s;
    kvstore_bucket *b = t->b;
    kvstore_bucket_stat info = {.version = KVSTORE_BUCKET_STAT_VERSION};

    assert_int_equal(kvstore_bucket_info(s, "i", &info), KVSTORE_OK);
    assert_int_equal(info.keys, 0);
    for (int i = 0; i < 17; i++) {
        snprintf(key, sizeof key, "key/%d", i);
        set_str(b, key, "v");
    }
    memset(key, 'h', 300);
    key[300] = '\0';
    set_str(b, key, "hashed");
    touch(dir, "i/.tmp.00000000000000cc");
    touch(dir, "i/~0000000000000000000000000000000000000000000000000000000000000000");
    touch(dir, "i/not%2"); /* not a canonical name */
    make_dir(dir, "i/adir");
    assert_int_equal(kvstore_bucket_info(s, "i", &info), KVSTORE_OK);
    assert_int_equal(info.keys, 18);
    assert_int_equal(info.max_value, (uint64_t)1 << 30);
    assert_int_equal(info.ttl_ms, 0);
    assert_int_equal(listed_count(b, NULL), (size_t)info.keys);
    assert_int_equal(kvstore_delete(b, "key/3"), KVSTORE_OK);
    assert_int_equal(kvstore_bucket_info(s, "i", &info), KVSTORE_OK);
    assert_int_equal(info.keys, 17);
    assert_int_equal(kvstore_bucket_info(s, "nope", &info),
                     KVSTORE_ENOSTORE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FENCED_TEST(test_list_pages, NULL),
        STORE_TEST(test_list_empty, "file://{dir}?sync=false", NULL),
        STORE_TEST(test_list_forged_states, "file://{dir}?sync=false", NULL),
        FENCED_TEST(test_remove, "gone"),
        FENCED_TEST(test_remove_refuses_links, NULL),
        STORE_TEST(test_info, "file://{dir}?sync=false", "i"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
