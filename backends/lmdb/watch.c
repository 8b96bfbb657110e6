/*
 * Watch: the writes of this process to the directory, whatever store
 * handle made them. The group-commit leader hands each committed op to
 * lm_watch_dispatch() before the next batch starts, which copies every
 * matching event into each watch's queue; each watch has its own thread
 * that calls the user back, so a slow callback delays only its own watch
 * and events arrive in commit order with the exact value written. Writes
 * by other processes are not seen (no KVSTORE_CAP_WATCH_CROSS_PROCESS).
 * A removed bucket's keys give no events.
 *
 * Ownership: a watch owns its copies of the bucket name and prefix, its
 * kvstore_watch_queue (the queued events and the thread) and one
 * reference on the environment.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lmdb.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lm_watch {
    lm_watch *next; /* env->watches, guarded by env->watch_mu */
    lm_env *env;
    char bucket[KVSTORE_BUCKET_NAME_MAX + 1];
    char *prefix;
    size_t plen;
    kvstore_watch_queue *queue; /* its events and the callback thread */
};

static void watch_free(lm_watch *w)
{
    lm_env_release(w->env);
    free(w->prefix);
    free(w);
}

int lm_watch_start(void **out, void *bucket, const char *prefix,
                   kvstore_watch_fn fn, void *payload)
{
    lm_bucket *b = bucket;
    lm_watch *w = calloc(1, sizeof *w);
    if (w == NULL || (w->prefix = strdup(prefix)) == NULL) {
        free(w);
        return kvstore_set_error(KVSTORE_ENOMEM, "lmdb: out of memory");
    }
    memcpy(w->bucket, b->name, b->nlen + 1);
    w->plen = strlen(prefix);
    w->env = b->st->env;
    lm_env_ref(w->env);
    int rc = kvstore_watch_queue_new(&w->queue, fn, payload);
    if (rc != KVSTORE_OK) {
        watch_free(w);
        return kvstore_set_error(rc, "lmdb: %s", kvstore_errmsg());
    }
    lm_env *e = w->env;
    pthread_mutex_lock(&e->watch_mu);
    w->next = e->watches;
    e->watches = w;
    pthread_mutex_unlock(&e->watch_mu);
    *out = w;
    return KVSTORE_OK;
}

void lm_watch_stop(void *watch)
{
    lm_watch *w = watch;
    lm_env *e = w->env;
    /* Unlinked under watch_mu: no dispatch can queue to it afterwards. */
    pthread_mutex_lock(&e->watch_mu);
    for (lm_watch **p = &e->watches; *p != NULL; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    pthread_mutex_unlock(&e->watch_mu);
    /* Stopped from its own callback, the queue frees itself when that
     * callback returns; the thread no longer needs `w` either way. */
    kvstore_watch_queue_free(w->queue);
    watch_free(w);
}

static void post(lm_env *e, const lm_bucket *b, kvstore_event kind,
                 const char *key, const void *value, size_t len)
{
    size_t klen = strlen(key);
    for (lm_watch *w = e->watches; w != NULL; w = w->next) {
        if (strcmp(w->bucket, b->name) != 0 || klen < w->plen ||
            memcmp(key, w->prefix, w->plen) != 0)
            continue;
        if (kvstore_watch_queue_push(w->queue, kind, key, value, len) !=
            KVSTORE_OK)
            /* Out of memory: the event is lost, say so on stderr rather
             * than fail a write that has already committed. */
            fprintf(stderr, "kvstore lmdb: watch event for '%s' lost: out "
                    "of memory\n", key);
    }
}

void lm_watch_dispatch(lm_env *e, void *const *ops, size_t nops)
{
    pthread_mutex_lock(&e->watch_mu);
    if (e->watches == NULL) {
        pthread_mutex_unlock(&e->watch_mu);
        return;
    }
    for (size_t k = 0; k < nops; k++) {
        const lm_op *op = ops[k];
        if (op->rc != KVSTORE_OK)
            continue;
        switch (op->kind) {
        case LM_OP_PUT:
        case LM_OP_CAS:
            for (size_t i = 0; i < op->n; i++)
                post(e, op->b, KVSTORE_EVENT_SET, op->keys[i],
                     op->values[i], op->lens[i]);
            break;
        case LM_OP_INCR: {
            char text[24];
            int n = snprintf(text, sizeof text, "%" PRId64, op->result);
            post(e, op->b, KVSTORE_EVENT_SET, op->keys[0], text, (size_t)n);
            break;
        }
        case LM_OP_DEL:
            for (size_t i = 0; i < op->n; i++)
                if (op->hit != NULL && op->hit[i])
                    post(e, op->b, KVSTORE_EVENT_DELETE, op->keys[i], NULL,
                         0);
            break;
        case LM_OP_BUCKET_ADD:
        case LM_OP_BUCKET_DROP:
            break;
        }
    }
    pthread_mutex_unlock(&e->watch_mu);
}
