/*
 * Test support: watch events written down as text ("set k=v;del k=NULL;")
 * by a kvstore_watch_fn, and a bounded wait for some text to show.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_TESTS_REDIS_EVENTS_H
#define KVSTORE_TESTS_REDIS_EVENTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <kvstore/kvstore.h>

typedef struct ev_log {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char text[4096];   /* every event so far (as long as they fit) */
} ev_log;

void ev_log_init(ev_log *l);
void ev_log_destroy(ev_log *l);
/* The watch callback: `log` is an ev_log. */
void ev_log_event(void *log, kvstore_event e, const char *key,
                  const void *value, size_t len);
/* Waits until `want` is in the text, at most `seconds` (a bound, not a
 * measurement); false after printing what came instead. */
bool ev_log_wait(ev_log *l, const char *want, int seconds);
/* Whether `want` is in the text now (no wait). */
bool ev_log_has(ev_log *l, const char *want);

#endif
