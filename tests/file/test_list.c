/*
 * File backend: listing. Pages in byte-wise order without repeats, the
 * prefix filter, cursors that outlive the handle (the snapshot cache miss
 * path), more concurrent walks than the cache holds, and bad cursors.
 *
 * SPDX-License-Identifier: MIT
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"
#include "file.h"

#define NKEYS 1200

static void key_name(char *buf, size_t cap, const char *prefix, int i)
{
    snprintf(buf, cap, "%s%05d", prefix, i);
}

static void fill(kvstore_bucket *b, const char *prefix, int n)
{
    char k[64];
    for (int i = 0; i < n; i++) {
        key_name(k, sizeof k, prefix, i);
        set_str(b, k, "v");
    }
}

/* Marks the key whose index is the number `digits` in `seen`, which must
 * not have seen it yet. */
static void see_once(unsigned char *seen, const char *digits)
{
    int idx = atoi(digits);
    assert_true(idx >= 0 && idx < NKEYS);
    assert_int_equal(seen[idx], 0);
    seen[idx] = 1;
}

typedef struct seen_walk {
    walk_order order;    /* byte-wise order, no key twice */
    const char *kprefix; /* every key is kprefix + its index */
    unsigned char *seen;
} seen_walk;

static void see_walked(void *arg, const char *key)
{
    seen_walk *w = arg;
    size_t n = strlen(w->kprefix);
    walk_ordered(&w->order, key);
    assert_int_equal(strncmp(key, w->kprefix, n), 0);
    see_once(w->seen, key + n);
}

/* Walks from `cursor` (may be NULL) to the end, checking order and page
 * sizes, and returns how many keys it saw; records them in `seen` by
 * index. */
static int walk(kvstore_bucket *b, const char *prefix, char *cursor,
                size_t limit, unsigned char *seen, const char *kprefix)
{
    seen_walk w = { .kprefix = kprefix, .seen = seen };
    walk_all(b, prefix, cursor, limit, see_walked, &w);
    return (int)w.order.keys;
}

static void test_pages_ordered_complete(void **state)
{
    kvstore_bucket *b = ((tmp_store *)*state)->b;
    fill(b, "k", NKEYS);
    unsigned char seen[NKEYS] = {0};
    assert_int_equal(walk(b, NULL, NULL, 97, seen, "k"), NKEYS);
    /* limit 1 and the maximum page */
    memset(seen, 0, sizeof seen);
    assert_int_equal(walk(b, "k010", NULL, 1, seen, "k"), 100);
    memset(seen, 0, sizeof seen);
    assert_int_equal(walk(b, "", NULL, 1000, seen, "k"), NKEYS);
}

static void test_prefix(void **state)
{
    kvstore_bucket *b = ((tmp_store *)*state)->b;
    fill(b, "a/", 300);
    fill(b, "b/", 200);
    fill(b, "a", 10); /* "a00000".. sorts after "a/" but lacks the '/' */
    unsigned char seen[NKEYS] = {0};
    assert_int_equal(walk(b, "a/", NULL, 50, seen, "a/"), 300);
    memset(seen, 0, sizeof seen);
    assert_int_equal(walk(b, "b/", NULL, 1000, seen, "b/"), 200);
    expect_listed(b, "zzz", "");
}

/* A cursor handed to another store handle (as after a restart) has no
 * cached snapshot behind it: the walk resumes after its last key. */
static void test_cursor_survives_reopen(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    fill(b, "k", NKEYS);
    unsigned char seen[NKEYS] = {0};
    kvstore_keys *page = NULL;
    assert_int_equal(kvstore_list_keys(b, NULL, NULL, 700, &page),
                     KVSTORE_OK);
    assert_int_equal(page->count, 700);
    for (size_t i = 0; i < page->count; i++)
        see_once(seen, page->keys[i] + 1);
    char *cursor = strdup(page->cursor);
    kvstore_keys_free(page);

    tmp_store_reopen(t, "file://{dir}", "l");
    assert_int_equal(walk(t->b, NULL, cursor, 300, seen, "k"),
                     NKEYS - 700);
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal(seen[i], 1);
    free(cursor);
}

/* More interleaved walks than the store caches: evicted walks fall back
 * to a rescan and still return every key exactly once. */
static void test_many_interleaved_walks(void **state)
{
    enum { WALKS = 24 };
    kvstore_bucket *b = ((tmp_store *)*state)->b;
    fill(b, "k", 300);
    static unsigned char seen[WALKS][NKEYS];
    char *cur[WALKS] = {0};
    bool done[WALKS] = {0};
    int count[WALKS] = {0}, finished = 0;
    memset(seen, 0, sizeof seen);
    for (int round = 0; finished < WALKS; round++) {
        for (int w = 0; w < WALKS; w++) {
            if (done[w])
                continue;
            kvstore_keys *page = NULL;
            assert_true(round == 0 || cur[w] != NULL);
            assert_int_equal(kvstore_list_keys(b, NULL, cur[w], 40, &page),
                             KVSTORE_OK);
            for (size_t i = 0; i < page->count; i++) {
                see_once(seen[w], page->keys[i] + 1);
                count[w]++;
            }
            free(cur[w]);
            cur[w] = page->cursor ? strdup(page->cursor) : NULL;
            if (cur[w] == NULL) {
                done[w] = true;
                finished++;
            }
            kvstore_keys_free(page);
        }
    }
    for (int w = 0; w < WALKS; w++)
        assert_int_equal(count[w], 300);
}

