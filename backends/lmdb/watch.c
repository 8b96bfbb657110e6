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
 * The environment's kvstore_watch_list does the matching and queueing.
 *
 * Ownership: a watch owns its entry in that list (with the queued events
 * and the thread) and one reference on the environment.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lmdb.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The core's watch, and the environment it keeps a reference on. */
struct lm_watch {
    lm_env *env;
    void *entry; /* in env->watches */
};

int lm_watch_start(void **out, void *bucket, const char *prefix,
                   kvstore_watch_fn fn, void *payload)
{
    lm_bucket *b = bucket;
    lm_watch *w = malloc(sizeof *w);
    if (w == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "lmdb: out of memory");
    w->env = b->st->env;
    int rc = kvstore_watch_list_add(&w->entry, w->env->watches, b->name,
                                    prefix, fn, payload);
    if (rc == KVSTORE_OK)
        lm_env_ref(w->env);
    else
        rc = kvstore_set_error(rc, "lmdb: %s", kvstore_errmsg());
    return kvstore_hand_over(rc, out, w, free);
}

void lm_watch_stop(void *watch)
{
    lm_watch *w = watch;
    kvstore_watch_list_remove(w->entry);
    lm_env_release(w->env);
    free(w);
}

static void post(lm_env *e, const lm_bucket *b, kvstore_event kind,
                 const char *key, const void *value, size_t len)
{
    if (kvstore_watch_list_push(e->watches, b->name, kind, key, value, len) !=
        KVSTORE_OK)
        /* Out of memory: the event is lost, say so on stderr rather
         * than fail a write that has already committed. */
        fprintf(stderr, "kvstore lmdb: watch event for '%s' lost: out "
                "of memory\n", key);
}

void lm_watch_dispatch(lm_env *e, void *const *ops, size_t nops)
{
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
}
