/*
 * kvstore_watch_queue (<kvstore/backend.h>): the event queue and thread
 * behind the lmdb and sqlite watches. Events come out in push order with
 * copies of their key and value, on a thread that blocks signals; pushes
 * from several threads keep each thread's order; nothing is called after
 * free returns; and a queue freed from its own callback frees itself once
 * that callback returns (ASan and valgrind see to the memory).
 *
 * SPDX-License-Identifier: MIT
 */
#include <kvstore/backend.h>

#include "fx_memory.h"

#include <signal.h>
#include <stdatomic.h>

#define MAX_SEEN 4096

/* The queue's callback records into `log` and checks what a delivery
 * thread owes the application: SIGINT and SIGTERM blocked (`unblocked`
 * counts calls made without). With `self_free` it frees that queue from
 * inside the call for key "stop"; with `mark_exit` it marks its thread
 * for on_thread_exit. */
typedef struct queue_fx {
    ev_log *log;
    atomic_size_t unblocked;
    kvstore_watch_queue *self_free;
    bool mark_exit;
    kvstore_watch_queue *q; /* NULL once freed by the test */
} queue_fx;

static pthread_key_t exit_key;

static void record(void *payload, kvstore_event event, const char *key,
                   const void *value, size_t len)
{
    queue_fx *fx = payload;
    sigset_t mask;

    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    if (!sigismember(&mask, SIGINT) || !sigismember(&mask, SIGTERM))
        atomic_fetch_add(&fx->unblocked, 1);
    if (fx->mark_exit)
        pthread_setspecific(exit_key, (void *)1);
    ev_log_add(fx->log, event, key, value, len);
    if (fx->self_free != NULL && strcmp(key, "stop") == 0)
        kvstore_watch_queue_free(fx->self_free);
}

/* A queue calling `record` with a fresh log; fails if it cannot start. */
static int queue_setup(void **state)
{
    queue_fx *fx = calloc(1, sizeof *fx);

    assert_non_null(fx);
    fx->log = ev_log_new(MAX_SEEN);
    assert_int_equal(kvstore_watch_queue_new(&fx->q, record, fx), KVSTORE_OK);
    assert_non_null(fx->q);
    *state = fx;
    return 0;
}

static int queue_teardown(void **state)
{
    queue_fx *fx = *state;

    kvstore_watch_queue_free(fx->q);
    ev_log_free(fx->log);
    free(fx);
    return 0;
}

/* Frees the queue: no callback runs after this returns. */
static void stop_queue(queue_fx *fx)
{
    kvstore_watch_queue_free(fx->q);
    fx->q = NULL;
}

static void test_order_and_copies(void **state)
{
    queue_fx *fx = *state;
    char key[8] = "k1", value[8] = "one";
    assert_ok(kvstore_watch_queue_push(fx->q, KVSTORE_EVENT_SET, key, value,
                                       3));
    /* The queue holds copies: the caller's buffers change at once. */
    strcpy(key, "XX");
    strcpy(value, "XXX");
    assert_ok(kvstore_watch_queue_push(fx->q, KVSTORE_EVENT_SET, "empty", "",
                                       0));
    /* A delete's value is ignored, whatever is passed. */
    assert_ok(kvstore_watch_queue_push(fx->q, KVSTORE_EVENT_DELETE, "k1",
                                       "junk", 4));
    ev_log_wait(fx->log, 3);
    stop_queue(fx);
    assert_int_equal(fx->log->n, 3);
    ev_log_expect(fx->log, 0, KVSTORE_EVENT_SET, "k1", "one");
    /* An empty value is not NULL: NULL means a delete. */
    ev_log_expect(fx->log, 1, KVSTORE_EVENT_SET, "empty", "");
    ev_log_expect(fx->log, 2, KVSTORE_EVENT_DELETE, "k1", NULL);
    /* The delivery thread takes none of the application's signals. */
    assert_int_equal(atomic_load(&fx->unblocked), 0);
}

#define PUSHERS 4
#define PER_PUSHER 500

