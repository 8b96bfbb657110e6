/*
 * memory backend: listing order, cursors across reopen and snapshot
 * changes, forged cursors.
 *
 * SPDX-License-Identifier: MIT
 */
#include "net.h"
#include "fx_memory.h"

#include <kvstore/backend.h>

#include <time.h>

#define N 250

/* Sets keys "k000" .. "k<n-1>". */
static void fill(kvstore_bucket *b, int n)
{
    char key[64];

    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "k%03d", i);
        set_str(b, key, "v");
    }
}

/* Marks each listed key "k%03d" in seen[]; fails on a repeat. */
static void mark(const kvstore_keys *page, int *seen, int n)
{
    for (size_t i = 0; i < page->count; i++) {
        int idx = -1;

        assert_int_equal(sscanf(page->keys[i], "k%d", &idx), 1);
        assert_true(idx >= 0 && idx < n);
        assert_int_equal(seen[idx], 0);
        seen[idx] = 1;
    }
}

/* Lists the page of `b` under `prefix` at `cursor` (NULL: the first;
 * freed), marks its keys in seen[] and returns the next cursor (free(),
 * NULL after the last page); *count gets the page's key count. */
static char *next_page(kvstore_bucket *b, const char *prefix, char *cursor,
                       size_t limit, int *seen, int n, size_t *count)
{
    kvstore_keys *page = NULL;

    assert_int_equal(kvstore_list_keys(b, prefix, cursor, limit, &page),
                     KVSTORE_OK);
    free(cursor);
    mark(page, seen, n);
    *count = page->count;
    char *next = page->cursor ? strdup(page->cursor) : NULL;
    assert_true(next || !page->cursor);
    kvstore_keys_free(page);
    return next;
}

/* Keys come back in byte-wise order, non-ASCII after ASCII, and a prefix
 * selects exactly its keys. */
static void byte_order_and_prefix(void **state)
{
    static const char *const keys[] = {
        "b", "a/2", "a", "\xc3\xa9t\xc3\xa9", "a/10", "Z", "a/1", "~",
    };
    static const char *const sorted[] = {
        "Z", "a", "a/1", "a/10", "a/2", "b", "~", "\xc3\xa9t\xc3\xa9",
    };
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    kvstore_keys *page = NULL;

    for (size_t i = 0; i < 8; i++)
        set_str(b, keys[i], "v");
    assert_int_equal(kvstore_list_keys(b, NULL, NULL, 0, &page), KVSTORE_OK);
    assert_int_equal(page->count, 8);
    assert_null(page->cursor);
    for (size_t i = 0; i < 8; i++)
        assert_string_equal(page->keys[i], sorted[i]);
    kvstore_keys_free(page);

    assert_int_equal(kvstore_list_keys(b, "a/", NULL, 0, &page), KVSTORE_OK);
    assert_int_equal(page->count, 3);
    assert_string_equal(page->keys[0], "a/1");
    assert_string_equal(page->keys[2], "a/2");
    assert_null(page->cursor);
    kvstore_keys_free(page);
}

/* A walk continues after its bucket handle and store handle are closed and
 * reopened (the named store stays alive through a second handle), and
 * lists every key exactly once. */
static void cursor_survives_reopen(void **state)
{
    kvstore_store *keep = open_uri("memory:reopen");
    kvstore_store *s = open_uri("memory:reopen");
    kvstore_bucket *b = open_bucket(s, "walk");
    int seen[N] = {0}, total = 0;
    size_t count;
    char *cursor;

    (void)state;
    fill(b, N);
    cursor = next_page(b, "k", NULL, 7, seen, N, &count);
    assert_int_equal(count, 7);
    assert_non_null(cursor);
    total += (int)count;

    while (cursor) {
        kvstore_bucket_close(b);
        kvstore_close(s);
        s = open_uri("memory:reopen");
        b = open_bucket(s, "walk");
        cursor = next_page(b, "k", cursor, 7, seen, N, &count);
        assert_true(count <= 7);
        total += (int)count;
    }
    assert_int_equal(total, N);
    kvstore_bucket_close(b);
    kvstore_close(s);
    kvstore_close(keep);
}

/* Another walk started after a change replaces the cached snapshot; the
 * first walk then goes on from its last key in the new snapshot: every
 * key that existed throughout is listed exactly once. */
static void walk_across_snapshot_change(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    kvstore_keys *other = NULL;
    int seen[N] = {0}, total = 0;
    size_t count;
    char *cursor;

    fill(b, N);
    cursor = next_page(b, NULL, NULL, 50, seen, N, &count);
    assert_non_null(cursor);
    total += (int)count;

    for (int round = 0; cursor; round++) {
        /* Keys outside the k range come and go; a fresh walk each round
         * rebuilds the snapshot the first walk was using. */
        char extra[32];
        snprintf(extra, sizeof(extra), "x%d", round);
        set_str(b, extra, "v");
        assert_int_equal(kvstore_delete(b, "x0"), KVSTORE_OK);
        assert_int_equal(kvstore_list_keys(b, NULL, NULL, 1, &other),
                         KVSTORE_OK);
        kvstore_keys_free(other);

        cursor = next_page(b, "k", cursor, 50, seen, N, &count);
        total += (int)count;
    }
    assert_int_equal(total, N);
}

