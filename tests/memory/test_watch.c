/*
 * memory backend: watch delivery, order per key, copies, and the
 * watch_stop guarantee.
 *
 * Waits use a deadline only so that a broken build fails instead of
 * hanging; no test asserts how fast anything happens.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fx_memory.h"

#include <unistd.h>

/* Matching sets and deletes arrive once, in order; other keys, other
 * buckets and deletes of missing keys do not. A final sentinel proves
 * nothing else was queued before it. */
static void delivers_matching_changes(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *o = open_bucket(t->s, "w1x");
    kvstore_watch *w = NULL;
    ev_log *r = ev_log_new(16);

    assert_ok(kvstore_watch_start(&w, t->b, "p/", ev_log_add, r));
    set_str(t->b, "p/a", "1");
    set_str(t->b, "q/x", "no");
    set_str(o, "p/a", "other bucket");
    set_str(t->b, "p/a", "2");
    assert_ok(kvstore_delete(t->b, "p/a"));
    assert_ok(kvstore_delete(t->b, "p/missing"));
    assert_ok(kvstore_increment(t->b, "p/n", 3, NULL));
    assert_ok(kvstore_set(t->b, "p/empty", NULL, 0));
    set_str(t->b, "p/zz", "sentinel");
    ev_log_wait(r, 6);
    kvstore_watch_stop(w);

    assert_int_equal(r->n, 6);
    ev_log_expect(r, 0, KVSTORE_EVENT_SET, "p/a", "1");
    ev_log_expect(r, 1, KVSTORE_EVENT_SET, "p/a", "2");
    ev_log_expect(r, 2, KVSTORE_EVENT_DELETE, "p/a", NULL);
    ev_log_expect(r, 3, KVSTORE_EVENT_SET, "p/n", "3");
    ev_log_expect(r, 4, KVSTORE_EVENT_SET, "p/empty", "");
    ev_log_expect(r, 5, KVSTORE_EVENT_SET, "p/zz", "sentinel");
    ev_log_free(r);
    kvstore_bucket_close(o);
}

/* Writes through another handle of a named store are seen, and the value
 * handed to the callback is the library's copy: the writer's buffer is
 * overwritten as soon as set returns. */
static void other_handle_and_copies(void **state)
{
    tmp_store *t = *state;
    kvstore_store *s2 = open_uri("memory:watched");
    kvstore_bucket *b2 = open_bucket(s2, "w2");
    kvstore_watch *w = NULL;
    ev_log *r = ev_log_new(64);
    char buf[16];

    assert_ok(kvstore_watch_start(&w, t->b, NULL, ev_log_add, r));
    for (int i = 0; i < 50; i++) {
        snprintf(buf, sizeof(buf), "v%d", i);
        assert_ok(kvstore_set(b2, "k", buf, strlen(buf)));
        memset(buf, 'X', sizeof(buf));
    }
    ev_log_wait(r, 50);
    kvstore_watch_stop(w);
    for (int i = 0; i < 50; i++) {
        snprintf(buf, sizeof(buf), "v%d", i);
        ev_log_expect(r, (size_t)i, KVSTORE_EVENT_SET, "k", buf);
    }
    ev_log_free(r);
    kvstore_bucket_close(b2);
    kvstore_close(s2);
}

#define WRITERS 4
#define PER_WRITER 500

/* Concurrent writers of different keys: each key's events arrive in the
 * order that key was written, all of them exactly once. */
static void order_per_key_with_concurrent_writers(void **state)
{
    tmp_store *t = *state;
    kvstore_watch *w = NULL;
    seq_writer wr[WRITERS];
    ev_log *r = ev_log_new(WRITERS * PER_WRITER);

    assert_ok(kvstore_watch_start(&w, t->b, "key", ev_log_add, r));
    for (int i = 0; i < WRITERS; i++)
        wr[i] = (seq_writer){ put_in_bucket, t->b, "key", i, PER_WRITER };
    threads_run(WRITERS, seq_write, wr, sizeof wr[0]);
    ev_log_wait(r, WRITERS * PER_WRITER);
    kvstore_watch_stop(w);
    ev_log_expect_sequences(r, "key", WRITERS, PER_WRITER);
    ev_log_free(r);
}

/* watch_stop called while the callback runs, with events still queued:
 * when it returns the running callback has finished, and no callback
 * starts afterwards, whatever is written next. */
static void stop_waits_for_callback(void **state)
{
    tmp_store *t = *state;
    kvstore_watch *w = NULL;
    ev_log *r = ev_log_new(128);
    size_t seen;

    r->delay_us = 20000;
    assert_ok(kvstore_watch_start(&w, t->b, NULL, ev_log_add, r));
    for (int i = 0; i < 100; i++)
        set_str(t->b, "k", "v");
    for (int i = 0; i < 20000 && atomic_load(&r->began) == 0; i++)
        usleep(1000);
    assert_true(atomic_load(&r->began) > 0);
    kvstore_watch_stop(w);
    ev_log_stopped(r);
    /* Every callback that started has finished. */
    assert_int_equal(atomic_load(&r->began), atomic_load(&r->ended));
    seen = ev_log_count(r);
    for (int i = 0; i < 100; i++)
        set_str(t->b, "k", "after");
    usleep(50000);
    assert_int_equal(atomic_load(&r->late), 0);
    assert_int_equal(ev_log_count(r), seen);
    ev_log_free(r);
}

/* Starting and stopping many watches while writers run never loses an
 * event written after start returned and never calls a stopped watch. */
static void start_stop_churn(void **state)
{
    tmp_store *t = *state;
    pthread_t th[2];
    seq_writer wr[2] = { { put_in_bucket, t->b, "key", 10, PER_WRITER },
                         { put_in_bucket, t->b, "key", 11, PER_WRITER } };

    threads_start(th, 2, seq_write, wr, sizeof wr[0]);
    for (int round = 0; round < 20; round++) {
        kvstore_watch *w = NULL;
        ev_log *r = ev_log_new(4);

        assert_ok(kvstore_watch_start(&w, t->b, "mine", ev_log_add, r));
        set_str(t->b, "mine", "x");
        ev_log_wait(r, 1);
        kvstore_watch_stop(w);
        ev_log_stopped(r);
        set_str(t->b, "mine", "y");
        assert_int_equal(atomic_load(&r->late), 0);
        assert_int_equal(ev_log_count(r), 1);
        ev_log_free(r);
    }
    threads_join(th, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(delivers_matching_changes, "memory:", "w1"),
        STORE_TEST(other_handle_and_copies, "memory:watched", "w2"),
        MEMORY_TEST(order_per_key_with_concurrent_writers),
        MEMORY_TEST(stop_waits_for_callback),
        MEMORY_TEST(start_stop_churn),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
