/*
 * nats backend: watches that are not kept up with. A watch is a push
 * consumer that the server feeds some time after it stores a write, and
 * that nats.c recreates after a reconnection or a missed heartbeat.
 *
 * - A watcher whose delivery lags behind still gets every write of a key,
 *   in order: with one revision per key a later write removed an earlier
 *   one not delivered yet (under load the conformance suite lost the set
 *   of "set a, delete a"). The lag is made for real: the callback holds
 *   its first event, so nats.c stops answering the consumer's flow
 *   control and the server stops delivering, while one key is written 20
 *   times and deleted.
 * - A watcher that has had no event yet when the server restarts reports
 *   no write older than the watch: nats.c recreates its consumer from the
 *   stream's first sequence then, which replayed every key.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

#define WRITES 20
#define FILL_KEYS 16
#define FILL_BYTES (256 * 1024) /* 4 MiB in all: past the flow control window */
#define MAX_EVENTS 64
#define WAIT_MS 20000

static nh_server srv;

typedef struct {
    char key[16];
    char value[8];    /* "" for a delete, "<long>" past 7 bytes */
    bool del;
} rec_event;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const char *gate; /* the callback holds the first event of this key */
    bool held;
    bool release;     /* the test lets it go */
    int n;
    rec_event ev[MAX_EVENTS];
    int bad;          /* too many events, or a key too long to record */
} recorder;

static void on_event(void *payload, kvstore_event event, const char *key,
                     const void *value, size_t len)
{
    recorder *r = payload;
    pthread_mutex_lock(&r->mu);
    if (r->gate != NULL && strcmp(key, r->gate) == 0 && !r->held) {
        r->held = true;
        pthread_cond_broadcast(&r->cv);
        while (!r->release)
            pthread_cond_wait(&r->cv, &r->mu);
    } else if (r->n == MAX_EVENTS || strlen(key) >= sizeof r->ev[0].key) {
        r->bad++;
    } else {
        rec_event *e = &r->ev[r->n++];
        strcpy(e->key, key);
        e->del = event == KVSTORE_EVENT_DELETE;
        if (e->del)
            e->value[0] = '\0';
        else if (len >= sizeof e->value)
            strcpy(e->value, "<long>");
        else
            snprintf(e->value, sizeof e->value, "%.*s", (int)len,
                     (const char *)value);
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static bool seen(const recorder *r, const char *key, bool del)
{
    for (int i = 0; i < r->n; i++)
        if (r->ev[i].del == del && strcmp(r->ev[i].key, key) == 0)
            return true;
    return false;
}

/* Waits up to WAIT_MS for an event of `key` (a delete if `del`). */
static bool wait_event(recorder *r, const char *key, bool del)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&r->mu);
    bool ok;
    while (!(ok = seen(r, key, del)) &&
           pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0)
        ;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

static void wait_held(recorder *r)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&r->mu);
    while (!r->held && pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0)
        ;
    pthread_mutex_unlock(&r->mu);
}

static void rec_init(recorder *r, const char *gate)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->gate = gate;
}

static void rec_free(recorder *r)
{
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
}

static void print_events(const recorder *r)
{
    for (int i = 0; i < r->n; i++)
        print_error("  event %d: %s %s %s\n", i, r->ev[i].del ? "delete" :
                    "set", r->ev[i].key, r->ev[i].value);
}

static void lagging_watcher_gets_every_write(void **state)
{
    char u[64], name[64], v[8];
    kvstore_store *s;
    kvstore_bucket *b;
    kvstore_watch *w;
    recorder r;
    (void)state;

    rec_init(&r, "gate");
    assert_int_equal(nh_single(&srv, NULL), 0);
    KV_OK(kvstore_open(&s, nh_url(&srv, u, sizeof u)));
    KV_OK(kvstore_bucket_open(&b, s, run_bucket(name, sizeof name, "lag")));
    KV_OK(kvstore_watch_start(&w, b, "", on_event, &r));

    KV_OK(kvstore_set(b, "gate", "x", 1));
    wait_held(&r);
    bool held = r.held;
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
    bool deleted = held && wait_event(&r, "o", true);
    kvstore_watch_stop(w);

    /* The events of "o", in the order they came. */
    const rec_event *o[WRITES + 1];
    int no = 0;
    for (int i = 0; i < r.n; i++)
        if (strcmp(r.ev[i].key, "o") == 0 && no < WRITES + 1)
            o[no++] = &r.ev[i];
    assert_true(held);
    if (!deleted || no != WRITES + 1)
        print_events(&r);
    assert_true(deleted);
    assert_int_equal(r.bad, 0);
    assert_int_equal(r.n, FILL_KEYS + WRITES + 1);
    assert_int_equal(no, WRITES + 1);
    for (int i = 0; i < WRITES; i++) {
        snprintf(v, sizeof v, "%d", i);
        assert_false(o[i]->del);
        assert_string_equal(o[i]->value, v);
    }
    assert_true(o[WRITES]->del);
    rec_free(&r);
    kvstore_bucket_close(b);
    kvstore_close(s);
    nh_cleanup(&srv);
}

static void restart_before_first_event_replays_nothing(void **state)
{
    char u[96], name[64];
    kvstore_store *s;
    kvstore_bucket *b;
    kvstore_watch *w;
    recorder r;
    (void)state;

    rec_init(&r, NULL);
    assert_int_equal(nh_single(&srv, NULL), 0);
    snprintf(u, sizeof u, "nats://127.0.0.1:%d?timeout_ms=20000", srv.port);
    KV_OK(kvstore_open(&s, u));
    KV_OK(kvstore_bucket_open(&b, s, run_bucket(name, sizeof name, "rs")));
    KV_OK(kvstore_set(b, "old1", "1", 1));
    KV_OK(kvstore_set(b, "old2", "2", 1));
    KV_OK(kvstore_set(b, "old1", "3", 1));
    KV_OK(kvstore_watch_start(&w, b, "", on_event, &r));

    /* Same port and store: nats.c reconnects and recreates the consumer. */
    nh_kill(&srv, SIGTERM);
    assert_int_equal(nh_restart(&srv), 0);
    KV_OK(kvstore_set(b, "new", "4", 1));
    bool got = wait_event(&r, "new", false);
    kvstore_watch_stop(w);

    if (!got || r.n != 1)
        print_events(&r);
    assert_true(got);
    assert_int_equal(r.bad, 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.ev[0].key, "new");
    assert_string_equal(r.ev[0].value, "4");
    rec_free(&r);
    kvstore_bucket_close(b);
    kvstore_close(s);
    nh_cleanup(&srv);
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
        cmocka_unit_test_teardown(restart_before_first_event_replays_nothing,
                                  teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
