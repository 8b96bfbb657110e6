/*
 * Unit tests: the sorted-walk helper for backends (kvstore_walks).
 *
 * A fake key space (an array of keys per scope, appended in a scrambled
 * order) is walked in pages and compared with a reference: the same keys
 * sorted by strcmp. Fill calls are counted to see when a snapshot is
 * served from the cache and when it is taken again.
 *
 * SPDX-License-Identifier: MIT
 */
#include <kvstore/backend.h>

#include "fx_memory.h"

#include <time.h>

typedef struct space {
    char **keys;
    size_t n;
    unsigned fills;
    int fail;          /* a code fill returns instead of keys, or 0 */
    const char *after; /* the `after` of the last fill call */
    bool had_after;
} space;

static int fill(void *ctx, const char *prefix, const char *after,
                kvstore_walk_sink *sink)
{
    space *sp = ctx;

    (void)prefix;
    sp->fills++;
    sp->had_after = after != NULL;
    if (sp->fail)
        return kvstore_set_error(sp->fail, "test: fill fails");
    int rc = kvstore_walk_reserve(sink, sp->n, 0);
    if (rc != KVSTORE_OK)
        return rc;
    /* Appends everything, prefix or not, in a scrambled order: the helper
     * must filter and sort. */
    for (size_t i = 0; i < sp->n; i++) {
        const char *k = sp->keys[(i * 7919) % sp->n];
        rc = kvstore_walk_add(sink, k, strlen(k));
        if (rc != KVSTORE_OK)
            return rc;
    }
    return KVSTORE_OK;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint64_t rng_state = 88172645463325252ULL;

/* n distinct keys, awkward for a head-based sort: a shared prefix, keys
 * that tie on their first 8 bytes after it, keys that are prefixes of
 * others, bytes above 0x7f (UTF-8). n must not be a multiple of 7919. */
static space make_space(size_t n, const char *pre)
{
    space sp = { 0 };

    if (n == 0)
        return sp;
    sp.keys = calloc(n, sizeof *sp.keys);
    assert_non_null(sp.keys);
    for (size_t i = 0; i < n; i++) {
        char buf[128];
        switch (i % 5) {
        case 0: snprintf(buf, sizeof buf, "%s%zu", pre, i); break;
        case 1: snprintf(buf, sizeof buf, "%stietietie-%06zu", pre, i); break;
        case 2: snprintf(buf, sizeof buf, "%s\xc3\xa9t\xc3\xa9-%zu", pre, i);
            break;
        case 3: snprintf(buf, sizeof buf, "%s%c", pre,
                         'a' + (int)(i / 5 % 26)); break;
        default:
            snprintf(buf, sizeof buf, "%s%c%zu-%llx", pre,
                     'A' + (int)(i % 26), i,
                     (unsigned long long)xorshift64(&rng_state));
        }
        /* Case 3 repeats after 26 rounds: make those distinct. */
        if (i % 5 == 3 && i / 5 >= 26)
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%zu", i);
        sp.keys[i] = strdup(buf);
        assert_non_null(sp.keys[i]);
    }
    sp.n = n;
    return sp;
}

static void free_space(space *sp)
{
    for (size_t i = 0; i < sp->n; i++)
        free(sp->keys[i]);
    free(sp->keys);
}

/* A test's walk cache and key space: WALK_TEST(test, keys, prefix,
 * max_walks, max_bytes, idle_ms) makes the space of make_space(keys,
 * prefix) and kvstore_walks_new(max_walks, max_bytes, idle_ms), and the
 * test reads them from *state. */
typedef struct walk_case {
    size_t keys;
    const char *prefix;
    size_t max_walks, max_bytes;
    uint64_t idle_ms;
} walk_case;

typedef struct walk_fx {
    kvstore_walks *w;
    space sp;
} walk_fx;

static int walk_setup(void **state)
{
    const walk_case *c = *state;
    walk_fx *fx = calloc(1, sizeof *fx);

    assert_non_null(fx);
    fx->sp = make_space(c->keys, c->prefix);
    fx->w = kvstore_walks_new(c->max_walks, c->max_bytes, c->idle_ms);
    assert_non_null(fx->w);
    *state = fx;
    return 0;
}

static int walk_teardown(void **state)
{
    walk_fx *fx = *state;

    kvstore_walks_free(fx->w);
    free_space(&fx->sp);
    free(fx);
    return 0;
}

#define WALK_TEST(test, ...)                                             \
    { .name = #test, .test_func = test, .setup_func = walk_setup,        \
      .teardown_func = walk_teardown,                                    \
      .initial_state = &(walk_case){ __VA_ARGS__ } }

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Walks `prefix` of `scope` in pages of `limit`; returns the keys in a
 * NULL-terminated array (caller frees, free_list) and counts them. No
 * cmocka assert, as worker threads call it too: on an error or a page
 * that breaks the contract it returns NULL and says why in *why. */
static char **walk_space(kvstore_walks *w, const char *scope, space *sp,
                         const char *prefix, size_t limit, size_t *count,
                         const char **why)
{
    size_t cap = sp->n + 1, n = 0;
    char **got = calloc(cap, sizeof *got);
    char *state = NULL;

    *why = got ? NULL : "out of memory";
    while (*why == NULL) {
        kvstore_keys *page = NULL;
        if (kvstore_walk_page(w, scope, prefix, state, limit, fill, sp,
                              &page) != KVSTORE_OK) {
            *why = "walk_page failed";
            break;
        }
        free(state);
        state = page->cursor ? strdup(page->cursor) : NULL;
        if (page->count > limit)
            *why = "page over the limit";
        else if (page->cursor && page->count == 0)
            *why = "empty page before the last";
        else if (page->cursor &&
                 strlen(page->cursor) > KVSTORE_CURSOR_STATE_MAX)
            *why = "state over KVSTORE_CURSOR_STATE_MAX";
        else if (n + page->count > sp->n)
            *why = "more keys than the space holds";
        for (size_t i = 0; *why == NULL && i < page->count; i++)
            got[n++] = strdup(page->keys[i]);
        kvstore_keys_free(page);
        if (state == NULL)
            break;
    }
    free(state);
    *count = n;
    if (*why == NULL)
        return got;
    free_list(got, n);
    return NULL;
}

/* How many snapshots the cache holds. */
static size_t cached_of(kvstore_walks *w)
{
    size_t cached;

    kvstore_walks_stats(w, &cached, NULL);
    return cached;
}

/* A walk of `n` keys "pre/..." under `prefix` in pages of `limit` lists
 * exactly the keys under the prefix in strcmp order, from one snapshot
 * that its last page drops. Failures name the case. */
static void check_walk(size_t n, const char *prefix, size_t limit)
{
    space sp = make_space(n, "pre/");
    kvstore_walks *w = kvstore_walks_new(0, 0, 0);
    size_t plen = strlen(prefix), want = 0, got_n;
    char **ref = calloc(n + 1, sizeof *ref);

    assert_non_null(w);
    assert_non_null(ref);
    for (size_t i = 0; i < n; i++)
        if (strncmp(sp.keys[i], prefix, plen) == 0)
            ref[want++] = sp.keys[i];
    qsort(ref, want, sizeof *ref, cmp);

    const char *why;
    char **got = walk_space(w, "b", &sp, prefix, limit, &got_n, &why);
    if (got == NULL)
        fail_msg("%zu keys, prefix '%s', pages of %zu: %s", n, prefix, limit,
                 why);
    if (got_n != want)
        fail_msg("%zu keys, prefix '%s', pages of %zu: %zu listed, "
                 "expected %zu", n, prefix, limit, got_n, want);
    for (size_t i = 0; i < want; i++)
        if (strcmp(got[i], ref[i]) != 0)
            fail_msg("%zu keys, prefix '%s', pages of %zu: key %zu is '%s', "
                     "expected '%s'", n, prefix, limit, i, got[i], ref[i]);
    size_t cached = cached_of(w);
    if (sp.fills != 1 || cached != 0)
        fail_msg("%zu keys, prefix '%s', pages of %zu: %u fills, %zu "
                 "snapshots left", n, prefix, limit, sp.fills, cached);

    free_list(got, got_n);
    free(ref);
    kvstore_walks_free(w);
    free_space(&sp);
}

/* Whole walks, in pages of every size, and prefixes that select some,
 * multi-byte, very few or no keys. */
static void test_order(void **state)
{
    static const struct {
        size_t n;
        const char *prefix;
        size_t limit;
    } cases[] = {
        { 1000, "", 7 },
        { 1000, "", 1000 },
        { 5003, "", 1 },
        { 1, "", 10 },
        { 3001, "pre/t", 13 },
        { 3001, "pre/\xc3\xa9", 100 },
        { 3001, "pre/tietietie-0000", 3 },
        { 3001, "nothing", 3 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_walk(cases[i].n, cases[i].prefix, cases[i].limit);
}

/* The first page of a new walk of `scope` (every key) in pages of
 * `limit`, filled by `fn` with `ctx`; fails the test on an error. */
static kvstore_keys *first_page(kvstore_walks *w, const char *scope,
                                size_t limit, kvstore_walk_fill_fn fn,
                                void *ctx)
{
    kvstore_keys *page = NULL;

    assert_ok(kvstore_walk_page(w, scope, "", NULL, limit, fn, ctx, &page));
    assert_non_null(page);
    return page;
}

static void test_empty_space(void **state)
{
    walk_fx *fx = *state;
    kvstore_keys *page = first_page(fx->w, "b", 10, fill, &fx->sp);

    assert_int_equal(page->count, 0);
    assert_null(page->cursor);
    kvstore_keys_free(page);
}

static int fill_dups(void *ctx, const char *prefix, const char *after,
                     kvstore_walk_sink *sink)
{
    static const char *const keys[] = { "b", "a", "b", "c", "a", "b",
                                        "abcdefghij1", "abcdefghij1" };
    (void)ctx; (void)prefix; (void)after;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        assert_int_equal(kvstore_walk_add(sink, keys[i], strlen(keys[i])),
                         KVSTORE_OK);
    return KVSTORE_OK;
}

static void test_duplicates_dropped(void **state)
{
    walk_fx *fx = *state;
    kvstore_keys *page = first_page(fx->w, "b", 100, fill_dups, NULL);

    assert_int_equal(page->count, 4);
    assert_string_equal(page->keys[0], "a");
    assert_string_equal(page->keys[1], "abcdefghij1");
    assert_string_equal(page->keys[2], "b");
    assert_string_equal(page->keys[3], "c");
    kvstore_keys_free(page);
}

static void test_unknown_token_resumes_after_key(void **state)
{
    walk_fx *fx = *state;
    kvstore_walks *w = fx->w;
    space *sp = &fx->sp;
    kvstore_keys *p1 = first_page(w, "b", 10, fill, sp), *p2 = NULL;
    char forged[64 + KVSTORE_KEY_MAX];

    assert_non_null(p1->cursor);
    /* The same position under a token nobody issued. */
    snprintf(forged, sizeof forged, "w1%016x:%s", 0x1234u,
             p1->keys[p1->count - 1]);
    assert_int_equal(kvstore_walk_page(w, "b", "", forged, 10, fill, sp,
                                       &p2), KVSTORE_OK);
    assert_int_equal(sp->fills, 2);
    assert_true(sp->had_after);
    assert_true(p2->count > 0);
    assert_true(strcmp(p2->keys[0], p1->keys[p1->count - 1]) > 0);
    /* A fresh walk, so a new token. */
    assert_non_null(p2->cursor);
    assert_true(strncmp(p2->cursor, forged, 18) != 0);
    kvstore_keys_free(p1);
    kvstore_keys_free(p2);
}

static void test_state_of_other_scope_never_serves_it(void **state)
{
    walk_fx *fx = *state;
    kvstore_walks *w = fx->w;
    space *a = &fx->sp;
    space b = make_space(50, "b-");
    kvstore_keys *pa = first_page(w, "A", 5, fill, a), *pb = NULL;

    assert_non_null(pa->cursor);
    /* A's state (valid token) presented for scope B: B's keys only. */
    assert_int_equal(kvstore_walk_page(w, "B", "", pa->cursor, 100, fill, &b,
                                       &pb), KVSTORE_OK);
    assert_int_equal(b.fills, 1);
    for (size_t i = 0; i < pb->count; i++)
        assert_memory_equal(pb->keys[i], "b-", 2);
    assert_int_equal(pb->count, 50); /* "a-..." < every "b-" key */
    kvstore_keys_free(pb);
    /* Same scope, other prefix: not served from the snapshot either. */
    assert_int_equal(kvstore_walk_page(w, "A", "a-1", pa->cursor, 100, fill,
                                       a, &pb), KVSTORE_OK);
    assert_int_equal(a->fills, 2);
    for (size_t i = 0; i < pb->count; i++)
        assert_memory_equal(pb->keys[i], "a-1", 3);
    kvstore_keys_free(pb);
    kvstore_keys_free(pa);
    free_space(&b);
}

static void test_malformed_states(void **state)
{
    walk_fx *fx = *state;
    kvstore_walks *w = fx->w;
    space *sp = &fx->sp;
    static const char *const bad[] = {
        "", "w1", "w2000000000000000a:k", "x1000000000000000a:k",
        "w1000000000000000A:k", "w1000000000000000a", "w1000000000000000a:",
        "w1000000000000000ak", "w100000000000000a:k", "w1 000000000000000:k",
        "w1000000000000000a:\xff", "w1000000000000000a:\xc3",
    };
    char longkey[19 + KVSTORE_KEY_MAX + 2];

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kvstore_keys *page = (kvstore_keys *)sp; /* must be reset */
        assert_int_equal(kvstore_walk_page(w, "b", "", bad[i], 10, fill, sp,
                                           &page), KVSTORE_EINVAL);
        assert_null(page);
    }
    /* A key longer than KVSTORE_KEY_MAX. */
    memcpy(longkey, "w1000000000000000a:", 19);
    memset(longkey + 19, 'k', KVSTORE_KEY_MAX + 1);
    longkey[19 + KVSTORE_KEY_MAX + 1] = '\0';
    kvstore_keys *page = NULL;
    assert_int_equal(kvstore_walk_page(w, "b", "", longkey, 10, fill, sp,
                                       &page), KVSTORE_EINVAL);
    assert_int_equal(sp->fills, 0);
}

static void test_fill_error_and_bad_args(void **state)
{
    walk_fx *fx = *state;
    kvstore_walks *w = fx->w;
    space *sp = &fx->sp;
    kvstore_keys *page = NULL;

    sp->fail = KVSTORE_EIO;
    assert_int_equal(kvstore_walk_page(w, "b", "", NULL, 10, fill, sp,
                                       &page), KVSTORE_EIO);
    assert_null(page);
    assert_string_equal(kvstore_errmsg(), "test: fill fails");
    assert_int_equal(kvstore_walk_page(NULL, "b", "", NULL, 10, fill, sp,
                                       &page), KVSTORE_EINVAL);
    assert_int_equal(kvstore_walk_page(w, "b", "", NULL, 0, fill, sp,
                                       &page), KVSTORE_EINVAL);
    assert_int_equal(kvstore_walk_page(w, "b", "", NULL, 1, NULL, sp,
                                       &page), KVSTORE_EINVAL);
    assert_int_equal(kvstore_walk_add(NULL, "k", 1), KVSTORE_EINVAL);
    assert_int_equal(kvstore_walk_reserve(NULL, 1, 1), KVSTORE_EINVAL);
    kvstore_walks_free(NULL);
}

static int fill_invalid(void *ctx, const char *prefix, const char *after,
                        kvstore_walk_sink *sink)
{
    char big[KVSTORE_KEY_MAX + 1];
    (void)ctx; (void)prefix; (void)after;
    memset(big, 'k', sizeof big);
    assert_int_equal(kvstore_walk_add(sink, "", 0), KVSTORE_EINVAL);
    assert_int_equal(kvstore_walk_add(sink, "a\0b", 3), KVSTORE_EINVAL);
    /* A NUL in the word-at-a-time part of the check, and bytes around
     * 0x01 and 0x80 that must not look like one. */
    assert_int_equal(kvstore_walk_add(sink, "abcdefghi\0klmnop", 16),
                     KVSTORE_EINVAL);
    assert_int_equal(kvstore_walk_add(sink, "abcdefg\0", 8), KVSTORE_EINVAL);
    assert_int_equal(kvstore_walk_add(sink, "\x01\x81\x01\x80\xff\x7f\x01"
                                            "\x02\x01\x81", 10),
                     KVSTORE_OK);
    assert_int_equal(kvstore_walk_add(sink, big, sizeof big), KVSTORE_EINVAL);
    assert_int_equal(kvstore_walk_add(sink, big, sizeof big - 1), KVSTORE_OK);
    return KVSTORE_OK;
}

static void test_add_rejects_non_keys(void **state)
{
    walk_fx *fx = *state;
    kvstore_keys *page = first_page(fx->w, "b", 10, fill_invalid, NULL);

    assert_int_equal(page->count, 2);
    assert_int_equal(strlen(page->keys[0]), 10);
    assert_int_equal(strlen(page->keys[1]), KVSTORE_KEY_MAX);
    kvstore_keys_free(page);
}

/* Starts a walk of `scope` over the fixture's space and returns its
 * first page's state (caller frees). */
static char *start(walk_fx *fx, const char *scope)
{
    kvstore_keys *page = first_page(fx->w, scope, 3, fill, &fx->sp);
    char *s;

    assert_non_null(page->cursor);
    s = strdup(page->cursor);
    kvstore_keys_free(page);
    return s;
}

/* The next page of the walk of `scope` at state `st`: three keys. */
static void next_page(walk_fx *fx, const char *scope, const char *st)
{
    kvstore_keys *page = NULL;
    assert_int_equal(kvstore_walk_page(fx->w, scope, "", st, 3, fill,
                                       &fx->sp, &page), KVSTORE_OK);
    assert_int_equal(page->count, 3);
    kvstore_keys_free(page);
}

static void test_eviction_by_count(void **state)
{
    walk_fx *fx = *state;
    char *s1 = start(fx, "b"), *s2 = start(fx, "b");

    next_page(fx, "b", s1);             /* s1 is now the most recent */
    assert_int_equal(fx->sp.fills, 2);
    char *s3 = start(fx, "b");          /* evicts s2 */
    assert_int_equal(cached_of(fx->w), 2);
    next_page(fx, "b", s1);
    next_page(fx, "b", s3);
    assert_int_equal(fx->sp.fills, 3);
    next_page(fx, "b", s2);             /* retaken */
    assert_int_equal(fx->sp.fills, 4);
    free(s1); free(s2); free(s3);
}

static void test_eviction_by_bytes(void **state)
{
    walk_fx *fx = *state;
    size_t cached, bytes;
    char *s1 = start(fx, "b");

    /* A snapshot over the byte bound stays while it is the only one. */
    kvstore_walks_stats(fx->w, &cached, &bytes);
    assert_int_equal(cached, 1);
    assert_true(bytes > 1);
    next_page(fx, "b", s1);
    assert_int_equal(fx->sp.fills, 1);
    char *s2 = start(fx, "b");
    assert_int_equal(cached_of(fx->w), 1);
    next_page(fx, "b", s1);
    assert_int_equal(fx->sp.fills, 3);
    free(s1); free(s2);
}

static void test_idle_expiry(void **state)
{
    walk_fx *fx = *state;
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    char *s1 = start(fx, "b");

    nanosleep(&ts, NULL);        /* well past the 1 ms idle time */
    next_page(fx, "b", s1);
    assert_int_equal(fx->sp.fills, 2);
    free(s1);
}

static void test_forget(void **state)
{
    walk_fx *fx = *state;
    char *a = start(fx, "A"), *b = start(fx, "B");

    kvstore_walks_forget(fx->w, "A");
    assert_int_equal(cached_of(fx->w), 1);
    next_page(fx, "B", b);
    assert_int_equal(fx->sp.fills, 2);
    next_page(fx, "A", a);
    assert_int_equal(fx->sp.fills, 3);
    kvstore_walks_forget(fx->w, NULL);
    assert_int_equal(cached_of(fx->w), 0);
    free(a); free(b);
}

static void test_snapshot_stable_during_walk(void **state)
{
    walk_fx *fx = *state;
    kvstore_walks *w = fx->w;
    space *sp = &fx->sp;
    kvstore_keys *page = NULL;
    char *st = start(fx, "b");
    char *saved = sp->keys[19];

    /* The key space changes: a cached walk does not see it. */
    sp->keys[19] = strdup("zzz-new");
    size_t total = 3;
    while (st) {
        assert_int_equal(kvstore_walk_page(w, "b", "", st, 3, fill, sp,
                                           &page), KVSTORE_OK);
        for (size_t i = 0; i < page->count; i++)
            assert_string_not_equal(page->keys[i], "zzz-new");
        total += page->count;
        free(st);
        st = page->cursor ? strdup(page->cursor) : NULL;
        kvstore_keys_free(page);
    }
    assert_int_equal(total, 20);
    assert_int_equal(sp->fills, 1);
    free(sp->keys[19]);
    sp->keys[19] = saved;
}

static int page_at(kvstore_walks *w, space *sp, const char *st,
                   uint64_t version, size_t limit, kvstore_keys **page)
{
    return kvstore_walk_page_at(w, "b", "", st, limit, version, fill, sp,
                                page);
}

static void test_version_reuse(void **state)
{
    walk_fx *fx = *state;
    kvstore_walks *w = fx->w;
    space *sp = &fx->sp;
    kvstore_keys *p1 = NULL, *p2 = NULL, *p3 = NULL;

    /* A walk at version 7 caches its snapshot; a new walk at version 7
     * is served from it, at version 8 or 0 it is not. */
    assert_int_equal(page_at(w, sp, NULL, 7, 10, &p1), KVSTORE_OK);
    assert_int_equal(sp->fills, 1);
    assert_int_equal(page_at(w, sp, NULL, 7, 10, &p2), KVSTORE_OK);
    assert_int_equal(sp->fills, 1);
    assert_int_equal(p2->count, 10);
    for (size_t i = 0; i < 10; i++)
        assert_string_equal(p1->keys[i], p2->keys[i]);
    kvstore_keys_free(p2);
    assert_int_equal(page_at(w, sp, NULL, 8, 10, &p2), KVSTORE_OK);
    assert_int_equal(sp->fills, 2);
    kvstore_keys_free(p2);
    assert_int_equal(page_at(w, sp, NULL, 0, 10, &p2), KVSTORE_OK);
    assert_int_equal(sp->fills, 3);
    kvstore_keys_free(p2);
    assert_int_equal(kvstore_walk_page(w, "b", "", NULL, 10, fill, sp, &p2),
                     KVSTORE_OK);
    assert_int_equal(sp->fills, 4);
    kvstore_keys_free(p2);
    /* Another scope or prefix at the same version: not served. */
    assert_int_equal(kvstore_walk_page_at(w, "c", "", NULL, 10, 7, fill, sp,
                                          &p2), KVSTORE_OK);
    assert_int_equal(sp->fills, 5);
    kvstore_keys_free(p2);

    /* A state with an unknown token resumes from a version-7 snapshot,
     * after its key; the snapshot that resume takes would lack the keys
     * before it, so it never serves a new walk. */
    char forged[64 + KVSTORE_KEY_MAX];
    snprintf(forged, sizeof forged, "w1%016x:%s", 0x99u,
             p1->keys[p1->count - 1]);
    assert_int_equal(page_at(w, sp, forged, 7, 10, &p3), KVSTORE_OK);
    assert_int_equal(sp->fills, 5);
    assert_true(strcmp(p3->keys[0], p1->keys[9]) > 0);
    kvstore_keys_free(p3);
    kvstore_walks_forget(w, NULL);
    assert_int_equal(page_at(w, sp, forged, 9, 10, &p3), KVSTORE_OK);
    assert_int_equal(sp->fills, 6);
    kvstore_keys_free(p3);
    assert_int_equal(page_at(w, sp, NULL, 9, 10, &p3), KVSTORE_OK);
    assert_int_equal(sp->fills, 7);
    assert_string_equal(p3->keys[0], p1->keys[0]);
    kvstore_keys_free(p3);
    kvstore_keys_free(p1);

    /* A finished walk at a version keeps its snapshot for the next walk
     * of the same version; a finished walk without one does not. */
    kvstore_walks_forget(w, NULL);
    for (int round = 0; round < 2; round++) {
        char *st = NULL;
        size_t total = 0;
        do {
            kvstore_keys *pg = NULL;
            assert_int_equal(page_at(w, sp, st, 11, 30, &pg), KVSTORE_OK);
            free(st);
            total += pg->count;
            st = pg->cursor ? strdup(pg->cursor) : NULL;
            kvstore_keys_free(pg);
        } while (st);
        assert_int_equal(total, 100);
        assert_int_equal(sp->fills, 8);
        assert_int_equal(cached_of(w), 1);
    }
}

typedef struct {
    kvstore_walks *w;
    space sp;
    char scope[8];
} worker;

/* Five whole walks, each of every key in order; returns non-NULL on the
 * first that is not (threads_join fails the test). */
static void *run_worker(void *p)
{
    worker *wk = p;
    for (int round = 0; round < 5; round++) {
        size_t n;
        const char *why;
        char **got = walk_space(wk->w, wk->scope, &wk->sp, "", 17, &n, &why);
        bool ok = got != NULL && n == wk->sp.n;
        for (size_t i = 1; ok && i < n; i++)
            ok = strcmp(got[i - 1], got[i]) < 0;
        if (got)
            free_list(got, n);
        if (!ok)
            return (void *)1;
    }
    return NULL;
}

static void test_threads_share_one_cache(void **state)
{
    (void)state;
    /* Few slots so that threads evict each other's snapshots mid-walk. */
    kvstore_walks *w = kvstore_walks_new(2, 0, 0);
    worker wk[4];
    pthread_t th[4];

    for (int i = 0; i < 4; i++) {
        wk[i].w = w;
        snprintf(wk[i].scope, sizeof wk[i].scope, "s%d", i % 2);
        wk[i].sp = make_space(401, i % 2 ? "odd-" : "even-");
    }
    threads_start(th, 4, run_worker, wk, sizeof wk[0]);
    threads_join(th, 4);
    for (int i = 0; i < 4; i++)
        free_space(&wk[i].sp);
    kvstore_walks_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        WALK_TEST(test_empty_space, 0, NULL, 0, 0, 0),
        WALK_TEST(test_duplicates_dropped, 0, NULL, 0, 0, 0),
        WALK_TEST(test_unknown_token_resumes_after_key, 100, "", 0, 0, 0),
        WALK_TEST(test_state_of_other_scope_never_serves_it, 50, "a-", 0, 0,
                  0),
        WALK_TEST(test_malformed_states, 10, "", 0, 0, 0),
        WALK_TEST(test_fill_error_and_bad_args, 10, "", 0, 0, 0),
        WALK_TEST(test_add_rejects_non_keys, 0, NULL, 0, 0, 0),
        WALK_TEST(test_eviction_by_count, 100, "", 2, 0, 0),
        WALK_TEST(test_eviction_by_bytes, 100, "", 100, 1, 0),
        WALK_TEST(test_idle_expiry, 100, "", 0, 0, 1),
        WALK_TEST(test_forget, 100, "", 0, 0, 0),
        WALK_TEST(test_snapshot_stable_during_walk, 20, "k", 0, 0, 0),
        WALK_TEST(test_version_reuse, 100, "", 0, 0, 0),
        cmocka_unit_test(test_threads_share_one_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
