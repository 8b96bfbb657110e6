/*
 * File backend: URIs and options, the directories and modes it creates,
 * ?sync (counted through a --wrap=fsync shim) and the value limit.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "util.h"

/* Linked with -Wl,--wrap=fsync: counts the library's fsync calls. */
int __real_fsync(int fd);
int __wrap_fsync(int fd);
static int fsync_calls;
int __wrap_fsync(int fd)
{
    fsync_calls++;
    return __real_fsync(fd);
}

static void test_bad_uris(void **state)
{
    const char *dir = *state;
    char uri[4200];
    open_fails("file:", KVSTORE_EINVAL);
    open_fails("file://", KVSTORE_EINVAL);
    snprintf(uri, sizeof uri, "file://somehost%s", dir);
    open_fails(uri, KVSTORE_EINVAL);
    /* credentials would be silently ignored: refused, and not echoed */
    snprintf(uri, sizeof uri, "file://bob:s3cr3tpw@%s/creds", dir);
    open_fails(uri, KVSTORE_EINVAL);
    assert_null(strstr(kvstore_errmsg(), "s3cr3tpw"));
    snprintf(uri, sizeof uri, "%s/creds", dir);
    assert_int_equal(access(uri, F_OK), -1); /* nothing was created */
    snprintf(uri, sizeof uri, "file://%s?bogus=1", dir);
    open_fails(uri, KVSTORE_EINVAL);
    snprintf(uri, sizeof uri, "file://%s?sync=perhaps", dir);
    open_fails(uri, KVSTORE_EINVAL);
    snprintf(uri, sizeof uri, "file://%s/missing?create=false", dir);
    open_fails(uri, KVSTORE_ENOSTORE);
    /* the root is a regular file, not a directory */
    snprintf(uri, sizeof uri, "%s/plain", dir);
    int fd = open(uri, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    snprintf(uri, sizeof uri, "file://%s/plain", dir);
    open_fails(uri, KVSTORE_ENOSTORE);
}

static void test_layout_and_modes(void **state)
{
    tmp_store *t = *state;
    const char *dir = t->dir;
    char path[4200];
    mode_t old = umask(0); /* modes must come from the library itself */
    t->s = open_urif("file://%s/a/b/root", dir);
    t->b = open_bucket(t->s, "bk");
    set_str(t->b, "key", "v");
    int64_t r;
    assert_int_equal(kvstore_increment(t->b, "n", 1, &r), KVSTORE_OK);
    umask(old);

    static const struct {
        const char *rel;
        mode_t mode;
    } made[] = {
        {"a", 0700}, {"a/b/root", 0700}, {"a/b/root/bk", 0700},
        {"a/b/root/bk/key", 0600}, {"a/b/root/bk/n", 0600},
        {"a/b/root/bk/.lock", 0600},
    };
    for (size_t i = 0; i < sizeof made / sizeof *made; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, made[i].rel);
        mode_t got = mode_of(path);
        if (got != made[i].mode)
            fail_msg("%s: mode %o, expected %o", made[i].rel, (unsigned)got,
                     (unsigned)made[i].mode);
    }
}

static void test_relative_uri(void **state)
{
    tmp_store *t = *state;
    char cwd[4096], path[4200];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(t->dir), 0);
    t->s = open_uri("file:rel/dir");
    t->b = open_bucket(t->s, "b");
    /* The store keeps its directory even if the process moves away. */
    assert_int_equal(chdir(cwd), 0);
    set_str(t->b, "k", "relative");
    snprintf(path, sizeof path, "%s/rel/dir/b/k", t->dir);
    assert_int_equal(access(path, F_OK), 0);
    expect_str(t->b, "k", "relative");
}

static void test_create_false(void **state)
{
    tmp_store *t = *state; /* file://{dir}?create=false */
    kvstore_bucket *b = (kvstore_bucket *)&b;
    assert_int_equal(kvstore_bucket_open(&b, t->s, "nope"),
                     KVSTORE_ENOSTORE);
    assert_null(b);
    tmp_store_reopen(t, "file://{dir}", "made");
    /* exists now */
    tmp_store_reopen(t, "file://{dir}?create=false", "made");
}

/* A long store path (here ~3900 bytes, under the 4096 of PATH_MAX) is cut
 * in the message, never the reason after it. */
