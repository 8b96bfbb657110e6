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
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvstore/backend.h>

#define MAX_SEEN 4096

/* What the callback saw, in order. */
typedef struct seen {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t n;
    kvstore_event event[MAX_SEEN];
    char key[MAX_SEEN][16];
    char value[MAX_SEEN][16]; /* "(null)" for a NULL value */
    size_t len[MAX_SEEN];
    /* the callback waits at the first event until `open` */
    bool gate, open;
    kvstore_watch_queue *self_free; /* freed by the callback at key "stop" */
    size_t unblocked; /* calls made with SIGINT or SIGTERM deliverable */
} seen;

static seen *seen_new(void)
{
    seen *s = calloc(1, sizeof *s);
    assert_non_null(s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    return s;
}

static void seen_free(seen *s)
{
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* A queue calling `fn` with `s`; fails the test if it cannot start. */
static kvstore_watch_queue *queue_into(seen *s, kvstore_watch_fn fn)
{
    kvstore_watch_queue *q = NULL;
    assert_int_equal(kvstore_watch_queue_new(&q, fn, s), KVSTORE_OK);
    assert_non_null(q);
    return q;
}

static void record(void *payload, kvstore_event event, const char *key,
                   const void *value, size_t len)
{
    seen *s = payload;
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    pthread_mutex_lock(&s->mu);
    if (!sigismember(&mask, SIGINT) || !sigismember(&mask, SIGTERM))
        s->unblocked++;
    while (s->gate && !s->open)
        pthread_cond_wait(&s->cv, &s->mu);
    if (s->n < MAX_SEEN) {
        s->event[s->n] = event;
        snprintf(s->key[s->n], sizeof s->key[0], "%s", key);
        if (value == NULL)
            snprintf(s->value[s->n], sizeof s->value[0], "(null)");
        else
            snprintf(s->value[s->n], sizeof s->value[0], "%.*s", (int)len,
                     (const char *)value);
        s->len[s->n] = len;
    }
    s->n++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->self_free != NULL && strcmp(key, "stop") == 0)
        kvstore_watch_queue_free(s->self_free);
}

static void wait_for(seen *s, size_t n)
{
    pthread_mutex_lock(&s->mu);
    while (s->n < n)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

static void test_order_and_copies(void **state)
{
    (void)state;
    seen *s = seen_new();
    kvstore_watch_queue *q = queue_into(s, record);
    char key[8] = "k1", value[8] = "one";
    assert_int_equal(kvstore_watch_queue_push(q, KVSTORE_EVENT_SET, key,
                                              value, 3), KVSTORE_OK);
    /* The queue holds copies: the caller's buffers change at once. */
    strcpy(key, "XX");
    strcpy(value, "XXX");
    assert_int_equal(kvstore_watch_queue_push(q, KVSTORE_EVENT_SET, "empty",
                                              "", 0), KVSTORE_OK);
    /* A delete's value is ignored, whatever is passed. */
    assert_int_equal(kvstore_watch_queue_push(q, KVSTORE_EVENT_DELETE, "k1",
                                              "junk", 4), KVSTORE_OK);
    wait_for(s, 3);
    kvstore_watch_queue_free(q);
    assert_int_equal(s->n, 3);
    assert_int_equal(s->event[0], KVSTORE_EVENT_SET);
    assert_string_equal(s->key[0], "k1");
    assert_string_equal(s->value[0], "one");
    assert_int_equal(s->len[0], 3);
    /* An empty value is not NULL: NULL means a delete. */
    assert_int_equal(s->event[1], KVSTORE_EVENT_SET);
    assert_string_equal(s->key[1], "empty");
    assert_string_equal(s->value[1], "");
    assert_int_equal(s->len[1], 0);
    assert_int_equal(s->event[2], KVSTORE_EVENT_DELETE);
    assert_string_equal(s->key[2], "k1");
    assert_string_equal(s->value[2], "(null)");
    assert_int_equal(s->len[2], 0);
    /* The delivery thread takes none of the application's signals. */
    assert_int_equal(s->unblocked, 0);
    seen_free(s);
}

#define PUSHERS 4
#define PER_PUSHER 500

typedef struct pusher {
    kvstore_watch_queue *q;
    int id;
} pusher;

static void *push_many(void *arg)
{
    pusher *p = arg;
    char key[16], value[16];
    for (int i = 0; i < PER_PUSHER; i++) {
        snprintf(key, sizeof key, "t%d", p->id);
        snprintf(value, sizeof value, "%d", i);
        if (kvstore_watch_queue_push(p->q, KVSTORE_EVENT_SET, key, value,
                                     strlen(value)) != KVSTORE_OK)
            return (void *)1;
    }
    return NULL;
}

/* Every event of every pusher arrives once, each pusher's in its order. */
static void test_concurrent_pushers(void **state)
{
    (void)state;
    seen *s = seen_new();
    kvstore_watch_queue *q = queue_into(s, record);
    pthread_t t[PUSHERS];
    pusher p[PUSHERS];
    for (int i = 0; i < PUSHERS; i++) {
        p[i] = (pusher){ q, i };
        assert_int_equal(pthread_create(&t[i], NULL, push_many, &p[i]), 0);
    }
    for (int i = 0; i < PUSHERS; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        assert_null(rc);
    }
    wait_for(s, PUSHERS * PER_PUSHER);
    kvstore_watch_queue_free(q);
    assert_int_equal(s->n, PUSHERS * PER_PUSHER);
    int next[PUSHERS] = { 0 };
    for (size_t i = 0; i < s->n; i++) {
        int id = -1;
        assert_int_equal(sscanf(s->key[i], "t%d", &id), 1);
        assert_true(id >= 0 && id < PUSHERS);
        assert_int_equal(atoi(s->value[i]), next[id]);
        next[id]++;
    }
    for (int i = 0; i < PUSHERS; i++)
        assert_int_equal(next[i], PER_PUSHER);
    seen_free(s);
}

/* Free while events are queued (the callback held at the first): it
 * waits for the call in progress and drops the rest. */
static void test_free_drops_queued(void **state)
{
    (void)state;
    seen *s = seen_new();
    s->gate = true;
    kvstore_watch_queue *q = queue_into(s, record);
    for (int i = 0; i < 10; i++)
        assert_int_equal(kvstore_watch_queue_push(q, KVSTORE_EVENT_DELETE,
                                                  "k", NULL, 0), KVSTORE_OK);
    pthread_mutex_lock(&s->mu);
    s->open = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    kvstore_watch_queue_free(q);
    /* How many got through before the stop is up to the threads; none
     * twice, none invented. That the undelivered ones are freed and the
     * thread is gone before `s` is (free joins it) is what ASan, TSan
     * and valgrind check here. */
    assert_true(s->n <= 10);
    for (size_t i = 0; i < s->n; i++)
        assert_string_equal(s->key[i], "k");
    seen_free(s);
}

/* Signals, from the callback thread's exit (a thread-specific-data
 * destructor runs after the thread's function returned), that the
 * thread, and with it its self-freeing, is done. */
static pthread_key_t exit_key;
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

static void mark_thread(void *payload, kvstore_event event, const char *key,
                        const void *value, size_t len)
{
    pthread_setspecific(exit_key, (void *)1);
    record(payload, event, key, value, len);
}

static void test_free_from_own_callback(void **state)
{
    (void)state;
    assert_int_equal(pthread_key_create(&exit_key, on_thread_exit), 0);
    seen *s = seen_new();
    kvstore_watch_queue *q = queue_into(s, mark_thread);
    s->self_free = q;
    assert_int_equal(kvstore_watch_queue_push(q, KVSTORE_EVENT_SET, "a", "1",
                                              1), KVSTORE_OK);
    assert_int_equal(kvstore_watch_queue_push(q, KVSTORE_EVENT_SET, "stop",
                                              "2", 1), KVSTORE_OK);
    /* Queued behind "stop": dropped with the queue, never delivered. */
    assert_int_equal(kvstore_watch_queue_push(q, KVSTORE_EVENT_SET, "late",
                                              "3", 1), KVSTORE_OK);
    pthread_mutex_lock(&exit_mu);
    while (!exited)
        pthread_cond_wait(&exit_cv, &exit_mu);
    pthread_mutex_unlock(&exit_mu);
    assert_int_equal(s->n, 2);
    assert_string_equal(s->key[0], "a");
    assert_string_equal(s->key[1], "stop");
    pthread_key_delete(exit_key);
    seen_free(s);
}

static void test_free_null(void **state)
{
    (void)state;
    kvstore_watch_queue_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_copies),
        cmocka_unit_test(test_concurrent_pushers),
        cmocka_unit_test(test_free_drops_queued),
        cmocka_unit_test(test_free_from_own_callback),
        cmocka_unit_test(test_free_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
