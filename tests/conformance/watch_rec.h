/*
 * Conformance suite: a recorder of watch events, for the watch tests and
 * for the checks that a watch works on a bucket that outlived its store.
 * Events arrive on a library thread; a test waits up to REC_WAIT_MS for
 * what it expects (never asserting a time).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef CONFORMANCE_WATCH_REC_H
#define CONFORMANCE_WATCH_REC_H

#include "harness.h"

#include <pthread.h>

#define REC_WAIT_MS 5000
#define REC_MAX_EVENTS 256

/* One event, key and value in one allocation. */
typedef struct rec_event {
    kvstore_event event;
    size_t len;
    void *value; /* NULL for a delete; else len bytes and a NUL */
    char key[];
} rec_event;

/* Everything the callback saw, under `mu`. */
typedef struct recorder {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rec_event *ev[REC_MAX_EVENTS];
    size_t n;
    bool stopped;         /* set once watch_stop has returned */
    unsigned late;        /* callbacks after stopped */
    unsigned bad;         /* malformed events (delete with a value, ...) */
    const char *slow_key; /* the callback sleeps on this key */
    kvstore_watch *w;     /* NULL once stopped */
} recorder;

/* The watch callback; `payload` is a recorder. */
void rec_on_event(void *payload, kvstore_event event, const char *key,
                  const void *value, size_t len);

/* A new recorder owned by `c`: conf_teardown stops its watch if it still
 * runs and frees it, also when the test fails. The callback sleeps on
 * `slow_key` (NULL: never). */
recorder *rec_new(conf_ctx *c, const char *slow_key);

/* rec_new, then kvstore_watch_start on `b` under `prefix` into it.
 * Returns the recorder, or NULL with watch_start's code in *rc. */
recorder *rec_watch(conf_ctx *c, kvstore_bucket *b, const char *prefix,
                    const char *slow_key, int *rc);

/* Index of the first event for `key` of kind `event` at or after `from`,
 * or -1. The caller holds r->mu. */
long rec_find_locked(const recorder *r, size_t from, const char *key,
                     kvstore_event event);

/* Waits up to REC_WAIT_MS for an event (key, event); returns its index,
 * or -1 after a timeout (said on stderr). Callers stop the watch before
 * asserting on what came. */
long rec_wait(recorder *r, const char *key, kvstore_event event);

/* Stops the watch, then fails the test if a malformed event came. */
void rec_stop(recorder *r);

#endif /* CONFORMANCE_WATCH_REC_H */
