/*
 * Redis backend faults, with a real server: SIGKILL during a workload and
 * a restart (appendonly yes, appendfsync always, same directory), a hung
 * server (SIGSTOP), and a watch that outlives a restart. Calls must fail
 * cleanly (KVSTORE_EUNAVAILABLE, or KVSTORE_EUNCERTAIN for a write that
 * may have been applied), recover without reopening the store, and lose
 * no acknowledged write. Every kind of write sent to a stopped server is
 * KVSTORE_EUNCERTAIN and reaches the server exactly once (never resent).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <kvstore/kvstore.h>

#include "group.h"

static rs_server srv;
static const char *const durable[] = { "--appendonly", "yes",
                                       "--appendfsync", "always", NULL };

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static kvstore_store *open_store_ms(int timeout_ms, const char *more)
{
    char uri[160];
    kvstore_store *s = NULL;

    snprintf(uri, sizeof uri, "redis://127.0.0.1:%d?timeout_ms=%d%s",
             srv.port, timeout_ms, more);
    assert_int_equal(kvstore_open(&s, uri), KVSTORE_OK);
    return s;
}

static kvstore_store *open_store(void)
{
    return open_store_ms(500, "");
}

/* SIGSTOP is asynchronous: wait until the kernel shows the server
 * stopped, so the next command surely meets a server that cannot answer. */
static void stop_server(void)
{
    char path[64], buf[256];

    rs_signal(&srv, SIGSTOP);
    snprintf(path, sizeof path, "/proc/%d/stat", (int)srv.pid);
    for (int i = 0; i < 500; i++) {
        FILE *f = fopen(path, "r");
        char *rp = NULL;

        if (f != NULL) {
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            buf[n] = '\0';
            fclose(f);
            rp = strrchr(buf, ')');
        }
        if (rp != NULL && (rp[2] == 'T' || rp[2] == 't'))
            return;
        sleep_ms(2);
    }
    fail_msg("redis-server %d did not stop", (int)srv.pid);
}

/* How many times the server ran `cmd` (INFO commandstats, by redis-cli). */
static long calls_of(const char *cmd)
{
    static const char *const args[] = { "INFO", "commandstats", NULL };
    char out[16384], pat[64];
    const char *p;

    assert_int_equal(rs_cli(&srv, out, sizeof out, args), 0);
    snprintf(pat, sizeof pat, "cmdstat_%s:calls=", cmd);
    p = strstr(out, pat);
    return p ? strtol(p + strlen(pat), NULL, 10) : 0;
}

/* ---- SIGKILL and restart under load ---- */

#define MAX_WRITES 200000

typedef struct workload {
    kvstore_bucket *b;
    atomic_bool stop;
    atomic_int ok_after_restart;   /* successes once `restarted` is set */
    atomic_bool restarted;
    unsigned char acked[MAX_WRITES];
    int writes;
    long incr_acked, incr_uncertain, incr_failed;
    long set_failed, bad_codes, uncertain_sets;
    unsigned char uncertain[MAX_WRITES];
    double worst_fail_ms;
} workload;

static void *run_workload(void *arg)
{
    workload *w = arg;
    char key[32], val[32];

    for (int i = 0; i < MAX_WRITES && !atomic_load(&w->stop); i++) {
        double t0 = now_ms();
        int rc;

        snprintf(key, sizeof key, "w%d", i);
        snprintf(val, sizeof val, "v%d", i);
        rc = kvstore_set(w->b, key, val, strlen(val));
        w->writes = i + 1;
        if (rc == KVSTORE_OK) {
            w->acked[i] = 1;
            if (atomic_load(&w->restarted))
                atomic_fetch_add(&w->ok_after_restart, 1);
        } else {
            w->set_failed++;
            if (rc == KVSTORE_EUNCERTAIN) {
                w->uncertain_sets++;  /* sent, then the server died */
                w->uncertain[i] = 1;
            } else if (rc != KVSTORE_EUNAVAILABLE)
                w->bad_codes++;
        }
        if (i % 5 == 0) {
            rc = kvstore_increment(w->b, "ctr", 1, NULL);
            if (rc == KVSTORE_OK)
                w->incr_acked++;
            else if (rc == KVSTORE_EUNCERTAIN)
                w->incr_uncertain++;
            else if (rc == KVSTORE_EUNAVAILABLE)
                w->incr_failed++;
            else
                w->bad_codes++;
        }
        if (rc != KVSTORE_OK && now_ms() - t0 > w->worst_fail_ms)
            w->worst_fail_ms = now_ms() - t0;
        if (rc != KVSTORE_OK)
            sleep_ms(5);  /* do not spin while the server is away */
    }
    return NULL;
}

