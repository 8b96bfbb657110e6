/*
 * Conformance: listing with prefixes, limits and cursors (API.md 6).
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Asserts that `seen` holds each "<prefix><i>", i < n, the right number
 * of times, and nothing else. */
static void check_all(const conf_set *seen, const char *prefix, size_t n)
{
    char name[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s%zu", prefix, i);
        unsigned k = conf_set_count(seen, name);
        if (k == 0)
            fail_msg("walk missed key %s", name);
        if (k > 1 && !conf_list_repeats)
            fail_msg("walk returned key %s %u times", name, k);
    }
    if (conf_set_size(seen) != n)
        fail_msg("walk returned %zu distinct keys, expected %zu",
                 conf_set_size(seen), n);
}

/* Walks all of `b` under `prefix` with `limit` and checks that it holds
 * exactly "<keys><i>", i < n (check_all). Returns the number of pages. */
static size_t walk_check(kvstore_bucket *b, const char *prefix, size_t limit,
                         const char *keys, size_t n)
{
    conf_set *seen = conf_set_new();
    size_t pages = conf_walk(b, prefix, NULL, limit, seen);
    check_all(seen, keys, n);
    conf_set_free(seen);
    return pages;
}

void test_list_empty_bucket(void **state)
{
    conf_ctx *c = *state;
    kvstore_keys *page = NULL;
    assert_int_equal(kvstore_list_keys(c->bucket, NULL, NULL, 10, &page),
                     KVSTORE_OK);
    assert_non_null(page);
    assert_int_equal(page->count, 0);
    kvstore_keys_free(page);
    conf_set *seen = conf_set_new();
    conf_walk(c->bucket, "", NULL, 10, seen);
    assert_int_equal(conf_set_size(seen), 0);
    conf_set_free(seen);
}

/* Lists `prefix` and compares with the expected keys. */
static void expect_prefix(kvstore_bucket *b, const char *prefix,
                          const char *const *want, size_t n)
{
    conf_set *seen = conf_list_all(b, prefix);
    for (size_t i = 0; i < n; i++)
        if (conf_set_count(seen, want[i]) == 0)
            fail_msg("prefix \"%s\": key \"%s\" missing", prefix, want[i]);
    if (conf_set_size(seen) != n)
        fail_msg("prefix \"%s\": %zu keys, expected %zu", prefix,
                 conf_set_size(seen), n);
    conf_set_free(seen);
}

