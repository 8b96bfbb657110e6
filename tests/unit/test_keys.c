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

/* Each page test gets a fresh empty page in *state; the teardown frees
 * it with everything added to it (ASan and valgrind check the frees). */
static int page_setup(void **state)
{
    *state = kvstore_keys_new();
    return *state ? 0 : -1;
}

static int page_teardown(void **state)
{
    kvstore_keys_free(*state);
    return 0;
}

#define PAGE_TEST(test)                                                  \
    cmocka_unit_test_setup_teardown(test, page_setup, page_teardown)

static void test_new_page_empty(void **state)
{
    kvstore_keys *p = *state;
    assert_non_null(p);
    assert_int_equal(p->count, 0);
    assert_null(p->cursor);
    kvstore_keys_free(NULL);
}

static void test_add_copies_len_bytes(void **state)
{
    kvstore_keys *p = *state;
    char src[] = "abcdef";
    assert_int_equal(kvstore_keys_add(p, src, 3), KVSTORE_OK);
    assert_int_equal(kvstore_keys_add(p, src, 6), KVSTORE_OK);
    /* The page owns copies. */
    memset(src, 'X', 6);
    assert_int_equal(p->count, 2);
    assert_string_equal(p->keys[0], "abc");
    assert_string_equal(p->keys[1], "abcdef");
}

static void test_add_many_grows(void **state)
{
    kvstore_keys *p = *state;
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
}

/* Keys of every size, including one larger than any arena block and an
 * empty one, keep their bytes and their pointers while later keys are
 * added around them. */
static void test_add_mixed_sizes_stable(void **state)
{
    enum { BIG = 200 * 1024 };
    kvstore_keys *p = *state;
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
}

static void test_cursor_set_and_clear(void **state)
{
    kvstore_keys *p = *state;
    char cur[] = "cursor-1";
    assert_int_equal(kvstore_keys_set_cursor(p, cur), KVSTORE_OK);
    cur[0] = 'X';
    assert_string_equal(p->cursor, "cursor-1");
    assert_int_equal(kvstore_keys_set_cursor(p, "cursor-2"), KVSTORE_OK);
    assert_string_equal(p->cursor, "cursor-2");
    assert_int_equal(kvstore_keys_set_cursor(p, NULL), KVSTORE_OK);
    assert_null(p->cursor);
    assert_int_equal(kvstore_keys_set_cursor(p, "again"), KVSTORE_OK);
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
        PAGE_TEST(test_new_page_empty),
        PAGE_TEST(test_add_copies_len_bytes),
        PAGE_TEST(test_add_many_grows),
        PAGE_TEST(test_add_mixed_sizes_stable),
        PAGE_TEST(test_cursor_set_and_clear),
        cmocka_unit_test(test_memdup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
