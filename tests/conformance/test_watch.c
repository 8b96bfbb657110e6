/*
 * Conformance: watching keys (API.md 9). Events arrive on a library
 * thread, so each test waits up to WAIT_MS for what it expects; a backend
 * that cannot watch returns ENOTSUP and the tests skip.
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define WAIT_MS 5000
#define MAX_EVENTS 256

typedef struct rec_event {
    kvstore_event event;
    char *key;
    void *value; /* NULL for a delete */
    size_t len;
} rec_event;

/* Everything the callback saw, under a mutex. */
typedef struct recorder {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rec_event ev[MAX_EVENTS];
    size_t n;
    bool stopped;        /* set once watch_stop has returned */
    unsigned late;       /* callbacks after stopped */
    unsigned bad;        /* malformed events (delete with a value, ...) */
    const char *slow_key; /* the callback sleeps on this key */
} recorder;

static void rec_init(recorder *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
}

static void rec_free(recorder *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->ev[i].key);
        free(r->ev[i].value);
    }
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
}

static void on_event(void *payload, kvstore_event event, const char *key,
                     const void *value, size_t len)
{
    recorder *r = payload;
    if (r->slow_key != NULL && key != NULL && strcmp(key, r->slow_key) == 0) {
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&r->mu);
    if (r->stopped)
        r->late++;
    if (key == NULL || (event != KVSTORE_EVENT_SET &&
                        event != KVSTORE_EVENT_DELETE) ||
        (event == KVSTORE_EVENT_DELETE && (value != NULL || len != 0)) ||
        (event == KVSTORE_EVENT_SET && value == NULL && len != 0)) {
        r->bad++;
    } else if (r->n < MAX_EVENTS) {
        rec_event *e = &r->ev[r->n++];
        e->event = event;
        e->key = strdup(key);
        e->len = len;
        e->value = NULL;
        if (event == KVSTORE_EVENT_SET) {
            e->value = malloc(len + 1);
            if (e->value != NULL && len > 0)
                memcpy(e->value, value, len);
        }
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Index of the first event for `key` of kind `event` at or after `from`,
 * or -1. Caller holds the mutex. */
static long find_event(const recorder *r, size_t from, const char *key,
                       kvstore_event event)
{
    for (size_t i = from; i < r->n; i++)
        if (r->ev[i].event == event && strcmp(r->ev[i].key, key) == 0)
            return (long)i;
    return -1;
}

/* Waits up to WAIT_MS for an event (key, event); returns its index, or
 * -1 after a timeout. Callers stop the watch before asserting, so that no
 * callback outlives a failed test's recorder. */
static long wait_event(recorder *r, const char *key, kvstore_event event)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&r->mu);
    long i;
    while ((i = find_event(r, 0, key, event)) < 0) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &deadline) == ETIMEDOUT) {
            i = find_event(r, 0, key, event);
            break;
        }
    }
    pthread_mutex_unlock(&r->mu);
    if (i < 0)
        print_error("no %s event for \"%s\" within %d ms\n",
                    event == KVSTORE_EVENT_SET ? "set" : "delete", key,
                    WAIT_MS);
    return i;
}

static kvstore_watch *start(kvstore_bucket *b, const char *prefix,
                            recorder *r)
{
    kvstore_watch *w = NULL;
    int rc = kvstore_watch_start(&w, b, prefix, on_event, r);
    if (rc == KVSTORE_ENOTSUP) {
        rec_free(r);
        skip();
    }
    if (rc != KVSTORE_OK)
        fail_msg("watch_start = %d: %s", rc, kvstore_errmsg());
    assert_non_null(w);
    return w;
}

/* Stops `w`, then checks no malformed events arrived. */
static void stop(kvstore_watch *w, recorder *r)
{
    kvstore_watch_stop(w);
    pthread_mutex_lock(&r->mu);
    r->stopped = true;
    unsigned bad = r->bad;
    pthread_mutex_unlock(&r->mu);
    assert_int_equal(bad, 0);
}

