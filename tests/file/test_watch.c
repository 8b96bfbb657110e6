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
#include <time.h>

#include "procs.h"
#include "util.h"

/* A store of the test's own with bucket "w", and the log of a watch. */
typedef struct fixture {
    tmp_store t;
    watch_log *log;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->t = tmp_store_open("file://{dir}?sync=false", "w");
    f->log = watch_log_new();
    *state = f;
    return 0;
}

/* The bucket (and with it any watch still running) goes first. */
static int teardown(void **state)
{
    fixture *f = *state;
    tmp_store_close(&f->t);
    watch_log_free(f->log);
    free(f);
    return 0;
}

static void test_set_delete_prefix_long(void **state)
{
    fixture *f = *state;
    static char longkey[1025];
    memset(longkey, '%', 1024);
    memcpy(longkey, "w/", 2);
    set_str(f->t.b, longkey, "old"); /* exists before the watch starts */

    kvstore_watch *w = NULL;
    assert_int_equal(kvstore_watch_start(&w, f->t.b, "w/", watch_log_event, f->log),
                     KVSTORE_OK);
    set_str(f->t.b, "w/a", "1");
    assert_int_equal(watch_log_wait(f->log, 1), 1);
    set_str(f->t.b, "x/outside", "no"); /* filtered by prefix */
    assert_int_equal(kvstore_delete(f->t.b, "w/a"), KVSTORE_OK);
    assert_int_equal(watch_log_wait(f->log, 2), 2);
    set_str(f->t.b, "w/../b", "path-like");
    assert_int_equal(watch_log_wait(f->log, 3), 3);
    assert_int_equal(kvstore_delete(f->t.b, longkey), KVSTORE_OK);
    assert_int_equal(watch_log_wait(f->log, 4), 4);
    set_str(f->t.b, longkey, "L");
    assert_int_equal(watch_log_wait(f->log, 5), 5);
    int64_t r;
    assert_int_equal(kvstore_increment(f->t.b, "w/n", 41, &r), KVSTORE_OK);
    assert_int_equal(watch_log_wait(f->log, 6), 6);
    kvstore_watch_stop(w);

    expect_event(f->log, 0, KVSTORE_EVENT_SET, "w/a", "1");
    expect_event(f->log, 1, KVSTORE_EVENT_DELETE, "w/a", NULL);
    expect_event(f->log, 2, KVSTORE_EVENT_SET, "w/../b", "path-like");
    expect_event(f->log, 3, KVSTORE_EVENT_DELETE, longkey, NULL);
    expect_event(f->log, 4, KVSTORE_EVENT_SET, longkey, "L");
    expect_event(f->log, 5, KVSTORE_EVENT_SET, "w/n", "41");
    assert_int_equal(f->log->n, 6); /* nothing for x/outside */
}

static void test_other_process(void **state)
{
    fixture *f = *state;
    kvstore_watch *w = NULL;
    assert_int_equal(kvstore_watch_start(&w, f->t.b, "", watch_log_event, f->log),
                     KVSTORE_OK);
    static const char *const steps[] = { "hi", NULL };
    char uri[4200];
    snprintf(uri, sizeof uri, "file://%s", f->t.dir);
    procs_write_steps(uri, "w", "from-child", steps);
    assert_int_equal(watch_log_wait(f->log, 1), 1);
    kvstore_watch_stop(w);
    expect_event(f->log, 0, KVSTORE_EVENT_SET, "from-child", "hi");
}

/* Writes by this process: one event per write, in order, each with
 * exactly the value written, even when the file has changed or gone by
 * the time the event is handled. */
static void test_rapid_sets_in_order(void **state)
{
    fixture *f = *state;
    kvstore_watch *w = NULL;
    assert_int_equal(kvstore_watch_start(&w, f->t.b, "r", watch_log_event, f->log),
                     KVSTORE_OK);
    /* another handle on the same directory writes too */
    kvstore_store *s2 = open_store(f->t.dir, "?sync=false");
    kvstore_bucket *b2 = open_bucket(s2, "w");
    for (int i = 1; i <= 50; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i);
        set_str(i % 2 ? f->t.b : b2, "r", v);
    }
    assert_int_equal(kvstore_delete(f->t.b, "r"), KVSTORE_OK);
    set_str(b2, "r", "last");
    assert_int_equal(kvstore_delete(b2, "r"), KVSTORE_OK);
    assert_int_equal(watch_log_wait(f->log, 53), 53);
    kvstore_watch_stop(w);
    for (int i = 0; i < 50; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i + 1);
        expect_event(f->log, i, KVSTORE_EVENT_SET, "r", v);
    }
    expect_event(f->log, 50, KVSTORE_EVENT_DELETE, "r", NULL);
    expect_event(f->log, 51, KVSTORE_EVENT_SET, "r", "last");
    expect_event(f->log, 52, KVSTORE_EVENT_DELETE, "r", NULL);
    assert_int_equal(f->log->n, 53);
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
    assert_int_equal(kvstore_watch_start(&w, f->t.b, "p", watch_log_event, f->log),
                     KVSTORE_OK);
    char values[30][8], uri[4200];
    const char *steps[31];
    for (int i = 0; i < 30; i++) {
        snprintf(values[i], sizeof values[i], "%d", i + 1);
        steps[i] = values[i];
    }
    steps[30] = NULL;
    snprintf(uri, sizeof uri, "file://%s?sync=false", f->t.dir);
    procs_write_steps(uri, "w", "p", steps);
    assert_int_equal(watch_log_wait(f->log, 30), 30);
    kvstore_watch_stop(w);
    int last = 0;
    for (int i = 0; i < 30; i++) {
        assert_int_equal(f->log->ev[i].type, KVSTORE_EVENT_SET);
        int v = atoi(f->log->ev[i].value);
        assert_true(v >= i + 1 && v >= last);
        last = v;
    }
    assert_int_equal(last, 30);
    assert_int_equal(f->log->n, 30);
}

static void test_temp_files_and_stop(void **state)
{
    fixture *f = *state;
    kvstore_watch *w = NULL;
    assert_int_equal(kvstore_watch_start(&w, f->t.b, "", watch_log_event, f->log),
                     KVSTORE_OK);
    char path[4300];
    snprintf(path, sizeof path, "%s/w/.tmp.00000000000000ff", f->t.dir);
    FILE *fp = fopen(path, "w");
    fputs("ignored", fp);
    fclose(fp);
    unlink(path);
    set_str(f->t.b, "marker", "m");
    assert_int_equal(watch_log_wait(f->log, 1), 1);
    /* the temp file came first but produced nothing */
    expect_event(f->log, 0, KVSTORE_EVENT_SET, "marker", "m");
    kvstore_watch_stop(w);

    /* after stop returns, no callback runs */
    int before = f->log->n;
    set_str(f->t.b, "marker", "after");
    assert_int_equal(kvstore_delete(f->t.b, "marker"), KVSTORE_OK);
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    assert_int_equal(f->log->n, before);

    /* a stop while events are pending is clean too */
    assert_int_equal(kvstore_watch_start(&w, f->t.b, "", watch_log_event, f->log),
                     KVSTORE_OK);
    for (int i = 0; i < 100; i++)
        set_str(f->t.b, "busy", "x");
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
