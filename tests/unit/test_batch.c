/*
 * Core: what a get_many slot may count on (include/kvstore/backend.h).
 * The slot receives values[] and lens[] zeroed, and when it fails after
 * setting some values the core frees them and hands the caller nothing,
 * so a backend returns its error at once. A backend ("halfmany") whose
 * get_many reads the first key and then fails checks both; the leak
 * check of ASan and valgrind shows the value it read was freed.
 *
 * SPDX-License-Identifier: MIT
 */
#include <kvstore/backend.h>

#include "support.h"

static bool slot_saw_zeroed;

static int hm_store_open(void **out, const kvstore_uri *uri)
{
    (void)uri;
    *out = &slot_saw_zeroed;
    return KVSTORE_OK;
}
static void hm_store_close(void *s) { (void)s; }
static int hm_bucket_open(void **out, void *s, const char *name, bool create)
{
    (void)name;
    (void)create;
    *out = s;
    return KVSTORE_OK;
}
static void hm_bucket_close(void *b) { (void)b; }
static int hm_get(void *b, const char *k, void **v, size_t *l)
{
    (void)b;
    (void)k;
    (void)v;
    (void)l;
    return KVSTORE_NOTFOUND;
}
static int hm_set(void *b, const char *k, const void *v, size_t l)
{
    (void)b;
    (void)k;
    (void)v;
    (void)l;
    return KVSTORE_OK;
}
static int hm_del(void *b, const char *k)
{
    (void)b;
    (void)k;
    return KVSTORE_OK;
}
static int hm_exists(void *b, const char *k, bool *e)
{
    (void)b;
    (void)k;
    *e = false;
    return KVSTORE_OK;
}
static int hm_list(void *b, const char *p, const char *c, size_t l,
                   kvstore_keys **out)
{
    (void)b;
    (void)p;
    (void)c;
    (void)l;
    *out = kvstore_keys_new();
    return *out ? KVSTORE_OK : KVSTORE_ENOMEM;
}

/* Reads the first key, then fails without cleaning up. */
static int hm_get_many(void *b, const char *const *keys, size_t n,
                       void **values, size_t *lens)
{
    (void)b;
    (void)keys;
    slot_saw_zeroed = true;
    for (size_t i = 0; i < n; i++)
        if (values[i] != NULL || lens[i] != 0)
            slot_saw_zeroed = false;
    values[0] = kvstore_memdup("first", 5);
    lens[0] = 5;
    return kvstore_set_error(KVSTORE_EIO, "halfmany: failed after one key");
}

static const kvstore_backend halfmany = {
    .version = KVSTORE_BACKEND_VERSION,
    .name = "halfmany",
    .store_open = hm_store_open,
    .store_close = hm_store_close,
    .bucket_open = hm_bucket_open,
    .bucket_close = hm_bucket_close,
    .get = hm_get,
    .set = hm_set,
    .del = hm_del,
    .exists = hm_exists,
    .list_keys = hm_list,
    .get_many = hm_get_many,
};

static void test_failed_get_many_leaves_nothing(void **state)
{
    (void)state;
    assert_int_equal(kvstore_backend_register(&halfmany), KVSTORE_OK);
    kvstore_store *s = open_uri("halfmany:");
    kvstore_bucket *b = open_bucket(s, "b");
    const char *keys[] = { "a", "b", "c" };
    char junk;
    void *values[3] = { &junk, &junk, &junk };
    size_t lens[3] = { 7, 7, 7 };

    assert_int_equal(kvstore_get_many(b, keys, 3, values, lens), KVSTORE_EIO);
    assert_true(slot_saw_zeroed);
    assert_string_equal(kvstore_errmsg(), "halfmany: failed after one key");
    for (size_t i = 0; i < 3; i++) {
        assert_null(values[i]);
        assert_int_equal(lens[i], 0);
    }
    kvstore_bucket_close(b);
    kvstore_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_get_many_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
