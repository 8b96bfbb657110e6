/*
 * Watch delivery (kvstore_watch_queue, see <kvstore/backend.h>): the
 * event queue and callback thread that backends which see their own
 * writes share.
 *
 * Ownership: the queue owns its events (each one allocation holding the
 * key and the value) and its thread. Freed from its own callback, the
 * queue is detached and the thread frees it when that callback returns.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct queued {
    struct queued *next;
    kvstore_event event;
    size_t len;
    void *value; /* into key's allocation; NULL for a delete */
    char key[];
} queued;

struct kvstore_watch_queue {
    kvstore_watch_fn fn;
    void *payload;
    pthread_t thread;
    pthread_mutex_t mu;          /* guards everything below */
    pthread_cond_t cv;
    queued *head, **tail;
    bool stop;
    bool detached;               /* freed from its own callback */
};

static void queue_destroy(kvstore_watch_queue *q)
{
    for (queued *e = q->head, *next; e != NULL; e = next) {
        next = e->next;
        free(e);
    }
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

static void *deliver(void *arg)
{
    kvstore_watch_queue *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->head == NULL && !q->stop)
            pthread_cond_wait(&q->cv, &q->mu);
        if (q->stop)
            break;
        queued *e = q->head;
        q->head = e->next;
        if (q->head == NULL)
            q->tail = &q->head;
        pthread_mutex_unlock(&q->mu);
        q->fn(q->payload, e->event, e->key, e->value, e->len);
        free(e);
        pthread_mutex_lock(&q->mu);
    }
    bool detached = q->detached;
    pthread_mutex_unlock(&q->mu);
    if (detached)
        queue_destroy(q);
    return NULL;
}

int kvstore_watch_queue_new(kvstore_watch_queue **out, kvstore_watch_fn fn,
                            void *payload)
{
    *out = NULL;
    kvstore_watch_queue *q = calloc(1, sizeof *q);
    if (q == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "watch: out of memory");
    q->fn = fn;
    q->payload = payload;
    q->tail = &q->head;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    /* The delivery thread must not take the application's signals. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&q->thread, NULL, deliver, q);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0) {
        queue_destroy(q);
        return kvstore_set_error(KVSTORE_ENOMEM,
                                 "watch: cannot start the watch thread");
    }
    *out = q;
    return KVSTORE_OK;
}

int kvstore_watch_queue_push(kvstore_watch_queue *q, kvstore_event event,
                             const char *key, const void *value, size_t len)
{
    bool set = event == KVSTORE_EVENT_SET;
    size_t klen = strlen(key);
    size_t vlen = set ? len : 0;
    if (vlen > SIZE_MAX - sizeof(queued) - klen - 1)
        return KVSTORE_ENOMEM;
    queued *e = malloc(sizeof *e + klen + 1 + vlen);
    if (e == NULL)
        return KVSTORE_ENOMEM;
    e->next = NULL;
    e->event = event;
    e->len = vlen;
    memcpy(e->key, key, klen + 1);
    /* A set's value is never NULL, even when empty. */
    e->value = set ? e->key + klen + 1 : NULL;
    if (vlen)
        memcpy(e->value, value, vlen);
    pthread_mutex_lock(&q->mu);
    *q->tail = e;
    q->tail = &e->next;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return KVSTORE_OK;
}

void kvstore_watch_queue_free(kvstore_watch_queue *q)
{
    if (q == NULL)
        return;
    bool self = pthread_equal(pthread_self(), q->thread);
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    q->detached = self;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    if (self) {
        pthread_detach(q->thread);
        return;
    }
    pthread_join(q->thread, NULL);
    queue_destroy(q);
}
