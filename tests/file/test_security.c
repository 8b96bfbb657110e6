/*
 * File backend: nothing planted inside the store (symlinks, FIFOs,
 * directories) can make it read or write outside the store root.
 *
 * SPDX-License-Identifier: MIT
 */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "util.h"

typedef struct fixture {
    char *dir;          /* the test's temporary directory */
    char root[4200];    /* dir/root: the store */
    char outside[4200]; /* dir/outside: must stay untouched */
    char secret[4300];  /* dir/outside/secret */
    kvstore_store *s;
    kvstore_bucket *b;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tmp_new();
    snprintf(f->root, sizeof f->root, "%s/root", f->dir);
    snprintf(f->outside, sizeof f->outside, "%s/outside", f->dir);
    snprintf(f->secret, sizeof f->secret, "%s/secret", f->outside);
    assert_int_equal(mkdir(f->outside, 0700), 0);
    FILE *fp = fopen(f->secret, "w");
    fputs("SECRET", fp);
    fclose(fp);
    f->s = open_store(f->root, "?sync=false");
    f->b = open_bucket(f->s, "b");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    kvstore_bucket_close(f->b);
    kvstore_close(f->s);
    tmp_free(f->dir);
    free(f);
    return 0;
}

static void plant_link(fixture *f, const char *bucket, const char *name,
                       const char *target)
{
    char path[8600];
    snprintf(path, sizeof path, "%s/%s/%s", f->root, bucket, name);
    unlink(path);
    assert_int_equal(symlink(target, path), 0);
}

static void expect_secret_intact(fixture *f)
{
    char buf[64] = {0};
    FILE *fp = fopen(f->secret, "r");
    assert_non_null(fp);
    assert_non_null(fgets(buf, sizeof buf, fp));
    fclose(fp);
    assert_string_equal(buf, "SECRET");
}

static void test_symlinked_key_not_followed(void **state)
{
    fixture *f = *state;
    plant_link(f, "b", "k", f->secret); /* "k" encodes to "k" */
    void *v = NULL;
    size_t len = 0;
    int rc = kvstore_get(f->b, "k", &v, &len);
    assert_true(rc < 0);
    assert_null(v);
    assert_null(strstr(kvstore_errmsg(), "SECRET"));

    /* set replaces the link itself; the target is not written */
    set_str(f->b, "k", "overwritten");
    expect_secret_intact(f);
    expect_str(f->b, "k", "overwritten");
    struct stat st;
    char path[8600];
    snprintf(path, sizeof path, "%s/b/k", f->root);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));

    /* delete removes a link, never its target */
    plant_link(f, "b", "k", f->secret);
    assert_int_equal(kvstore_delete(f->b, "k"), KVSTORE_OK);
    expect_secret_intact(f);
    assert_int_equal(lstat(path, &st), -1);
}