void test_list_prefix_bytewise(void **state)
{
    conf_ctx *c = *state;
    static const char *const keys[] = {
        "a", "ab", "abc", "b", "A", "a/b", "\xc3\xa9", "\xc3\xa9\x61",
        "\xc3\xa8",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(kvstore_set(c->bucket, keys[i], "v", 1), KVSTORE_OK);
    expect_prefix(c->bucket, "a", (const char *[]){ "a", "ab", "abc", "a/b" },
                  4);
    expect_prefix(c->bucket, "ab", (const char *[]){ "ab", "abc" }, 2);
    expect_prefix(c->bucket, "abc", (const char *[]){ "abc" }, 1);
    expect_prefix(c->bucket, "abcd", NULL, 0);
    expect_prefix(c->bucket, "A", (const char *[]){ "A" }, 1);
    expect_prefix(c->bucket, "a/", (const char *[]){ "a/b" }, 1);
    expect_prefix(c->bucket, "\xc3\xa9",
                  (const char *[]){ "\xc3\xa9", "\xc3\xa9\x61" }, 2);
    expect_prefix(c->bucket, "", keys, sizeof keys / sizeof keys[0]);
    expect_prefix(c->bucket, NULL, keys, sizeof keys / sizeof keys[0]);
}

void test_list_prefix_literal(void **state)
{
    conf_ctx *c = *state;
    /* Glob, regex, LIKE and escape characters are plain bytes in a
     * prefix: "*" must not list everything. */
    static const char *const keys[] = {
        "*x", "a*", "?x", "[ab]x", "ax", "bx", "%x", "_x", "\\x", ".x", "x",
        ">x", "^x", "$x", "a.b", "aXb",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(kvstore_set(c->bucket, keys[i], "v", 1), KVSTORE_OK);
    /* Prefix => the one key it lists. */
    static const char *const one[][2] = {
        { "*", "*x" }, { "?", "?x" }, { "[", "[ab]x" }, { "[ab]", "[ab]x" },
        { "%", "%x" }, { "_", "_x" }, { "\\", "\\x" }, { ".", ".x" },
        { ">", ">x" }, { "^", "^x" }, { "$", "$x" }, { "a.", "a.b" },
    };
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
        expect_prefix(c->bucket, one[i][0], &one[i][1], 1);
    expect_prefix(c->bucket, "a", (const char *[]){ "a*", "ax", "a.b", "aXb" },
                  4);
}

void test_list_prefix_invalid(void **state)
{
    conf_ctx *c = *state;
    kvstore_keys *page = (kvstore_keys *)1;
    assert_fails(kvstore_list_keys(c->bucket, "\xff", NULL, 10, &page),
                 KVSTORE_EINVAL);
    assert_null(page);
    assert_fails(kvstore_list_keys(c->bucket, "a\xc3", NULL, 10, &page),
                 KVSTORE_EINVAL);
    assert_fails(kvstore_list_keys(c->bucket, "\xed\xa0\x80", NULL, 10, &page),
                 KVSTORE_EINVAL);
    char *p = malloc(KVSTORE_KEY_MAX + 2);
    assert_non_null(p);
    memset(p, 'p', KVSTORE_KEY_MAX + 1);
    p[KVSTORE_KEY_MAX + 1] = '\0';
    assert_fails(kvstore_list_keys(c->bucket, p, NULL, 10, &page),
                 KVSTORE_EINVAL);
    /* A prefix as long as the longest key is fine. */
    p[KVSTORE_KEY_MAX] = '\0';
    assert_int_equal(kvstore_set(c->bucket, p, "v", 1), KVSTORE_OK);
    expect_prefix(c->bucket, p, (const char *const *)&p, 1);
    free(p);
}

void test_list_limit_respected(void **state)
{
    conf_ctx *c = *state;
    conf_fill(c->bucket, "lim", 25);
    static const size_t limits[] = { 1, 2, 7, 10, 24, 25, 26, 1000 };
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        size_t pages = walk_check(c->bucket, NULL, limits[i], "lim", 25);
        /* conf_walk checked every page against the limit; so many keys
         * need at least this many pages. */
        assert_true(pages >= (25 + limits[i] - 1) / limits[i]);
    }
}

/* Fills the fixture's bucket with "<keys><i>", i < n, and walk_check()s
 * all of it with `limit`. Returns the number of pages. */
static size_t fill_and_walk(conf_ctx *c, const char *keys, size_t n,
                            size_t limit)
{
    conf_fill(c->bucket, keys, n);
    return walk_check(c->bucket, NULL, limit, keys, n);
}

void test_list_limit_zero(void **state)
{
    /* conf_walk caps limit 0 pages at KVSTORE_PAGE_MAX. */
    assert_true(fill_and_walk(*state, "z", 1200, 0) >= 2);
}

/* KVSTORE_SECURITY_KEYS raises the key count of this walk (default 1200:
 * more than one page); docs/security.md records long runs. */
void test_list_limit_size_max(void **state)
{
    conf_ctx *c = *state;
    const char *env = getenv("KVSTORE_SECURITY_KEYS");
    size_t n = env ? strtoul(env, NULL, 10) : 0;
    if (n < 1200)
        n = 1200;
    conf_fill(c->bucket, "s", n);
    static const size_t limits[] = { SIZE_MAX, KVSTORE_PAGE_MAX + 1 };
    for (size_t i = 0; i < 2; i++) {
        size_t pages = walk_check(c->bucket, NULL, limits[i], "s", n);
        assert_true(pages >= 2 && pages >= n / KVSTORE_PAGE_MAX);
    }
}

void test_list_walk_2500(void **state)
{
    assert_true(fill_and_walk(*state, "walk/", 2500, 100) >= 25);
}

void test_list_walk_prefix(void **state)
{
    conf_ctx *c = *state;
    conf_fill(c->bucket, "p/", 300);
    conf_fill(c->bucket, "q/", 300);
    conf_fill(c->bucket, "pp", 50);
    walk_check(c->bucket, "p/", 50, "p/", 300);
}

/* Fills the fixture's bucket with 10 keys "<keys><i>" and returns the
 * cursor after a first page of 3 (free()). */
static char *filled_cursor(conf_ctx *c, const char *keys)
{
    conf_fill(c->bucket, keys, 10);
    return conf_first_cursor(c->bucket, NULL, 3);
}

void test_list_cursor_garbage(void **state)
{
    conf_ctx *c = *state;
    char *cur = filled_cursor(c, "g");
    static const char *const garbage[] = {
        "garbage", "", "x", "0", "1", "AAAA", "!!!!", "null", "-1",
        "99999999999999999999", "\x01", "\x7f", "\xc3\xa9", "a b", "\n",
        "%00", "../../etc/passwd",
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
        cursor_refused(c->bucket, NULL, garbage[i], "garbage");
    /* Over-long cursors, and a valid one with something appended. */
    size_t n = strlen(cur);
    char *big = malloc(KVSTORE_CURSOR_MAX + n + 16);
    assert_non_null(big);
    memset(big, 'A', KVSTORE_CURSOR_MAX + 10);
    big[KVSTORE_CURSOR_MAX + 10] = '\0';
    cursor_refused(c->bucket, NULL, big, "over-long");
    big[KVSTORE_CURSOR_MAX] = '\0';
    cursor_refused(c->bucket, NULL, big, "4096-byte");
    snprintf(big, n + 16, "%sA", cur);
    cursor_refused(c->bucket, NULL, big, "appended");
    snprintf(big, n + 16, "%s%s", cur, cur);
    cursor_refused(c->bucket, NULL, big, "doubled");
    snprintf(big, n + 16, "%s\n", cur);
    cursor_refused(c->bucket, NULL, big, "newline-terminated");
    free(big);
    /* The valid cursor still works after all that. */
    conf_set *seen = conf_set_new();
    conf_walk(c->bucket, NULL, cur, 3, seen);
    assert_true(conf_set_size(seen) >= 1);
    conf_set_free(seen);
    free(cur);
}

/* Fills the fixture's bucket (keys "<keys><i>") and checks that every
 * variant `refuse` makes of the cursor after its first page is refused. */
static void mutated_refused(conf_ctx *c, const char *keys,
                            void (*refuse)(kvstore_bucket *, const char *))
{
    char *cur = filled_cursor(c, keys);
    refuse(c->bucket, cur);
    free(cur);
}

static void refuse_truncated(kvstore_bucket *b, const char *cur)
{
    size_t n = strlen(cur);
    for (size_t k = 0; k < n; k++) {
        char *t = strndup(cur, k);
        assert_non_null(t);
        cursor_refused(b, NULL, t, "truncated");
        /* The tail alone is not a cursor either. */
        cursor_refused(b, NULL, cur + k + 1, "tail");
        free(t);
    }
}

void test_list_cursor_truncated(void **state)
{
    mutated_refused(*state, "t", refuse_truncated);
}

static void refuse_forged(kvstore_bucket *b, const char *cur)
{
    size_t n = strlen(cur);
    char *f = strdup(cur);
    assert_non_null(f);
    /* Every single-character change of a valid cursor is a forgery. */
    for (size_t i = 0; i < n; i++) {
        static const char subst[] = { 'A', 'z', '0', '_', '~' };
        for (size_t s = 0; s < sizeof subst; s++) {
            char alt = subst[s] != cur[i] ? subst[s] : (char)(subst[s] + 1);
            f[i] = alt;
            cursor_refused(b, NULL, f, "forged");
        }
        f[i] = cur[i];
    }
    /* Swapping two different neighbours is a forgery too. */
    for (size_t i = 0; i + 1 < n; i++) {
        if (cur[i] == cur[i + 1])
            continue;
        f[i] = cur[i + 1];
        f[i + 1] = cur[i];
        cursor_refused(b, NULL, f, "swapped");
        f[i] = cur[i];
        f[i + 1] = cur[i + 1];
    }
    free(f);
}

void test_list_cursor_forged(void **state)
{
    mutated_refused(*state, "f", refuse_forged);
}

void test_list_cursor_other_bucket(void **state)
{
    conf_ctx *c = *state;
    kvstore_bucket *other = conf_bucket_new(c->store, NULL);
    conf_fill(c->bucket, "o", 10);
    conf_fill(other, "o", 10);
    conf_cursors_not_shared(c->bucket, other, "another bucket's");
    conf_drop_bucket(other);
}

/* Lists the first page of `b` (limit 5) into `seen`; returns its cursor
 * (free()), which must be there. */
static char *first_page(kvstore_bucket *b, conf_set *seen)
{
    kvstore_keys *page = NULL;
    assert_int_equal(kvstore_list_keys(b, NULL, NULL, 5, &page), KVSTORE_OK);
    for (size_t i = 0; i < page->count; i++)
        conf_set_add(seen, page->keys[i]);
    assert_non_null(page->cursor);
    char *cur = strdup(page->cursor);
    assert_non_null(cur);
    kvstore_keys_free(page);
    return cur;
}

/* Walks the rest of `b` from `cur` (freed) into `seen` (freed), which
 * must then hold every key "x0".."x39" of the 40. */
static void rest_holds_all(kvstore_bucket *b, char *cur, conf_set *seen)
{
    conf_walk(b, NULL, cur, 5, seen);
    free(cur);
    check_all(seen, "x", 40);
    conf_set_free(seen);
}

/* Walks page 1 on `b1`, the rest from its cursor on `b2`: every key. */
static void walk_across(kvstore_bucket *b1, kvstore_bucket *b2)
{
    conf_set *seen = conf_set_new();
    char *cur = first_page(b1, seen);
    rest_holds_all(b2, cur, seen);
}

void test_list_cursor_reopened_bucket(void **state)
{
    conf_ctx *c = *state;
    conf_fill(c->bucket, "x", 40);
    walk_across(c->bucket, conf_second_bucket(c, c->store));
    /* Close and reopen between pages. */
    conf_set *seen = conf_set_new();
    char *cur = first_page(c->bucket, seen);
    kvstore_bucket_close(c->bucket);
    c->bucket = open_bucket(c->store, c->name);
    rest_holds_all(c->bucket, cur, seen);
}

void test_list_cursor_second_handle(void **state)
{
    conf_ctx *c = *state;
    kvstore_bucket *b2 = conf_second_bucket(c, conf_second_store(c));
    conf_fill(c->bucket, "x", 40);
    walk_across(c->bucket, b2);
}

void test_list_cursor_store_reopened(void **state)
{
    conf_ctx *c = *state;
    /* The handles that produced the cursor are closed before it is used.
     * A second store handle stays open throughout, since a named memory
     * store lives only while some handle does. */
    conf_second_store(c);
    conf_fill(c->bucket, "x", 40);
    conf_set *seen = conf_set_new();
    char *cur = first_page(c->bucket, seen);
    kvstore_bucket_close(c->bucket);
    kvstore_close(c->store);
    c->bucket = NULL;
    c->store = NULL;
    c->store = open_uri(conf_uri);
    c->bucket = open_bucket(c->store, c->name);
    rest_holds_all(c->bucket, cur, seen);
}

void test_list_null_args(void **state)
{
    conf_ctx *c = *state;
    kvstore_keys *page = (kvstore_keys *)1;
    assert_fails(kvstore_list_keys(NULL, NULL, NULL, 10, &page),
                 KVSTORE_EINVAL);
    assert_null(page);
    assert_fails(kvstore_list_keys(c->bucket, NULL, NULL, 10, NULL),
                 KVSTORE_EINVAL);
}
