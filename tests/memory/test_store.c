/*
 * memory backend: URIs, named and private stores, bucket lifetime.
 *
 * SPDX-License-Identifier: MIT
 */
#include "support.h"

/* Two opens of one name are the same store: a write through one handle
 * is read through the other. */
static void named_store_is_shared(void **state)
{
    kvstore_store *s1 = open_uri("memory:shared-a");
    kvstore_store *s2 = open_uri("memory:shared-a");
    kvstore_bucket *b1 = open_bucket(s1, "bk");
    kvstore_bucket *b2 = open_bucket(s2, "bk");
    bool ex = false;

    (void)state;
    set_str(b1, "k", "from-1");
    expect_str(b2, "k", "from-1");
    set_str(b2, "k", "from-2");
    expect_str(b1, "k", "from-2");
    assert_int_equal(kvstore_delete(b2, "k"), KVSTORE_OK);
    assert_int_equal(kvstore_exists(b1, "k", &ex), KVSTORE_OK);
    assert_false(ex);
    kvstore_bucket_close(b1);
    kvstore_bucket_close(b2);
    kvstore_close(s1);
    kvstore_close(s2);
}

/* Private stores, and stores of other names, never see each other. */
static void stores_are_isolated(void **state)
{
    kvstore_store *named = open_uri("memory:iso");
    kvstore_store *other = open_uri("memory:iso2");
    kvstore_store *p1 = open_uri("memory:");
    kvstore_store *p2 = open_uri("memory:");
    kvstore_bucket *bn = open_bucket(named, "bk");
    kvstore_bucket *bo = open_bucket(other, "bk");
    kvstore_bucket *b1 = open_bucket(p1, "bk");
    kvstore_bucket *b2 = open_bucket(p2, "bk");

    (void)state;
    set_str(bn, "k", "named");
    set_str(b1, "k", "private-1");
    expect_str(bo, "k", NULL);
    expect_str(b2, "k", NULL);
    expect_str(bn, "k", "named");
    expect_str(b1, "k", "private-1");
    kvstore_bucket_close(bn);
    kvstore_bucket_close(bo);
    kvstore_bucket_close(b1);
    kvstore_bucket_close(b2);
    kvstore_close(named);
    kvstore_close(other);
    kvstore_close(p1);
    kvstore_close(p2);
}

/* A named store is freed when its last handle closes: reopening the name
 * gives an empty store. */
static void named_store_freed_with_last_handle(void **state)
{
    kvstore_store *s1 = open_uri("memory:ephemeral");
    kvstore_store *s2 = open_uri("memory:ephemeral");
    kvstore_bucket *b = open_bucket(s1, "bk");

    (void)state;
    set_str(b, "k", "v");
    kvstore_bucket_close(b);
    kvstore_close(s1);
    /* s2 still holds it. */
    b = open_bucket(s2, "bk");
    expect_str(b, "k", "v");
    kvstore_bucket_close(b);
    kvstore_close(s2);

    s1 = open_uri("memory:ephemeral");
    b = open_bucket(s1, "bk");
    expect_str(b, "k", NULL);
    kvstore_bucket_close(b);
    kvstore_close(s1);
}

/* create=false refuses missing buckets but opens existing ones, also
 * when another handle of the named store created them. */
static void create_false(void **state)
{
    kvstore_store *ro = open_uri("memory:cf?create=false");
    kvstore_store *rw = open_uri("memory:cf");
    kvstore_bucket *b = NULL;

    (void)state;
    assert_int_equal(kvstore_bucket_open(&b, ro, "later"), KVSTORE_ENOSTORE);
    assert_null(b);
    b = open_bucket(rw, "later");
    kvstore_bucket_close(b);
    b = open_bucket(ro, "later");
    kvstore_bucket_close(b);
    kvstore_close(ro);
    kvstore_close(rw);
}

