/*
 * Test support: watch events as text (see events.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "events.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void ev_text_init(ev_text *l)
{
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->text[0] = '\0';
}

void ev_text_destroy(ev_text *l)
{
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
}

void ev_text_event(void *log, kvstore_event e, const char *key,
                   const void *value, size_t len)
{
    ev_text *l = log;
    char line[256];

    snprintf(line, sizeof line, "%s %s=%.*s;", e == KVSTORE_EVENT_SET ? "set"
                                                                      : "del",
             key, value ? (int)len : 4, value ? (const char *)value : "NULL");
    pthread_mutex_lock(&l->mu);
    if (strlen(l->text) + strlen(line) < sizeof l->text)
        strcat(l->text, line);
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

bool ev_text_wait(ev_text *l, const char *want, int seconds)
{
    struct timespec dl;
    bool ok;

    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += seconds;
    pthread_mutex_lock(&l->mu);
    while (strstr(l->text, want) == NULL &&
           pthread_cond_timedwait(&l->cv, &l->mu, &dl) != ETIMEDOUT)
        ;
    ok = strstr(l->text, want) != NULL;
    if (!ok)
        fprintf(stderr, "waited for \"%s\", saw \"%s\"\n", want, l->text);
    pthread_mutex_unlock(&l->mu);
    return ok;
}

bool ev_text_has(ev_text *l, const char *want)
{
    bool has;

    pthread_mutex_lock(&l->mu);
    has = strstr(l->text, want) != NULL;
    pthread_mutex_unlock(&l->mu);
    return has;
}
