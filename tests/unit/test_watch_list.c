/*
 * kvstore_watch_list (<kvstore/backend.h>): the watches of a backend
 * object. A pushed event reaches exactly the watches whose bucket it names
 * and whose prefix its key starts with, in push order; a removed watch
 * gets nothing more; a list without watches accepts pushes.
 *
 * SPDX-License-Identifier: MIT
 */
#include <kvstore/backend.h>

#include "fx_memory.h"

static void push(kvstore_watch_list *l, const char *bucket, const char *key,
                 const char *value)
{
    assert_int_equal(kvstore_watch_list_push(l, bucket,
                                             value ? KVSTORE_EVENT_SET
                                                   : KVSTORE_EVENT_DELETE,
                                             key, value,
                                             value ? strlen(value) : 0),
                     KVSTORE_OK);
}

static void test_matching(void **state)
{
    (void)state;
    kvstore_watch_list *l = kvstore_watch_list_new();
    assert_non_null(l);
    ev_log *pa = ev_log_new(16), *all_b = ev_log_new(16);
    void *wa = NULL, *wb = NULL;
    assert_int_equal(kvstore_watch_list_add(&wa, l, "a", "p", ev_log_add, pa),
                     KVSTORE_OK);
    assert_int_equal(kvstore_watch_list_add(&wb, l, "b", "", ev_log_add,
                                            all_b),
                     KVSTORE_OK);

    push(l, "a", "q1", "no");   /* other prefix */
    push(l, "a", "p1", "v1");
    push(l, "ab", "p2", "no");  /* other bucket, same prefix */
    push(l, "b", "x", "vx");
    push(l, "a", "p", NULL);    /* the prefix itself, deleted */
    push(l, "a", "", "no");     /* shorter than the prefix */
    push(l, "a", "p3", "end");
    push(l, "b", "end", "");

    /* Delivery is in push order: once the last event is in, so is every
     * earlier one, and nothing else came. */
    ev_log_wait(pa, 3);
    ev_log_wait(all_b, 2);
    kvstore_watch_list_remove(wa);
    kvstore_watch_list_remove(wb);
    assert_int_equal(pa->n, 3);
    ev_log_expect(pa, 0, KVSTORE_EVENT_SET, "p1", "v1");
    ev_log_expect(pa, 1, KVSTORE_EVENT_DELETE, "p", NULL);
    ev_log_expect(pa, 2, KVSTORE_EVENT_SET, "p3", "end");
    assert_int_equal(all_b->n, 2);
    ev_log_expect(all_b, 0, KVSTORE_EVENT_SET, "x", "vx");
    ev_log_expect(all_b, 1, KVSTORE_EVENT_SET, "end", "");
    kvstore_watch_list_free(l);
    ev_log_free(pa);
    ev_log_free(all_b);
}

static void test_removed_gets_nothing(void **state)
{
    (void)state;
    kvstore_watch_list *l = kvstore_watch_list_new();
    assert_non_null(l);
    push(l, "a", "k", "nobody watches");
    ev_log *gone = ev_log_new(16), *stays = ev_log_new(16);
    void *wg = NULL, *ws = NULL;
    assert_int_equal(kvstore_watch_list_add(&wg, l, "a", "", ev_log_add,
                                            gone),
                     KVSTORE_OK);
    assert_int_equal(kvstore_watch_list_add(&ws, l, "a", "", ev_log_add,
                                            stays),
                     KVSTORE_OK);
    push(l, "a", "k1", "both");
    ev_log_wait(gone, 1);
    kvstore_watch_list_remove(wg);
    ev_log_stopped(gone);
    push(l, "a", "k2", "one");
    ev_log_wait(stays, 2);
    kvstore_watch_list_remove(ws);
    assert_int_equal(gone->n, 1);
    assert_int_equal(atomic_load(&gone->late), 0);
    ev_log_expect(stays, 1, KVSTORE_EVENT_SET, "k2", "one");
    push(l, "a", "k3", "nobody again");
    kvstore_watch_list_remove(NULL);
    kvstore_watch_list_free(l);
    kvstore_watch_list_free(NULL);
    ev_log_free(gone);
    ev_log_free(stays);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matching),
        cmocka_unit_test(test_removed_gets_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