/* Keys that exist for the whole walk are returned even while others are
 * set and deleted. */
static void test_walk_with_concurrent_changes(void **state)
{
    kvstore_bucket *b = ((tmp_store *)*state)->b;
    fill(b, "k", 600);
    unsigned char seen[NKEYS] = {0};
    char *cur = NULL;
    int pages = 0;
    do {
        kvstore_keys *page = NULL;
        assert_int_equal(kvstore_list_keys(b, "k", cur, 100, &page),
                         KVSTORE_OK);
        for (size_t i = 0; i < page->count; i++)
            see_once(seen, page->keys[i] + 1);
        free(cur);
        cur = page->cursor ? strdup(page->cursor) : NULL;
        kvstore_keys_free(page);
        /* churn: a key added, another added and removed, per page */
        char k[64];
        key_name(k, sizeof k, "k", 600 + pages);
        set_str(b, k, "new");
        key_name(k, sizeof k, "k", 900 + pages);
        set_str(b, k, "gone");
        assert_int_equal(kvstore_delete(b, k), KVSTORE_OK);
        pages++;
    } while (cur != NULL);
    for (int i = 0; i < 600; i++)
        assert_int_equal(seen[i], 1);
}

static void test_bad_cursors(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    kvstore_bucket *other = open_bucket(t->s, "other");
    fill(b, "k", 50);
    fill(other, "k", 50);
    kvstore_keys *page = NULL;
    assert_int_equal(kvstore_list_keys(other, NULL, NULL, 10, &page),
                     KVSTORE_OK);
    char *foreign = strdup(page->cursor);
    kvstore_keys_free(page);
    assert_int_equal(kvstore_list_keys(b, NULL, NULL, 10, &page),
                     KVSTORE_OK);
    char *good = strdup(page->cursor);
    kvstore_keys_free(page);

    char truncated[4096];
    snprintf(truncated, sizeof truncated, "%s", good);
    truncated[strlen(truncated) / 2] = '\0';
    char flipped[4096];
    snprintf(flipped, sizeof flipped, "%s", good);
    flipped[strlen(flipped) - 3] ^= 1;
    const char *bad[] = {"garbage", "", "0", truncated, flipped, foreign};
    const char *what[] = {"garbage", "an empty", "a \"0\"", "a truncated",
                          "a flipped", "another bucket's"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cursor_refused(b, NULL, bad[i], what[i]);
    /* the good one still works: from k00010 on, each key once */
    unsigned char seen[NKEYS] = {0};
    assert_int_equal(walk(b, NULL, good, 10, seen, "k"), 40);
    for (int i = 0; i < 50; i++)
        assert_int_equal(seen[i], i >= 10);
    free(good);
    free(foreign);
    kvstore_bucket_close(other);
}

/* Temp files left by crashed writers are never listed; those older than
 * an hour are removed by a listing, younger ones (a write in progress)
 * are left alone. */
static void test_stale_temp_files_reaped(void **state)
{
    tmp_store *t = *state;
    const char *dir = t->dir;
    char old[4300], young[4300];
    kvstore_bucket *b = t->b;
    set_str(b, "k", "v");
    snprintf(old, sizeof old, "%s/l/.tmp.00000000000000aa", dir);
    snprintf(young, sizeof young, "%s/l/.tmp.00000000000000bb", dir);
    FILE *fp = fopen(old, "w");
    fclose(fp);
    fp = fopen(young, "w");
    fclose(fp);
    struct timespec two_hours_ago[2];
    clock_gettime(CLOCK_REALTIME, &two_hours_ago[0]);
    two_hours_ago[0].tv_sec -= 7200;
    two_hours_ago[1] = two_hours_ago[0];
    assert_int_equal(utimensat(AT_FDCWD, old, two_hours_ago, 0), 0);

    expect_listed(b, NULL, "k");
    assert_int_equal(access(old, F_OK), -1);
    assert_int_equal(access(young, F_OK), 0);
}

int main(void)
{
    /* Every test lists bucket "l" of its own store. */
#define L(test) STORE_TEST(test, "file://{dir}?sync=false", "l")
    const struct CMUnitTest tests[] = {
        L(test_pages_ordered_complete),
        L(test_prefix),
        L(test_cursor_survives_reopen),
        L(test_many_interleaved_walks),
        L(test_walk_with_concurrent_changes),
        L(test_bad_cursors),
        L(test_stale_temp_files_reaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
