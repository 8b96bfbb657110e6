/*
 * Conformance: watching keys (API.md 9). Events arrive on a library
 * thread, so each test waits up to REC_WAIT_MS for what it expects; a
 * backend that cannot watch returns ENOTSUP and the tests skip.
 *
 * SPDX-License-Identifier: MIT
 */
#include "watch_rec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A recorder watching `b` under `prefix`; skips the test on a backend
 * that cannot watch. */
static recorder *start(conf_ctx *c, kvstore_bucket *b, const char *prefix,
                       const char *slow_key)
{
    int rc;
    recorder *r = rec_watch(c, b, prefix, slow_key, &rc);
    if (rc == KVSTORE_ENOTSUP)
        skip();
    if (rc != KVSTORE_OK)
        fail_msg("watch_start = %d: %s", rc, kvstore_errmsg());
    return r;
}

void test_watch_set_delete(void **state)
{
    conf_ctx *c = *state;
    recorder *r = start(c, c->bucket, NULL, NULL);
    set_str(c->bucket, "a", "value-1");
    assert_int_equal(kvstore_delete(c->bucket, "a"), KVSTORE_OK);
    long s = rec_wait(r, "a", KVSTORE_EVENT_SET);
    long d = rec_wait(r, "a", KVSTORE_EVENT_DELETE);
    rec_stop(r);
    assert_true(s >= 0 && d >= 0);
    assert_true(s < d);
    if (conf_watch_late_values && r->ev[s]->len == 0) {
        /* Read after the delete: the key was gone. */
    } else {
        expect_bytes("set event", r->ev[s]->value, r->ev[s]->len, "value-1",
                     7);
    }
    expect_bytes("delete event", r->ev[d]->value, r->ev[d]->len, NULL, 0);
}

void test_watch_prefix_filter(void **state)
{
    conf_ctx *c = *state;
    recorder *r = start(c, c->bucket, "w/", NULL);
    /* Non-matching writes first, the sentinel last. */
    set_str(c->bucket, "x/1", "no");
    set_str(c->bucket, "w", "no");
    set_str(c->bucket, "W/1", "no");
    set_str(c->bucket, "ww/1", "no");
    assert_int_equal(kvstore_delete(c->bucket, "x/1"), KVSTORE_OK);
    set_str(c->bucket, "w/a", "yes");
    set_str(c->bucket, "w/zz", "sentinel");
    long a = rec_wait(r, "w/a", KVSTORE_EVENT_SET);
    long z = rec_wait(r, "w/zz", KVSTORE_EVENT_SET);
    rec_stop(r);
    assert_true(a >= 0 && z >= 0);
    for (size_t i = 0; i < r->n; i++)
        if (strncmp(r->ev[i]->key, "w/", 2) != 0)
            fail_msg("event for \"%s\" outside the prefix", r->ev[i]->key);
    assert_int_equal(r->n, 2);
}

void test_watch_other_bucket(void **state)
{
    conf_ctx *c = *state;
    /* Start first: a backend that cannot watch skips before anything
     * else is opened. */
    recorder *r = start(c, c->bucket, "", NULL);
    kvstore_bucket *other = conf_bucket_new(c->store, NULL);
    set_str(other, "k", "elsewhere");
    assert_int_equal(kvstore_delete(other, "k"), KVSTORE_OK);
    conf_drop_bucket(other);
    set_str(c->bucket, "sentinel", "here");
    long s = rec_wait(r, "sentinel", KVSTORE_EVENT_SET);
    rec_stop(r);
    assert_true(s >= 0);
    assert_int_equal(r->n, 1);
}

void test_watch_order_per_key(void **state)
{
    conf_ctx *c = *state;
    recorder *r = start(c, c->bucket, "o", NULL);
    char v[16];
    for (int i = 0; i < 20; i++) {
        snprintf(v, sizeof v, "%d", i);
        set_str(c->bucket, "o", v);
    }
    assert_int_equal(kvstore_delete(c->bucket, "o"), KVSTORE_OK);
    long d = rec_wait(r, "o", KVSTORE_EVENT_DELETE);
    rec_stop(r);
    assert_true(d >= 0);
    /* Each write once, in the order written. With late values, event i
     * carries write i's value or a later one (never an earlier one than
     * the event before it), or nothing once the key is gone. */
    assert_int_equal(r->n, 21);
    int seen = 0;
    for (int i = 0; i < 20; i++) {
        const rec_event *e = r->ev[i];
        snprintf(v, sizeof v, "%d", i);
        assert_int_equal(e->event, KVSTORE_EVENT_SET);
        if (!conf_watch_late_values) {
            expect_bytes(v, e->value, e->len, v, strlen(v));
            continue;
        }
        if (e->len == 0) {
            seen = 20; /* gone: every later event must be empty too */
            continue;
        }
        assert_true(seen < 20);
        char *end;
        long got = strtol(e->value, &end, 10); /* NUL-terminated */
        assert_true(*end == '\0' && got >= i && got >= seen && got < 20);
        seen = (int)got;
    }
    assert_int_equal(r->ev[20]->event, KVSTORE_EVENT_DELETE);
}

void test_watch_other_handle(void **state)
{
    conf_ctx *c = *state;
    /* Another client: a second store when the URI is shared, else a
     * second bucket handle on this store. */
    recorder *r = start(c, c->bucket, "", NULL);
    kvstore_bucket *b2 = conf_second_bucket(
        c, conf_private ? c->store : conf_second_store(c));
    set_str(b2, "from-other", "hi");
    long s = rec_wait(r, "from-other", KVSTORE_EVENT_SET);
    rec_stop(r);
    assert_true(s >= 0);
    expect_bytes("set event", r->ev[s]->value, r->ev[s]->len, "hi", 2);
}

void test_watch_stop_silences(void **state)
{
    conf_ctx *c = *state;
    recorder *r = start(c, c->bucket, "", "slow");
    set_str(c->bucket, "first", "1");
    if (rec_wait(r, "first", KVSTORE_EVENT_SET) < 0) {
        rec_stop(r);
        fail();
    }
    /* Stop while the callback is (likely) sleeping in "slow": stop must
     * wait for it, and nothing may follow. */
    set_str(c->bucket, "slow", "1");
    rec_stop(r);
    for (int i = 0; i < 20; i++)
        set_str(c->bucket, "after", "x");
    struct timespec ts = { 0, 300 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    pthread_mutex_lock(&r->mu);
    unsigned late = r->late;
    long after = rec_find_locked(r, 0, "after", KVSTORE_EVENT_SET);
    pthread_mutex_unlock(&r->mu);
    assert_int_equal(late, 0);
    assert_int_equal(after, -1);
}

void test_watch_bad_args(void **state)
{
    conf_ctx *c = *state;
    recorder *r = rec_new(c, NULL);
    kvstore_watch *w = NULL;
    assert_fails(kvstore_watch_start(NULL, c->bucket, "", rec_on_event, r),
                 KVSTORE_EINVAL);
    assert_fails(kvstore_watch_start(&w, NULL, "", rec_on_event, r),
                 KVSTORE_EINVAL);
    assert_fails(kvstore_watch_start(&w, c->bucket, "", NULL, r),
                 KVSTORE_EINVAL);
    int rc = kvstore_watch_start(&w, c->bucket, "\xff", rec_on_event, r);
    if (rc == KVSTORE_OK)
        kvstore_watch_stop(w);
    /* A backend that cannot watch may say so before looking at the
     * prefix; one that can must reject it. */
    if (rc != KVSTORE_ENOTSUP)
        assert_fails(rc, KVSTORE_EINVAL);
}
