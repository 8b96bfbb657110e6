/*
 * File backend: what tests/file/test_security.c does not already cover.
 * The bucket directory is held open, so swapping it for a symlink after
 * the bucket was opened leads nowhere; a hard link planted under a key's
 * name is replaced, never written through; a symlink planted under a long
 * key's hashed name is refused like any other.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>

#include <sys/stat.h>
#include <unistd.h>

#include "support.h"
#include "file.h"

typedef struct fixture {
    char *dir;
    char root[4200];    /* the store */
    char outside[4200]; /* must stay as it is */
    kvstore_store *s;
    kvstore_bucket *b;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);

    assert_non_null(f);
    f->dir = tmp_new();
    snprintf(f->root, sizeof f->root, "%s/root", f->dir);
    snprintf(f->outside, sizeof f->outside, "%s/outside", f->dir);
    assert_int_equal(mkdir(f->outside, 0700), 0);
    f->s = open_file_store(f->root);
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

/* The bucket directory is renamed away and replaced by a symlink to a
 * directory outside the store while the bucket is open: every operation
 * of the open handle still goes to the original directory (its held
 * descriptor), and a new open of the bucket refuses the link. */
static void bucket_dir_swapped_after_open(void **state)
{
    fixture *f = *state;
    char bdir[8600], moved[8600];

    set_str(f->b, "before", "1");
    snprintf(bdir, sizeof bdir, "%s/b", f->root);
    snprintf(moved, sizeof moved, "%s/b-moved", f->root);
    assert_int_equal(rename(bdir, moved), 0);
    assert_int_equal(symlink(f->outside, bdir), 0);

    set_str(f->b, "after", "2");
    int64_t n;
    assert_int_equal(kvstore_increment(f->b, "counter", 5, &n), KVSTORE_OK);
    assert_int_equal(kvstore_delete(f->b, "before"), KVSTORE_OK);
    expect_str(f->b, "after", "2");
    kvstore_keys *page = NULL;
    assert_int_equal(kvstore_list_keys(f->b, NULL, NULL, 0, &page),
                     KVSTORE_OK);
    assert_int_equal(page->count, 2); /* after, counter */
    kvstore_keys_free(page);
    /* Nothing, not even the lock file, reached the link's target. */
    assert_int_equal(count_entries(f->outside), 0);
    char p[8700];
    snprintf(p, sizeof p, "%s/after", moved);
    assert_int_equal(access(p, F_OK), 0);

    kvstore_bucket *again = NULL;
    assert_true(kvstore_bucket_open(&again, f->s, "b") < 0);
    assert_null(again);
    assert_int_equal(count_entries(f->outside), 0);
}

/* A hard link to a file outside the store, planted under a key's name:
 * set replaces the link (rename), delete unlinks it; the outside file
 * keeps its content, and get does not return it as a value. */
static void hard_link_not_written_through(void **state)
{
    fixture *f = *state;
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
    assert_int_equal(kvstore_get(f->b, "k", &v, &len), KVSTORE_EIO);
    assert_null(v);
    int64_t n;
    assert_int_equal(kvstore_increment(f->b, "k", 1, &n), KVSTORE_EIO);
    set_str(f->b, "k", "overwritten");
    read_small(victim, buf, sizeof buf);
    assert_string_equal(buf, "VICTIM");
    expect_str(f->b, "k", "overwritten");

    unlink(lpath);
    assert_int_equal(link(victim, lpath), 0);
    assert_int_equal(kvstore_delete(f->b, "k"), KVSTORE_OK);
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
    fixture *f = *state;
    char key[KVSTORE_KEY_MAX + 1], name[KVF_NAME_BUF], lpath[8600];
    char secret[8600], buf[64];

    memset(key, '.', 300);
    key[300] = '\0';
    kvf_name_encode(key, strlen(key), name);
    assert_true(kvf_name_is_hashed(name));
    snprintf(secret, sizeof secret, "%s/secret", f->outside);
    write_small(secret, "SECRET");
    snprintf(lpath, sizeof lpath, "%s/b/%s", f->root, name);
    assert_int_equal(symlink(secret, lpath), 0);

    void *v = NULL;
    size_t len = 0;
    assert_true(kvstore_get(f->b, key, &v, &len) < 0);
    assert_null(v);
    assert_null(strstr(kvstore_errmsg(), "SECRET"));
    kvstore_keys *page = NULL;
    assert_int_equal(kvstore_list_keys(f->b, NULL, NULL, 0, &page),
                     KVSTORE_OK);
    assert_int_equal(page->count, 0);
    kvstore_keys_free(page);

    set_str(f->b, key, "mine");
    read_small(secret, buf, sizeof buf);
    assert_string_equal(buf, "SECRET");
    expect_str(f->b, key, "mine");
    struct stat st;
    assert_int_equal(lstat(lpath, &st), 0);
    assert_true(S_ISREG(st.st_mode));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(bucket_dir_swapped_after_open),
        T(hard_link_not_written_through),
        T(symlink_under_hashed_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
