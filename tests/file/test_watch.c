/*
 * File backend: watch through inotify. Events for sets and deletes by
 * this and other processes, the prefix filter, long (hashed-name) keys,
 * temp files ignored, and silence after watch_stop.
 *
 * Waits use a generous deadline only to fail instead of hanging; nothing
 * asserts how fast an event arrives.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <time.h>

#include "procs.h"
#include "util.h"

#define MAXEV 256

typedef struct event {
    kvstore_event type;
    char *key;
    char *value; /* NUL-terminated copy, NULL for DELETE */
} event;

typedef struct collector {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    event ev[MAXEV];
    int n;
} collector;

static void on_event(void *payload, kvstore_event type, const char *key,
                     const void *value, size_t len)
{
    collector *c = payload;
    pthread_mutex_lock(&c->mu);
    if (c->n < MAXEV) {
        event *e = &c->ev[c->n++];
        e->type = type;
        e->key = strdup(key);
        e->value = value ? strndup(value, len) : NULL;
    }
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static collector *collector_new(void)
{
    collector *c = calloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    return c;
}

static void collector_free(collector *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->ev[i].key);
        free(c->ev[i].value);
    }
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

/* Waits until at least `n` events arrived (or 10 s passed); returns the
 * count. */
static int wait_for(collector *c, int n)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 10;
    pthread_mutex_lock(&c->mu);
    while (c->n < n && pthread_cond_timedwait(&c->cv, &c->mu, &dl) == 0)
        ;
    int got = c->n;
    pthread_mutex_unlock(&c->mu);
    return got;
}

static void expect_event(collector *c, int i, kvstore_event type,
                         const char *key, const char *value)
{
    assert_true(i < c->n);
    assert_int_equal(c->ev[i].type, type);
    assert_string_equal(c->ev[i].key, key);
    if (value)
        assert_string_equal(c->ev[i].value, value);
    else
        assert_null(c->ev[i].value);
}

typedef struct fixture {
    char *dir;
    kvstore_store *s;
    kvstore_bucket *b;
    collector *c;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tmp_new();
    f->s = open_store(f->dir, "?sync=false");
    f->b = open_bucket(f->s, "w");
    f->c = collector_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    kvstore_bucket_close(f->b);
    kvstore_close(f->s);
    collector_free(f->c);
    tmp_free(f->dir);
    free(f);
    return 0;
}

static void test_set_delete_prefix_long(void **state)
{
    fixture *f = *state;
    static char longkey[1025];
    memset(longkey, '%', 1024);
    memcpy(longkey, "w/", 2);
    set_str(f->b, longkey, "old"); /* exists before the watch starts */

    kvstore_watch *w = NULL;
    assert_int_equal(kvstore_watch_start(&w, f->b, "w/", on_event, f->c),
                     KVSTORE_OK);
    set_str(f->b, "w/a", "1");
    assert_int_equal(wait_for(f->c, 1), 1);
    set_str(f->b, "x/outside", "no"); /* filtered by prefix */
    assert_int_equal(kvstore_delete(f->b, "w/a"), KVSTORE_OK);
    assert_int_equal(wait_for(f->c, 2), 2);
    set_str(f->b, "w/../b", "path-like");
    assert_int_equal(wait_for(f->c, 3), 3);
    assert_int_equal(kvstore_delete(f->b, longkey), KVSTORE_OK);
    assert_int_equal(wait_for(f->c, 4), 4);
    set_str(f->b, longkey, "L");
    assert_int_equal(wait_for(f->c, 5), 5);
    int64_t r;
    assert_int_equal(kvstore_increment(f->b, "w/n", 41, &r), KVSTORE_OK);
    assert_int_equal(wait_for(f->c, 6), 6);
    kvstore_watch_stop(w);

    expect_event(f->c, 0, KVSTORE_EVENT_SET, "w/a", "1");
    expect_event(f->c, 1, KVSTORE_EVENT_DELETE, "w/a", NULL);
    expect_event(f->c, 2, KVSTORE_EVENT_SET, "w/../b", "path-like");
    expect_event(f->c, 3, KVSTORE_EVENT_DELETE, longkey, NULL);
    expect_event(f->c, 4, KVSTORE_EVENT_SET, longkey, "L");
    expect_event(f->c, 5, KVSTORE_EVENT_SET, "w/n", "41");
    assert_int_equal(f->c->n, 6); /* nothing for x/outside */
}

