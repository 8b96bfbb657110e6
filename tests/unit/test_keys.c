/*
 * Unit tests: page builders and memory helpers handed to backends.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvstore/backend.h>

static void test_new_page_empty(void **state)
{
    (void)state;
    kvstore_keys *p = kvstore_keys_new();
    assert_non_null(p);
    assert_int_equal(p->count, 0);
    assert_null(p->cursor);
    kvstore_keys_free(p);
    kvstore_keys_free(NULL);
}

static void test_add_copies_len_bytes(void **state)
{
    (void)state;
    kvstore_keys *p = kvstore_keys_new();
    char src[] = "abcdef";
    assert_int_equal(kvstore_keys_add(p, src, 3), KVSTORE_OK);
    assert_int_equal(kvstore_keys_add(p, src, 6), KVSTORE_OK);
    /* The page owns copies. */
    memset(src, 'X', 6);
    assert_int_equal(p->count, 2);
    assert_string_equal(p->keys[0], "abc");
    assert_string_equal(p->keys[1], "abcdef");
    kvstore_keys_free(p);
}

static void test_add_many_grows(void **state)
{
    (void)state;
    kvstore_keys *p = kvstore_keys_new();
    char k[32];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(k, sizeof k, "key-%d", i);
        assert_int_equal(kvstore_keys_add(p, k, (size_t)n), KVSTORE_OK);
    }
    assert_int_equal(p->count, 5000);
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof k, "key-%d", i);
        assert_string_equal(p->keys[i], k);
    }
    kvstore_keys_free(p);
}

/* Keys of every size, including one larger than any arena block and an
 * empty one, keep their bytes and their pointers while later keys are
 * added around them. */
static void test_add_mixed_sizes_stable(void **state)
{
    (void)state;
    enum { BIG = 200 * 1024 };
    kvstore_keys *p = kvstore_keys_new();
    char *big = malloc(BIG);
    assert_non_null(big);
    memset(big, 'b', BIG);
    assert_int_equal(kvstore_keys_add(p, "first", 5), KVSTORE_OK);
    const char *first = p->keys[0];
    assert_int_equal(kvstore_keys_add(p, big, BIG), KVSTORE_OK);
    assert_int_equal(kvstore_keys_add(p, "", 0), KVSTORE_OK);
    for (int i = 0; i < 3000; i++) {
        char k[40];
        int n = snprintf(k, sizeof k, "after-%d", i);
        assert_int_equal(kvstore_keys_add(p, k, (size_t)n), KVSTORE_OK);
    }
    assert_ptr_equal(p->keys[0], first);
    assert_string_equal(p->keys[0], "first");
    assert_int_equal(strlen(p->keys[1]), BIG);
    assert_memory_equal(p->keys[1], big, BIG);
    assert_string_equal(p->keys[2], "");
    assert_string_equal(p->keys[3002], "after-2999");
    free(big);
    kvstore_keys_free(p);
}

static void test_cursor_set_and_clear(void **state)
{
    (void)state;
    kvstore_keys *p = kvstore_keys_new();
    char cur[] = "cursor-1";
    assert_int_equal(kvstore_keys_set_cursor(p, cur), KVSTORE_OK);
    cur[0] = 'X';
    assert_string_equal(p->cursor, "cursor-1");
    assert_int_equal(kvstore_keys_set_cursor(p, "cursor-2"), KVSTORE_OK);
    assert_string_equal(p->cursor, "cursor-2");
    assert_int_equal(kvstore_keys_set_cursor(p, NULL), KVSTORE_OK);
    assert_null(p->cursor);
    assert_int_equal(kvstore_keys_set_cursor(p, "again"), KVSTORE_OK);
    kvstore_keys_free(p); /* frees keys, array and cursor (ASan/valgrind) */
}

static void test_memdup(void **state)
{
    (void)state;
    char *d = kvstore_memdup("a\0bc", 4);
    assert_non_null(d);
    assert_memory_equal(d, "a\0bc", 4);
    assert_int_equal(d[4], '\0');
    kvstore_free(d);
    d = kvstore_memdup("", 0);
    assert_non_null(d);
    assert_int_equal(d[0], '\0');
    kvstore_free(d);
    void *m = kvstore_malloc(16);
    assert_non_null(m);
    m = kvstore_realloc(m, 4096);
    assert_non_null(m);
    kvstore_free(m);
    kvstore_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_page_empty),
        cmocka_unit_test(test_add_copies_len_bytes),
        cmocka_unit_test(test_add_many_grows),
        cmocka_unit_test(test_add_mixed_sizes_stable),
        cmocka_unit_test(test_cursor_set_and_clear),
        cmocka_unit_test(test_memdup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
