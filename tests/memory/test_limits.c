/*
 * memory backend: the 64 MiB value limit, on every path that writes.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fx_memory.h"

#define LIMIT ((size_t)64 * 1024 * 1024)

static tmp_store store;
static kvstore_bucket *bucket;
static unsigned char *big; /* LIMIT + 1 bytes */

static int setup(void **state)
{
    (void)state;
    store = tmp_store_open("memory:", "limits");
    bucket = store.b;
    big = calloc(1, LIMIT + 1);
    if (!big)
        return -1;
    for (size_t i = 0; i < LIMIT + 1; i += 4096)
        big[i] = (unsigned char)(i / 4096);
    big[LIMIT - 1] = 0xab;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(big);
    tmp_store_close(&store);
    return 0;
}

static void expect_toobig_message(void)
{
    const char *msg = kvstore_errmsg();

    assert_non_null(strstr(msg, "64 MiB"));
}

/* Exactly the limit is stored and read back whole. */
static void limit_accepted(void **state)
{
    void *v = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(kvstore_set(bucket, "max", big, LIMIT), KVSTORE_OK);
    assert_int_equal(kvstore_get(bucket, "max", &v, &len), KVSTORE_OK);
    assert_int_equal(len, LIMIT);
    assert_memory_equal(v, big, LIMIT);
    kvstore_free(v);
    assert_int_equal(kvstore_delete(bucket, "max"), KVSTORE_OK);
}

/* One byte over is ETOOBIG naming the limit, and writes nothing. */
static void over_limit_set(void **state)
{
    (void)state;
    set_str(bucket, "k", "old");
    assert_int_equal(kvstore_set(bucket, "k", big, LIMIT + 1),
                     KVSTORE_ETOOBIG);
    expect_toobig_message();
    expect_str(bucket, "k", "old");
}

static void over_limit_set_many(void **state)
{
    const char *keys[] = { "m1", "m2" };
    const void *vals[] = { "small", big };
    size_t lens[] = { 5, LIMIT + 1 };

    (void)state;
    assert_int_equal(kvstore_set_many(bucket, keys, vals, lens, 2),
                     KVSTORE_ETOOBIG);
    expect_toobig_message();
    /* Sizes are checked before anything is written. */
    expect_str(bucket, "m1", NULL);
    expect_str(bucket, "m2", NULL);
}

static void over_limit_cas(void **state)
{
    (void)state;
    set_str(bucket, "c", "old");
    kvstore_cas *cas = cas_of(bucket, "c");
    assert_int_equal(kvstore_cas_swap(cas, big, LIMIT + 1), KVSTORE_ETOOBIG);
    expect_toobig_message();
    kvstore_cas_free(cas);
    expect_str(bucket, "c", "old");
}

/* Keys at the contract's 1024-byte limit work on every path. */
static void longest_key(void **state)
{
    char key[1025];
    kvstore_keys *page = NULL;
    int64_t r;

    (void)state;
    memset(key, 'k', 1024);
    key[1024] = '\0';
    set_str(bucket, key, "1");
    assert_int_equal(kvstore_increment(bucket, key, 1, &r), KVSTORE_OK);
    assert_int_equal(r, 2);
    assert_int_equal(kvstore_list_keys(bucket, "kkk", NULL, 1, &page),
                     KVSTORE_OK);
    assert_int_equal(page->count, 1);
    assert_string_equal(page->keys[0], key);
    kvstore_keys_free(page);

    /* A cursor holding a 1024-byte key. */
    {
        char key2[1025];

        memcpy(key2, key, sizeof(key));
        key2[1023] = 'l';
        set_str(bucket, key2, "2");
        assert_int_equal(kvstore_list_keys(bucket, "kkk", NULL, 1, &page),
                         KVSTORE_OK);
        assert_int_equal(page->count, 1);
        assert_string_equal(page->keys[0], key);
        assert_non_null(page->cursor);
        {
            char *cursor = strdup(page->cursor);

            kvstore_keys_free(page);
            assert_int_equal(kvstore_list_keys(bucket, "kkk", cursor, 1,
                                               &page), KVSTORE_OK);
            free(cursor);
        }
        assert_int_equal(page->count, 1);
        assert_string_equal(page->keys[0], key2);
        assert_null(page->cursor);
        kvstore_keys_free(page);
        assert_int_equal(kvstore_delete(bucket, key2), KVSTORE_OK);
    }
    assert_int_equal(kvstore_delete(bucket, key), KVSTORE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(limit_accepted),
        cmocka_unit_test(over_limit_set),
        cmocka_unit_test(over_limit_set_many),
        cmocka_unit_test(over_limit_cas),
        cmocka_unit_test(longest_key),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
