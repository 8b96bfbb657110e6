/*
 * memory backend: watch delivery, order per key, copies, and the
 * watch_stop guarantee.
 *
 * Waits use a deadline only so that a broken build fails instead of
 * hanging; no test asserts how fast anything happens.
 *
 * SPDX-License-Identifier: MIT
 */
#include "support.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#define MAXEV 8192

typedef struct rec {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int count;
    struct {
        kvstore_event type;
        char key[32];
        char value[32];
        size_t len;
        bool value_null;
    } ev[MAXEV];
    /* For the stop test. */
    atomic_bool stopped;
    atomic_int after_stop;
    atomic_int entered;
    atomic_int finished;
    int sleep_us;
} rec;

static rec *rec_new(void)
{
    rec *r = calloc(1, sizeof(*r));

    assert_non_null(r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    return r;
}

static void rec_free(rec *r)
{
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static void on_event(void *payload, kvstore_event type, const char *key,
                     const void *value, size_t len)
{
    rec *r = payload;

    if (atomic_load(&r->stopped))
        atomic_fetch_add(&r->after_stop, 1);
    atomic_fetch_add(&r->entered, 1);
    if (r->sleep_us)
        usleep((useconds_t)r->sleep_us);
    pthread_mutex_lock(&r->lock);
    if (r->count < MAXEV) {
        r->ev[r->count].type = type;
        snprintf(r->ev[r->count].key, sizeof(r->ev[0].key), "%s", key);
        r->ev[r->count].len = len;
        r->ev[r->count].value_null = value == NULL;
        if (value && len < sizeof(r->ev[0].value))
            memcpy(r->ev[r->count].value, value, len);
    }
    r->count++;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    atomic_fetch_add(&r->finished, 1);
}

/* Waits until at least n events arrived; fails after 20 s. */
static void wait_count(rec *r, int n)
{
    struct timespec dl;

    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 20;
    pthread_mutex_lock(&r->lock);
    while (r->count < n) {
        if (pthread_cond_timedwait(&r->cond, &r->lock, &dl) != 0)
            break;
    }
    pthread_mutex_unlock(&r->lock);
    assert_true(r->count >= n);
}

static int count_of(rec *r)
{
    int n;

    pthread_mutex_lock(&r->lock);
    n = r->count;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static void expect_event(rec *r, int i, kvstore_event type, const char *key,
                         const char *value)
{
    assert_int_equal(r->ev[i].type, type);
    assert_string_equal(r->ev[i].key, key);
    if (value) {
        assert_false(r->ev[i].value_null);
        assert_int_equal(r->ev[i].len, strlen(value));
        assert_memory_equal(r->ev[i].value, value, strlen(value));
    } else {
        assert_true(r->ev[i].value_null);
        assert_int_equal(r->ev[i].len, 0);
    }
}

/* Matching sets and deletes arrive once, in order; other keys, other
 * buckets and deletes of missing keys do not. A final sentinel proves
 * nothing else was queued before it. */
static void delivers_matching_changes(void **state)
{
    kvstore_store *s = open_uri("memory:");
    kvstore_bucket *b = open_bucket(s, "w1");
    kvstore_bucket *o = open_bucket(s, "w1x");
    kvstore_watch *w = NULL;
    rec *r = rec_new();

    (void)state;
    assert_int_equal(kvstore_watch_start(&w, b, "p/", on_event, r),
                     KVSTORE_OK);
    set_str(b, "p/a", "1");
    set_str(b, "q/x", "no");
    set_str(o, "p/a", "other bucket");
    set_str(b, "p/a", "2");
    assert_int_equal(kvstore_delete(b, "p/a"), KVSTORE_OK);
    assert_int_equal(kvstore_delete(b, "p/missing"), KVSTORE_OK);
    assert_int_equal(kvstore_increment(b, "p/n", 3, NULL), KVSTORE_OK);
    assert_int_equal(kvstore_set(b, "p/empty", NULL, 0), KVSTORE_OK);
    set_str(b, "p/zz", "sentinel");
    wait_count(r, 6);
    kvstore_watch_stop(w);

    assert_int_equal(r->count, 6);
    expect_event(r, 0, KVSTORE_EVENT_SET, "p/a", "1");
    expect_event(r, 1, KVSTORE_EVENT_SET, "p/a", "2");
    expect_event(r, 2, KVSTORE_EVENT_DELETE, "p/a", NULL);
    expect_event(r, 3, KVSTORE_EVENT_SET, "p/n", "3");
    expect_event(r, 4, KVSTORE_EVENT_SET, "p/empty", "");
    expect_event(r, 5, KVSTORE_EVENT_SET, "p/zz", "sentinel");
    assert_false(r->ev[4].value_null);
    rec_free(r);
    kvstore_bucket_close(b);
    kvstore_bucket_close(o);
    kvstore_close(s);
}

/* Writes through another handle of a named store are seen, and the value
 * handed to the callback is the library's copy: the writer's buffer is
 * overwritten as soon as set returns. */
static void other_handle_and_copies(void **state)
{
    kvstore_store *s1 = open_uri("memory:watched");
    kvstore_store *s2 = open_uri("memory:watched");
    kvstore_bucket *b1 = open_bucket(s1, "w2");
    kvstore_bucket *b2 = open_bucket(s2, "w2");
    kvstore_watch *w = NULL;
    rec *r = rec_new();
    char buf[16];

    (void)state;
    assert_int_equal(kvstore_watch_start(&w, b1, NULL, on_event, r),
                     KVSTORE_OK);
    for (int i = 0; i < 50; i++) {
        snprintf(buf, sizeof(buf), "v%d", i);
        assert_int_equal(kvstore_set(b2, "k", buf, strlen(buf)), KVSTORE_OK);
        memset(buf, 'X', sizeof(buf));
    }
    wait_count(r, 50);
    kvstore_watch_stop(w);
    for (int i = 0; i < 50; i++) {
        snprintf(buf, sizeof(buf), "v%d", i);
        expect_event(r, i, KVSTORE_EVENT_SET, "k", buf);
    }
    rec_free(r);
    kvstore_bucket_close(b1);
    kvstore_bucket_close(b2);
    kvstore_close(s1);
    kvstore_close(s2);
}

#define WRITERS 4
#define PER_WRITER 500

typedef struct writer {
    kvstore_bucket *b;
    int id;
} writer;

static void *write_seq(void *arg)
{
    writer *wr = arg;
    char key[16], val[16];

    snprintf(key, sizeof(key), "key%d", wr->id);
    for (int i = 0; i < PER_WRITER; i++) {
        snprintf(val, sizeof(val), "%d", i);
        if (kvstore_set(wr->b, key, val, strlen(val)) != KVSTORE_OK)
            return (void *)1;
    }
    return NULL;
}

/* Concurrent writers of different keys: each key's events arrive in the
 * order that key was written, all of them exactly once. */
static void order_per_key_with_concurrent_writers(void **state)
{
    kvstore_store *s = open_uri("memory:");
    kvstore_bucket *b = open_bucket(s, "w3");
    kvstore_watch *w = NULL;
    pthread_t th[WRITERS];
    writer wr[WRITERS];
    int next[WRITERS] = {0};
    rec *r = rec_new();

    (void)state;
    assert_int_equal(kvstore_watch_start(&w, b, "key", on_event, r),
                     KVSTORE_OK);
    for (int i = 0; i < WRITERS; i++) {
        wr[i].b = b;
        wr[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, write_seq, &wr[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        assert_null(ret);
    }
    wait_count(r, WRITERS * PER_WRITER);
    kvstore_watch_stop(w);
    assert_int_equal(r->count, WRITERS * PER_WRITER);
    for (int i = 0; i < r->count; i++) {
        int k = -1;
        char want[16];

        assert_int_equal(sscanf(r->ev[i].key, "key%d", &k), 1);
        assert_true(k >= 0 && k < WRITERS);
        snprintf(want, sizeof(want), "%d", next[k]++);
        expect_event(r, i, KVSTORE_EVENT_SET, r->ev[i].key, want);
    }
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(next[i], PER_WRITER);
    rec_free(r);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

/* watch_stop called while the callback runs, with events still queued:
 * when it returns the running callback has finished, and no callback
 * starts afterwards, whatever is written next. */
static void stop_waits_for_callback(void **state)
{
    kvstore_store *s = open_uri("memory:");
    kvstore_bucket *b = open_bucket(s, "w4");
    kvstore_watch *w = NULL;
    rec *r = rec_new();
    int seen;

    (void)state;
    r->sleep_us = 20000;
    assert_int_equal(kvstore_watch_start(&w, b, NULL, on_event, r),
                     KVSTORE_OK);
    for (int i = 0; i < 100; i++)
        set_str(b, "k", "v");
    for (int i = 0; i < 20000 && atomic_load(&r->entered) == 0; i++)
        usleep(1000);
    assert_true(atomic_load(&r->entered) > 0);
    kvstore_watch_stop(w);
    atomic_store(&r->stopped, true);
    /* Every callback that started has finished. */
    assert_int_equal(atomic_load(&r->entered), atomic_load(&r->finished));
    seen = count_of(r);
    for (int i = 0; i < 100; i++)
        set_str(b, "k", "after");
    usleep(50000);
    assert_int_equal(atomic_load(&r->after_stop), 0);
    assert_int_equal(count_of(r), seen);
    rec_free(r);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

/* Starting and stopping many watches while writers run never loses an
 * event written after start returned and never calls a stopped watch. */
static void start_stop_churn(void **state)
{
    kvstore_store *s = open_uri("memory:");
    kvstore_bucket *b = open_bucket(s, "w5");
    pthread_t th[2];
    writer wr[2];

    (void)state;
    for (int i = 0; i < 2; i++) {
        wr[i].b = b;
        wr[i].id = 10 + i;
        assert_int_equal(pthread_create(&th[i], NULL, write_seq, &wr[i]), 0);
    }
    for (int round = 0; round < 20; round++) {
        kvstore_watch *w = NULL;
        rec *r = rec_new();

        assert_int_equal(kvstore_watch_start(&w, b, "mine", on_event, r),
                         KVSTORE_OK);
        set_str(b, "mine", "x");
        wait_count(r, 1);
        kvstore_watch_stop(w);
        atomic_store(&r->stopped, true);
        set_str(b, "mine", "y");
        assert_int_equal(atomic_load(&r->after_stop), 0);
        assert_int_equal(count_of(r), 1);
        rec_free(r);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivers_matching_changes),
        cmocka_unit_test(other_handle_and_copies),
        cmocka_unit_test(order_per_key_with_concurrent_writers),
        cmocka_unit_test(stop_waits_for_callback),
        cmocka_unit_test(start_stop_churn),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