static void test_kill_and_restart(void **state)
{
    (void)state;
    kvstore_store *s = open_store();
    kvstore_bucket *b = NULL;
    workload *w = calloc(1, sizeof *w);
    pthread_t t;
    double deadline;
    long ctr;
    void *v = NULL;
    size_t len = 0;
    int lost = 0, acked = 0;

    assert_int_equal(kvstore_bucket_open(&b, s, "faults"), KVSTORE_OK);
    w->b = b;
    assert_int_equal(pthread_create(&t, NULL, run_workload, w), 0);
    sleep_ms(300);
    rs_signal(&srv, SIGKILL);
    sleep_ms(600);                 /* calls fail meanwhile */
    assert_int_equal(rs_restart(&srv, durable), 0);
    atomic_store(&w->restarted, true);
    deadline = now_ms() + 15000;
    while (atomic_load(&w->ok_after_restart) < 50 && now_ms() < deadline)
        sleep_ms(20);
    atomic_store(&w->stop, true);
    pthread_join(t, NULL);

    print_message("writes %d, failed sets %ld (uncertain %ld), increments "
                  "acked %ld uncertain %ld unavailable %ld, slowest failure "
                  "%.0f ms\n", w->writes, w->set_failed, w->uncertain_sets,
                  w->incr_acked, w->incr_uncertain, w->incr_failed,
                  w->worst_fail_ms);
    assert_true(w->set_failed > 0);          /* the outage was seen */
    assert_int_equal(w->bad_codes, 0);       /* only the two codes */
    /* A SET in flight when the server died is uncertain: at most the
     * one call of the workload thread that was under way. */
    assert_true(w->uncertain_sets <= 1);
    assert_true(atomic_load(&w->ok_after_restart) >= 50); /* same handle */

    /* Every acknowledged write survived the kill. */
    for (int i = 0; i < w->writes; i++) {
        char key[32], val[32];
        int rc;

        if (!w->acked[i])
            continue;
        acked++;
        snprintf(key, sizeof key, "w%d", i);
        snprintf(val, sizeof val, "v%d", i);
        rc = kvstore_get(b, key, &v, &len);
        if (rc != KVSTORE_OK || len != strlen(val) ||
            memcmp(v, val, len) != 0)
            lost++;
        kvstore_free(v);
        v = NULL;
    }
    assert_int_equal(lost, 0);
    assert_true(acked > 0);
    /* Never applied twice: at least the acknowledged increments, at
     * most those plus the uncertain ones. */
    assert_int_equal(kvstore_get(b, "ctr", &v, &len), KVSTORE_OK);
    ctr = strtol(v, NULL, 10);
    kvstore_free(v);
    assert_true(ctr >= w->incr_acked);
    assert_true(ctr <= w->incr_acked + w->incr_uncertain);
    kvstore_bucket_close(b);
    kvstore_close(s);
    free(w);
}

/* ---- a server that stops answering ---- */