static void test_other_process(void **state)
{
    fixture *f = *state;
    kvstore_watch *w = NULL;
    assert_int_equal(kvstore_watch_start(&w, f->b, "", on_event, f->c),
                     KVSTORE_OK);
    static const char *const steps[] = { "hi", NULL };
    char uri[4200];
    snprintf(uri, sizeof uri, "file://%s", f->dir);
    procs_write_steps(uri, "w", "from-child", steps);
    assert_int_equal(wait_for(f->c, 1), 1);
    kvstore_watch_stop(w);
    expect_event(f->c, 0, KVSTORE_EVENT_SET, "from-child", "hi");
}

/* Writes by this process: one event per write, in order, each with
 * exactly the value written, even when the file has changed or gone by
 * the time the event is handled. */
static void test_rapid_sets_in_order(void **state)
{
    fixture *f = *state;
    kvstore_watch *w = NULL;
    assert_int_equal(kvstore_watch_start(&w, f->b, "r", on_event, f->c),
                     KVSTORE_OK);
    /* another handle on the same directory writes too */
    kvstore_store *s2 = open_store(f->dir, "?sync=false");
    kvstore_bucket *b2 = open_bucket(s2, "w");
    for (int i = 1; i <= 50; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i);
        set_str(i % 2 ? f->b : b2, "r", v);
    }
    assert_int_equal(kvstore_delete(f->b, "r"), KVSTORE_OK);
    set_str(b2, "r", "last");
    assert_int_equal(kvstore_delete(b2, "r"), KVSTORE_OK);
    assert_int_equal(wait_for(f->c, 53), 53);
    kvstore_watch_stop(w);
    for (int i = 0; i < 50; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i + 1);
        expect_event(f->c, i, KVSTORE_EVENT_SET, "r", v);
    }
    expect_event(f->c, 50, KVSTORE_EVENT_DELETE, "r", NULL);
    expect_event(f->c, 51, KVSTORE_EVENT_SET, "r", "last");
    expect_event(f->c, 52, KVSTORE_EVENT_DELETE, "r", NULL);
    assert_int_equal(f->c->n, 53);
    kvstore_bucket_close(b2);
    kvstore_close(s2);
}

/* Writes by another process are read when the event is handled: a burst
 * gives one event per write, each with that write's value or a later
 * one, never an earlier one. */
static void test_other_process_burst(void **state)
{
    fixture *f = *state;
    kvstore_watch *w = NULL;
    assert_int_equal(kvstore_watch_start(&w, f->b, "p", on_event, f->c),
                     KVSTORE_OK);
    char values[30][8], uri[4200];
    const char *steps[31];
    for (int i = 0; i < 30; i++) {
        snprintf(values[i], sizeof values[i], "%d", i + 1);
        steps[i] = values[i];
    }
    steps[30] = NULL;
    snprintf(uri, sizeof uri, "file://%s?sync=false", f->dir);
    procs_write_steps(uri, "w", "p", steps);
    assert_int_equal(wait_for(f->c, 30), 30);
    kvstore_watch_stop(w);
    int last = 0;
    for (int i = 0; i < 30; i++) {
        assert_int_equal(f->c->ev[i].type, KVSTORE_EVENT_SET);
        int v = atoi(f->c->ev[i].value);
        assert_true(v >= i + 1 && v >= last);
        last = v;
    }
    assert_int_equal(last, 30);
    assert_int_equal(f->c->n, 30);
}

static void test_temp_files_and_stop(void **state)
{
    fixture *f = *state;
    kvstore_watch *w = NULL;
    assert_int_equal(kvstore_watch_start(&w, f->b, "", on_event, f->c),
                     KVSTORE_OK);
    char path[4300];
    snprintf(path, sizeof path, "%s/w/.tmp.00000000000000ff", f->dir);
    FILE *fp = fopen(path, "w");
    fputs("ignored", fp);
    fclose(fp);
    unlink(path);
    set_str(f->b, "marker", "m");
    assert_int_equal(wait_for(f->c, 1), 1);
    /* the temp file came first but produced nothing */
    expect_event(f->c, 0, KVSTORE_EVENT_SET, "marker", "m");
    kvstore_watch_stop(w);

    /* after stop returns, no callback runs */
    int before = f->c->n;
    set_str(f->b, "marker", "after");
    assert_int_equal(kvstore_delete(f->b, "marker"), KVSTORE_OK);
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    assert_int_equal(f->c->n, before);

    /* a stop while events are pending is clean too */
    assert_int_equal(kvstore_watch_start(&w, f->b, "", on_event, f->c),
                     KVSTORE_OK);
    for (int i = 0; i < 100; i++)
        set_str(f->b, "busy", "x");
    kvstore_watch_stop(w);
    kvstore_watch_stop(NULL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_set_delete_prefix_long),
        T(test_other_process),
        T(test_rapid_sets_in_order),
        T(test_other_process_burst),
        T(test_temp_files_and_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
