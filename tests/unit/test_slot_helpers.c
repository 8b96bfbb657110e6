/*
 * kvstore_hand_over and kvstore_cas_lend (<kvstore/backend.h>): how a slot
 * that builds an object ends. On success the object reaches *out and is not
 * undone; on failure it is undone exactly once, *out is left alone and the
 * failure's code comes back. cas_lend sets *found always, the value and the
 * length only for a found key.
 *
 * SPDX-License-Identifier: MIT
 */
#include <kvstore/backend.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static int undone;
static void *undone_obj;

static void undo(void *obj)
{
    undone++;
    undone_obj = obj;
}

static void test_hand_over_success(void **state)
{
    (void)state;
    int obj = 7;
    void *out = NULL;
    undone = 0;
    assert_int_equal(kvstore_hand_over(KVSTORE_OK, &out, &obj, undo),
                     KVSTORE_OK);
    assert_ptr_equal(out, &obj);
    assert_int_equal(undone, 0);
}

static void test_hand_over_failure(void **state)
{
    (void)state;
    int obj = 7, other = 0;
    void *out = &other;
    undone = 0;
    undone_obj = NULL;
    assert_int_equal(kvstore_hand_over(KVSTORE_ENOMEM, &out, &obj, undo),
                     KVSTORE_ENOMEM);
    assert_ptr_equal(out, &other);
    assert_int_equal(undone, 1);
    assert_ptr_equal(undone_obj, &obj);
}

static void test_cas_lend(void **state)
{
    (void)state;
    static const char snap[] = "v";
    bool found = false;
    const void *value = NULL;
    size_t len = 99;

    kvstore_cas_lend(&found, &value, &len, true, snap, 1);
    assert_true(found);
    assert_ptr_equal(value, snap);
    assert_int_equal(len, 1);

    /* Not found: *found turns false, value and length stay as they were. */
    kvstore_cas_lend(&found, &value, &len, false, NULL, 0);
    assert_false(found);
    assert_ptr_equal(value, snap);
    assert_int_equal(len, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_over_success),
        cmocka_unit_test(test_hand_over_failure),
        cmocka_unit_test(test_cas_lend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