static void bad_uris(void **state)
{
    static const char *const bad[] = {
        "memory://host",
        "memory://",
        "memory:bad/name",
        "memory:with.dot",
        "memory:sp ace",
        "memory:%2e%2e",
        "memory:user@name",
        "memory:a?unknown=1",
        "memory:?create=maybe",
        /* 65 bytes: one over the limit. */
        "memory:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kvstore_store *s = (kvstore_store *)&s;

        assert_int_equal(kvstore_open(&s, bad[i]), KVSTORE_EINVAL);
        assert_null(s);
        assert_true(strlen(kvstore_errmsg()) > 0);
    }
}

static void good_uris(void **state)
{
    static const char *const good[] = {
        "memory:",
        "memory:A-z_09",
        "memory:?create=true",
        /* 64 bytes: the limit. */
        "memory:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        kvstore_store *s = open_uri(good[i]);
        kvstore_close(s);
    }
}

/* Documented: a bucket handle keeps its store alive, so closing the store
 * first is not a use-after-free (ASan and valgrind check this). */
static void bucket_keeps_store_alive(void **state)
{
    kvstore_store *s = open_uri("memory:");
    kvstore_bucket *b = open_bucket(s, "bk");

    (void)state;
    kvstore_close(s);
    set_str(b, "k", "v");
    expect_str(b, "k", "v");
    kvstore_bucket_close(b);
}

/* Batches read, write and delete through the backend's own slots. */
static void batch_ops(void **state)
{
    kvstore_store *s = open_uri("memory:");
    kvstore_bucket *b = open_bucket(s, "batch");
    const char *keys[] = { "a", "b", "c" };
    const void *vals[] = { "1", "", "333" };
    size_t lens[] = { 1, 0, 3 }, got[3];
    void *out[3];

    (void)state;
    assert_int_equal(kvstore_set_many(b, keys, vals, lens, 3), KVSTORE_OK);
    assert_int_equal(kvstore_delete_many(b, keys + 2, 1), KVSTORE_OK);
    assert_int_equal(kvstore_get_many(b, keys, 3, out, got), KVSTORE_OK);
    assert_non_null(out[0]);
    assert_int_equal(got[0], 1);
    assert_memory_equal(out[0], "1", 1);
    assert_non_null(out[1]);
    assert_int_equal(got[1], 0);
    assert_null(out[2]);
    assert_int_equal(got[2], 0);
    kvstore_free(out[0]);
    kvstore_free(out[1]);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

/* A key rewritten with values of every size class (in place, grown,
 * shrunk, above the in-place limit) always reads back its last value. */
static void rewrites_of_every_size(void **state)
{
    static const size_t sizes[] = {
        10, 15, 16, 17, 100, 3, 0, 70000, 10, 65536, 65537, 200, 1,
    };
    kvstore_store *s = open_uri("memory:");
    kvstore_bucket *b = open_bucket(s, "sizes");
    unsigned char *buf = malloc(70000);

    (void)state;
    assert_non_null(buf);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        void *v = NULL;
        size_t len = 1;

        memset(buf, (int)('a' + i), sizes[i]);
        assert_int_equal(kvstore_set(b, "k", buf, sizes[i]), KVSTORE_OK);
        assert_int_equal(kvstore_get(b, "k", &v, &len), KVSTORE_OK);
        assert_int_equal(len, sizes[i]);
        assert_memory_equal(v, buf, sizes[i]);
        kvstore_free(v);
    }
    free(buf);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(named_store_is_shared),
        cmocka_unit_test(stores_are_isolated),
        cmocka_unit_test(named_store_freed_with_last_handle),
        cmocka_unit_test(create_false),
        cmocka_unit_test(bad_uris),
        cmocka_unit_test(good_uris),
        cmocka_unit_test(bucket_keeps_store_alive),
        cmocka_unit_test(batch_ops),
        cmocka_unit_test(rewrites_of_every_size),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