/* Keys deleted and added during a walk never make one walk repeat a key
 * and never hide a key that exists throughout. */
static void walk_with_concurrent_writes(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    int seen[2 * N] = {0};
    char *cursor = NULL;
    size_t count;
    int pages = 0;

    fill(b, N);
    do {
        char key[16];

        cursor = next_page(b, NULL, cursor, 10, seen, 2 * N, &count);
        /* Add one key ahead and delete one odd key per page. */
        snprintf(key, sizeof(key), "k%03d", N + pages);
        set_str(b, key, "v");
        snprintf(key, sizeof(key), "k%03d", 2 * pages + 1);
        assert_int_equal(kvstore_delete(b, key), KVSTORE_OK);
        pages++;
    } while (cursor);
    /* Even keys were never deleted: each was listed. */
    for (int i = 0; i < N; i += 2)
        assert_int_equal(seen[i], 1);
}

/* An empty bucket and a prefix with no keys give one empty last page. */
static void empty_listing(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;

    assert_false(expect_page(b, NULL, NULL, 0, 0, NULL));
    set_str(b, "a", "v");
    assert_false(expect_page(b, "b", NULL, 0, 0, NULL));
}

/* A cursor around `state` for `bucket` of the memory store `store_id`
 * ("memory:" for a private store) in the envelope the core gives version
 * 2 tables (tests/support/net.h): a cursor the backend did not produce
 * but the envelope accepts, as a guest could forge. */
static char *forge(const char *store_id, const char *bucket,
                   const char *state)
{
    net_bind("memory", store_id);
    return net_wrap(bucket, state, strlen(state));
}

static void forged_cursors(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    kvstore_bucket *other = open_bucket(t->s, "forge2");
    kvstore_keys *page = NULL;
    char *real, *c, buf[4200];
    size_t len;

    fill(b, 30);
    fill(other, 30);
    assert_int_equal(kvstore_list_keys(other, NULL, NULL, 5, &page),
                     KVSTORE_OK);
    real = strdup(page->cursor);
    kvstore_keys_free(page);

    /* Garbage, truncated, altered, another bucket's. */
    cursor_refused(b, NULL, "garbage", "forged");
    cursor_refused(b, NULL, "", "forged");
    cursor_refused(b, NULL, real, "forged");
    len = strlen(real);
    snprintf(buf, sizeof(buf), "%.*s", (int)(len - 1), real);
    cursor_refused(b, NULL, buf, "forged");
    cursor_refused(other, NULL, buf, "forged");
    snprintf(buf, sizeof(buf), "%s", real);
    buf[len / 2] = buf[len / 2] == '0' ? '1' : '0';
    cursor_refused(other, NULL, buf, "forged");
    memset(buf, 'f', 4000);
    buf[4000] = '\0';
    cursor_refused(b, NULL, buf, "forged");

    /* Well wrapped but not a memory state: a v1 envelope, another
     * format, no token digits, no key, invalid UTF-8, a key over 1024
     * bytes. */
    {
        char st[1100];

        c = NULL;
        assert_int_equal(kvstore_cursor_encode(&c, "forge", "w1", 2),
                         KVSTORE_OK);
        cursor_refused(b, NULL, c, "forged");
        kvstore_free(c);
        static const char *const bad[] = {
            "x", "w2000000000000000a:k001", "w1000000000000000a",
            "w1000000000000000a:", "w1zz00000000000000:k001",
            "w1000000000000000a:k\xff",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
            c = forge("memory:", "forge", bad[i]);
            cursor_refused(b, NULL, c, "forged");
            free(c);
        }
        snprintf(st, sizeof(st), "w1000000000000000a:");
        memset(st + 19, 'k', 1025);
        st[19 + 1025] = '\0';
        c = forge("memory:", "forge", st);
        cursor_refused(b, NULL, c, "forged");
        free(c);

        /* A well-formed position with an unknown token is a valid
         * position: listing resumes after that key. */
        c = forge("memory:", "forge", "w1eeeeeeeeeeeeeeee:k027");
        assert_int_equal(kvstore_list_keys(b, NULL, c, 0, &page), KVSTORE_OK);
        free(c);
        assert_int_equal(page->count, 2);
        assert_string_equal(page->keys[0], "k028");
        assert_string_equal(page->keys[1], "k029");
        assert_null(page->cursor);
        kvstore_keys_free(page);

        /* The other bucket's live walk token, presented to this bucket
         * with a key of that bucket's: this bucket's keys only. */
        set_str(other, "zz-other-only", "v");
        assert_int_equal(kvstore_list_keys(other, NULL, NULL, 3, &page),
                         KVSTORE_OK);
        assert_non_null(page->cursor);
        /* Its state, unwrapped: "c2" hex(state) "." sum. */
        {
            const char *hx = page->cursor + 2;
            size_t i = 0;
            for (; hx[2 * i] != '.' && i + 1 < sizeof(st); i++) {
                unsigned v;
                assert_int_equal(sscanf(hx + 2 * i, "%2x", &v), 1);
                st[i] = (char)v;
            }
            st[i] = '\0';
        }
        kvstore_keys_free(page);
        assert_int_equal(strncmp(st, "w1", 2), 0);
        assert_int_equal(st[18], ':');
        memcpy(st + 19, "k000", 5);
        c = forge("memory:", "forge", st);
        for (int tok = 0; tok < 2; tok++) {
            assert_int_equal(kvstore_list_keys(b, NULL, c, 0, &page),
                             KVSTORE_OK);
            for (size_t i = 0; i < page->count; i++)
                assert_string_not_equal(page->keys[i], "zz-other-only");
            assert_int_equal(page->count, 29);
            kvstore_keys_free(page);
        }
        free(c);
    }

    /* The real cursor still works in its own bucket. */
    expect_page(other, NULL, real, 0, 25, "k005");
    free(real);
    kvstore_bucket_close(other);
}

