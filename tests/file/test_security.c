/*
 * File backend: nothing planted inside the store (symlinks, FIFOs,
 * directories, hard links, names the encoder never makes) can make it
 * read or write outside the store root or list what it cannot read. The
 * bucket directory is held open, so swapping it for a symlink after the
 * bucket was opened leads nowhere; a hard link planted under a key's name
 * is replaced, never written through; a symlink planted under a long
 * key's hashed name is refused like any other. Also in the suite
 * 'security' (docs/security.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "fenced.h"
#include "util.h"
#include "file.h"

static void plant_link(fenced *f, const char *bucket, const char *name,
                       const char *target)
{
    char path[8600];
    snprintf(path, sizeof path, "%s/%s/%s", f->root, bucket, name);
    unlink(path);
    assert_int_equal(symlink(target, path), 0);
}

static void test_symlinked_key_not_followed(void **state)
{
    fenced *f = *state;
    plant_link(f, "b", "k", f->secret); /* "k" encodes to "k" */
    void *v = NULL;
    size_t len = 0;
    int rc = kvstore_get(f->t.b, "k", &v, &len);
    assert_true(rc < 0);
    assert_null(v);
    assert_null(strstr(kvstore_errmsg(), "SECRET"));

    /* set replaces the link itself; the target is not written */
    set_str(f->t.b, "k", "overwritten");
    expect_secret_intact(f);
    expect_str(f->t.b, "k", "overwritten");
    struct stat st;
    char path[8600];
    snprintf(path, sizeof path, "%s/b/k", f->root);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));

    /* delete removes a link, never its target */
    plant_link(f, "b", "k", f->secret);
    assert_int_equal(kvstore_delete(f->t.b, "k"), KVSTORE_OK);
    expect_secret_intact(f);
    assert_int_equal(lstat(path, &st), -1);
}

