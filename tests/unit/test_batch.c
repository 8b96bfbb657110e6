/*
 * Core: what a get_many slot may count on (include/kvstore/backend.h).
 * The slot receives values[] and lens[] zeroed, and when it fails after
 * setting some values the core frees them and hands the caller nothing,
 * so a backend returns its error at once. The backend here is the memory
 * backend's table (reached through the internal archive) with a get_many
 * that reads the first key and then fails; the leak check of ASan and
 * valgrind shows the value it read was freed.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <kvstore/backend.h>

extern const kvstore_backend kvstore_builtin_memory;

static bool slot_saw_zeroed;

static int half_get_many(void *bucket, const char *const *keys, size_t n,
                         void **values, size_t *lens)
{
    slot_saw_zeroed = true;
    for (size_t i = 0; i < n; i++)
        if (values[i] != NULL || lens[i] != 0)
            slot_saw_zeroed = false;
    int rc = kvstore_builtin_memory.get(bucket, keys[0], &values[0], &lens[0]);
    if (rc != KVSTORE_OK)
        return kvstore_set_error(KVSTORE_EINVAL, "halfmany: no first key");
    return kvstore_set_error(KVSTORE_EIO, "halfmany: failed after one key");
}

/* Set up once, before it is registered, and never changed after. */
static kvstore_backend halfmany;

static void test_failed_get_many_leaves_nothing(void **state)
{
    (void)state;
    halfmany = kvstore_builtin_memory;
    halfmany.name = "halfmany";
    halfmany.get_many = half_get_many;
    assert_int_equal(kvstore_backend_register(&halfmany), KVSTORE_OK);

    kvstore_store *s = NULL;
    kvstore_bucket *b = NULL;
    const char *keys[] = { "a", "b", "c" };
    char junk;
    void *values[3] = { &junk, &junk, &junk };
    size_t lens[3] = { 7, 7, 7 };

    assert_int_equal(kvstore_open(&s, "halfmany:"), KVSTORE_OK);
    assert_int_equal(kvstore_bucket_open(&b, s, "b"), KVSTORE_OK);
    assert_int_equal(kvstore_set(b, "a", "first", 5), KVSTORE_OK);
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
