/*
 * Cursors forged to reach another bucket or store. The envelope's
 * checksum (src/cursor.c) is public, not a secret: anyone can wrap any
 * state for any bucket name with kvstore_cursor_encode. So the test takes
 * a real cursor of a walk in bucket "theirs", re-wraps its state for
 * bucket "mine", and also replays it in another store that has a bucket
 * named "theirs": every answer must be EINVAL or a page of the bucket the
 * call was made on. Run for every built-in backend.
 *
 * SPDX-License-Identifier: MIT
 */
#include <kvstore/backend.h>

#include "support.h"

#define NKEYS 50

static void fill(kvstore_bucket *b, const char *tag)
{
    char key[32];

    for (int i = 0; i < NKEYS; i++) {
        snprintf(key, sizeof key, "%s/%02d", tag, i);
        set_str(b, key, tag);
    }
}

/* Lists `b` from `cursor` to the end (at most 100 pages); every key must
 * start with "tag/". Returns the number of keys, or -1 if the first call
 * was refused with EINVAL. */
static int walk_only(kvstore_bucket *b, const char *prefix,
                     const char *cursor, const char *tag)
{
    char *cur = cursor ? strdup(cursor) : NULL;
    size_t tlen = strlen(tag);
    int total = 0;

    for (int page_no = 0; page_no < 100; page_no++) {
        kvstore_keys *page = NULL;
        int rc = kvstore_list_keys(b, prefix, cur, 7, &page);
        if (rc == KVSTORE_EINVAL && page_no == 0) {
            free(cur);
            return -1;
        }
        if (rc != KVSTORE_OK)
            fail_msg("list: %s", kvstore_errmsg());
        for (size_t i = 0; i < page->count; i++) {
            if (strncmp(page->keys[i], tag, tlen) != 0 ||
                page->keys[i][tlen] != '/')
                fail_msg("key '%s' of another bucket listed in '%s'",
                         page->keys[i], tag);
            total++;
        }
        free(cur);
        cur = page->cursor ? strdup(page->cursor) : NULL;
        kvstore_keys_free(page);
        if (cur == NULL)
            return total;
    }
    fail_msg("walk does not end");
    return total;
}

/* The first cursor of a walk of `b` (limit 7, so the walk is cached). */
static char *first_cursor(kvstore_bucket *b)
{
    kvstore_keys *page = NULL;

    assert_int_equal(kvstore_list_keys(b, NULL, NULL, 7, &page), KVSTORE_OK);
    assert_non_null(page->cursor);
    char *c = strdup(page->cursor);
    kvstore_keys_free(page);
    return c;
}

/* The checksum of a version 2 envelope ("c2", src/cursor.c): FNV-1a 64
 * over the backend name, the store identity (the URI without parameters
 * or credentials), the bucket name, each with its NUL, then the state. */
static uint64_t sum_v2(const char *uri, const char *bucket, const char *state)
{
    char scheme[64], id[4200];
    const char *parts[4] = { scheme, id, bucket, state };
    uint64_t h = 0xcbf29ce484222325ULL;

    snprintf(scheme, sizeof scheme, "%.*s", (int)strcspn(uri, ":"), uri);
    snprintf(id, sizeof id, "%.*s", (int)strcspn(uri, "?"), uri);
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(parts[i]) + (i < 3);
        for (size_t j = 0; j < n; j++) {
            h ^= (unsigned char)parts[i][j];
            h *= 0x100000001b3ULL;
        }
    }
    return h;
}

/* Re-wraps a cursor of bucket `from` of the store at `uri` for bucket
 * `to`, optionally with its last key replaced by `after`: the key follows
 * a 9-byte header in the version 1 memory and file states, and the
 * 19-byte "w1<token>:" of the core's walk helper (kvstore_walks) in
 * version 2 states. */
