/*
 * memory backend: URIs, named and private stores, bucket lifetime.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fx_memory.h"

/* Up to four store handles, each with its bucket "bk", as a cmocka
 * fixture: HANDLES_TEST(test, uri, ...) opens the stores in the order
 * given and the test reads them from *state. */
typedef struct handles {
    kvstore_store *s[4];
    kvstore_bucket *b[4];
} handles;

static int handles_setup(void **state)
{
    const char *const *uris = *state;
    handles *h = calloc(1, sizeof *h);

    assert_non_null(h);
    for (size_t i = 0; uris[i] != NULL; i++) {
        assert_true(i < 4);
        h->s[i] = open_uri(uris[i]);
        h->b[i] = open_bucket(h->s[i], "bk");
    }
    *state = h;
    return 0;
}

static int handles_teardown(void **state)
{
    handles *h = *state;

    for (size_t i = 0; i < 4; i++) {
        kvstore_bucket_close(h->b[i]);
        kvstore_close(h->s[i]);
    }
    free(h);
    return 0;
}

#define HANDLES_TEST(test, ...)                                          \
    { .name = #test, .test_func = test, .setup_func = handles_setup,     \
      .teardown_func = handles_teardown,                                 \
      .initial_state = (void *)(const char *const[]){ __VA_ARGS__, NULL } }

/* Two opens of one name are the same store: a write through one handle
 * is read through the other. */
static void named_store_is_shared(void **state)
{
    handles *h = *state;
    bool ex = false;

    set_str(h->b[0], "k", "from-1");
    expect_str(h->b[1], "k", "from-1");
    set_str(h->b[1], "k", "from-2");
    expect_str(h->b[0], "k", "from-2");
    assert_int_equal(kvstore_delete(h->b[1], "k"), KVSTORE_OK);
    assert_int_equal(kvstore_exists(h->b[0], "k", &ex), KVSTORE_OK);
    assert_false(ex);
}

/* Private stores, and stores of other names, never see each other. */
static void stores_are_isolated(void **state)
{
    handles *h = *state;
    kvstore_bucket *named = h->b[0], *other = h->b[1];
    kvstore_bucket *private1 = h->b[2], *private2 = h->b[3];

    set_str(named, "k", "named");
    set_str(private1, "k", "private-1");
    expect_str(other, "k", NULL);
    expect_str(private2, "k", NULL);
    expect_str(named, "k", "named");
    expect_str(private1, "k", "private-1");
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

/* Which store names and options the memory: scheme takes: each URI opens,
 * or is EINVAL with a message. */
static void uris(void **state)
{
    static const struct {
        const char *uri;
        bool ok;
    } cases[] = {
        { "memory:", true },
        { "memory:A-z_09", true },
        { "memory:?create=true", true },
        /* 64 bytes: the limit. */
        { "memory:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          true },
        { "memory://host", false },
        { "memory://", false },
        { "memory:bad/name", false },
        { "memory:with.dot", false },
        { "memory:sp ace", false },
        { "memory:%2e%2e", false },
        { "memory:user@name", false },
        { "memory:a?unknown=1", false },
        { "memory:?create=maybe", false },
        /* 65 bytes: one over the limit. */
        { "memory:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          false },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].ok)
            kvstore_close(open_uri(cases[i].uri));
        else
            open_fails(cases[i].uri, KVSTORE_EINVAL);
    }
}

/* Documented: a bucket handle keeps its store alive, so closing the store
 * first is not a use-after-free (ASan and valgrind check this). */
static void bucket_keeps_store_alive(void **state)
{
    tmp_store *t = *state;

    kvstore_close(t->s);
    t->s = NULL;
    set_str(t->b, "k", "v");
    expect_str(t->b, "k", "v");
}

/* Batches read, write and delete through the backend's own slots. */
static void batch_ops(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    const char *keys[] = { "a", "b", "c" };
    const void *vals[] = { "1", "", "333" };
    size_t lens[] = { 1, 0, 3 }, got[3];
    void *out[3];

    assert_int_equal(kvstore_set_many(b, keys, vals, lens, 3), KVSTORE_OK);
    assert_int_equal(kvstore_delete_many(b, keys + 2, 1), KVSTORE_OK);
    assert_int_equal(kvstore_get_many(b, keys, 3, out, got), KVSTORE_OK);
    expect_many(out, got, (const char *const[]){ "1", "", NULL }, 3);
}

/* A key rewritten with values of every size class (in place, grown,
 * shrunk, above the in-place limit) always reads back its last value. */
static void rewrites_of_every_size(void **state)
{
    static const size_t sizes[] = {
        10, 15, 16, 17, 100, 3, 0, 70000, 10, 65536, 65537, 200, 1,
    };
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    unsigned char *buf = malloc(70000);

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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HANDLES_TEST(named_store_is_shared, "memory:shared-a",
                     "memory:shared-a"),
        HANDLES_TEST(stores_are_isolated, "memory:iso", "memory:iso2",
                     "memory:", "memory:"),
        cmocka_unit_test(named_store_freed_with_last_handle),
        cmocka_unit_test(create_false),
        cmocka_unit_test(uris),
        MEMORY_TEST(bucket_keeps_store_alive),
        MEMORY_TEST(batch_ops),
        MEMORY_TEST(rewrites_of_every_size),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
