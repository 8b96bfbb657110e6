/*
 * nats backend: a watcher whose delivery lags behind the writes still gets
 * every write of a key, in order. A watch is a push consumer: the server
 * delivers a message some time after storing it, and with one revision
 * per key a later write of the same key removes an earlier one it has not
 * delivered yet. Under load that lost the set of "set a, delete a" in the
 * conformance suite. Here the lag is made for real: the callback holds
 * its first event, so nats.c stops answering the consumer's flow control
 * and the server stops delivering, while one key is written 20 times and
 * deleted.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

#define WRITES 20
#define FILL_KEYS 16
#define FILL_BYTES (256 * 1024) /* 4 MiB in all: past the flow control window */
#define WAIT_MS 20000

static nh_server srv;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool held;        /* the callback is holding the first event */
    bool release;     /* the test lets it go */
    int n;            /* events for "o" */
    char got[WRITES + 1][8];  /* their values; "" for the delete */
    bool deleted;
    int bad;          /* an event for "o" after its delete, or malformed */
} lag_rec;

static void on_event(void *payload, kvstore_event event, const char *key,
                     const void *value, size_t len)
{
    lag_rec *r = payload;
    pthread_mutex_lock(&r->mu);
    if (strcmp(key, "gate") == 0) {
        r->held = true;
        pthread_cond_broadcast(&r->cv);
        while (!r->release)
            pthread_cond_wait(&r->cv, &r->mu);
    } else if (strcmp(key, "o") == 0) {
        if (r->deleted || r->n > WRITES || len >= sizeof r->got[0]) {
            r->bad++;
        } else {
            if (event == KVSTORE_EVENT_SET)
                memcpy(r->got[r->n], value, len);
            r->got[r->n][event == KVSTORE_EVENT_SET ? len : 0] = '\0';
            r->deleted = event == KVSTORE_EVENT_DELETE;
            r->n++;
        }
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

/* Waits until `*flag` (under r->mu) or WAIT_MS; returns it. */
static bool wait_flag(lag_rec *r, const bool *flag)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&r->mu);
    while (!*flag && pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0)
        ;
    bool v = *flag;
    pthread_mutex_unlock(&r->mu);
    return v;
}

static void lagging_watcher_gets_every_write(void **state)
{
    char u[64], name[64], v[8];
    kvstore_store *s;
    kvstore_bucket *b;
    kvstore_watch *w;
    lag_rec r = { .n = 0 };
    (void)state;

    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    assert_int_equal(nh_single(&srv, NULL), 0);
    KV_OK(kvstore_open(&s, nh_url(&srv, u, sizeof u)));
    KV_OK(kvstore_bucket_open(&b, s, run_bucket(name, sizeof name, "lag")));
    KV_OK(kvstore_watch_start(&w, b, "", on_event, &r));

    KV_OK(kvstore_set(b, "gate", "x", 1));
    bool held = wait_flag(&r, &r.held);
    char *fill = malloc(FILL_BYTES);
    assert_non_null(fill);
    memset(fill, 'f', FILL_BYTES);
    for (int i = 0; held && i < FILL_KEYS; i++) {
        char key[16];
        snprintf(key, sizeof key, "fill%d", i);
        KV_OK(kvstore_set(b, key, fill, FILL_BYTES));
    }
    free(fill);
    for (int i = 0; held && i < WRITES; i++) {
        snprintf(v, sizeof v, "%d", i);
        KV_OK(kvstore_set(b, "o", v, strlen(v)));
    }
    if (held)
        KV_OK(kvstore_delete(b, "o"));

    pthread_mutex_lock(&r.mu);
    r.release = true;
    pthread_cond_broadcast(&r.cv);
    pthread_mutex_unlock(&r.mu);
    bool deleted = held && wait_flag(&r, &r.deleted);
    kvstore_watch_stop(w);

    assert_true(held);
    if (!deleted || r.n != WRITES + 1)
        print_error("%d events for \"o\" (want %d), delete %s\n", r.n,
                    WRITES + 1, deleted ? "seen" : "missing");
    assert_true(deleted);
    assert_int_equal(r.bad, 0);
    assert_int_equal(r.n, WRITES + 1);
    for (int i = 0; i < WRITES; i++) {
        snprintf(v, sizeof v, "%d", i);
        assert_string_equal(r.got[i], v);
    }
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
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
        cmocka_unit_test_teardown(lagging_watcher_gets_every_write, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
