/*
 * libkvstore - memory backend: watches.
 *
 * Each watch owns a FIFO queue and a thread that drains it into the
 * callback. Writers push an event to every matching watch's queue while
 * they hold the key's stripe write lock, so the events of one key are
 * queued, and delivered, in the order the writes were applied. A slow
 * callback delays only its own watch; writers never wait for a callback.
 *
 * Stopping removes the watch from the bucket (no new events), then tells
 * its thread to quit and joins it: once watch_stop returns, the callback
 * is not running and never runs again. Events still queued are dropped.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct mem_watch {
    mem_watch *next;             /* in bucket->watches, under watch_lock */
    mem_bucket *b;
    kvstore_watch_fn fn;
    void *payload;

    pthread_mutex_t lock;        /* guards everything below */
    pthread_cond_t cond;
    mem_event **queue;           /* ring of `cap` slots, owned references */
    size_t cap, head, len;
    bool stopping;
    bool detached;               /* stopped from its own callback */
    pthread_t thread;

    size_t plen;
    char prefix[];
};

void mem_event_unref(mem_event *ev)
{
    if (atomic_fetch_sub_explicit(&ev->refs, 1, memory_order_acq_rel) == 1)
        free(ev);
}

mem_event *mem_event_prepare(mem_bucket *b, kvstore_event type,
                             const char *key, size_t klen,
                             const void *value, size_t vlen)
{
    mem_event *ev;

    /* The common case, no watch at all, costs one load. A watch started
     * before this call began is visible here (watch_start increments
     * nwatch before it returns). */
    if (atomic_load(&b->nwatch) == 0)
        return NULL;
    ev = malloc(sizeof(*ev) + klen + 1 + vlen);
    if (!ev)
        return NULL;
    atomic_init(&ev->refs, 1);
    ev->type = type;
    ev->klen = klen;
    ev->vlen = vlen;
    memcpy(ev->data, key, klen);
    ev->data[klen] = '\0';
    if (type == KVSTORE_EVENT_SET) {
        ev->value = ev->data + klen + 1;
        if (vlen)
            memcpy(ev->value, value, vlen);
    } else {
        ev->value = NULL;
    }
    return ev;
}

/* Appends to the ring, doubling it when full. False on out of memory. */
static bool queue_push(mem_watch *w, mem_event *ev)
{
    if (w->len == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 16;
        mem_event **q = malloc(ncap * sizeof(*q));

        if (!q)
            return false;
        for (size_t i = 0; i < w->len; i++)
            q[i] = w->queue[(w->head + i) % w->cap];
        free(w->queue);
        w->queue = q;
        w->cap = ncap;
        w->head = 0;
    }
    w->queue[(w->head + w->len) % w->cap] = ev;
    w->len++;
    return true;
}

void mem_event_publish(mem_bucket *b, mem_event *ev)
{
    if (!ev)
        return;
    pthread_rwlock_rdlock(&b->watch_lock);
    for (mem_watch *w = b->watches; w; w = w->next) {
        if (ev->klen < w->plen || memcmp(ev->data, w->prefix, w->plen) != 0)
            continue;
        pthread_mutex_lock(&w->lock);
        atomic_fetch_add_explicit(&ev->refs, 1, memory_order_relaxed);
        if (queue_push(w, ev))
            pthread_cond_signal(&w->cond);
        else
            mem_event_unref(ev); /* out of memory: this event is lost */
        pthread_mutex_unlock(&w->lock);
    }
    pthread_rwlock_unlock(&b->watch_lock);
    mem_event_unref(ev);
}

static void watch_free(mem_watch *w)
{
    mem_bucket *b = w->b;
    mem_store *s = b->store;

    for (size_t i = 0; i < w->len; i++)
        mem_event_unref(w->queue[(w->head + i) % w->cap]);
    free(w->queue);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
    mem_bucket_unref(b);
    mem_store_unref(s);
}

static void *watch_thread(void *arg)
{
    mem_watch *w = arg;
    bool detached;

    pthread_mutex_lock(&w->lock);
    for (;;) {
        mem_event *ev;

        while (!w->stopping && w->len == 0)
            pthread_cond_wait(&w->cond, &w->lock);
        if (w->stopping)
            break;
        ev = w->queue[w->head];
        w->head = (w->head + 1) % w->cap;
        w->len--;
        pthread_mutex_unlock(&w->lock);

        /* No lock is held during the callback: it may use the store. */
        w->fn(w->payload, ev->type, ev->data, ev->value, ev->vlen);
        mem_event_unref(ev);

        pthread_mutex_lock(&w->lock);
    }
    detached = w->detached;
    pthread_mutex_unlock(&w->lock);
    if (detached)
        watch_free(w);
    return NULL;
}

int mem_watch_start(void **out, void *bucket, const char *prefix,
                    kvstore_watch_fn fn, void *payload)
{
    mem_bucket *b = bucket;
    size_t plen = strlen(prefix);
    mem_watch *w = calloc(1, sizeof(*w) + plen + 1);
    sigset_t all, old;
    int err;

    if (!w)
        return kvstore_set_error(KVSTORE_ENOMEM, "memory: out of memory");
    memcpy(w->prefix, prefix, plen + 1);
    w->plen = plen;
    w->b = b;
    w->fn = fn;
    w->payload = payload;
    if (pthread_mutex_init(&w->lock, NULL) != 0) {
        free(w);
        return kvstore_set_error(KVSTORE_ENOMEM, "memory: out of memory");
    }
    if (pthread_cond_init(&w->cond, NULL) != 0) {
        pthread_mutex_destroy(&w->lock);
        free(w);
        return kvstore_set_error(KVSTORE_ENOMEM, "memory: out of memory");
    }

    /* The dispatch thread must not take the application's signals. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(&w->thread, NULL, watch_thread, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0) {
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return kvstore_set_error(KVSTORE_ENOMEM,
                                 "memory: cannot start a watch thread");
    }

    mem_store_ref(b->store);
    mem_bucket_ref(b);
    pthread_rwlock_wrlock(&b->watch_lock);
    w->next = b->watches;
    b->watches = w;
    atomic_fetch_add(&b->nwatch, 1);
    pthread_rwlock_unlock(&b->watch_lock);
    *out = w;
    return KVSTORE_OK;
}

void mem_watch_stop(void *watch)
{
    mem_watch *w = watch;
    mem_bucket *b;
    bool self;

    if (!w)
        return;
    b = w->b;
    /* First no new events: after this, no writer can reach the queue. */
    pthread_rwlock_wrlock(&b->watch_lock);
    for (mem_watch **p = &b->watches; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    atomic_fetch_sub(&b->nwatch, 1);
    pthread_rwlock_unlock(&b->watch_lock);

    /* The contract forbids stopping a watch from its own callback, but a
     * join there would deadlock: let the thread free itself instead once
     * the callback returns. */
    self = pthread_equal(pthread_self(), w->thread);
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    w->detached = self;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    if (self) {
        pthread_detach(w->thread);
        return;
    }
    pthread_join(w->thread, NULL);
    watch_free(w);
}