/* Enough keys that every stripe's table doubles many times: all are read
 * back, listed once each in order, and gone after deletion. */
static void many_keys(void **state)
{
    enum { MANY = 20000 };
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    char key[32];
    walk_order order = {0};

    for (int i = 0; i < MANY; i++) {
        snprintf(key, sizeof(key), "m%d", i);
        set_str(b, key, key);
    }
    for (int i = 0; i < MANY; i++) {
        snprintf(key, sizeof(key), "m%d", i);
        expect_str(b, key, key);
    }
    walk_all(b, NULL, NULL, 0, walk_ordered, &order);
    assert_int_equal(order.keys, MANY);
    for (int i = 0; i < MANY; i++) {
        snprintf(key, sizeof(key), "m%d", i);
        assert_int_equal(kvstore_delete(b, key), KVSTORE_OK);
    }
    expect_page(b, NULL, NULL, 0, 0, NULL);
}

/* Listings of an unchanged bucket may share a snapshot (the walk helper's
 * key-space version); any key added or removed, or expired, shows at once
 * in the next listing. */
typedef struct must_see {
    const char *must; /* NULL: none */
    bool seen;
    size_t n;
} must_see;

static void look_for(void *arg, const char *key)
{
    must_see *m = arg;
    if (m->must && strcmp(key, m->must) == 0)
        m->seen = true;
    m->n++;
}

static size_t count_all(kvstore_bucket *b, const char *must, bool *seen)
{
    must_see m = {must, false, 0};
    walk_all(b, NULL, NULL, 40, look_for, &m);
    *seen = m.seen;
    return m.n;
}

static void listing_follows_changes(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    kvstore_bucket *b2 = open_bucket(t->s, "changes");
    bool seen;

    fill(b, 100);
    assert_int_equal(count_all(b, NULL, &seen), 100);
    assert_int_equal(count_all(b, NULL, &seen), 100);
    /* A value rewrite changes no key: the listing is the same. */
    set_str(b, "k050", "new value");
    assert_int_equal(count_all(b, "k050", &seen), 100);
    assert_true(seen);
    /* A key added through another handle shows in the next listing. */
    set_str(b2, "k0505", "v");
    assert_int_equal(count_all(b, "k0505", &seen), 101);
    assert_true(seen);
    assert_int_equal(kvstore_delete(b2, "k0505"), KVSTORE_OK);
    assert_int_equal(count_all(b, "k0505", &seen), 100);
    assert_false(seen);
    /* Delete then re-add: the same count, the key present. */
    assert_int_equal(kvstore_delete(b, "k000"), KVSTORE_OK);
    assert_int_equal(count_all(b, "k000", &seen), 99);
    assert_false(seen);
    set_str(b, "k000", "v");
    assert_int_equal(count_all(b, "k000", &seen), 100);
    assert_true(seen);
    /* A key that expires leaves the listing without any write (set_ttl
     * of an existing key rewrites it in place: no key is added). */
    assert_int_equal(kvstore_set_ttl(b, "k001", "v", 1, 1), KVSTORE_OK);
    struct timespec ts = { 0, 30 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    assert_int_equal(count_all(b, "k001", &seen), 99);
    assert_false(seen);
    kvstore_bucket_close(b2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        MEMORY_TEST(byte_order_and_prefix),
        cmocka_unit_test(cursor_survives_reopen),
        MEMORY_TEST(walk_across_snapshot_change),
        MEMORY_TEST(walk_with_concurrent_writes),
        MEMORY_TEST(empty_listing),
        STORE_TEST(forged_cursors, "memory:", "forge"),
        STORE_TEST(listing_follows_changes, "memory:", "changes"),
        MEMORY_TEST(many_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