void test_watch_set_delete(void **state)
{
    conf_ctx *c = *state;
    recorder r;
    rec_init(&r);
    kvstore_watch *w = start(c->bucket, NULL, &r);
    set_str(c->bucket, "a", "value-1");
    assert_int_equal(kvstore_delete(c->bucket, "a"), KVSTORE_OK);
    long s = wait_event(&r, "a", KVSTORE_EVENT_SET);
    long d = wait_event(&r, "a", KVSTORE_EVENT_DELETE);
    stop(w, &r);
    assert_true(s >= 0 && d >= 0);
    assert_true(s < d);
    if (conf_watch_late_values && r.ev[s].len == 0) {
        /* Read after the delete: the key was gone. */
    } else {
        assert_int_equal(r.ev[s].len, 7);
        assert_memory_equal(r.ev[s].value, "value-1", 7);
    }
    assert_null(r.ev[d].value);
    assert_int_equal(r.ev[d].len, 0);
    rec_free(&r);
}

void test_watch_prefix_filter(void **state)
{
    conf_ctx *c = *state;
    recorder r;
    rec_init(&r);
    kvstore_watch *w = start(c->bucket, "w/", &r);
    /* Non-matching writes first, the sentinel last. */
    set_str(c->bucket, "x/1", "no");
    set_str(c->bucket, "w", "no");
    set_str(c->bucket, "W/1", "no");
    set_str(c->bucket, "ww/1", "no");
    assert_int_equal(kvstore_delete(c->bucket, "x/1"), KVSTORE_OK);
    set_str(c->bucket, "w/a", "yes");
    set_str(c->bucket, "w/zz", "sentinel");
    long a = wait_event(&r, "w/a", KVSTORE_EVENT_SET);
    long z = wait_event(&r, "w/zz", KVSTORE_EVENT_SET);
    stop(w, &r);
    assert_true(a >= 0 && z >= 0);
    for (size_t i = 0; i < r.n; i++)
        if (strncmp(r.ev[i].key, "w/", 2) != 0)
            fail_msg("event for \"%s\" outside the prefix", r.ev[i].key);
    assert_int_equal(r.n, 2);
    rec_free(&r);
}

void test_watch_other_bucket(void **state)
{
    conf_ctx *c = *state;
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
    recorder r;
    rec_init(&r);
    /* Start first: a backend that cannot watch skips before anything
     * else is opened. */
    kvstore_watch *w = start(c->bucket, "", &r);
    conf_unique_name(name, sizeof name);
    kvstore_bucket *other = open_bucket(c->store, name);
    set_str(other, "k", "elsewhere");
    assert_int_equal(kvstore_delete(other, "k"), KVSTORE_OK);
    set_str(c->bucket, "sentinel", "here");
    long s = wait_event(&r, "sentinel", KVSTORE_EVENT_SET);
    stop(w, &r);
    assert_true(s >= 0);
    assert_int_equal(r.n, 1);
    rec_free(&r);
    conf_wipe(other);
    kvstore_bucket_close(other);
}