/* A seq_writer put into the queue `to`. */
static int push_set(void *to, const char *key, const char *value)
{
    return kvstore_watch_queue_push(to, KVSTORE_EVENT_SET, key, value,
                                    strlen(value));
}

/* Every event of every pusher arrives once, each pusher's in its order. */
static void test_concurrent_pushers(void **state)
{
    queue_fx *fx = *state;
    seq_writer p[PUSHERS];
    for (int i = 0; i < PUSHERS; i++)
        p[i] = (seq_writer){ push_set, fx->q, "t", i, PER_PUSHER };
    threads_run(PUSHERS, seq_write, p, sizeof p[0]);
    ev_log_wait(fx->log, PUSHERS * PER_PUSHER);
    stop_queue(fx);
    ev_log_expect_sequences(fx->log, "t", PUSHERS, PER_PUSHER);
}

/* Free while events are queued (the callback held at the first): it
 * waits for the call in progress and drops the rest. */
static void test_free_drops_queued(void **state)
{
    queue_fx *fx = *state;
    ev_log_hold(fx->log, true);
    for (int i = 0; i < 10; i++)
        assert_ok(kvstore_watch_queue_push(fx->q, KVSTORE_EVENT_DELETE, "k",
                                           NULL, 0));
    ev_log_hold(fx->log, false);
    stop_queue(fx);
    /* How many got through before the stop is up to the threads; none
     * twice, none invented. That the undelivered ones are freed and the
     * thread is gone before the log is (free joins it) is what ASan,
     * TSan and valgrind check here. */
    assert_true(fx->log->n <= 10);
    for (size_t i = 0; i < fx->log->n; i++)
        ev_log_expect(fx->log, i, KVSTORE_EVENT_DELETE, "k", NULL);
}

/* Signals, from the callback thread's exit (a thread-specific-data
 * destructor runs after the thread's function returned), that the
 * thread, and with it its self-freeing, is done. */
static pthread_mutex_t exit_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t exit_cv = PTHREAD_COND_INITIALIZER;
static bool exited;

static void on_thread_exit(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&exit_mu);
    exited = true;
    pthread_cond_broadcast(&exit_cv);
    pthread_mutex_unlock(&exit_mu);
}

static void test_free_from_own_callback(void **state)
{
    queue_fx *fx = *state;
    assert_int_equal(pthread_key_create(&exit_key, on_thread_exit), 0);
    fx->mark_exit = true;
    /* The queue is the callback's to free now, not the teardown's. */
    fx->self_free = fx->q;
    fx->q = NULL;
    /* Held at "a" until all three are queued: pushing to the queue once
     * "stop" was delivered would use it after it freed itself. */
    ev_log_hold(fx->log, true);
    assert_ok(kvstore_watch_queue_push(fx->self_free, KVSTORE_EVENT_SET, "a",
                                       "1", 1));
    assert_ok(kvstore_watch_queue_push(fx->self_free, KVSTORE_EVENT_SET,
                                       "stop", "2", 1));
    /* Queued behind "stop": dropped with the queue, never delivered. */
    assert_ok(kvstore_watch_queue_push(fx->self_free, KVSTORE_EVENT_SET,
                                       "late", "3", 1));
    ev_log_hold(fx->log, false);
    pthread_mutex_lock(&exit_mu);
    while (!exited)
        pthread_cond_wait(&exit_cv, &exit_mu);
    pthread_mutex_unlock(&exit_mu);
    assert_int_equal(fx->log->n, 2);
    ev_log_expect(fx->log, 0, KVSTORE_EVENT_SET, "a", "1");
    ev_log_expect(fx->log, 1, KVSTORE_EVENT_SET, "stop", "2");
    pthread_key_delete(exit_key);
}

static void test_free_null(void **state)
{
    (void)state;
    kvstore_watch_queue_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_and_copies, queue_setup,
                                        queue_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_pushers, queue_setup,
                                        queue_teardown),
        cmocka_unit_test_setup_teardown(test_free_drops_queued, queue_setup,
                                        queue_teardown),
        cmocka_unit_test_setup_teardown(test_free_from_own_callback,
                                        queue_setup, queue_teardown),
        cmocka_unit_test(test_free_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
