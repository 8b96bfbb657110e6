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

typedef struct ev_text {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char text[4096];   /* every event so far (as long as they fit) */
} ev_text;

void ev_text_init(ev_text *l);
void ev_text_destroy(ev_text *l);
/* The watch callback: `log` is an ev_text. */
void ev_text_event(void *log, kvstore_event e, const char *key,
                   const void *value, size_t len);
/* Waits until `want` is in the text, at most `seconds` (a bound, not a
 * measurement); false after printing what came instead. */
bool ev_text_wait(ev_text *l, const char *want, int seconds);
/* Whether `want` is in the text now (no wait). */
bool ev_text_has(ev_text *l, const char *want);

#endif