static void test_symlinked_bucket_refused(void **state)
{
    fenced *f = *state;
    char path[8600];
    snprintf(path, sizeof path, "%s/evil", f->root);
    assert_int_equal(symlink(f->outside, path), 0);
    kvstore_bucket *eb = NULL;
    assert_true(kvstore_bucket_open(&eb, f->t.s, "evil") < 0);
    assert_null(eb);
    /* nothing was created outside */
    snprintf(path, sizeof path, "%s/.lock", f->outside);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_symlinked_lock_refused(void **state)
{
    fenced *f = *state;
    char target[8600];
    snprintf(target, sizeof target, "%s/created-by-lock", f->outside);
    plant_link(f, "b", ".lock", target);
    assert_true(kvstore_set(f->t.b, "x", "1", 1) < 0);
    int64_t r;
    assert_true(kvstore_increment(f->t.b, "x", 1, &r) < 0);
    assert_int_equal(access(target, F_OK), -1);
    /* no temp file is left behind by the refused write */
    expect_listed(f->t.b, NULL, "");
}

static void test_planted_entries_not_listed(void **state)
{
    fenced *f = *state;
    char path[8600];
    set_str(f->t.b, "real", "1");
    plant_link(f, "b", "link", f->secret);
    plant_link(f, "b", "dirlink", f->outside);
    snprintf(path, sizeof path, "%s/b/subdir", f->root);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/b/fifo", f->root);
    assert_int_equal(mkfifo(path, 0600), 0);
    snprintf(path, sizeof path, "%s/b/not%%2ecanonical", f->root);
    FILE *fp = fopen(path, "w");
    fclose(fp);

    expect_listed(f->t.b, NULL, "real");

    /* a FIFO, a directory or a socket under a key's name is an error
     * that says so (not a hang, not "Illegal seek") */
    void *v = NULL;
    size_t len;
    bool there = true;
    assert_int_equal(kvstore_get(f->t.b, "fifo", &v, &len), KVSTORE_EIO);
    assert_non_null(strstr(kvstore_errmsg(), "not a regular file"));
    assert_int_equal(kvstore_exists(f->t.b, "fifo", &there), KVSTORE_EIO);
    assert_non_null(strstr(kvstore_errmsg(), "not a regular file"));
    assert_int_equal(kvstore_get(f->t.b, "subdir", &v, &len), KVSTORE_EIO);
    assert_non_null(strstr(kvstore_errmsg(), "not a regular file"));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/b/sock", f->root);
    if (n > 0 && (size_t)n < sizeof sa.sun_path) { /* else: path too long */
        int sfd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_true(sfd >= 0);
        assert_int_equal(bind(sfd, (struct sockaddr *)&sa, sizeof sa), 0);
        assert_int_equal(kvstore_get(f->t.b, "sock", &v, &len), KVSTORE_EIO);
        assert_non_null(strstr(kvstore_errmsg(), "not a regular file"));
        close(sfd);
    }
    assert_null(v);
    expect_secret_intact(f);
}

/* Bucket names with path syntax are EINVAL on every backend
 * (conformance: test_bucket_names_invalid); keys full of it stay inside
 * the bucket directory. */
static void test_bucket_names_stay_inside(void **state)
{
    fenced *f = *state;
    set_str(f->t.b, "../../outside/secret", "no");
    set_str(f->t.b, "/etc/passwd", "no");
    expect_secret_intact(f);
    char path[8600];
    snprintf(path, sizeof path,
             "%s/b/%%2E%%2E%%2F%%2E%%2E%%2Foutside%%2Fsecret", f->root);
    assert_int_equal(access(path, F_OK), 0);
    expect_str(f->t.b, "../../outside/secret", "no");
}

/* A corrupt or truncated record is reported, never returned as a value. */
static void test_corrupt_record(void **state)
{
    fenced *f = *state;
    char path[8600];
    set_str(f->t.b, "c", "complete value");
    snprintf(path, sizeof path, "%s/b/c", f->root);
    assert_int_equal(truncate(path, 30), 0);
    void *v = NULL;
    size_t len;
    assert_int_equal(kvstore_get(f->t.b, "c", &v, &len), KVSTORE_EIO);
    assert_null(v);
    /* bytes appended after a complete record: also corrupt */
    set_str(f->t.b, "c", "complete value");
    FILE *fp = fopen(path, "a");
    fputs("tail", fp);
    fclose(fp);
    assert_int_equal(kvstore_get(f->t.b, "c", &v, &len), KVSTORE_EIO);
    bool ex;
    assert_int_equal(kvstore_exists(f->t.b, "c", &ex), KVSTORE_EIO);
    fp = fopen(path, "w");
    fputs("not a record at all, just text", fp);
    fclose(fp);
    assert_int_equal(kvstore_get(f->t.b, "c", &v, &len), KVSTORE_EIO);
    int64_t r;
    assert_int_equal(kvstore_increment(f->t.b, "c", 1, &r), KVSTORE_EIO);
    /* a set repairs it */
    set_str(f->t.b, "c", "fresh");
    expect_str(f->t.b, "c", "fresh");
}

/* The bucket directory is renamed away and replaced by a symlink to a
 * directory outside the store while the bucket is open: every operation
 * of the open handle still goes to the original directory (its held
 * descriptor), and a new open of the bucket refuses the link. */
static void bucket_dir_swapped_after_open(void **state)
{
    fenced *f = *state;
    char bdir[8600], moved[8600];

    set_str(f->t.b, "before", "1");
    snprintf(bdir, sizeof bdir, "%s/b", f->root);
    snprintf(moved, sizeof moved, "%s/b-moved", f->root);
    assert_int_equal(rename(bdir, moved), 0);
    assert_int_equal(symlink(f->outside, bdir), 0);

    set_str(f->t.b, "after", "2");
    int64_t n;
    assert_int_equal(kvstore_increment(f->t.b, "counter", 5, &n), KVSTORE_OK);
    assert_int_equal(kvstore_delete(f->t.b, "before"), KVSTORE_OK);
    expect_str(f->t.b, "after", "2");
    expect_listed(f->t.b, NULL, "after counter");
    /* Nothing, not even the lock file, reached the link's target: it
     * still holds only the fixture's secret. */
    assert_int_equal(count_entries(f->outside), 1);
    char p[8700];
    snprintf(p, sizeof p, "%s/after", moved);
    assert_int_equal(access(p, F_OK), 0);

    kvstore_bucket *again = NULL;
    assert_true(kvstore_bucket_open(&again, f->t.s, "b") < 0);
    assert_null(again);
    assert_int_equal(count_entries(f->outside), 1);
}

/* A hard link to a file outside the store, planted under a key's name:
 * set replaces the link (rename), delete unlinks it; the outside file
 * keeps its content, and get does not return it as a value. */
static void hard_link_not_written_through(void **state)
{
    fenced *f = *state;
    char victim[8600], lpath[8600], buf[64];

    snprintf(victim, sizeof victim, "%s/victim", f->outside);
    write_small(victim, "VICTIM");
    snprintf(lpath, sizeof lpath, "%s/b/k", f->root);
    if (link(victim, lpath) != 0) {
        /* fs.protected_hardlinks or a file system without links */
        skip();
    }
    void *v = NULL;
    size_t len = 0;
    assert_int_equal(kvstore_get(f->t.b, "k", &v, &len), KVSTORE_EIO);
    assert_null(v);
    int64_t n;
    assert_int_equal(kvstore_increment(f->t.b, "k", 1, &n), KVSTORE_EIO);
    set_str(f->t.b, "k", "overwritten");
    read_small(victim, buf, sizeof buf);
    assert_string_equal(buf, "VICTIM");
    expect_str(f->t.b, "k", "overwritten");

    unlink(lpath);
    assert_int_equal(link(victim, lpath), 0);
    assert_int_equal(kvstore_delete(f->t.b, "k"), KVSTORE_OK);
    read_small(victim, buf, sizeof buf);
    assert_string_equal(buf, "VICTIM");
    struct stat st;
    assert_int_equal(stat(victim, &st), 0);
    assert_int_equal(st.st_nlink, 1);
}

/* A key long enough to be stored under its hashed name ("~" + SHA-256):
 * a symlink planted there is refused on read and replaced on write. */
static void symlink_under_hashed_name(void **state)
{
    fenced *f = *state;
    char key[KVSTORE_KEY_MAX + 1], name[KVF_NAME_BUF], lpath[8600];
    const char *secret = f->secret; /* the fixture's: "SECRET" */
    char buf[64];

    memset(key, '.', 300);
    key[300] = '\0';
    kvf_name_encode(key, strlen(key), name);
    assert_true(kvf_name_is_hashed(name));
    snprintf(lpath, sizeof lpath, "%s/b/%s", f->root, name);
    assert_int_equal(symlink(secret, lpath), 0);

    void *v = NULL;
    size_t len = 0;
    assert_true(kvstore_get(f->t.b, key, &v, &len) < 0);
    assert_null(v);
    assert_null(strstr(kvstore_errmsg(), "SECRET"));
    expect_listed(f->t.b, NULL, "");

    set_str(f->t.b, key, "mine");
    read_small(secret, buf, sizeof buf);
    assert_string_equal(buf, "SECRET");
    expect_str(f->t.b, key, "mine");
    struct stat st;
    assert_int_equal(lstat(lpath, &st), 0);
    assert_true(S_ISREG(st.st_mode));
}

/* File names that the encoder never writes must not be read as keys.
 * kvf_name_decode once checked the 200-byte limit only where an escape
 * started, so a 201- or 202-byte name whose last "%XX" straddled it
 * (198 x 'a' + "%2E") decoded to a key that the encoder stores under its
 * hashed name: a file planted under it was listed as a key that
 * get/exists/delete could not see. Found by review and fuzz-file-name. */
static void long_noncanonical_name_not_listed(void **state)
{
    fenced *f = *state;
    char name[256], path[8600];

    /* 198 'a' + "%2E" = 201 bytes; the key "aaa...a." (199 bytes) is
     * stored under a hashed name, never under this one. */
    memset(name, 'a', 198);
    strcpy(name + 198, "%2E");
    snprintf(path, sizeof path, "%s/b/%s", f->root, name);
    write_small(path, "");

    expect_listed(f->t.b, NULL, "");
}

int main(void)
{
#define T(name) FENCED_TEST(name, "b")
    const struct CMUnitTest tests[] = {
        T(test_symlinked_key_not_followed),
        T(test_symlinked_bucket_refused),
        T(test_symlinked_lock_refused),
        T(test_planted_entries_not_listed),
        T(test_bucket_names_stay_inside),
        T(test_corrupt_record),
        T(bucket_dir_swapped_after_open),
        T(hard_link_not_written_through),
        T(symlink_under_hashed_name),
        T(long_noncanonical_name_not_listed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
