/*
 * Conformance suite: the watch event recorder (see watch_rec.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "watch_rec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A malformed event: no key, an unknown kind, a delete with a value, or a
 * set with a length but no value. */
static bool malformed(kvstore_event event, const char *key, const void *value,
                      size_t len)
{
    if (key == NULL)
        return true;
    if (event == KVSTORE_EVENT_DELETE)
        return value != NULL || len != 0;
    return event != KVSTORE_EVENT_SET || (value == NULL && len != 0);
}

/* A copy of the event, or NULL when out of memory (counted as bad). */
static rec_event *event_copy(kvstore_event event, const char *key,
                             const void *value, size_t len)
{
    size_t klen = strlen(key) + 1;
    rec_event *e = malloc(sizeof *e + klen + len + 1);
    if (e == NULL)
        return NULL;
    e->event = event;
    e->len = len;
    memcpy(e->key, key, klen);
    e->value = NULL;
    if (event == KVSTORE_EVENT_SET) {
        e->value = e->key + klen;
        if (len > 0)
            memcpy(e->value, value, len);
        ((char *)e->value)[len] = '\0';
    }
    return e;
}

void rec_on_event(void *payload, kvstore_event event, const char *key,
                  const void *value, size_t len)
{
    recorder *r = payload;
    if (r->slow_key != NULL && key != NULL && strcmp(key, r->slow_key) == 0) {
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    rec_event *e = NULL;
    if (!malformed(event, key, value, len))
        e = event_copy(event, key, value, len);
    pthread_mutex_lock(&r->mu);
    if (r->stopped)
        r->late++;
    if (e == NULL)
        r->bad++;
    else if (r->n < REC_MAX_EVENTS)
        r->ev[r->n++] = e;
    else
        free(e);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void rec_free(void *p)
{
    recorder *r = p;
    kvstore_watch_stop(r->w);
    for (size_t i = 0; i < r->n; i++)
        free(r->ev[i]);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

recorder *rec_new(conf_ctx *c, const char *slow_key)
{
    assert_null(c->own);
    recorder *r = calloc(1, sizeof *r);
    assert_non_null(r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->slow_key = slow_key;
    c->own = r;
    c->own_free = rec_free;
    return r;
}

recorder *rec_watch(conf_ctx *c, kvstore_bucket *b, const char *prefix,
                    const char *slow_key, int *rc)
{
    recorder *r = rec_new(c, slow_key);
    *rc = kvstore_watch_start(&r->w, b, prefix, rec_on_event, r);
    if (*rc != KVSTORE_OK)
        return NULL;
    assert_non_null(r->w);
    return r;
}

long rec_find_locked(const recorder *r, size_t from, const char *key,
                     kvstore_event event)
{
    for (size_t i = from; i < r->n; i++)
        if (r->ev[i]->event == event && strcmp(r->ev[i]->key, key) == 0)
            return (long)i;
    return -1;
}

long rec_wait(recorder *r, const char *key, kvstore_event event)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += REC_WAIT_MS / 1000;
    pthread_mutex_lock(&r->mu);
    long i;
    while ((i = rec_find_locked(r, 0, key, event)) < 0) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &deadline) == ETIMEDOUT) {
            i = rec_find_locked(r, 0, key, event);
            break;
        }
    }
    pthread_mutex_unlock(&r->mu);
    if (i < 0)
        print_error("no %s event for \"%s\" within %d ms\n",
                    event == KVSTORE_EVENT_SET ? "set" : "delete", key,
                    REC_WAIT_MS);
    return i;
}

void rec_stop(recorder *r)
{
    kvstore_watch_stop(r->w);
    r->w = NULL;
    pthread_mutex_lock(&r->mu);
    r->stopped = true;
    unsigned bad = r->bad;
    pthread_mutex_unlock(&r->mu);
    assert_int_equal(bad, 0);
}