static void test_hung_server_times_out(void **state)
{
    (void)state;
    kvstore_store *s = open_store();
    kvstore_bucket *b = NULL;
    void *v = NULL;
    size_t len = 0;
    int rc = KVSTORE_OK;
    double t0, elapsed;

    assert_int_equal(kvstore_bucket_open(&b, s, "hung"), KVSTORE_OK);
    assert_int_equal(kvstore_set(b, "k", "before", 6), KVSTORE_OK);
    rs_signal(&srv, SIGSTOP);
    t0 = now_ms();
    assert_int_equal(kvstore_get(b, "k", &v, &len), KVSTORE_EUNAVAILABLE);
    elapsed = now_ms() - t0;
    assert_null(v);
    /* An increment that went out may be applied when the server wakes. */
    rc = kvstore_increment(b, "n", 1, NULL);
    assert_true(rc == KVSTORE_EUNCERTAIN || rc == KVSTORE_EUNAVAILABLE);
    rs_signal(&srv, SIGCONT);
    print_message("get against a stopped server failed after %.0f ms "
                  "(timeout_ms=500); increment: %s\n", elapsed,
                  kvstore_strerror(rc));
    assert_int_equal(kvstore_get(b, "k", &v, &len), KVSTORE_OK);
    assert_int_equal(len, 6);
    kvstore_free(v);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

/* ---- a watch reconnects by itself ---- */

typedef struct seen {
    pthread_mutex_t mu;
    int sets;
} seen;

static void on_event(void *p, kvstore_event e, const char *key,
                     const void *value, size_t len)
{
    seen *s = p;
    (void)key;
    (void)value;
    (void)len;
    pthread_mutex_lock(&s->mu);
    if (e == KVSTORE_EVENT_SET)
        s->sets++;
    pthread_mutex_unlock(&s->mu);
}

static int sets_seen(seen *s)
{
    int n;
    pthread_mutex_lock(&s->mu);
    n = s->sets;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void test_watch_survives_restart(void **state)
{
    (void)state;
    /* The restarted server forgets notify-keyspace-events: this store may
     * set it again. */
    kvstore_store *s = open_store_ms(500, "&watch_config=auto");
    kvstore_bucket *b = NULL;
    kvstore_watch *w = NULL;
    seen ev = { .sets = 0 };
    double deadline;

    pthread_mutex_init(&ev.mu, NULL);
    assert_int_equal(kvstore_bucket_open(&b, s, "wr"), KVSTORE_OK);
    assert_int_equal(kvstore_watch_start(&w, b, "", on_event, &ev),
                     KVSTORE_OK);
    rs_signal(&srv, SIGKILL);
    assert_int_equal(rs_restart(&srv, durable), 0);
    /* The restarted server forgot notify-keyspace-events; the watch
     * thread turns it on again when it resubscribes. */
    deadline = now_ms() + 15000;
    while (sets_seen(&ev) == 0 && now_ms() < deadline) {
        (void)kvstore_set(b, "after", "1", 1);
        sleep_ms(50);
    }
    kvstore_watch_stop(w);
    assert_true(sets_seen(&ev) > 0);
    pthread_mutex_destroy(&ev.mu);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

/* ---- writes to a server that stops answering are uncertain ---- */

enum { W_SET, W_SET_TTL, W_DEL, W_SET_MANY, W_DELETE_MANY, W_INCREMENT,
       W_CAS, W_N };
static const char *const w_name[W_N] = { "set", "set_ttl", "delete",
                                         "set_many", "delete_many",
                                         "increment", "cas_swap" };
/* The one Redis command each sends (the CAS sends MULTI, SET, EXEC). */
static const char *const w_cmd[W_N] = { "set", "set", "del", "mset", "del",
                                        "incrby", "exec" };

static void value_is(kvstore_bucket *b, const char *key, const char *want)
{
    void *v = NULL;
    size_t len = 0;
    int rc = kvstore_get(b, key, &v, &len);

    if (want == NULL) {
        assert_int_equal(rc, KVSTORE_NOTFOUND);
        return;
    }
    assert_int_equal(rc, KVSTORE_OK);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(v, want, len);
    kvstore_free(v);
}

static void test_uncertain_writes(void **state)
{
    (void)state;
    for (int op = 0; op < W_N; op++) {
        kvstore_store *s = open_store_ms(300, "");
        kvstore_bucket *b = NULL;
        kvstore_cas *cas = NULL;
        const char *keys[2] = { "k1", "k2" };
        const void *vals[2] = { "new1", "new2" };
        size_t lens[2] = { 4, 4 };
        long before;
        double t0, waited, deadline;
        int rc = KVSTORE_OK;

        assert_int_equal(kvstore_bucket_open(&b, s, "uncertain"),
                         KVSTORE_OK);
        /* Also leaves a pooled connection that is alive and idle. */
        assert_int_equal(kvstore_set(b, "k1", "old1", 4), KVSTORE_OK);
        assert_int_equal(kvstore_set(b, "k2", "old2", 4), KVSTORE_OK);
        assert_int_equal(kvstore_delete(b, "n"), KVSTORE_OK);
        if (op == W_CAS)
            assert_int_equal(kvstore_cas_open(&cas, b, "k1"), KVSTORE_OK);
        before = calls_of(w_cmd[op]);

        stop_server();
        t0 = now_ms();
        switch (op) {
        case W_SET:
            rc = kvstore_set(b, "k1", "new1", 4);
            break;
        case W_SET_TTL:
            rc = kvstore_set_ttl(b, "k1", "new1", 4, 600000);
            break;
        case W_DEL:
            rc = kvstore_delete(b, "k1");
            break;
        case W_SET_MANY:
            rc = kvstore_set_many(b, keys, vals, lens, 2);
            break;
        case W_DELETE_MANY:
            rc = kvstore_delete_many(b, keys, 2);
            break;
        case W_INCREMENT:
            rc = kvstore_increment(b, "n", 5, NULL);
            break;
        case W_CAS:
            rc = kvstore_cas_swap(cas, "new1", 4);
            break;
        }
        waited = now_ms() - t0;
        rs_signal(&srv, SIGCONT);
        print_message("%s on a stopped server: %s after %.0f ms: %s\n",
                      w_name[op], kvstore_strerror(rc), waited,
                      kvstore_errmsg());
        if (rc != KVSTORE_EUNCERTAIN)
            fail_msg("%s: %s, not KVSTORE_EUNCERTAIN", w_name[op],
                     kvstore_strerror(rc));
        assert_non_null(strstr(kvstore_errmsg(), "may or may not"));

        /* The command was in the server's socket buffer: it runs once the
         * server wakes, and only once (no retry went out behind it). */
        deadline = now_ms() + 5000;
        while (calls_of(w_cmd[op]) < before + 1 && now_ms() < deadline)
            sleep_ms(20);
        sleep_ms(200);
        assert_int_equal(calls_of(w_cmd[op]), before + 1);
        switch (op) {
        case W_SET:
        case W_SET_TTL:
        case W_CAS:
            value_is(b, "k1", "new1");
            value_is(b, "k2", "old2");
            break;
        case W_DEL:
            value_is(b, "k1", NULL);
            value_is(b, "k2", "old2");
            break;
        case W_SET_MANY:
            value_is(b, "k1", "new1");
            value_is(b, "k2", "new2");
            break;
        case W_DELETE_MANY:
            value_is(b, "k1", NULL);
            value_is(b, "k2", NULL);
            break;
        case W_INCREMENT:
            value_is(b, "n", "5");
            break;
        }
        kvstore_cas_free(cas);
        kvstore_bucket_close(b);
        kvstore_close(s);
    }
}

/* Nothing sent is no uncertainty: a write to a server that is gone fails
 * with KVSTORE_EUNAVAILABLE. */
static void test_write_to_dead_server_unavailable(void **state)
{
    (void)state;
    kvstore_store *s = open_store_ms(300, "");
    kvstore_bucket *b = NULL;
    const char *keys[1] = { "a" };
    const void *vals[1] = { "1" };
    size_t lens[1] = { 1 };

    assert_int_equal(kvstore_bucket_open(&b, s, "gone"), KVSTORE_OK);
    assert_int_equal(kvstore_set(b, "a", "0", 1), KVSTORE_OK);
    rs_signal(&srv, SIGKILL);
    assert_int_equal(kvstore_set(b, "a", "1", 1), KVSTORE_EUNAVAILABLE);
    assert_int_equal(kvstore_delete(b, "a"), KVSTORE_EUNAVAILABLE);
    assert_int_equal(kvstore_set_many(b, keys, vals, lens, 1),
                     KVSTORE_EUNAVAILABLE);
    assert_int_equal(kvstore_delete_many(b, keys, 1), KVSTORE_EUNAVAILABLE);
    assert_int_equal(kvstore_increment(b, "a", 1, NULL),
                     KVSTORE_EUNAVAILABLE);
    assert_int_equal(rs_restart(&srv, durable), 0);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_and_restart),
        cmocka_unit_test(test_hung_server_times_out),
        cmocka_unit_test(test_uncertain_writes),
        cmocka_unit_test(test_write_to_dead_server_unavailable),
        cmocka_unit_test(test_watch_survives_restart),
    };
    return RS_RUN_GROUP(tests, .srv = &srv, .args = durable);
}