static void test_symlinked_bucket_refused(void **state)
{
    fixture *f = *state;
    char path[8600];
    snprintf(path, sizeof path, "%s/evil", f->root);
    assert_int_equal(symlink(f->outside, path), 0);
    kvstore_bucket *eb = NULL;
    assert_true(kvstore_bucket_open(&eb, f->s, "evil") < 0);
    assert_null(eb);
    /* nothing was created outside */
    snprintf(path, sizeof path, "%s/.lock", f->outside);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_symlinked_lock_refused(void **state)
{
    fixture *f = *state;
    char target[8600];
    snprintf(target, sizeof target, "%s/created-by-lock", f->outside);
    plant_link(f, "b", ".lock", target);
    assert_true(kvstore_set(f->b, "x", "1", 1) < 0);
    int64_t r;
    assert_true(kvstore_increment(f->b, "x", 1, &r) < 0);
    assert_int_equal(access(target, F_OK), -1);
    /* no temp file is left behind by the refused write */
    kvstore_keys *page = NULL;
    assert_int_equal(kvstore_list_keys(f->b, NULL, NULL, 0, &page),
                     KVSTORE_OK);
    assert_int_equal(page->count, 0);
    kvstore_keys_free(page);
}

static void test_planted_entries_not_listed(void **state)
{
    fixture *f = *state;
    char path[8600];
    set_str(f->b, "real", "1");
    plant_link(f, "b", "link", f->secret);
    plant_link(f, "b", "dirlink", f->outside);
    snprintf(path, sizeof path, "%s/b/subdir", f->root);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/b/fifo", f->root);
    assert_int_equal(mkfifo(path, 0600), 0);
    snprintf(path, sizeof path, "%s/b/not%%2ecanonical", f->root);
    FILE *fp = fopen(path, "w");
    fclose(fp);

    kvstore_keys *page = NULL;
    assert_int_equal(kvstore_list_keys(f->b, NULL, NULL, 0, &page),
                     KVSTORE_OK);
    assert_int_equal(page->count, 1);
    assert_string_equal(page->keys[0], "real");
    kvstore_keys_free(page);

    /* a FIFO, a directory or a socket under a key's name is an error
     * that says so (not a hang, not "Illegal seek") */
    void *v = NULL;
    size_t len;
    bool there = true;
    assert_int_equal(kvstore_get(f->b, "fifo", &v, &len), KVSTORE_EIO);
    assert_non_null(strstr(kvstore_errmsg(), "not a regular file"));
    assert_int_equal(kvstore_exists(f->b, "fifo", &there), KVSTORE_EIO);
    assert_non_null(strstr(kvstore_errmsg(), "not a regular file"));
    assert_int_equal(kvstore_get(f->b, "subdir", &v, &len), KVSTORE_EIO);
    assert_non_null(strstr(kvstore_errmsg(), "not a regular file"));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/b/sock", f->root);
    if (n > 0 && (size_t)n < sizeof sa.sun_path) { /* else: path too long */
        int sfd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_true(sfd >= 0);
        assert_int_equal(bind(sfd, (struct sockaddr *)&sa, sizeof sa), 0);
        assert_int_equal(kvstore_get(f->b, "sock", &v, &len), KVSTORE_EIO);
        assert_non_null(strstr(kvstore_errmsg(), "not a regular file"));
        close(sfd);
    }
    assert_null(v);
    expect_secret_intact(f);
}

static void test_bucket_names_stay_inside(void **state)
{
    fixture *f = *state;
    const char *bad[] = {"..", ".", "a/b", "../outside", "", ".hidden"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kvstore_bucket *eb = NULL;
        assert_int_equal(kvstore_bucket_open(&eb, f->s, bad[i]),
                         KVSTORE_EINVAL);
    }
    /* keys full of path syntax stay inside the bucket directory */
    set_str(f->b, "../../outside/secret", "no");
    set_str(f->b, "/etc/passwd", "no");
    expect_secret_intact(f);
    char path[8600];
    snprintf(path, sizeof path,
             "%s/b/%%2E%%2E%%2F%%2E%%2E%%2Foutside%%2Fsecret", f->root);
    assert_int_equal(access(path, F_OK), 0);
    expect_str(f->b, "../../outside/secret", "no");
}

/* A corrupt or truncated record is reported, never returned as a value. */
static void test_corrupt_record(void **state)
{
    fixture *f = *state;
    char path[8600];
    set_str(f->b, "c", "complete value");
    snprintf(path, sizeof path, "%s/b/c", f->root);
    assert_int_equal(truncate(path, 30), 0);
    void *v = NULL;
    size_t len;
    assert_int_equal(kvstore_get(f->b, "c", &v, &len), KVSTORE_EIO);
    assert_null(v);
    /* bytes appended after a complete record: also corrupt */
    set_str(f->b, "c", "complete value");
    FILE *fp = fopen(path, "a");
    fputs("tail", fp);
    fclose(fp);
    assert_int_equal(kvstore_get(f->b, "c", &v, &len), KVSTORE_EIO);
    bool ex;
    assert_int_equal(kvstore_exists(f->b, "c", &ex), KVSTORE_EIO);
    fp = fopen(path, "w");
    fputs("not a record at all, just text", fp);
    fclose(fp);
    assert_int_equal(kvstore_get(f->b, "c", &v, &len), KVSTORE_EIO);
    int64_t r;
    assert_int_equal(kvstore_increment(f->b, "c", 1, &r), KVSTORE_EIO);
    /* a set repairs it */
    set_str(f->b, "c", "fresh");
    expect_str(f->b, "c", "fresh");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_symlinked_key_not_followed),
        T(test_symlinked_bucket_refused),
        T(test_symlinked_lock_refused),
        T(test_planted_entries_not_listed),
        T(test_bucket_names_stay_inside),
        T(test_corrupt_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