void test_watch_order_per_key(void **state)
{
    conf_ctx *c = *state;
    recorder r;
    rec_init(&r);
    kvstore_watch *w = start(c->bucket, "o", &r);
    char v[16];
    for (int i = 0; i < 20; i++) {
        snprintf(v, sizeof v, "%d", i);
        set_str(c->bucket, "o", v);
    }
    assert_int_equal(kvstore_delete(c->bucket, "o"), KVSTORE_OK);
    long d = wait_event(&r, "o", KVSTORE_EVENT_DELETE);
    stop(w, &r);
    assert_true(d >= 0);
    /* Each write once, in the order written. With late values, event i
     * carries write i's value or a later one (never an earlier one than
     * the event before it), or nothing once the key is gone. */
    assert_int_equal(r.n, 21);
    int seen = 0;
    for (int i = 0; i < 20; i++) {
        snprintf(v, sizeof v, "%d", i);
        assert_int_equal(r.ev[i].event, KVSTORE_EVENT_SET);
        if (!conf_watch_late_values) {
            assert_int_equal(r.ev[i].len, strlen(v));
            assert_memory_equal(r.ev[i].value, v, strlen(v));
            continue;
        }
        if (r.ev[i].len == 0) {
            seen = 20; /* gone: every later event must be empty too */
            continue;
        }
        assert_true(seen < 20);
        char *end;
        ((char *)r.ev[i].value)[r.ev[i].len] = '\0';
        long got = strtol(r.ev[i].value, &end, 10);
        assert_true(*end == '\0' && got >= i && got >= seen && got < 20);
        seen = (int)got;
    }
    assert_int_equal(r.ev[20].event, KVSTORE_EVENT_DELETE);
    rec_free(&r);
}

void test_watch_other_handle(void **state)
{
    conf_ctx *c = *state;
    /* Another client: a second store when the URI is shared, else a
     * second bucket handle on this store. */
    recorder r;
    rec_init(&r);
    kvstore_watch *w = start(c->bucket, "", &r);
    kvstore_store *s2 = conf_private ? NULL : open_uri(conf_uri);
    kvstore_bucket *b2 = open_bucket(s2 ? s2 : c->store, c->name);
    set_str(b2, "from-other", "hi");
    long s = wait_event(&r, "from-other", KVSTORE_EVENT_SET);
    stop(w, &r);
    assert_true(s >= 0);
    assert_int_equal(r.ev[s].len, 2);
    assert_memory_equal(r.ev[s].value, "hi", 2);
    rec_free(&r);
    kvstore_bucket_close(b2);
    kvstore_close(s2);
}

void test_watch_stop_silences(void **state)
{
    conf_ctx *c = *state;
    recorder r;
    rec_init(&r);
    r.slow_key = "slow";
    kvstore_watch *w = start(c->bucket, "", &r);
    set_str(c->bucket, "first", "1");
    if (wait_event(&r, "first", KVSTORE_EVENT_SET) < 0) {
        stop(w, &r);
        fail();
    }
    /* Stop while the callback is (likely) sleeping in "slow": stop must
     * wait for it, and nothing may follow. */
    set_str(c->bucket, "slow", "1");
    stop(w, &r);
    for (int i = 0; i < 20; i++)
        set_str(c->bucket, "after", "x");
    struct timespec ts = { 0, 300 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    pthread_mutex_lock(&r.mu);
    unsigned late = r.late;
    long after = find_event(&r, 0, "after", KVSTORE_EVENT_SET);
    pthread_mutex_unlock(&r.mu);
    assert_int_equal(late, 0);
    assert_int_equal(after, -1);
    rec_free(&r);
}

void test_watch_bad_args(void **state)
{
    conf_ctx *c = *state;
    recorder r;
    rec_init(&r);
    kvstore_watch *w = NULL;
    assert_fails(kvstore_watch_start(NULL, c->bucket, "", on_event, &r),
                 KVSTORE_EINVAL);
    assert_fails(kvstore_watch_start(&w, NULL, "", on_event, &r),
                 KVSTORE_EINVAL);
    assert_fails(kvstore_watch_start(&w, c->bucket, "", NULL, &r),
                 KVSTORE_EINVAL);
    int rc = kvstore_watch_start(&w, c->bucket, "\xff", on_event, &r);
    if (rc == KVSTORE_OK)
        kvstore_watch_stop(w);
    /* A backend that cannot watch may say so before looking at the
     * prefix; one that can must reject it. */
    if (rc != KVSTORE_ENOTSUP)
        assert_fails(rc, KVSTORE_EINVAL);
    rec_free(&r);
}
