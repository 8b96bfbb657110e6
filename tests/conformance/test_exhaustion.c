/*
 * Resource exhaustion through the API, for every built-in backend:
 * a value length of SIZE_MAX (or just past the backend's limit) is
 * KVSTORE_ETOOBIG on every write path before a byte of it is read (the
 * buffer passed is 16 bytes: ASan would report any read past it) and
 * writes nothing; a bucket with very many keys is walked in pages of at
 * most KVSTORE_PAGE_MAX keys even when the caller asks for SIZE_MAX,
 * every key exactly once.
 *
 * KVSTORE_SECURITY_KEYS sets the key count of the walk (default 200000
 * for memory; file uses a tenth, each key being a file). docs/security.md
 * records a run with 2000000.
 *
 * SPDX-License-Identifier: MIT
 */
#include "support.h"

static const char small[16] = "0123456789abcdef";

static void expect_absent(kvstore_bucket *b, const char *key)
{
    bool ex = true;

    assert_int_equal(kvstore_exists(b, key, &ex), KVSTORE_OK);
    assert_false(ex);
}

static void huge_lengths(kvstore_bucket *b)
{
    static const size_t lens[] = {SIZE_MAX, SIZE_MAX / 2 + 1,
                                  (size_t)1 << 40};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        assert_int_equal(kvstore_set(b, "huge", small, lens[i]),
                         KVSTORE_ETOOBIG);
        expect_absent(b, "huge");

        /* A batch with one oversized value writes none of its keys. */
        const char *keys[2] = {"batch-a", "batch-b"};
        const void *vals[2] = {small, small};
        size_t vlens[2] = {1, lens[i]};
        assert_int_equal(kvstore_set_many(b, keys, vals, vlens, 2),
                         KVSTORE_ETOOBIG);
        expect_absent(b, "batch-a");
        expect_absent(b, "batch-b");

        kvstore_cas *cas = NULL;
        assert_int_equal(kvstore_cas_open(&cas, b, "huge"), KVSTORE_OK);
        assert_int_equal(kvstore_cas_swap(cas, small, lens[i]),
                         KVSTORE_ETOOBIG);
        kvstore_cas_free(cas);
        expect_absent(b, "huge");
    }
}

/* Walks with limit SIZE_MAX: pages of 1..KVSTORE_PAGE_MAX keys, every key
 * of the bucket once. Keys are "k<number>". */
static void walk_all(kvstore_bucket *b, size_t n)
{
    unsigned char *seen = calloc(n, 1);
    char *cur = NULL;
    size_t total = 0, pages = 0;

    assert_non_null(seen);
    do {
        kvstore_keys *page = NULL;
        int rc = kvstore_list_keys(b, NULL, cur, SIZE_MAX, &page);
        if (rc != KVSTORE_OK)
            fail_msg("list: %s", kvstore_errmsg());
        assert_true(page->count <= KVSTORE_PAGE_MAX);
        assert_true(page->count > 0 || page->cursor == NULL);
        for (size_t i = 0; i < page->count; i++) {
            size_t k = strtoul(page->keys[i] + 1, NULL, 10);
            assert_true(k < n);
            assert_int_equal(seen[k], 0);
            seen[k] = 1;
            total++;
        }
        free(cur);
        cur = page->cursor ? strdup(page->cursor) : NULL;
        kvstore_keys_free(page);
        pages++;
    } while (cur != NULL);
    assert_int_equal(total, n);
    assert_true(pages >= n / KVSTORE_PAGE_MAX);
    free(seen);
}

static void fill(kvstore_bucket *b, size_t n)
{
    enum { BATCH = 1000 };
    static char names[BATCH][24];
    const char *keys[BATCH];
    const void *vals[BATCH];
    size_t lens[BATCH];

    for (size_t base = 0; base < n; base += BATCH) {
        size_t m = n - base < BATCH ? n - base : BATCH;
        for (size_t i = 0; i < m; i++) {
            snprintf(names[i], sizeof names[i], "k%zu", base + i);
            keys[i] = names[i];
            vals[i] = "v";
            lens[i] = 1;
        }
        int rc = kvstore_set_many(b, keys, vals, lens, m);
        if (rc != KVSTORE_OK)
            fail_msg("set_many: %s", kvstore_errmsg());
    }
}

static size_t key_count(size_t dflt)
{
    const char *e = getenv("KVSTORE_SECURITY_KEYS");
    size_t n = e ? strtoul(e, NULL, 10) : 0;

    return n ? n : dflt;
}

static void memory_limits(void **state)
{
    (void)state;
    kvstore_store *s = open_uri("memory:");
    kvstore_bucket *b = open_bucket(s, "x");

    huge_lengths(b);
    size_t n = key_count(200000);
    fill(b, n);
    walk_all(b, n);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

static void file_limits(void **state)
{
    (void)state;
    char *dir = tmp_new();
    kvstore_store *s = open_file_store(dir);
    kvstore_bucket *b = open_bucket(s, "x");

    huge_lengths(b);
    size_t n = key_count(200000) / 10;
    fill(b, n);
    walk_all(b, n);
    kvstore_bucket_close(b);
    kvstore_close(s);
    tmp_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memory_limits),
        cmocka_unit_test(file_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
