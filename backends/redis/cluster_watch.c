/*
 * Redis backend: watch on a cluster. Keyspace notifications are
 * published only by the node that holds the key, so a cluster watch is
 * one watch.c watch per master (each its own subscription and thread),
 * all feeding the caller's callback one event at a time. A key lives on
 * one master, so its events still come in order.
 *
 * The set of masters changes with a failover (a replica is promoted) or
 * a resharding that gives slots to a new master: a supervisor thread
 * re-reads the map every RD_WATCH_CHECK_MS and subscribes the new masters
 * and drops the nodes that are no longer masters. Events published while
 * no subscription covered a node are lost, as Pub/Sub keeps nothing.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redis.h"

#define RD_WATCH_CHECK_MS 1000

/* One master's subscription. */
typedef struct rd_sub {
    rd_node *node;
    void *watch;   /* a watch.c watch, stopped with rd_watch_stop */
} rd_sub;

/* Owned by the core's kvstore_watch; freed by rd_cluster_watch_stop. */
typedef struct rd_cwatch {
    rd_bucket *b;
    char prefix[KVSTORE_KEY_MAX + 1];
    kvstore_watch_fn fn;
    void *payload;
    pthread_mutex_t deliver;  /* one callback at a time */
    atomic_bool stopping;
    pthread_mutex_t lock;     /* guards the supervisor's sleep */
    pthread_cond_t wake;
    rd_sub *subs;             /* RD_NODES_MAX; touched by one thread at a
                                 time: start, then the supervisor, then
                                 stop after joining it */
    size_t n_subs;
    pthread_t thread;
} rd_cwatch;

static void rd_cwatch_event(void *arg, kvstore_event event, const char *key,
                            const void *value, size_t len)
{
    rd_cwatch *w = arg;

    pthread_mutex_lock(&w->deliver);
    if (!atomic_load(&w->stopping))
        w->fn(w->payload, event, key, value, len);
    pthread_mutex_unlock(&w->deliver);
}

/* Subscribes every master of the map that has no subscription and drops
 * the subscriptions of nodes that are no longer masters. */
static int rd_cwatch_sync(rd_cwatch *w)
{
    rd_master *m = malloc(RD_NODES_MAX * sizeof *m);
    size_t n = 0;
    uint32_t fp;
    int rc;

    if (m == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    rc = rd_cluster_masters(w->b->store, m, &n, &fp);
    for (size_t i = 0; rc == KVSTORE_OK && i < w->n_subs;) {
        bool master = false;

        for (size_t j = 0; j < n && !master; j++)
            master = m[j].node == w->subs[i].node;
        if (master) {
            i++;
            continue;
        }
        rd_watch_stop(w->subs[i].watch);
        w->subs[i] = w->subs[--w->n_subs];
    }
    for (size_t j = 0; rc == KVSTORE_OK && j < n; j++) {
        bool have = false;

        for (size_t i = 0; i < w->n_subs && !have; i++)
            have = w->subs[i].node == m[j].node;
        if (have)
            continue;
        rc = rd_watch_open(&w->subs[w->n_subs].watch, w->b, w->prefix,
                           rd_cwatch_event, w, &m[j].node->pool);
        if (rc == KVSTORE_OK)
            w->subs[w->n_subs++].node = m[j].node;
    }
    free(m);
    return rc;
}

static void *rd_cwatch_main(void *arg)
{
    rd_cwatch *w = arg;

    pthread_mutex_lock(&w->lock);
    while (!atomic_load(&w->stopping)) {
        struct timespec until;

        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += RD_WATCH_CHECK_MS / 1000;
        until.tv_nsec += (long)(RD_WATCH_CHECK_MS % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!atomic_load(&w->stopping) &&
               pthread_cond_timedwait(&w->wake, &w->lock, &until) !=
                   ETIMEDOUT)
            ;
        if (atomic_load(&w->stopping))
            break;
        pthread_mutex_unlock(&w->lock);
        /* Failures are retried at the next check. */
        if (rd_cluster_refresh(w->b->store) == KVSTORE_OK)
            (void)rd_cwatch_sync(w);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static void rd_cwatch_free(void *p)
{
    rd_cwatch *w = p;
    for (size_t i = 0; i < w->n_subs; i++)
        rd_watch_stop(w->subs[i].watch);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    pthread_mutex_destroy(&w->deliver);
    free(w->subs);
    free(w);
}

int rd_cluster_watch_start(void **out, void *bucket, const char *prefix,
                           kvstore_watch_fn fn, void *payload)
{
    rd_cwatch *w = calloc(1, sizeof *w);
    pthread_condattr_t attr;
    int rc;

    *out = NULL;
    if (w == NULL || (w->subs = calloc(RD_NODES_MAX, sizeof *w->subs)) ==
                         NULL) {
        free(w);
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    }
    w->b = bucket;
    w->fn = fn;
    w->payload = payload;
    memcpy(w->prefix, prefix, strlen(prefix) + 1);
    atomic_init(&w->stopping, false);
    pthread_mutex_init(&w->deliver, NULL);
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &attr);
    pthread_condattr_destroy(&attr);
    /* Every master subscribed before we return: every later write is
     * seen. */
    rc = rd_cwatch_sync(w);
    if (rc == KVSTORE_OK &&
        pthread_create(&w->thread, NULL, rd_cwatch_main, w) != 0)
        rc = kvstore_set_error(KVSTORE_EIO, "redis: cannot start the "
                               "watch thread");
    return kvstore_hand_over(rc, out, w, rd_cwatch_free);
}

void rd_cluster_watch_stop(void *watch)
{
    rd_cwatch *w = watch;
    pthread_mutex_lock(&w->lock);
    atomic_store(&w->stopping, true);
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    rd_cwatch_free(w);
}