static char *rewrap(const char *uri, const char *cursor, const char *from,
                    const char *to, const char *after)
{
    char state[KVSTORE_CURSOR_STATE_MAX + 1];
    size_t len = 0;
    char *out = NULL;

    if (strncmp(cursor, "c2", 2) == 0) {
        static const char hex[] = "0123456789abcdef";
        const char *hx = cursor + 2;
        for (; hx[2 * len] != '.' && len < KVSTORE_CURSOR_STATE_MAX; len++) {
            unsigned v;
            assert_int_equal(sscanf(hx + 2 * len, "%2x", &v), 1);
            state[len] = (char)v;
        }
        state[len] = '\0';
        if (after && len >= 19 && strncmp(state, "w1", 2) == 0) {
            snprintf(state + 19, sizeof state - 19, "%s", after);
            len = strlen(state);
        }
        uint64_t h = sum_v2(uri, to, state);
        char *c = malloc(2 + 2 * len + 1 + 16 + 1), *p = c;
        assert_non_null(c);
        *p++ = 'c';
        *p++ = '2';
        for (size_t i = 0; i < len; i++) {
            *p++ = hex[(unsigned char)state[i] >> 4];
            *p++ = hex[state[i] & 15];
        }
        *p++ = '.';
        for (int i = 15; i >= 0; i--) {
            p[i] = hex[h & 15];
            h >>= 4;
        }
        p[16] = '\0';
        return c;
    }
    assert_int_equal(kvstore_cursor_decode(cursor, from, state, sizeof state,
                                           &len), KVSTORE_OK);
    if (after && len >= 9) {
        memcpy(state + 9, after, strlen(after));
        len = 9 + strlen(after);
    }
    assert_int_equal(kvstore_cursor_encode(&out, to, state, len), KVSTORE_OK);
    char *copy = strdup(out);
    kvstore_free(out);
    return copy;
}

static void check_backend(const char *uri1, const char *uri2)
{
    kvstore_store *s1 = open_uri(uri1), *s2 = open_uri(uri2);
    kvstore_bucket *mine = open_bucket(s1, "mine");
    kvstore_bucket *theirs = open_bucket(s1, "theirs");
    kvstore_bucket *twin = open_bucket(s2, "theirs"); /* same name */

    fill(mine, "mine");
    fill(theirs, "theirs");
    fill(twin, "twin");

    /* Their live walk, re-wrapped for my bucket: my keys or EINVAL. */
    char *theirs_cur = first_cursor(theirs);
    char *forged = rewrap(uri1, theirs_cur, "theirs", "mine", NULL);
    int n = walk_only(mine, NULL, forged, "mine");
    assert_true(n == -1 || n <= NKEYS);
    n = walk_only(mine, "theirs/", forged, "mine");
    assert_true(n == -1 || n == 0);
    free(forged);
    /* Positioned before every key, it lists all of mine, no more. Both
     * built-in backends accept the forged state (a foreign walk id is
     * just not found, so the walk restarts after the cursor's key in this
     * bucket): this is the path where isolation must come from the
     * backend, not from the envelope. */
    forged = rewrap(uri1, theirs_cur, "theirs", "mine", "a");
    n = walk_only(mine, NULL, forged, "mine");
    assert_int_equal(n, NKEYS);
    free(forged);

    /* The same cursor in another store whose bucket has the same name:
     * the envelope is valid there, the walk it names is not. */
    n = walk_only(twin, NULL, theirs_cur, "twin");
    assert_true(n == -1 || n <= NKEYS);

    /* And the real walk still works and sees only its own keys. */
    n = walk_only(theirs, NULL, theirs_cur, "theirs");
    assert_int_equal(n, NKEYS - 7);
    free(theirs_cur);

    kvstore_bucket_close(twin);
    kvstore_bucket_close(theirs);
    kvstore_bucket_close(mine);
    kvstore_close(s2);
    kvstore_close(s1);
}

static void memory_foreign_cursors(void **state)
{
    (void)state;
    check_backend("memory:", "memory:");
    check_backend("memory:sec-cursor-a", "memory:sec-cursor-b");
}

static void file_foreign_cursors(void **state)
{
    (void)state;
    char *dir = tmp_new();
    char u1[4200], u2[4200];

    snprintf(u1, sizeof u1, "file://%s/one?sync=false", dir);
    snprintf(u2, sizeof u2, "file://%s/two?sync=false", dir);
    check_backend(u1, u2);
    tmp_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memory_foreign_cursors),
        cmocka_unit_test(file_foreign_cursors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
