/*
 * kvstore-sqlite: watches of the writes made through this process.
 *
 * Every write of the process to a database file goes through the group
 * commit of its sq_db, so the leader knows, after each COMMIT, exactly
 * which keys changed and to what: it queues one event per matching key
 * on each watch, in commit order, with a copy of the value written (not a
 * value read later). Each watch has its own thread that calls the user's
 * callback, so a slow callback delays only its own watch, and
 * watch_stop joins that thread, after which the callback never runs.
 *
 * Writes by other processes are not seen (no KVSTORE_CAP_WATCH_CROSS_
 * PROCESS): SQLite has no change feed between processes, and polling
 * `PRAGMA data_version` would say only that something changed, not what.
 *
 * Ownership: a watch owns its prefix and its kvstore_watch_queue (the
 * queued events and the thread);
 * the sq_db's list borrows the watch between start and stop.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sqlite.h"

#include <stdlib.h>
#include <string.h>

struct sq_watch {
    sq_db *db;
    char bucket[KVSTORE_BUCKET_NAME_MAX + 1];
    char *prefix;
    size_t plen;
    kvstore_watch_queue *queue; /* its events and the callback thread */
    sq_watch *next;         /* in db->watches, guarded by db->watch_mu */
};

/* Queues one event on `w`. Out of memory drops the event: there is no
 * caller to tell (the write itself has succeeded). */
static void push(sq_watch *w, kvstore_event event, const char *key,
                 const void *value, size_t len)
{
    (void)kvstore_watch_queue_push(w->queue, event, key, value, len);
}

static void publish_op(sq_watch *w, const sq_op *op)
{
    if (op->rc != KVSTORE_OK || strcmp(op->bucket, w->bucket) != 0)
        return;
    for (size_t i = 0; i < op->n; i++) {
        const char *key = op->keys[i];
        if (strncmp(key, w->prefix, w->plen) != 0)
            continue;
        switch (op->kind) {
        case OP_PUT:
        case OP_CAS:
            push(w, KVSTORE_EVENT_SET, key, op->values[i], op->lens[i]);
            break;
        case OP_INCR:
            push(w, KVSTORE_EVENT_SET, key, op->text, strlen(op->text));
            break;
        case OP_DEL:
            push(w, KVSTORE_EVENT_DELETE, key, NULL, 0);
            break;
        default:
            break;
        }
    }
}

void sq_watch_publish(sq_db *db, void *const *ops, size_t n)
{
    pthread_mutex_lock(&db->watch_mu);
    for (sq_watch *w = db->watches; w != NULL; w = w->next)
        for (size_t i = 0; i < n; i++)
            publish_op(w, ops[i]);
    pthread_mutex_unlock(&db->watch_mu);
}

int sq_watch_start(void **out, void *p, const char *prefix,
                   kvstore_watch_fn fn, void *payload)
{
    sq_bucket *b = p;
    sq_watch *w = calloc(1, sizeof *w);
    if (w == NULL || (w->prefix = strdup(prefix)) == NULL) {
        free(w);
        return kvstore_set_error(KVSTORE_ENOMEM, "sqlite: out of memory");
    }
    w->db = b->st->db;
    memcpy(w->bucket, b->name, sizeof w->bucket);
    w->plen = strlen(prefix);
    int rc = kvstore_watch_queue_new(&w->queue, fn, payload);
    if (rc != KVSTORE_OK) {
        free(w->prefix);
        free(w);
        return kvstore_set_error(rc, "sqlite: %s", kvstore_errmsg());
    }
    /* Registered only now: every write committed after this returns is
     * seen. */
    pthread_mutex_lock(&w->db->watch_mu);
    w->next = w->db->watches;
    w->db->watches = w;
    pthread_mutex_unlock(&w->db->watch_mu);
    *out = w;
    return KVSTORE_OK;
}

void sq_watch_stop(void *p)
{
    sq_watch *w = p;
    pthread_mutex_lock(&w->db->watch_mu);
    for (sq_watch **q = &w->db->watches; *q != NULL; q = &(*q)->next) {
        if (*q == w) {
            *q = w->next;
            break;
        }
    }
    pthread_mutex_unlock(&w->db->watch_mu);
    kvstore_watch_queue_free(w->queue);
    free(w->prefix);
    free(w);
}