static void test_long_path_keeps_reason(void **state)
{
    const char *dir = *state;
    char uri[4200];
    int n = snprintf(uri, sizeof uri, "file://%s", dir);
    while (n < 3600)
        n += snprintf(uri + n, sizeof uri - (size_t)n, "/%s",
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    /* a component longer than NAME_MAX: mkdir fails with ENAMETOOLONG */
    n += snprintf(uri + n, sizeof uri - (size_t)n, "/");
    for (int i = 0; i < 300; i++)
        uri[n++] = 'z';
    uri[n] = '\0';
    kvstore_store *s = (kvstore_store *)&s;
    assert_int_not_equal(kvstore_open(&s, uri), KVSTORE_OK);
    assert_null(s);
    const char *msg = kvstore_errmsg();
    if (strstr(msg, strerror(ENAMETOOLONG)) == NULL)
        fail_msg("reason missing: %s", msg);
    assert_non_null(strstr(msg, "zzzzzzzzzz'")); /* the path's end */

    /* create=false on a missing long path: "no store directory" and the
     * end of the path, whole */
    snprintf(uri + n - 300, 300, "last?create=false");
    s = (kvstore_store *)&s;
    assert_int_equal(kvstore_open(&s, uri), KVSTORE_ENOSTORE);
    msg = kvstore_errmsg();
    assert_non_null(strstr(msg, "no store directory"));
    assert_non_null(strstr(msg, "aaaa/last'"));
    /* a host in a long URI: the advice at the end survives */
    snprintf(uri, sizeof uri, "file://host/%03600d", 0);
    open_fails(uri, KVSTORE_EINVAL);
    assert_non_null(strstr(kvstore_errmsg(), "use file:///abs/dir or "
                                             "file:rel/dir"));
}

static void test_sync_counts(void **state)
{
    tmp_store *t = *state; /* file://{dir}: sync defaults to true */
    kvstore_bucket *b = t->b;
    fsync_calls = 0;
    set_str(b, "k", "durable");
    /* the temp file and the directory */
    assert_int_equal(fsync_calls, 2);
    fsync_calls = 0;
    assert_int_equal(kvstore_delete(b, "k"), KVSTORE_OK);
    assert_int_equal(fsync_calls, 1);

    tmp_store_reopen(t, "file://{dir}?sync=false", "b");
    b = t->b;
    fsync_calls = 0;
    set_str(b, "k", "fast");
    int64_t r;
    assert_int_equal(kvstore_increment(b, "n", 5, &r), KVSTORE_OK);
    assert_int_equal(kvstore_delete(b, "k"), KVSTORE_OK);
    set_str(b, "k", "fast again");
    assert_int_equal(fsync_calls, 0);
    expect_str(b, "k", "fast again");
    expect_str(b, "n", "5");
}

static void test_value_limit(void **state)
{
    kvstore_bucket *b = ((tmp_store *)*state)->b;
    /* 1 MiB + 1 (above the contract's minimum) is accepted... */
    size_t mib = (1u << 20) + 1;
    char *big = calloc(1, mib);
    assert_non_null(big);
    big[mib - 1] = 'z';
    assert_int_equal(kvstore_set(b, "big", big, mib), KVSTORE_OK);
    void *v;
    size_t len;
    assert_int_equal(kvstore_get(b, "big", &v, &len), KVSTORE_OK);
    assert_int_equal(len, mib);
    assert_memory_equal(v, big, mib);
    kvstore_free(v);
    free(big);
    /* ...1 GiB + 1 is not: reserved, never touched, so cheap. */
    size_t over = ((size_t)1 << 30) + 1;
    void *huge = mmap(NULL, over, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
                      MAP_NORESERVE, -1, 0);
    assert_true(huge != MAP_FAILED);
    assert_int_equal(kvstore_set(b, "huge", huge, over), KVSTORE_ETOOBIG);
    assert_non_null(strstr(kvstore_errmsg(), "1073741824"));
    bool ex = true;
    assert_int_equal(kvstore_exists(b, "huge", &ex), KVSTORE_OK);
    assert_false(ex);
    munmap(huge, over);
    /* record sizes around the 8 KiB single-read buffer */
    char mid[8300];
    for (size_t n = 8150; n < 8200; n++) {
        memset(mid, (int)('a' + n % 26), n);
        assert_int_equal(kvstore_set(b, "m", mid, n), KVSTORE_OK);
        assert_int_equal(kvstore_get(b, "m", &v, &len), KVSTORE_OK);
        assert_int_equal(len, n);
        assert_memory_equal(v, mid, n);
        kvstore_free(v);
    }
    /* an empty value is a value */
    assert_int_equal(kvstore_set(b, "empty", NULL, 0), KVSTORE_OK);
    assert_int_equal(kvstore_get(b, "empty", &v, &len), KVSTORE_OK);
    assert_non_null(v);
    assert_int_equal(len, 0);
    kvstore_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        DIR_TEST(test_bad_uris),
        TMP_STORE_TEST(test_layout_and_modes),
        TMP_STORE_TEST(test_relative_uri),
        STORE_TEST(test_create_false, "file://{dir}?create=false", NULL),
        DIR_TEST(test_long_path_keeps_reason),
        STORE_TEST(test_sync_counts, "file://{dir}", "b"),
        STORE_TEST(test_value_limit, "file://{dir}?sync=false", "b"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
