/*
 * nats backend: a single server killed with SIGKILL in the middle of a
 * write workload and restarted on the same port and store. The handle is
 * never reopened: calls during the outage fail with EUNAVAILABLE (or
 * EUNCERTAIN for a write in flight), calls afterwards succeed again, and
 * every acknowledged write is still there.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "harness.h"
#include "util.h"

#define NKEYS 100000

static nh_server srv;

typedef struct {
    kvstore_bucket *b;
    atomic_int acked;            /* successful writes */
    atomic_int failed;           /* failed writes */
    atomic_int last_ok_after_fail;
    atomic_bool stop;
    atomic_int bad_code;         /* a failure code other than expected */
    unsigned char *state;        /* per key: 1 acked, 2 failed */
    int written;                 /* keys attempted */
} workload;

static void *writer(void *arg)
{
    workload *w = arg;
    char key[32], val[32];
    int i;
    for (i = 0; i < NKEYS && !atomic_load(&w->stop); i++) {
        snprintf(key, sizeof key, "k%06d", i);
        snprintf(val, sizeof val, "value-%d", i);
        int rc = kvstore_set(w->b, key, val, strlen(val));
        if (rc == KVSTORE_OK) {
            w->state[i] = 1;
            atomic_fetch_add(&w->acked, 1);
            if (atomic_load(&w->failed) > 0)
                atomic_fetch_add(&w->last_ok_after_fail, 1);
        } else {
            w->state[i] = 2;
            atomic_fetch_add(&w->failed, 1);
            if (rc != KVSTORE_EUNAVAILABLE && rc != KVSTORE_EUNCERTAIN)
                atomic_store(&w->bad_code, rc);
        }
    }
    w->written = i;
    return NULL;
}

static void wait_for(atomic_int *v, int at_least, int max_ms)
{
    for (int t = 0; t < max_ms && atomic_load(v) < at_least; t += 10)
        sleep_ms(10);
}

static void kill_during_workload(void **state)
{
    char u[128], name[64];
    kvstore_store *s;
    kvstore_bucket *b;
    pthread_t t;
    workload w = { 0 };
    void *v;
    size_t len;
    (void)state;

    assert_int_equal(nh_single(&srv, NULL), 0);
    snprintf(u, sizeof u, "nats://127.0.0.1:%d?timeout_ms=1500", srv.port);
    KV_OK(kvstore_open(&s, u));
    KV_OK(kvstore_bucket_open(&b, s, run_bucket(name, sizeof name, "fault")));
    w.b = b;
    w.state = calloc(NKEYS, 1);
    assert_int_equal(pthread_create(&t, NULL, writer, &w), 0);

    wait_for(&w.acked, 500, 30000);
    nh_kill(&srv, SIGKILL);
    /* during the outage: writes fail (seen by the writer), reads too */
    wait_for(&w.failed, 2, 20000);
    KV_EXPECT(KVSTORE_EUNAVAILABLE, kvstore_get(b, "k000000", &v, &len));
    assert_int_equal(nh_restart(&srv), 0);
    /* after the restart the same handle works again */
    wait_for(&w.last_ok_after_fail, 500, 60000);
    atomic_store(&w.stop, true);
    pthread_join(t, NULL);

    assert_int_equal(atomic_load(&w.bad_code), 0);
    assert_true(atomic_load(&w.failed) >= 2);
    assert_true(atomic_load(&w.last_ok_after_fail) >= 500);
    /* no acknowledged write lost */
    int checked = 0;
    for (int i = 0; i < w.written; i++) {
        if (w.state[i] != 1)
            continue;
        char key[32], val[32];
        snprintf(key, sizeof key, "k%06d", i);
        snprintf(val, sizeof val, "value-%d", i);
        check_value(b, key, val);
        checked++;
    }
    assert_int_equal(checked, atomic_load(&w.acked));
    print_message("acked %d, failed %d during the outage\n", checked,
                  atomic_load(&w.failed));
    free(w.state);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

static int teardown(void **state)
{
    (void)state;
    nh_cleanup(&srv);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kill_during_workload),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
